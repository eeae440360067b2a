// Running iproute2, nft and sysctl, on the host or inside one of the data plane's namespaces.
// Every argument is passed as argv (never through a shell); batches go through stdin.
import { spawn } from "node:child_process";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; rejects with its stderr unless it exits 0 (or `allowFail`). */
export function run(
  cmd: string,
  args: string[],
  { input, allowFail = false }: { input?: string; allowFail?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: sbinPath() });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      const result = { code: code ?? -1, stdout, stderr };
      if (result.code === 0 || allowFail) resolve(result);
      else
        reject(new Error(`${cmd} ${args.join(" ")}: exit ${result.code}: ${stderr.trim() || stdout.trim()}`));
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  });
}

export function sbinPath(): NodeJS.ProcessEnv {
  const path = process.env.PATH ?? "/usr/bin:/bin";
  return { ...process.env, PATH: `${path}:/usr/sbin:/sbin` };
}

/** `ip` commands in one process (`ip -batch -`), in `netns` or (null) on the host; stops at the first error. */
export async function ipBatch(netns: string | null, lines: string[]): Promise<void> {
  if (!lines.length) return;
  await run("ip", [...(netns ? ["-n", netns] : []), "-batch", "-"], { input: `${lines.join("\n")}\n` });
}

/** `ip -j ...` parsed. */
export async function ipJson<T>(netns: string | null, args: string[]): Promise<T> {
  const { stdout } = await run("ip", [...(netns ? ["-n", netns] : []), "-j", ...args]);
  return JSON.parse(stdout.trim() || "[]") as T;
}

/** Loads an nft script atomically (one transaction) in the namespace, or on the host (null). */
export async function nft(netns: string | null, script: string): Promise<void> {
  if (netns) await run("ip", ["netns", "exec", netns, "nft", "-f", "-"], { input: script });
  else await run("nft", ["-f", "-"], { input: script });
}

/** Sets sysctls inside a namespace (net.* are per namespace). */
export async function sysctl(netns: string, settings: Record<string, string | number>): Promise<void> {
  await run("ip", [
    "netns",
    "exec",
    netns,
    "sysctl",
    "-q",
    "-w",
    ...Object.entries(settings).map(([k, v]) => `${k}=${v}`),
  ]);
}

export async function linkNames(netns: string | null): Promise<Set<string>> {
  const links = await ipJson<{ ifname: string }[]>(netns, ["link", "show"]);
  return new Set(links.map((l) => l.ifname));
}
