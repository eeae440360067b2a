// Test helpers: a tiny HTTP server that verifies every request, and request capture from SDK v3.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { isStrataError } from "../../errors.ts";
import {
  type AccessKeyLookup,
  type SignedRequest,
  type VerifiedCaller,
  verifySigV4,
} from "./verify-sigv4.ts";

export const DESCRIBE_REGIONS_XML =
  '<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>x</requestId><regionInfo/></DescribeRegionsResponse>';

export interface Received {
  request: SignedRequest;
  outcome: VerifiedCaller | Error;
}

export interface VerifyingServer {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/**
 * Verifies each request as the API server will: raw path up to '?', decoded query, the headers
 * node received. Answers canned DescribeRegions XML for ec2, `{}` for other services, and EC2's
 * error XML on failure. `clockOffsetMs` sets the server's clock (and Date header) off real time.
 */
export async function startVerifyingServer(
  lookup: AccessKeyLookup,
  clockOffsetMs = 0,
): Promise<VerifyingServer> {
  const received: Received[] = [];
  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const request: SignedRequest = {
      method: req.method ?? "GET",
      path: q < 0 ? url : url.slice(0, q),
      query: new URLSearchParams(q < 0 ? "" : url.slice(q + 1)),
      headers: req.headersDistinct,
      body: Buffer.concat(chunks),
    };
    const now = new Date(Date.now() + clockOffsetMs);
    res.setHeader("date", now.toUTCString());
    try {
      const caller = await verifySigV4(request, lookup, now);
      received.push({ request, outcome: caller });
      const json = caller.service !== "ec2";
      res.writeHead(200, { "content-type": json ? "application/json" : "text/xml" });
      res.end(json ? "{}" : DESCRIBE_REGIONS_XML);
    } catch (e) {
      received.push({ request, outcome: e as Error });
      const code = isStrataError(e) ? e.code : "InternalError";
      res.writeHead(isStrataError(e) ? e.status : 500, { "content-type": "text/xml" });
      res.end(
        `<Response><Errors><Error><Code>${code}</Code><Message>${(e as Error).message}</Message></Error></Errors><RequestID>x</RequestID></Response>`,
      );
    }
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => http.close(() => resolve())),
  };
}

/** The shape of the HttpRequest SDK v3 hands its request handler. */
export interface SdkHttpRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** A requestHandler for SDK v3 clients that records each request and answers canned XML. */
export function capturingHandler(responseXml = DESCRIBE_REGIONS_XML) {
  const requests: SdkHttpRequest[] = [];
  return {
    requests,
    async handle(request: SdkHttpRequest) {
      requests.push(request);
      return {
        response: {
          statusCode: 200,
          headers: { "content-type": "text/xml" },
          body: Buffer.from(responseXml),
        },
      };
    },
  };
}

/** What the server would see for a request the SDK signed. */
export function fromSdkRequest(r: SdkHttpRequest): SignedRequest {
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(r.query ?? {})) if (v !== null) query[k] = v;
  return {
    method: r.method,
    path: r.path,
    query,
    headers: { ...r.headers },
    body: Buffer.from(r.body ?? ""),
  };
}
