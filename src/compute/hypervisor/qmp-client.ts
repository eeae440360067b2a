// A QEMU Machine Protocol client over QEMU's Unix socket: JSON lines, one command at a time in
// order (QEMU answers in order), asynchronous events delivered to listeners.
import { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";

interface Waiter {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export class QmpClient extends EventEmitter {
  readonly #socket: Socket;
  readonly #waiters: Waiter[] = [];
  #buffer = "";
  #closed = false;

  private constructor(socket: Socket) {
    super();
    this.#socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => this.#onData(d));
    socket.on("error", () => {});
    socket.on("close", () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w.reject(new Error("QMP connection closed"));
      this.emit("close");
    });
  }

  /** Connects (retrying while QEMU creates the socket) and leaves capabilities negotiation done. */
  static async connect(path: string, timeoutMs = 30_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => resolve(s));
          s.once("error", reject);
        });
        const client = new QmpClient(socket);
        // The greeting arrives first and is consumed as the answer to a pseudo-command.
        await new Promise((resolve, reject) => client.#waiters.push({ resolve, reject }));
        await client.execute("qmp_capabilities");
        return client;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error("QMP connection closed"));
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#socket.write(
        `${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`,
      );
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(data: string): void {
    this.#buffer += data;
    for (let nl = this.#buffer.indexOf("\n"); nl >= 0; nl = this.#buffer.indexOf("\n")) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as {
        event?: string;
        data?: unknown;
        error?: { desc: string };
        return?: unknown;
      };
      if (msg.event) {
        this.emit("event", msg.event, msg.data);
        continue;
      }
      const w = this.#waiters.shift();
      if (!w) continue;
      if (msg.error) w.reject(new Error(`QMP: ${msg.error.desc}`));
      else w.resolve(msg.return ?? msg);
    }
  }
}
