// DHCP and DNS of one VPC: one dnsmasq (Debian's dnsmasq-base) in the VPC's namespace. DHCP on
// every subnet's bridge, static only: one lease per MAC from the hosts file (updated by SIGHUP),
// with the hostname, the subnet's router (.1), the VPC's DNS (base+2) and a long lease. DNS at
// base+2 answers the VPC's own names (<hostname>.<domain>) and nothing else (no upstream).
//
// dnsmasq parses what hostile guests send, so it drops root (to nobody) after binding; the files
// it re-reads on SIGHUP are therefore outside the daemon's private run dir, in /run/strata-<tag>.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
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

const STARTED = /started, version/;

export class Dnsmasq {
  readonly config: DnsmasqConfig;
  readonly #child: ChildProcess;
  readonly exited: Promise<void>;
  #log = "";

  private constructor(config: DnsmasqConfig, child: ChildProcess) {
    this.config = config;
    this.#child = child;
    this.exited = new Promise((resolve) => child.once("close", () => resolve()));
  }

  get log(): string {
    return this.#log;
  }

  /** Writes the configuration and hosts, starts dnsmasq in the namespace, waits until it serves. */
  static async start(config: DnsmasqConfig, hosts: DhcpHost[]): Promise<Dnsmasq> {
    await mkdir(config.dir, { recursive: true, mode: 0o755 });
    await writeHosts(config, hosts);
    const confPath = join(config.dir, "dnsmasq.conf");
    await writeFile(confPath, dnsmasqConf(config), { mode: 0o644 });
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
    const d = new Dnsmasq(config, child);
    await new Promise<void>((resolve, reject) => {
      child.stderr?.setEncoding("utf8").on("data", (text: string) => {
        d.#log = (d.#log + text).slice(-8000);
        if (STARTED.test(d.#log)) resolve();
      });
      child.once("error", reject);
      child.once("close", (code) => reject(new Error(`dnsmasq exited (${code}) at start: ${d.#log.trim()}`)));
    });
    return d;
  }

  /** Replaces the leases and names and has dnsmasq re-read them (SIGHUP). */
  async setHosts(hosts: DhcpHost[]): Promise<void> {
    await writeHosts(this.config, hosts);
    this.#child.kill("SIGHUP");
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGKILL");
    await this.exited;
  }
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
  await rename(`${path}.tmp`, path);
}

export async function removeDnsmasqDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
