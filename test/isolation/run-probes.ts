// Runs an action's probes against every target of their kind: B with A's id, then B with an id
// of the same form that never existed, and reports every difference between the two answers.
import { randomBytes } from "node:crypto";
import { computeExempt, computeProbes } from "./ec2-compute-table.ts";
import { networkExempt, networkProbes } from "./ec2-network-table.ts";
import { securityGroupProbes } from "./ec2-security-group-table.ts";
import { storageProbes } from "./ec2-storage-table.ts";
import { describe, difference, outcomeOf } from "./outcome.ts";
import type { Probe, Target, World } from "./probes.ts";

/** The tables merged: an action in more than one (RunInstances) gets all of their probes. */
function merged(...tables: Record<string, Probe[]>[]): Record<string, Probe[]> {
  const all: Record<string, Probe[]> = {};
  for (const table of tables)
    for (const [action, probes] of Object.entries(table)) all[action] = [...(all[action] ?? []), ...probes];
  return all;
}

export const ec2Probes = merged(storageProbes, computeProbes, networkProbes, securityGroupProbes);
export const exempt: Record<string, string> = { ...computeExempt, ...networkExempt };

// Actions that would destroy a target if they wrongly accepted A's id run last (in this order),
// so one such failure cannot hide the others' behind ids that no longer exist.
const DESTRUCTIVE = [
  "CompleteSnapshot",
  "DisassociateAddress",
  "ReleaseAddress",
  "DisassociateRouteTable",
  "DeleteRoute",
  "RevokeSecurityGroupIngress",
  "RevokeSecurityGroupEgress",
  "DetachInternetGateway",
  "DeleteInternetGateway",
  "DeleteSecurityGroup",
  "DeleteRouteTable",
  "DeleteSubnet",
  "DeleteVpc",
  "TerminateInstances",
  "DeleteKeyPair",
  "DeregisterImage",
  "DeleteSnapshot",
  "DeleteVolume",
];

/** The table's entries, the destructive ones last. */
export function inRunOrder<T>(entries: [string, T][]): [string, T][] {
  const rank = (action: string) => DESTRUCTIVE.indexOf(action);
  return [...entries].sort(([a], [b]) => rank(a) - rank(b));
}

/** An id of the target's form (same prefix and length) that no resource ever had. */
export function neverExisting(t: Target): string {
  if (t.kind === "keyName" || t.kind === "securityGroupName")
    return `never-${randomBytes(6).toString("hex")}`;
  if (t.kind === "publicIp") {
    // Another address of the same /16 pool, 100 /24s past the world's few (the pool hands them out
    // in order from its start): no Elastic IP has it.
    const [a, b, c] = t.id.split(".").map(Number);
    return `${a}.${b}.${(c + 100) % 256}.${1 + (randomBytes(1)[0] % 254)}`;
  }
  const dash = t.id.indexOf("-");
  const hexLength = t.id.length - dash - 1;
  return `${t.id.slice(0, dash + 1)}${randomBytes(hexLength).toString("hex").slice(0, hexLength)}`;
}

/** One line per case where B's answer for A's id is not the answer for a never-existing id. */
export async function probeTargets(w: World, action: string, probes: Probe[]): Promise<string[]> {
  const problems: string[] = [];
  for (const p of probes) {
    for (const t of w.targets.filter((x) => x.kind === p.kind && (p.appliesTo?.(x, w) ?? true))) {
      const fakeId = neverExisting(t);
      // The never-existing id first: a real call that wrongly succeeds cannot change its answer.
      const fake = await outcomeOf(() => p.call(w, fakeId, t));
      if (fake.code === "OK") await p.cleanup?.(w, fakeId);
      const real = await outcomeOf(() => p.call(w, t.id, t));
      if (real.code === "OK") await p.cleanup?.(w, t.id);
      const label = `${action} ${p.what} with A's ${t.state} ${t.kind} ${t.id}`;
      // A probe refused before its id is looked at would compare two equal refusals: no proof.
      if (fake.code !== "OK" && !fake.text.includes(fakeId)) {
        problems.push(
          `${label}: the probe never reaches the id; a never-existing one gets ${describe(fake)}`,
        );
      }
      const why = difference(real, t.id, fake, fakeId, w.secrets);
      if (why) problems.push(`${label}: ${why}`);
      if (process.env.ISOLATION_TRACE)
        console.log(`${label}\n  B: ${describe(real)}\n  never: ${describe(fake)}`);
    }
  }
  return problems;
}
