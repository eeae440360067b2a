// Forwarding a call to the host that owns its instance or volume: the caller's request goes on
// unchanged (method, path, headers including Host and the SigV4 signature, body), so the other
// host authenticates the caller itself and nothing is trusted between hosts that a client could
// not present. The answer comes back as it is. A forwarded request carries FORWARDED_BY (the
// hosts it went through) and goes through two at most: AttachVolume may need two (the volume's
// host hands the volume over, then the instance's host attaches it), and two hosts disagreeing
// on an owner must not bounce a call forever.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { StrataError } from "../errors.ts";

export const FORWARDED_BY = "x-strata-forwarded-by";

const MAX_FORWARDS = 2;

/** Whether the request may be forwarded once more. */
export function mayForward(req: IncomingMessage): boolean {
  const by = req.headers[FORWARDED_BY];
  return by === undefined || (typeof by === "string" && by.split(",").length < MAX_FORWARDS);
}

/** The FORWARDED_BY header of a call this host passes on: the hosts before it, then itself. */
export function forwardedBy(req: IncomingMessage, selfId: string): string {
  const by = req.headers[FORWARDED_BY];
  return typeof by === "string" ? `${by},${selfId}` : selfId;
}

export function forward(
  req: IncomingMessage,
  body: Buffer,
  targetUrl: string,
  selfId: string,
  res: ServerResponse,
): Promise<number> {
  const target = new URL(req.url ?? "/", targetUrl);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = v;
  headers[FORWARDED_BY] = forwardedBy(req, selfId);
  headers["content-length"] = String(body.byteLength);
  delete headers["transfer-encoding"];
  delete headers.connection;
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const out = send(target, { method: req.method, headers, timeout: 120_000 }, (answer) => {
      const back = { ...answer.headers };
      delete back.connection; // hop-by-hop: this connection's own
      delete back["keep-alive"];
      res.writeHead(answer.statusCode ?? 502, back);
      answer.pipe(res);
      answer.once("end", () => resolve(answer.statusCode ?? 502));
      answer.once("error", reject);
    });
    out.once("timeout", () => out.destroy(new Error("no answer in 120 s")));
    out.once("error", (e) =>
      reject(new StrataError("ServiceUnavailable", `The owning Strata host did not answer: ${e.message}`)),
    );
    out.end(body);
  });
}
