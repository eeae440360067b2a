// Network namespaces: create, list, and remove with every process still inside them (dnsmasq, a
// killed daemon's leftovers). Processes are killed by the pid the kernel lists for the namespace.
import { readFile } from "node:fs/promises";
import { run } from "./commands.ts";

export async function listNetns(): Promise<string[]> {
  const { stdout } = await run("ip", ["netns", "list"]);
  return stdout
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter(Boolean);
}

export async function netnsExists(name: string): Promise<boolean> {
  return (await listNetns()).includes(name);
}

/** Creates the namespace (loopback up) unless it exists. */
export async function ensureNetns(name: string): Promise<void> {
  if (!(await netnsExists(name))) await run("ip", ["netns", "add", name]);
  await run("ip", ["-n", name, "link", "set", "lo", "up"]);
}

/** Kills every process in the namespace and deletes it (its interfaces go with it). */
export async function removeNetns(name: string): Promise<void> {
  if (!(await netnsExists(name))) return;
  await killProcessesIn(name);
  await run("ip", ["netns", "del", name]);
}

export async function killProcessesIn(name: string): Promise<void> {
  const { stdout } = await run("ip", ["netns", "pids", name], { allowFail: true });
  const pids = stdout.split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  for (const pid of pids) await waitGone(pid);
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      // A zombie (our own child, not yet reaped) no longer holds the namespace.
      if (/^\d+ \(.*\) Z/.test(stat)) return;
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The data plane's namespaces carry no IPv6 (nor do VPCs here): one less way around the rules. */
export const NO_IPV6 = { "net.ipv6.conf.all.disable_ipv6": 1, "net.ipv6.conf.default.disable_ipv6": 1 };
