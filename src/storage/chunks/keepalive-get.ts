// HTTP/1.1 GETs over kept-alive sockets whose answer body is read straight into a buffer the caller
// gives (no copy, no fresh memory per piece), for ranged reads of packs from S3. Node's HTTP client
// reads every piece of an answer into fresh memory and passes it through streams: on a restore from
// a bucket (~0.5 GB of packs per GiB restored) that cost more CPU than decoding the chunks. Sockets
// read with `onread`, so the bytes land where the caller wants them; heads and error bodies go
// through a small per-socket buffer. Only what ranged GETs need: no request body, no pipelining.
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

const HEAD_BUFFER_BYTES = 64 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_COLLECTED_BODY = 1024 * 1024;
/** Idle sockets are closed before servers close them (S3 after ~20 s). */
const IDLE_MS = 10_000;

export interface Origin {
  tls: boolean;
  host: string;
  port: number;
}

export interface Answer {
  status: number;
  /** Lower-case names; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  /** The `into` buffer filled, the collected body, or empty when abandoned. */
  body: Buffer;
}

/**
 * Where an answer's body goes, decided from its head: into the caller's buffer (exactly its size:
 * the answer must have that Content-Length), collected (small error bodies), or not read at all
 * (the socket is closed, e.g. a whole object sent instead of a range).
 */
export type BodyPlan = { into: Buffer } | "collect" | "abandon";

/** A network failure: `code` like node's (ECONNRESET, ETIMEDOUT...), no HTTP status. */
export class NetworkError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

interface Exchange {
  head: Buffer;
  status: number;
  headers: Record<string, string>;
  phase: "head" | "into" | "collect" | "until-close";
  into?: Buffer;
  filled: number;
  collected: Buffer[];
  collectedBytes: number;
  chunked: boolean;
  /** Bytes of the answer seen so far (0: a reused socket closed under us, safe to retry). */
  seen: number;
  keepAlive: boolean;
  plan(status: number, headers: Record<string, string>, length: number | undefined): BodyPlan;
  resolve(a: Answer): void;
  reject(e: Error): void;
}

interface Conn {
  socket: Socket;
  recv: Buffer;
  served: number;
  current: Exchange | null;
  /** The last allocation handed the socket the exchange's `into` buffer (not `recv`). */
  gaveInto: boolean;
}

export class KeepAliveGet {
  readonly #origin: Origin;
  readonly #maxSockets: number;
  readonly #timeoutMs: number;
  readonly #idle: Conn[] = [];
  readonly #waiting: (() => void)[] = [];
  #open = 0;
  #closed = false;

  constructor(origin: Origin, o: { maxSockets: number; timeoutMs: number }) {
    this.#origin = origin;
    this.#maxSockets = o.maxSockets;
    this.#timeoutMs = o.timeoutMs;
  }

