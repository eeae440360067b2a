// Sends the fuzzers' requests as they are (no SDK between the case and the socket), signed with
// SigV4 by @smithy/signature-v4 as the SDKs sign, over keep-alive connections.
import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { Credentials } from "../ec2-helpers.ts";
import type { Param } from "./ec2-values.ts";

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** Form encoding of a string's UTF-8 bytes (a lone surrogate goes out as U+FFFD, as Buffer makes it). */
export function formEncode(text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
  return encodeURIComponent(wellFormed).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `name=value&...`; raw values go out exactly as given. */
export function encodeParams(params: Param[], resolve: (s: string) => string = (s) => s): string {
  return params
    .map(([n, v]) => `${formEncode(resolve(n))}=${typeof v === "string" ? formEncode(resolve(v)) : v.raw}`)
    .join("&");
}

export interface SignedCall {
  url: string;
  method: string;
  /** The path exactly as sent (percent escapes and all). */
  path: string;
  /** The query string as sent, without "?"; decoded for signing as the server decodes it. */
  query?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  credentials: Credentials;
  region: string;
  service: string;
}

/** A request signed and ready to go (signing can overlap the previous request's round trip). */
export interface SignedRequest {
  url: URL;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export async function sign(call: SignedCall): Promise<SignedRequest> {
  const url = new URL(call.url);
  // Encoded once: the signer hashes these bytes and the socket sends them.
  const body = typeof call.body === "string" ? Buffer.from(call.body) : call.body;
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(call.query ?? "")) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const request = new HttpRequest({
    method: call.method,
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: call.path,
    query,
    headers: { host: url.host, ...call.headers },
    body,
  });
  const signer = new SignatureV4({
    credentials: call.credentials,
    region: call.region,
    service: call.service,
    sha256: Hash.bind(null, "sha256"),
  });
  const signed = await signer.sign(request);
  const headers = { ...(signed.headers as Record<string, string>) };
  if (body !== undefined) headers["content-length"] = String(body.length);
  return {
    url,
    method: call.method,
    path: call.query ? `${call.path}?${call.query}` : call.path,
    headers,
    body,
  };
}

export async function signedCall(call: SignedCall): Promise<Reply> {
  const r = await sign(call);
  return send(r.url, r.method, r.path, r.headers, r.body);
}

export function send(
  url: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
