// An NBD server (fixed newstyle, simple replies) serving exports resolved by name, for QEMU and libnbd.
import { createServer, type Server, type Socket } from "node:net";
import { NbdConnection } from "./nbd-connection.ts";
import type { NbdExport, NbdServerOptions } from "./nbd-export.ts";

export type { NbdExport, NbdServerOptions } from "./nbd-export.ts";

export type NbdUnixAddress = { path: string };
export type NbdTcpAddress = { host: string; port: number };
export type NbdAddress = NbdUnixAddress | NbdTcpAddress;

export class NbdServer {
  readonly #resolve: NbdServerOptions["resolve"];
  readonly #log: (msg: string) => void;
  readonly #listeners = new Set<Server>();
  readonly #connections = new Set<NbdConnection>();
  #closed = false;

  constructor(options: NbdServerOptions) {
    this.#resolve = options.resolve;
    this.#log = options.log ?? (() => {});
  }

  /** Listen on a Unix socket path or a TCP {host, port} (port 0 = ephemeral). Returns the address. */
  listen(where: NbdUnixAddress): Promise<NbdUnixAddress>;
  listen(where: NbdTcpAddress): Promise<NbdTcpAddress>;
  listen(where: NbdAddress): Promise<NbdAddress>;
  listen(where: NbdAddress): Promise<NbdAddress> {
    if (this.#closed) return Promise.reject(new Error("NBD server is closed"));
    const server = createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      const listening = () => {
        server.off("error", reject);
        server.on("error", (e) => this.#log(`nbd: listener error: ${e.message}`));
        this.#listeners.add(server);
        const address = server.address();
        if (typeof address === "object" && address) resolve({ host: address.address, port: address.port });
        else resolve({ path: (where as NbdUnixAddress).path });
      };
      if ("path" in where) server.listen(where.path, listening);
      else server.listen(where.port, where.host, listening);
    });
  }

  /** Disconnect every client whose export name matches (used when a volume is detached). */
  async disconnectExport(name: string): Promise<void> {
    const matching = [...this.#connections].filter((c) => c.exportName === name);
    await Promise.all(matching.map((c) => c.shutdown()));
  }

  /** Closes listeners and all connections, waiting for in-flight requests to finish. */
  async close(): Promise<void> {
    this.#closed = true;
    const listeners = [...this.#listeners].map(
      (s) => new Promise<void>((resolve) => s.close(() => resolve())),
    );
    this.#listeners.clear();
    await Promise.all([...this.#connections].map((c) => c.shutdown()));
    await Promise.all(listeners);
  }

  #accept(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const connection = new NbdConnection(socket, {
      resolve: (name) => this.#lookup(name),
      log: this.#log,
    });
    this.#connections.add(connection);
    void connection.done.finally(() => this.#connections.delete(connection));
  }

  async #lookup(name: string): Promise<NbdExport | undefined> {
    if (this.#closed) return undefined;
    try {
      const exp = await this.#resolve(name);
      if (exp && !(Number.isSafeInteger(exp.sizeBytes) && exp.sizeBytes >= 0)) {
        this.#log(`nbd: export ${JSON.stringify(name)} has an invalid size ${exp.sizeBytes}`);
        return undefined;
      }
      return exp;
    } catch (e) {
      this.#log(
        `nbd: resolving export ${JSON.stringify(name)}: ${e instanceof Error ? e.message : String(e)}`,
      );
      return undefined;
    }
  }
}