  /** Sends `GET path` with `headers`; `plan` says where the body goes once the head is in. */
  async get(path: string, headers: Record<string, string>, plan: Exchange["plan"]): Promise<Answer> {
    const lines = [`GET ${path} HTTP/1.1`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    const request = `${lines.join("\r\n")}\r\n\r\n`;
    for (;;) {
      const conn = await this.#take();
      try {
        return await this.#exchange(conn, request, plan);
      } catch (e) {
        // A kept-alive socket the server had closed as we sent: the request never got there.
        if (!(e instanceof StaleSocket)) throw e;
      }
    }
  }

  /** Closes every socket (requests under way fail). */
  close(): void {
    this.#closed = true;
    for (const c of this.#idle.splice(0)) c.socket.destroy();
  }

  #exchange(conn: Conn, request: string, plan: Exchange["plan"]): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      conn.current = {
        head: Buffer.alloc(0),
        status: 0,
        headers: {},
        phase: "head",
        filled: 0,
        collected: [],
        collectedBytes: 0,
        chunked: false,
        seen: 0,
        keepAlive: true,
        plan,
        resolve,
        reject,
      };
      conn.socket.ref();
      conn.socket.setTimeout(this.#timeoutMs);
      conn.socket.write(request, "latin1");
    });
  }

  async #take(): Promise<Conn> {
    for (;;) {
      if (this.#closed) throw new NetworkError("ECONNABORTED", "the S3 reader was closed");
      const idle = this.#idle.pop();
      if (idle) return idle;
      if (this.#open < this.#maxSockets) return this.#connect();
      await new Promise<void>((r) => this.#waiting.push(r));
    }
  }

  #connect(): Conn {
    this.#open++;
    const recv = Buffer.allocUnsafe(HEAD_BUFFER_BYTES);
    const conn: Conn = {
      socket: undefined as unknown as Socket,
      recv,
      served: 0,
      current: null,
      gaveInto: false,
    };
    const onread = {
      buffer: () => {
        const x = conn.current;
        conn.gaveInto = x?.phase === "into" && x.into !== undefined && x.filled < x.into.byteLength;
        return conn.gaveInto ? x!.into!.subarray(x!.filled) : recv;
      },
      callback: (n: number, buf: Uint8Array) => {
        try {
          this.#received(conn, n, buf);
        } catch (e) {
          this.#fail(conn, e as Error);
          return false;
        }
        return true;
      },
    };
    const { tls, host, port } = this.#origin;
    const options = { host, port, onread };
    conn.socket = tls
      ? tlsConnect({ ...options, servername: isIp(host) ? undefined : host, ALPNProtocols: ["http/1.1"] })
      : netConnect(options);
    conn.socket.setNoDelay(true);
    conn.socket.setTimeout(this.#timeoutMs);
    conn.socket.on("timeout", () =>
      this.#fail(conn, new NetworkError("ETIMEDOUT", `no answer from ${host}:${port} in time`)),
    );
    conn.socket.on("error", (e: NodeJS.ErrnoException) =>
      this.#fail(conn, new NetworkError(e.code ?? "ECONNRESET", e.message)),
    );
    conn.socket.on("close", () => this.#closedSocket(conn));
    return conn;
  }

  #received(conn: Conn, n: number, buf: Uint8Array): void {
    const x = conn.current;
    if (!x) throw new Error("data on an idle socket");
    x.seen += n;
    if (conn.gaveInto) {
      x.filled += n;
      if (x.filled === x.into!.byteLength) this.#done(conn);
      return;
    }
    this.#parse(conn, x, Buffer.from(buf.buffer, buf.byteOffset, n));
  }

  #parse(conn: Conn, x: Exchange, piece: Buffer): void {
    if (x.phase === "head") {
      x.head = x.head.byteLength ? Buffer.concat([x.head, piece]) : Buffer.from(piece);
      const end = x.head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (x.head.byteLength > MAX_HEAD_BYTES) throw new Error("the answer's head never ended");
        return;
      }
      const rest = x.head.subarray(end + 4);
      this.#parseHead(x, x.head.subarray(0, end).toString("latin1"));
      if (x.status < 200) {
        // An interim answer (100 Continue): the real one follows.
        x.head = Buffer.alloc(0);
        if (rest.byteLength) this.#parse(conn, x, rest);
        return;
      }
      const length = x.headers["content-length"];
      const size = length === undefined || x.chunked ? undefined : Number(length);
      if (x.status === 204 || x.status === 304) {
        // Never a body, whatever the head says.
        x.phase = "collect";
        this.#done(conn);
        return;
      }
      const plan = x.plan(x.status, x.headers, size);
      if (plan === "abandon") {
        x.keepAlive = false;
        x.phase = "collect";
        this.#done(conn);
        return;
      }
      if (plan !== "collect") {
        if (size !== plan.into.byteLength) throw new Error("the body's size is not the buffer's");
        x.into = plan.into;
        x.phase = "into";
        if (size === 0) {
          this.#done(conn);
          return;
        }
      } else x.phase = size === undefined && !x.chunked ? "until-close" : "collect";
      x.head = Buffer.alloc(0);
      if (x.phase === "collect" && size === 0) {
        this.#done(conn);
        return;
      }
      if (rest.byteLength) this.#parse(conn, x, rest);
      return;
    }
    if (x.phase === "into") {
      const into = x.into!;
      if (piece.byteLength > into.byteLength - x.filled) throw new Error("more body than announced");
      piece.copy(into, x.filled);
      x.filled += piece.byteLength;
      if (x.filled === into.byteLength) this.#done(conn);
      return;
    }
    x.collected.push(Buffer.from(piece));
    x.collectedBytes += piece.byteLength;
    if (x.collectedBytes > MAX_COLLECTED_BODY) throw new Error("an error answer's body is too long");
    if (x.phase === "until-close") return;
    const raw = Buffer.concat(x.collected);
    x.collected = [raw];
    if (x.chunked) {
      if (dechunk(raw) !== undefined) this.#done(conn);
    } else if (raw.byteLength >= Number(x.headers["content-length"])) this.#done(conn);
  }

  #parseHead(x: Exchange, head: string): void {
    const [first, ...rest] = head.split("\r\n");
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(first);
    if (!m) throw new Error(`not an HTTP answer: ${first.slice(0, 80)}`);
    x.status = Number(m[2]);
    x.headers = {};
    for (const line of rest) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      x.headers[name] = name in x.headers ? `${x.headers[name]}, ${value}` : value;
    }
    const connection = (x.headers.connection ?? "").toLowerCase();
    x.keepAlive = m[1] === "1" ? !connection.includes("close") : connection.includes("keep-alive");
    x.chunked = /chunked/i.test(x.headers["transfer-encoding"] ?? "");
  }

  #done(conn: Conn): void {
    const x = conn.current!;
    conn.current = null;
    conn.served++;
    const raw = x.phase === "into" ? x.into! : Buffer.concat(x.collected);
    const body = x.phase === "into" ? raw : x.chunked ? (dechunk(raw) ?? raw) : raw;
    x.resolve({ status: x.status, headers: x.headers, body });
    if (x.keepAlive && x.phase !== "until-close" && !this.#closed) this.#release(conn);
    else conn.socket.destroy();
  }

  #release(conn: Conn): void {
    conn.socket.setTimeout(IDLE_MS);
    conn.socket.unref();
    const next = this.#waiting.shift();
    this.#idle.push(conn);
    next?.();
  }

  #fail(conn: Conn, e: Error): void {
    const x = conn.current;
    conn.current = null;
    conn.socket.destroy();
    if (!x) return;
    const timedOut = e instanceof NetworkError && e.code === "ETIMEDOUT";
    if (x.seen === 0 && conn.served > 0 && !timedOut) x.reject(new StaleSocket());
    else x.reject(e);
  }

  #closedSocket(conn: Conn): void {
    this.#open--;
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    const x = conn.current;
    if (x?.phase === "until-close") this.#done(conn);
    else if (x)
      this.#fail(conn, new NetworkError("ECONNRESET", "the connection closed before the answer ended"));
    this.#waiting.shift()?.();
  }
}

class StaleSocket extends Error {}

/** The body of a complete chunked encoding, or undefined while it is incomplete. */
function dechunk(raw: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(raw.subarray(at, eol).toString("latin1"), 16);
    if (!Number.isFinite(size)) throw new Error("bad chunked encoding");
    // The last chunk, then trailers (if any) up to an empty line.
    if (size === 0) return raw.indexOf("\r\n\r\n", eol) >= 0 ? Buffer.concat(parts) : undefined;
    if (raw.byteLength < eol + 2 + size + 2) return undefined;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}
