// One test per action: B's calls with A's ids answer as with ids that never existed, and A's,
// B's and C's state is the same after them as before.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ebsProbes } from "./ebs-table.ts";
import { differences, worldState } from "./observe.ts";
import type { Kind, Probe, World } from "./probes.ts";
import { ec2Probes, inRunOrder, probeTargets } from "./run-probes.ts";

/** Every EC2 and EBS entry with probes of these kinds, destructive actions last. */
export function entriesFor(kinds: Kind[]): [string, Probe[]][] {
  const all = Object.entries({ ...ec2Probes, ...ebsProbes });
  return inRunOrder(
    all
      .map(([action, ps]): [string, Probe[]] => [action, ps.filter((p) => kinds.includes(p.kind))])
      .filter(([, ps]) => ps.length > 0),
  );
}

/** Registers the tests; `world` is called when they run (it is built in a before hook). */
export function probeTests(world: () => World, kinds: Kind[], when = ""): void {
  for (const [action, probes] of entriesFor(kinds)) {
    test(`${action}${when}: A's ids answer as ids that never existed, and nothing changes`, async () => {
      const w = world();
      const before = await worldState(w);
      const problems = await probeTargets(w, action, probes);
      const changed = differences(before, await worldState(w));
      assert.deepEqual(
        [...problems, ...changed.map((d) => `${action} changed state: ${d}`)],
        [],
        `${action}: ${problems.length} answers differ, ${changed.length} state changes`,
      );
    });
  }
}
