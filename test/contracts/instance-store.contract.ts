// What every InstanceStore must do, checked through the interface (and CatalogStore for tags).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { CatalogStore } from "../../src/storage/metadata/catalog-store.ts";
import type {
  InstanceRecord,
  InstanceStore,
  KeyPairRecord,
} from "../../src/storage/metadata/instance-store.ts";
import { account, byteSorted, type Open, type Opened, rejectsWith, uid } from "./harness.ts";

export interface InstanceStores {
  instances: InstanceStore;
  catalog: CatalogStore;
}

export function instance(ownerId: string, over: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id: uid("i"),
    ownerId,
    reservationId: uid("r"),
    imageId: uid("ami"),
    instanceType: "t3.micro",
    state: "pending",
    stateTransitionReason: "",
    stateReason: null,
    keyName: "my key",
    publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE",
    launchIndex: 0,
    launchedAt: "2026-11-22T07:00:00.000Z",
    availabilityZone: "us-east-1a",
    userData: "IyEvYmluL3NoCmVjaG8gaGk=",
    rootDeviceName: "/dev/xvda",
    architecture: "x86_64",
    clientToken: null,
    mac: "02:00:00:aa:bb:cc",
    privateIp: "172.31.0.10",
    sshPort: 40022,
    pid: null,
    terminatedAt: null,
    ...over,
  };
}

function keyPair(ownerId: string, name: string): KeyPairRecord {
  return {
    id: uid("key"),
    ownerId,
    name,
    keyType: "ed25519",
    fingerprint: "SHA256:abc/def+ghi=",
    publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE",
    createdAt: "2026-11-22T07:00:00.123Z",
  };
}

