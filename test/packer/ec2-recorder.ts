// A recording HTTP proxy in front of Strata's EC2 endpoint: a client (Packer) pointed at it gets
// Strata's answers unchanged, and every call is kept with its parameters, its status and its
// error code, so a test can show what the client asked, in order, and what Strata refused.
// Signatures still verify: the body and the signed headers (Host included) pass through as sent.
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedCall {
  action: string;
  /** The region of the request's SigV4 credential scope. */
  region: string;
  params: Record<string, string>;
  status: number;
  /** The EC2 error code when status is not 2xx. */
  errorCode?: string;
  /** Set when `answer` replied instead of Strata. */
  answeredLocally?: boolean;
}

export interface Ec2Recorder {
  url: string;
  calls: RecordedCall[];
  close(): Promise<void>;
}

/**
 * `answer` may reply to a call itself (an XML body with status 200) instead of forwarding it:
 * for probing how far a client gets past actions the server does not have yet.
 */
export async function startEc2Recorder(
  target: string,
  answer?: (action: string, params: Record<string, string>) => string | undefined,
): Promise<Ec2Recorder> {
  const calls: RecordedCall[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const params = Object.fromEntries(new URLSearchParams(body.toString("utf8")));
      const action = params.Action ?? `${req.method} ${req.url}`;
      delete params.Action;
      delete params.Version;
      const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(req.headers.authorization ?? ""));
      const call: RecordedCall = { action, region: scope?.[1] ?? "?", params, status: 0 };
      calls.push(call);
      const local = answer?.(action, params);
      if (local !== undefined) {
        call.status = 200;
        call.answeredLocally = true;
        res.writeHead(200, { "content-type": "text/xml" });
        res.end(local);
        return;
      }
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (up) => {
          const answerChunks: Buffer[] = [];
          up.on("data", (c: Buffer) => answerChunks.push(c));
          up.on("end", () => {
            const text = Buffer.concat(answerChunks);
            call.status = up.statusCode ?? 0;
            if (call.status >= 300) call.errorCode = /<Code>([^<]+)<\/Code>/.exec(text.toString())?.[1];
            res.writeHead(call.status, up.headers);
            res.end(text);
          });
        },
      );
      out.on("error", (e) => {
        call.errorCode = `proxy: ${e.message}`;
        res.destroy();
      });
      out.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** One line per call, for a test's diagnostics: `Action region status [code] k=v ...`. */
export function formatCalls(calls: RecordedCall[]): string {
  return calls
    .map((c) => {
      const params = Object.entries(c.params)
        .map(([k, v]) => `${k}=${JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v)}`)
        .join(" ");
      const outcome = c.answeredLocally ? "faked" : `${c.status}${c.errorCode ? ` ${c.errorCode}` : ""}`;
      return `${c.action} ${c.region} ${outcome} ${params}`;
    })
    .join("\n");
}
