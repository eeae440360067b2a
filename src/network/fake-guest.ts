// Test helper: a "fake guest" is a namespace of its own whose eth0 is a veth end standing in for
// the tap the data plane created (same name, same bridge), so DHCP, routing, the firewall and the
// guard see what a VM's traffic would be, without QEMU.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ipBatch, ipJson, run, sbinPath } from "./commands.ts";
import { removeNetns } from "./netns.ts";

export class FakeGuest {
  readonly netns: string;
  readonly mac: string;
  readonly #children = new Set<ChildProcess>();

  private constructor(netns: string, mac: string) {
    this.netns = netns;
    this.mac = mac;
  }

  /** Replaces the plugged tap `tap` in `vpcNetns` by a veth whose other end is eth0 of a new namespace. */
  static async attach(name: string, vpcNetns: string, tap: string, mac: string): Promise<FakeGuest> {
    const [link] = await ipJson<{ master?: string }[]>(vpcNetns, ["link", "show", "dev", tap]);
    if (!link?.master) throw new Error(`${tap} is on no bridge`);
    await run("ip", ["netns", "add", name]);
    await run("ip", ["-n", vpcNetns, "link", "del", tap]);
    await run("ip", [
      "link",
      "add",
      "name",
      tap,
      "netns",
      vpcNetns,
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      name,
    ]);
    await ipBatch(vpcNetns, [`link set ${tap} master ${link.master}`, `link set ${tap} up`]);
    await ipBatch(name, ["link set lo up", `link set eth0 address ${mac}`, "link set eth0 up"]);
    return new FakeGuest(name, mac);
  }

  exec(args: string[], timeoutMs = 10_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return run("timeout", [String(timeoutMs / 1000), "ip", "netns", "exec", this.netns, ...args], {
      allowFail: true,
    });
  }

  /** DHCP with busybox udhcpc; returns the variables its script saw (ip, mask, router, dns, hostname, lease...). */
  async dhcp(dir: string): Promise<Record<string, string>> {
    const script = join(dir, `udhcpc-${this.netns}.sh`);
    const out = join(dir, `udhcpc-${this.netns}.env`);
    writeFileSync(
      script,
      [
        "#!/bin/sh",
        'if [ "$1" = bound ]; then',
        `  env > '${out}'`,
        '  ip addr add "$ip/$mask" dev "$interface"',
        '  ip route add default via "$router" dev "$interface"',
        "fi",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const r = await this.exec(
      ["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-t", "10", "-T", "1", "-s", script],
      30_000,
    );
    if (r.code !== 0) throw new Error(`udhcpc in ${this.netns}: ${r.stderr}`);
    return Object.fromEntries(
      readFileSync(out, "utf8")
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
  }

  /** A TCP server in the guest answering every connection with `reply` (and echoing what it gets after). */
  serve(port: number, reply: string): Promise<void> {
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        this.netns,
        "socat",
        `TCP-LISTEN:${port},fork,reuseaddr`,
        `SYSTEM:echo ${reply}; exec cat`,
      ],
      { stdio: ["ignore", "ignore", "pipe"], env: sbinPath() },
    );
    this.#children.add(child);
    return this.#waitListening(port);
  }

  async #waitListening(port: number): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const r = await this.exec(["ss", "-Hltn", `sport = :${port}`]);
      if (r.stdout.trim()) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`nothing listens on ${port} in ${this.netns}`);
  }

  /** The first line a TCP connection to ip:port gets, or null when it cannot connect within the time. */
  async fetch(ip: string, port: number, { bind }: { bind?: string } = {}): Promise<string | null> {
    const r = await this.exec(
      ["socat", "-T", "2", "-", `TCP:${ip}:${port},connect-timeout=2${bind ? `,bind=${bind}` : ""}`],
      8_000,
    );
    return r.code === 0 && r.stdout ? r.stdout.split("\n")[0] : null;
  }

  /** Whether a TCP connection to ip:port is accepted within the time. */
  async canConnect(ip: string, port: number): Promise<boolean> {
    const r = await this.exec(["socat", "-u", "/dev/null", `TCP:${ip}:${port},connect-timeout=2`], 8_000);
    return r.code === 0;
  }

  /** A connection kept open: send lines, read the echo. */
  connect(ip: string, port: number): LongConnection {
    const child = spawn(
      "ip",
      ["netns", "exec", this.netns, "socat", "-", `TCP:${ip}:${port},connect-timeout=3`],
      {
        stdio: ["pipe", "pipe", "pipe"],
        env: sbinPath(),
      },
    );
    this.#children.add(child);
    return new LongConnection(child);
  }

  async remove(): Promise<void> {
    for (const c of this.#children) c.kill("SIGKILL");
    await removeNetns(this.netns);
  }
}

export class LongConnection {
  readonly #child: ChildProcess;
  #buf = "";
  #waiters: (() => void)[] = [];

  constructor(child: ChildProcess) {
    this.#child = child;
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      this.#buf += d;
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** The next line from the peer, or null after `timeoutMs`. */
  async line(timeoutMs = 5000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const l = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        return l;
      }
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  send(text: string): void {
    this.#child.stdin?.write(`${text}\n`);
  }

  close(): void {
    this.#child.kill("SIGKILL");
  }
}
