// IMDSv2 sessions: `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1-21600)
// returns an opaque token, valid until its TTL runs out; at most MAX_TOKENS are kept per instance.
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { error, type Reply } from "./imds-replies.ts";

const MAX_TTL_SECONDS = 21600;
const MAX_TOKENS = 10_000;
const TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";
export const TOKEN_HEADER = "x-aws-ec2-metadata-token";

export class ImdsSessions {
  /** token -> expiry (ms since the epoch) */
  readonly #tokens = new Map<string, number>();

  /** The answer to a request for `/latest/api/token`: a new token, or why not. */
  token(req: IncomingMessage, method: string): Reply {
    if (method !== "PUT") return { ...error(405, "Method Not Allowed"), headers: { Allow: "OPTIONS, PUT" } };
    // EC2 refuses token requests that went through a proxy.
    if (req.headers["x-forwarded-for"] !== undefined) return error(403, "Forbidden");
    const raw = req.headers[TTL_HEADER];
    const ttl = typeof raw === "string" && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (!(ttl >= 1 && ttl <= MAX_TTL_SECONDS)) return error(400, "Bad Request");
    this.#sweep();
    if (this.#tokens.size >= MAX_TOKENS) {
      // Forget the oldest (a Map keeps insertion order).
      const first = this.#tokens.keys().next().value;
      if (first !== undefined) this.#tokens.delete(first);
    }
    const token = `AQAEA${randomBytes(36).toString("base64url")}==`;
    this.#tokens.set(token, Date.now() + ttl * 1000);
    return {
      status: 200,
      body: token,
      type: "text/plain",
      headers: { "X-Aws-Ec2-Metadata-Token-Ttl-Seconds": String(ttl) },
    };
  }

  valid(token: string): boolean {
    const expiry = this.#tokens.get(token);
    if (expiry === undefined) return false;
    if (expiry <= Date.now()) {
      this.#tokens.delete(token);
      return false;
    }
    return true;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [t, expiry] of this.#tokens) if (expiry <= now) this.#tokens.delete(t);
  }
}