export function instanceStoreContract(name: string, open: Open<InstanceStores>): void {
  describe(`InstanceStore contract: ${name}`, () => {
    let h: Opened<InstanceStores>;
    let s: InstanceStore;
    before(async () => {
      h = await open();
      s = h.store.instances;
    });
    after(() => h.close());

    const volume = async (ownerId: string, state = "available") => {
      const id = uid("vol");
      await h.fixtures.addVolume({ id, ownerId, sizeGiB: 8, volumeType: "gp3", state });
      return id;
    };

    it("inserts instances with tags and attaches their volumes, reading every field back", async () => {
      const owner = account();
      const a = instance(owner, {
        shutdownBehavior: "terminate",
        stateReason: { code: "pending", message: "pending" },
      });
      const b = instance(owner, {
        launchIndex: 1,
        keyName: null,
        publicKey: null,
        userData: null,
        pid: 4242,
      });
      const [va, vb] = [await volume(owner), await volume(owner)];
      await s.insertInstances(
        [b, a],
        [
          {
            volumeId: vb,
            instanceId: a.id,
            device: "/dev/sdf",
            attachedAt: "2026-11-22T07:00:01.000Z",
            deleteOnTermination: false,
          },
          {
            volumeId: va,
            instanceId: a.id,
            device: "/dev/xvda",
            attachedAt: "2026-11-22T07:00:00.000Z",
            deleteOnTermination: true,
          },
        ],
        [{ key: "Name", value: "web" }],
      );
      assert.deepEqual(await s.getInstance(a.id), a);
      assert.deepEqual(await s.getInstance(b.id), b);
      assert.equal(await s.getInstance("i-0000000000000000f"), undefined);
      const some = await s.getInstances([b.id, "i-0000000000000000f", a.id]);
      assert.deepEqual(
        some.sort((x, y) => x.id.localeCompare(y.id)),
        [a, b].sort((x, y) => x.id.localeCompare(y.id)),
      );
      assert.deepEqual(await s.getInstances([]), []);
      assert.deepEqual(await h.store.catalog.tags(b.id), [{ key: "Name", value: "web" }]);
      const listed = (await s.listInstances()).map((i) => i.id);
      assert.deepEqual(listed, byteSorted(listed));
      assert.deepEqual(await s.attachments(a.id), [
        {
          volumeId: vb,
          instanceId: a.id,
          device: "/dev/sdf",
          attachedAt: "2026-11-22T07:00:01.000Z",
          deleteOnTermination: false,
        },
        {
          volumeId: va,
          instanceId: a.id,
          device: "/dev/xvda",
          attachedAt: "2026-11-22T07:00:00.000Z",
          deleteOnTermination: true,
        },
      ]);
    });

    it("rolls back a launch whose volume cannot be attached: no instance, no tags", async () => {
      const owner = account();
      const i = instance(owner);
      const busy = await volume(owner);
      await s.attachVolume({
        volumeId: busy,
        instanceId: uid("i"),
        device: "/dev/sdf",
        attachedAt: "t",
        deleteOnTermination: false,
      });
      const free = await volume(owner);
      const att = (volumeId: string) => ({
        volumeId,
        instanceId: i.id,
        device: "/dev/sdg",
        attachedAt: "t",
        deleteOnTermination: true,
      });
      await rejectsWith(
        s.insertInstances([i], [att(free), att(busy)], [{ key: "k", value: "v" }]),
        "VolumeInUse",
      );
      assert.equal(await s.getInstance(i.id), undefined);
      assert.deepEqual(await h.store.catalog.tags(i.id), []);
      assert.deepEqual(await s.attachments(i.id), []);
    });

    it("attaches only an existing, available, unattached volume", async () => {
      const owner = account();
      const iid = uid("i");
      const att = (volumeId: string) => ({
        volumeId,
        instanceId: iid,
        device: "/dev/sdh",
        attachedAt: "t",
        deleteOnTermination: false,
      });
      await rejectsWith(s.attachVolume(att("vol-0ffffffffffffffff")), "InvalidVolume.NotFound");
      await rejectsWith(s.attachVolume(att(await volume(owner, "creating"))), "IncorrectState");
      const v = await volume(owner);
      await s.attachVolume(att(v));
      await rejectsWith(s.attachVolume({ ...att(v), instanceId: uid("i") }), "VolumeInUse");
      await s.setDeleteOnTermination(v, true);
      assert.deepEqual(await s.attachments(iid), [{ ...att(v), deleteOnTermination: true }]);
      assert.ok((await s.allAttachments()).some((a) => a.volumeId === v && a.instanceId === iid));
      await s.detachVolume(v);
      assert.deepEqual(await s.attachments(iid), []);
      assert.ok(!(await s.allAttachments()).some((a) => a.volumeId === v));
      await s.attachVolume({ ...att(v), instanceId: uid("i") }); // available again
    });

    it("only one of many concurrent attachments of a volume succeeds", async () => {
      const v = await volume(account());
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () =>
          s.attachVolume({
            volumeId: v,
            instanceId: uid("i"),
            device: "/dev/sdf",
            attachedAt: "t",
            deleteOnTermination: false,
          }),
        ),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      for (const r of results)
        if (r.status === "rejected") assert.equal((r.reason as { code: string }).code, "VolumeInUse");
    });

    it("replaces an instance's record on update", async () => {
      const i = instance(account());
      await s.insertInstances([i], []);
      const running = {
        ...i,
        state: "running" as const,
        pid: 99,
        stateTransitionReason: "User initiated (2026-11-22 07:00:00 GMT)",
      };
      assert.equal(await s.updateInstance(running), true);
      assert.deepEqual(await s.getInstance(i.id), running);
    });

    it("a conditional update writes only while the stored state and host are still the expected ones", async () => {
      const i = instance(account(), { state: "running", host: "host-b" });
      await s.insertInstances([i], []);
      const stale = { ...i, state: "stopped" as const, pid: null };
      // Another host took it over meanwhile: the stale write is refused.
      const taken = { ...i, state: "pending" as const, host: "host-c" };
      assert.equal(await s.updateInstance(taken), true);
      assert.equal(await s.updateInstance(stale, { state: "running", host: "host-b" }), false);
      assert.deepEqual(await s.getInstance(i.id), taken);
      assert.equal(await s.updateInstance(stale, { state: "pending", host: "host-c" }), true);
      assert.deepEqual(await s.getInstance(i.id), stale);
      // No host recorded (before hosts were) matches null.
      const old = instance(account(), { state: "running" });
      await s.insertInstances([old], []);
      const stopped = { ...old, state: "stopped" as const };
      assert.equal(await s.updateInstance(stopped, { state: "running", host: null }), true);
      assert.deepEqual(await s.getInstance(old.id), stopped);
    });

    it("keeps key pairs per owner by name: duplicates refused, listed by name, deleted with their tags", async () => {
      const [owner, other] = [account(), account()];
      const b = keyPair(owner, "b-key");
      const a = keyPair(owner, "A-key");
      await s.insertKeyPair(b, [{ key: "team", value: "x" }]);
      await s.insertKeyPair(a);
      await s.insertKeyPair(keyPair(other, "b-key"));
      const dup = keyPair(owner, "b-key");
      await rejectsWith(s.insertKeyPair(dup, [{ key: "t", value: "v" }]), "InvalidKeyPair.Duplicate");
      assert.deepEqual(await h.store.catalog.tags(dup.id), []);
      assert.deepEqual(await s.keyPairs(owner), [a, b]);
      assert.deepEqual(await h.store.catalog.tags(b.id), [{ key: "team", value: "x" }]);
      await s.deleteKeyPair(b.id);
      assert.deepEqual(await s.keyPairs(owner), [a]);
      assert.deepEqual(await h.store.catalog.tags(b.id), []);
    });
  });
}
