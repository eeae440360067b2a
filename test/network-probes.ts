// What a guest must not reach: listeners on the host (loopback TCP and UDP, IPv6 loopback, the
// host's own address) that answer with a secret and count who came, and the user data lines that
// try them through every way out of QEMU's user-mode network. Each probe prints one console line
// `probe <name> <closed|reached> <what nc/nslookup said>`.
import { randomBytes } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import { networkInterfaces } from "node:os";

export interface ProbeLine {
  name: string;
  result: string;
  line: string;
}

export class HostProbes {
  readonly secret = `strata-secret-${randomBytes(12).toString("hex")}`;
  /** Connections and datagrams that arrived from anywhere: every probe must leave these at 0. */
  tcpConnections = 0;
  udpDatagrams = 0;
  readonly #servers: Server[] = [];
  readonly #sockets = new Set<Socket>();
  #udp: UdpSocket | undefined;
  readonly #probes: [name: string, command: string][] = [];

  /** `daemonPort`: the daemon's own HTTP port on the host's loopback (its admin API). */
  static async open(daemonPort: number): Promise<HostProbes> {
    const p = new HostProbes();
    const loopback = await p.#tcp("127.0.0.1");
    // slirp maps its gateway, its DNS address and any other address of its network that the guest
    // routes to it onto the host's 127.0.0.1; 10.0.2.2 and the host's own address are outside it.
    p.#probes.push(
      ["gateway-loopback", `tcp_probe 169.254.0.2 ${loopback}`],
      ["gateway-daemon-api", `tcp_probe 169.254.0.2 ${daemonPort}`],
      ["dns-address-loopback", `tcp_probe 169.254.0.3 ${loopback}`],
      ["metadata-address-other-port", `tcp_probe 169.254.169.254 ${loopback}`],
      ["routed-alias-loopback", `tcp_probe 169.254.7.7 ${loopback}`],
      ["qemu-default-gateway", `tcp_probe 10.0.2.2 ${loopback}`],
    );
    const v6 = await p.#tcp("::1").catch(() => undefined);
    if (v6 !== undefined) p.#probes.push(["gateway-ipv6-loopback", `tcp_probe fec0::2 ${v6}`]);
    const own = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    if (own !== undefined) p.#probes.push(["host-own-address", `tcp_probe ${own} ${await p.#tcp(own)}`]);
    const udp = await p.#udpServer();
    p.#probes.push(
      ["gateway-udp-loopback", `dns_probe 169.254.0.2:${udp}`],
      // slirp's DNS proxy forwards to the host's resolver; a resolver answers .invalid itself (NXDOMAIN).
      ["dns", "dns_probe 169.254.0.3"],
    );
    return p;
  }

  get names(): string[] {
    return this.#probes.map(([n]) => n);
  }

  /** Shell lines for user data (busybox sh): every probe at once, one console line each. */
  script(): string {
    return `
tcp_probe() {
  out=$(echo strata-probe | timeout 20 nc -w 10 "$@" 2>&1)
  rc=$?
  r=reached
  case "$rc:$out" in 0:*) ;; *"can't connect"* | *"timed out"*) r=closed ;; esac
  echo "$r rc=$rc $(echo "$out" | tr '\\r\\n' '  ' | head -c 160)"
}
dns_probe() {
  out=$(timeout 30 nslookup strata-probe.invalid "$@" 2>&1)
  rc=$?
  r=reached
  case "$out" in *"no servers could be reached"*) r=closed ;; esac
  echo "$r rc=$rc $(echo "$out" | tr '\\r\\n' '  ' | head -c 160)"
}
ip route add 169.254.7.7/32 via 169.254.0.2 dev eth0
${this.#probes.map(([name, cmd]) => `(echo "probe ${name} $(${cmd})") &`).join("\n")}
wait
echo "probe-imds instance-id $(imds get meta-data/instance-id)"
`;
  }

  /** The probe lines on a console, by name. */
  static parse(console: string): Map<string, ProbeLine> {
    const out = new Map<string, ProbeLine>();
    for (const m of console.matchAll(/^probe (\S+) (\S+)(.*)$/gm)) {
      out.set(m[1], { name: m[1], result: m[2], line: m[0] });
    }
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await Promise.all(this.#servers.map((s) => new Promise((r) => s.close(r))));
    await new Promise<void>((r) => (this.#udp ? this.#udp.close(() => r()) : r()));
  }

  #tcp(host: string): Promise<number> {
    const server = createServer((socket) => {
      this.tcpConnections++;
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      socket.on("error", () => {});
      socket.end(`${this.secret}\n`);
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, host, () => {
        this.#servers.push(server);
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  #udpServer(): Promise<number> {
    const udp = createSocket("udp4");
    udp.on("message", (msg, from) => {
      this.udpDatagrams++;
      // Answer NXDOMAIN (the query with the response flags set and no records), so the guest's
      // nslookup would say "reached" rather than time out.
      if (msg.length < 12) return;
      const reply = Buffer.from(msg);
      reply.set([0x81, 0x83], 2);
      reply.fill(0, 6, 12);
      udp.send(reply, from.port, from.address);
    });
    this.#udp = udp;
    return new Promise((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(0, "127.0.0.1", () => resolve(udp.address().port));
    });
  }
}
