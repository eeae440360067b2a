// An HTTP request whose answer's body is read into one reused buffer and handed over piece by
// piece, for the streamed restores (`strata volume read` on the admin socket, `strata snapshot
// export` over TCP): node's HTTP client reads every piece into fresh memory, and at ~1 GB that
// cost the CLI more page faults and GC than writing the file. The request is HTTP/1.0, so the
// answer's body simply runs to the end of the connection (no chunked framing to undo).
import { connect } from "node:net";

const RECEIVE_BUFFER_BYTES = 1024 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;

export interface RawAnswer {
  status: number;
  /** The body of an error answer (status >= 400); a success's went to `onBody`. */
  errorBody?: Buffer;
}

/** A unix socket, or a plain-TCP host and port. */
export type RawTarget = { socketPath: string } | { host: string; port: number };

export interface RawRequest {
  method: string;
  /** With its query string. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/**
 * Sends the request; a successful answer's body goes to `onBody` (synchronously, from a buffer
 * reused once it returns; a throw ends the request with that error). Resolves at the body's end.
 */
export function rawRequest(
  target: RawTarget,
  request: RawRequest,
  onBody: (piece: Uint8Array) => void,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let head: Buffer | null = Buffer.alloc(0);
    let status = 0;
    const errorParts: Buffer[] = [];
    let failure: Error | undefined;
    const take = (piece: Uint8Array) => {
      if (head) {
        head = Buffer.concat([head, piece]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
          if (head.byteLength > MAX_HEAD_BYTES) throw new Error("the answer's header never ended");
          return;
        }
        const lines = head.subarray(0, end).toString("latin1").split("\r\n");
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
        if (!m) throw new Error(`not an HTTP answer: ${lines[0].slice(0, 80)}`);
        status = Number(m[1]);
        if (lines.some((l) => /^transfer-encoding:/i.test(l)))
          throw new Error("the answer to an HTTP/1.0 request came with a transfer encoding");
        const rest = head.subarray(end + 4);
        head = null;
        if (rest.byteLength > 0) take(rest);
        return;
      }
      if (status >= 400) errorParts.push(Buffer.from(piece));
      else onBody(piece);
    };
    const socket = connect({
      ...("socketPath" in target ? { path: target.socketPath } : { host: target.host, port: target.port }),
      onread: {
        buffer: Buffer.allocUnsafe(RECEIVE_BUFFER_BYTES),
        callback: (n, buffer) => {
          if (failure) return false;
          try {
            take(buffer.subarray(0, n));
          } catch (e) {
            failure = e as Error;
            socket.destroy();
            return false;
          }
          return true;
        },
      },
    });
    socket.once("connect", () => {
      const headers: Record<string, string> = { host: "localhost", ...request.headers };
      if (request.body) headers["content-length"] = String(request.body.byteLength);
      const lines = [`${request.method} ${request.path} HTTP/1.0`];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (request.body) socket.write(request.body);
    });
    socket.once("error", (e) => {
      failure ??= e;
    });
    socket.once("close", () => {
      if (failure) reject(failure);
      else if (head) reject(new Error("the server closed the connection before answering"));
      else resolve(status >= 400 ? { status, errorBody: Buffer.concat(errorParts) } : { status });
    });
  });
}
