// What every QuotaUsageStore must count, from resources written through the other stores.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { CatalogStore } from "../../src/storage/metadata/catalog-store.ts";
import type { InstanceStore } from "../../src/storage/metadata/instance-store.ts";
import type { QuotaUsageStore } from "../../src/storage/metadata/quota-usage.ts";
import { account, type Open, type Opened, uid } from "./harness.ts";
import { image } from "./images.ts";
import { instance } from "./instance-store.contract.ts";

export interface QuotaStores {
  usage: QuotaUsageStore;
  catalog: CatalogStore;
  instances: InstanceStore;
}

export function quotaUsageContract(name: string, open: Open<QuotaStores>): void {
  describe(`QuotaUsageStore contract: ${name}`, () => {
    let h: Opened<QuotaStores>;
    before(async () => {
      h = await open();
    });
    after(() => h.close());

    it("sums an account's volumes by type, with provisioned IOPS", async () => {
      const [me, other] = [account(), account()];
      const add = (ownerId: string, sizeGiB: number, volumeType: string, iops: number | null = null) =>
        h.fixtures.addVolume({ id: uid("vol"), ownerId, sizeGiB, volumeType, iops });
      await add(me, 8, "gp3");
      await add(me, 16000, "gp3");
      await add(me, 100, "io2", 64000);
      await add(me, 200, "io2", 32000);
      await add(other, 1, "gp3");
      const usage = await h.store.usage.volumeUsage(me);
      assert.deepEqual(
        [...usage.entries()].sort(([a], [b]) => a.localeCompare(b)),
        [
          ["gp3", { sizeGiB: 16008, iops: 0 }],
          ["io2", { sizeGiB: 300, iops: 96000 }],
        ],
      );
      assert.equal((await h.store.usage.volumeUsage(account())).size, 0);
    });

    it("counts snapshots in any state, images, public images and key pairs", async () => {
      const [me, other] = [account(), account()];
      for (const state of ["pending", "completed", "error"])
        await h.fixtures.addSnapshot(uid("snap"), me, state);
      await h.fixtures.addSnapshot(uid("snap"), other, "completed");
      const images = [
        image(me, "q1", { state: "pending" }),
        image(me, "q2"),
        image(me, "q3", { state: "failed" }),
      ];
      for (const i of images) await h.store.catalog.insertImage(i);
      await h.store.catalog.insertImage(image(other, "q1"));
      await h.store.catalog.changePermissions(images[0].id, ["all", other], []);
      await h.store.catalog.changePermissions(images[1].id, [other], []);
      for (const n of ["k1", "k2"]) {
        await h.store.instances.insertKeyPair({
          id: uid("key"),
          ownerId: me,
          name: n,
          keyType: "rsa",
          fingerprint: "f",
          publicKey: "ssh-rsa AAAA",
          createdAt: "2026-11-22T07:00:00.000Z",
        });
      }
      const u = h.store.usage;
      assert.deepEqual(
        [
          await u.snapshotCount(me),
          await u.imageCount(me),
          await u.publicImageCount(me),
          await u.keyPairCount(me),
        ],
        [3, 3, 1, 2],
      );
      assert.deepEqual(
        [
          await u.snapshotCount(other),
          await u.imageCount(other),
          await u.publicImageCount(other),
          await u.keyPairCount(other),
        ],
        [1, 1, 0, 0],
      );
    });

    it("lists the types of instances that hold vCPUs (not stopped or terminated)", async () => {
      const me = account();
      const states = ["pending", "running", "stopping", "stopped", "shutting-down", "terminated"] as const;
      const types = ["a1.large", "b1.large", "c1.large", "d1.large", "e1.large", "f1.large"];
      await h.store.instances.insertInstances(
        states.map((state, k) => instance(me, { state, instanceType: types[k] })),
        [],
      );
      await h.store.instances.insertInstances([instance(account(), { state: "running" })], []);
      assert.deepEqual((await h.store.usage.activeInstanceTypes(me)).sort(), [
        "a1.large",
        "b1.large",
        "c1.large",
        "e1.large",
      ]);
    });
  });
}
