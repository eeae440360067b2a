// DeleteSnapshot and DeleteVolume, which free the chunks nothing else references, killed
// anywhere (and sometimes killed again during the start-up sweep). A delete that was answered is
// final; one that was not either happened or left the resource whole; chunks still referenced
// by what remains are never lost, and the audit finds no orphan bytes or rows.
import { DeleteSnapshotCommand, DeleteVolumeCommand } from "@aws-sdk/client-ec2";
import { type SnapshotModel, VolumeModel } from "../model.ts";
import { storedResources } from "../store-audit.ts";
import { checkSnapshot, createVolume, type Scenario } from "../trial.ts";
import { compareVolume, randomWrites, takeSnapshot } from "./volume-ops.ts";

const REGION = "us-east-1";

type Target = { kind: "snapshot"; model: SnapshotModel } | { kind: "volume"; model: VolumeModel };

export const gcScenario: Scenario = {
  name: "gc-delete",
  window: 150,
  crashPoints: ["chunks.rows-dropped@3", "snapshot.row-deleted@2", "volume.row-deleted@2"],
  create(ctx) {
    const { world: w, rng } = ctx;
    const all: Target[] = [];
    let targets: Target[] = [];
    const deleted = new Set<string>();
    const exists = (id: string) => {
      const r = storedResources(w.dataDir, REGION);
      return r.snapshots.some((s) => s.id === id) || r.volumes.some((v) => v.id === id);
    };
    return {
      async prepare() {
        const volume = new VolumeModel(await createVolume(w, REGION), REGION);
        ctx.known.add(volume.id);
        await w.writeBlocks(volume, randomWrites(rng, `${ctx.tag}-1`, 128, rng.int(32, 96)));
        const first = await takeSnapshot(ctx, volume, `${ctx.tag}-first`);
        await w.writeBlocks(volume, randomWrites(rng, `${ctx.tag}-2`, 128, rng.int(8, 48)));
        const second = await takeSnapshot(ctx, volume, `${ctx.tag}-second`);
        const restored = new VolumeModel(await createVolume(w, REGION, first.id), REGION);
        for (const [b, h] of first.blocks) restored.blocks.set(b, { hash: h, make: () => Buffer.alloc(0) });
        for (const id of [first.id, second.id, restored.id]) ctx.known.add(id);
        all.push(
          { kind: "snapshot", model: first },
          { kind: "snapshot", model: second },
          { kind: "volume", model: volume },
          { kind: "volume", model: restored },
        );
        // A random subset, in a random order.
        targets = [...all];
        for (let i = targets.length - 1; i > 0; i--) {
          const j = rng.int(0, i);
          [targets[i], targets[j]] = [targets[j], targets[i]];
        }
        targets.splice(rng.int(2, 4));
      },
      async run() {
        for (const t of targets) {
          const ec2 = w.ec2(REGION);
          if (t.kind === "snapshot") await ec2.send(new DeleteSnapshotCommand({ SnapshotId: t.model.id }));
          else await ec2.send(new DeleteVolumeCommand({ VolumeId: t.model.id }));
          deleted.add(t.model.id);
        }
      },
      landing() {
        const gone = targets.filter((t) => !exists(t.model.id)).length;
        return gone === 0 ? "before" : gone < targets.length ? "mid" : "after";
      },
      async verify() {
        const failures: string[] = [];
        // Everything, deleted or not: what remains must be whole (chunks are shared among them).
        for (const t of all) {
          const id = t.model.id;
          if (!exists(id)) {
            if (!targets.includes(t)) failures.push(`${id} vanished though nothing deleted it`);
            continue;
          }
          if (deleted.has(id)) {
            failures.push(`${id} is back after its delete was answered`);
            continue;
          }
          // Not deleted (or the delete never happened): it must be whole.
          if (t.kind === "snapshot")
            failures.push(...(await checkSnapshot(ctx, t.model, "a snapshot not deleted")));
          else failures.push(...(await compareVolume(ctx, t.model, "a volume not deleted")));
        }
        return failures;
      },
    };
  },
};
