// DHCP and DNS of one VPC: one dnsmasq (Debian's dnsmasq-base) in the VPC's namespace. DHCP on
// every subnet's bridge, static only: one lease per MAC from the hosts file (updated by SIGHUP),
// with the hostname, the subnet's router (.1), the VPC's DNS (base+2) and a long lease. DNS at
// base+2 answers the VPC's own names (<hostname>.<domain>) and nothing else (no upstream).
//
// dnsmasq parses what hostile guests send, so it drops root (to nobody) after binding; the files
// it re-reads on SIGHUP are therefore outside the daemon's private run dir, in /run/strata-<tag>.
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { sbinPath } from "./commands.ts";
import { addressAt, formatIp, netmask, parseCidr, parseIp, parseMac } from "./ipv4.ts";

export interface DhcpSubnet {
  bridge: string;
  cidr: string;
}

export interface DhcpHost {
  mac: string;
  ip: string;
  hostname: string;
}

export interface DnsmasqConfig {
  netns: string;
  /** A directory dnsmasq (as nobody) can read after dropping root. */
  dir: string;
  dnsIp: string;
  domain: string;
  subnets: DhcpSubnet[];
}

export class Dnsmasq {
  readonly config: DnsmasqConfig;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log = "";
  /** How many times dnsmasq has said it read its DHCP hosts file (at start and after each SIGHUP). */
  #reads = 0;
  #onRead: (() => void)[] = [];
  /** The hosts this dnsmasq process has been given since it started. */
  #given = new Set<string>();

  private constructor(config: DnsmasqConfig) {
    this.config = config;
  }

  get log(): string {
    return this.#log;
  }

  /** Writes the configuration and hosts, starts dnsmasq in the namespace, waits until it has read them. */
  static async start(config: DnsmasqConfig, hosts: DhcpHost[]): Promise<Dnsmasq> {
    const d = new Dnsmasq(config);
    await d.#spawn(hosts);
    return d;
  }

  async #spawn(hosts: DhcpHost[]): Promise<void> {
    const { config } = this;
    await mkdir(config.dir, { recursive: true, mode: 0o755 });
    // The daemon runs under umask 077: modes are set explicitly, or dnsmasq (as nobody) could not
    // re-read its hosts after dropping root.
    await chmod(dirname(config.dir), 0o755);
    await chmod(config.dir, 0o755);
    await writeHosts(config, hosts);
    const confPath = join(config.dir, "dnsmasq.conf");
    await writeFile(confPath, dnsmasqConf(config), { mode: 0o644 });
    await chmod(confPath, 0o644);
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        config.netns,
        "setpriv",
        "--pdeathsig",
        "KILL",
        "--",
        "dnsmasq",
        `--conf-file=${confPath}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"], env: sbinPath() },
    );
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once("close", () => resolve()));
    this.#reads = 0;
    this.#remember(hosts);
    let partial = "";
    child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      this.#log = (this.#log + text).slice(-8000);
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      // On each (re)load dnsmasq logs "read <dir>/names - N names", then "read <dir>/leases".
      const reads = lines.filter((l) => l.endsWith(`read ${join(config.dir, "leases")}`)).length;
      if (reads && this.#child === child) {
        this.#reads += reads;
        for (const f of this.#onRead.splice(0)) f();
      }
    });
    try {
      await this.#waitReads(0, 30_000);
    } catch (e) {
      // A dnsmasq that never became ready must not stay bound to the VPC's addresses.
      await this.stop();
      throw e;
    }
  }

  #remember(hosts: DhcpHost[]): void {
    for (const h of hosts) this.#given.add(hostKey(h));
  }

  /**
   * Replaces the leases and names and has dnsmasq re-read them (SIGHUP); resolves once it has.
   * dnsmasq keeps the leases it gave (in memory: leasefile-ro), and a lease holds its address and
   * its name in DNS even after its host entry is gone: when a host is removed or changed, dnsmasq
   * starts afresh instead (static leases only, so nothing is lost; clients keep their addresses).
   */
  async setHosts(hosts: DhcpHost[]): Promise<void> {
    const wanted = new Set(hosts.map(hostKey));
    if ([...this.#given].some((k) => !wanted.has(k))) {
      await this.stop();
      this.#given.clear();
      await this.#spawn(hosts);
      return;
    }
    await writeHosts(this.config, hosts);
    this.#remember(hosts);
    const before = this.#reads;
    this.#child?.kill("SIGHUP");
    await this.#waitReads(before, 10_000);
  }

  async #waitReads(before: number, timeoutMs: number): Promise<void> {
    const child = this.#child!;
    const deadline = Date.now() + timeoutMs;
    while (this.#reads === before) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`dnsmasq in ${this.config.netns} exited (${child.exitCode}): ${this.#log.trim()}`);
      }
      if (Date.now() > deadline)
        throw new Error(`dnsmasq in ${this.config.netns} did not load its hosts in time`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#onRead.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await this.#exited;
  }
}

function hostKey(h: DhcpHost): string {
  return `${h.mac.toLowerCase()} ${h.ip} ${h.hostname}`;
}

export function dnsmasqConf({ dir, dnsIp, domain, subnets }: DnsmasqConfig): string {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(domain)) throw new Error(`bad DNS domain: ${domain}`);
  const dns = formatIp(parseIp(dnsIp));
  const lines = [
    "keep-in-foreground",
    "log-facility=-",
    "pid-file=",
    "user=nobody",
    "group=nogroup",
    "no-resolv",
    "no-hosts",
    "no-poll",
    "bind-interfaces",
    `listen-address=${dns}`,
    "except-interface=uplink",
    // Answer the VPC's domain from our own names only; everything else has no upstream.
    `local=/${domain}/`,
    `domain=${domain}`,
    `addn-hosts=${join(dir, "names")}`,
    `dhcp-hostsfile=${join(dir, "leases")}`,
    "dhcp-authoritative",
    // Names come from our host entries only, never from what a guest calls itself.
    "dhcp-ignore-names",
    "leasefile-ro",
    "quiet-dhcp",
    `dhcp-option=option:dns-server,${dns}`,
  ];
  for (const s of subnets) {
    const c = parseCidr(s.cidr);
    lines.push(
      `interface=${s.bridge}`,
      `dhcp-range=set:${s.bridge},${addressAt(c, 0)},static,${netmask(c.prefix)},infinite`,
      `dhcp-option=tag:${s.bridge},option:router,${addressAt(c, 1)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export function hostsFile(hosts: DhcpHost[]): string {
  return hosts
    .map((h) => `${parseMac(h.mac)},${formatIp(parseIp(h.ip))},${checkName(h.hostname)},infinite\n`)
    .join("");
}

export function namesFile(hosts: DhcpHost[], domain: string): string {
  return hosts
    .map((h) => `${formatIp(parseIp(h.ip))} ${checkName(h.hostname)}.${domain} ${h.hostname}\n`)
    .join("");
}

function checkName(name: string): string {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) throw new Error(`bad hostname: ${name}`);
  return name;
}

async function writeHosts(config: DnsmasqConfig, hosts: DhcpHost[]): Promise<void> {
  await replaceFile(join(config.dir, "leases"), hostsFile(hosts));
  await replaceFile(join(config.dir, "names"), namesFile(hosts, config.domain));
}

async function replaceFile(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text, { mode: 0o644 });
  await chmod(`${path}.tmp`, 0o644);
  await rename(`${path}.tmp`, path);
}

export async function removeDnsmasqDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
