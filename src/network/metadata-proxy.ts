// The instance metadata service inside a VPC's namespace, as OpenStack's metadata proxy does it in
// its router namespace: a listener at 169.254.169.254:80 there, whose connections the daemon
// forwards to the metadata socket of the interface whose private address is the connection's
// source (anti-spoofing on the taps makes the source trustworthy). Unknown sources get nothing.
//
// Node cannot enter a namespace, so a short-lived Node child started in it (`ip netns exec`) binds
// the listening socket and hands it to the daemon over its IPC channel, then exits: the daemon
// accepts and forwards in-process, and no helper process lives on.
import { spawn } from "node:child_process";
import { connect, type Server, type Socket } from "node:net";
import { sbinPath } from "./commands.ts";
import { METADATA_IP } from "./vpc-rules.ts";

const LISTENER = `
const server = require("node:net").createServer();
server.once("error", (e) => { console.error(String(e)); process.exit(2); });
server.listen({ host: ${JSON.stringify(METADATA_IP)}, port: 80 }, () =>
  process.send("listening", server, () => process.exit(0)));
`;

export class MetadataProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** private address -> the instance's metadata socket */
  readonly routes = new Map<string, string>();

  private constructor(server: Server) {
    this.#server = server;
    server.on("connection", (guest) => this.#forward(guest));
  }

  /** Listens at 169.254.169.254:80 in the namespace (the address must be on its loopback). */
  static async start(netns: string): Promise<MetadataProxy> {
    const child = spawn("ip", ["netns", "exec", netns, process.execPath, "-e", LISTENER], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: sbinPath(),
    });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const server = await new Promise<Server>((resolve, reject) => {
      child.once("message", (_m, handle) => resolve(handle as Server));
      child.once("error", reject);
      child.once("exit", (code) =>
        reject(new Error(`metadata listener in ${netns} failed (${code}): ${stderr.trim()}`)),
      );
    });
    return new MetadataProxy(server);
  }

  #forward(guest: Socket): void {
    const target = guest.remoteAddress
      ? this.routes.get(guest.remoteAddress.replace(/^::ffff:/, ""))
      : undefined;
    if (!target) {
      guest.destroy();
      return;
    }
    this.#sockets.add(guest);
    // The guest may half-close after its request; the answer must still reach it.
    (guest as { allowHalfOpen: boolean }).allowHalfOpen = true;
    const upstream = connect({ path: target, allowHalfOpen: true });
    const abort = () => {
      guest.destroy();
      upstream.destroy();
    };
    guest.on("error", abort).on("close", () => {
      upstream.destroy();
      this.#sockets.delete(guest);
    });
    upstream.on("error", abort);
    guest.pipe(upstream);
    upstream.pipe(guest);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
