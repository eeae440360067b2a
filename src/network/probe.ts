// Whether this host allows the data plane: CAP_NET_ADMIN, /dev/net/tun, the tools, and a namespace
// with a bridge actually created (a sandbox may refuse what the capabilities promise).
import { access, constants, readFile } from "node:fs/promises";
import { run } from "./commands.ts";

export async function probeHost(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  // CAP_NET_ADMIN is capability 12.
  if (!capEff || (BigInt(`0x${capEff}`) & (1n << 12n)) === 0n) {
    return { ok: false, reason: "no CAP_NET_ADMIN (run as root to get VPC networking)" };
  }
  try {
    await access("/dev/net/tun", constants.R_OK | constants.W_OK);
  } catch {
    return { ok: false, reason: "no /dev/net/tun" };
  }
  for (const [tool, args, pkg] of [
    ["ip", ["-V"], "iproute2"],
    ["nft", ["--version"], "nftables"],
    ["dnsmasq", ["--version"], "dnsmasq-base"],
  ] as const) {
    const r = await run(tool, [...args], { allowFail: true }).catch(() => null);
    if (r?.code !== 0) return { ok: false, reason: `${tool} is missing (Debian package ${pkg})` };
  }
  const probe = `strata-probe-${process.pid}`;
  const added = await run("ip", ["netns", "add", probe], { allowFail: true });
  if (added.code !== 0)
    return { ok: false, reason: `cannot create a network namespace: ${added.stderr.trim()}` };
  const bridge = await run("ip", ["-n", probe, "link", "add", "name", "probe", "type", "bridge"], {
    allowFail: true,
  });
  await run("ip", ["netns", "del", probe], { allowFail: true });
  if (bridge.code !== 0) return { ok: false, reason: `cannot create a bridge: ${bridge.stderr.trim()}` };
  return { ok: true };
}
