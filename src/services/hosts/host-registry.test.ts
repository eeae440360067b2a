import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { type InstanceTypeInfo, instanceType } from "../../compute/instance-types.ts";
import { StrataError } from "../../errors.ts";
import type { HostRecord } from "../../storage/metadata/host-store.ts";
import { migrations } from "../../storage/metadata/sqlite/migrations.ts";
import { SqliteDatabase } from "../../storage/metadata/sqlite/sqlite-database.ts";
import { SqliteHostStore } from "../../storage/metadata/sqlite/sqlite-host-store.ts";
import type { ComputeHost } from "../instances/compute-host.ts";
import { HostRegistry } from "./host-registry.ts";
import { OnAnotherHost } from "./on-another-host.ts";

const micro = instanceType("t3.micro") as InstanceTypeInfo;
const now = Date.now();

/** A compute host with room for `fits` instances (placement asks nothing else of it). */
const compute = (fits: number) =>
  ({
    fits: (_t: InstanceTypeInfo, n: number) => Math.min(n, fits),
    capacity: { vcpus: 32, memoryMiB: 16384 },
    used: { vcpus: 0, memoryMiB: 0 },
  }) as unknown as ComputeHost;

const host = (id: string, zone: string | null, o: Partial<HostRecord> = {}): HostRecord => ({
  id,
  url: `http://${id}:4566`,
  zone,
  freeVcpus: 16,
  freeMemoryMiB: 8192,
  state: "alive",
  startedAt: now,
  heartbeatAt: now,
  tunnel: null,
  ...o,
});

describe("HostRegistry", () => {
  let store: SqliteHostStore;
  beforeEach(() => {
    store = new SqliteHostStore(new SqliteDatabase(":memory:", migrations));
  });

  it("places on this host when it serves the zone and the instances fit", async () => {
    await store.register(host("other", "us-east-1a", { freeMemoryMiB: 60000 }));
    const me = new HostRegistry("us-east-1", store, { id: "me", zone: "a" }, () => compute(2));
    assert.equal(await me.place("us-east-1a", micro, 2), "here");
  });

  it("else on the live host of the zone with the most free memory that has the room", async () => {
    await store.register(host("small", "us-east-1b", { freeMemoryMiB: 1024 }));
    await store.register(host("big", "us-east-1b", { freeMemoryMiB: 8192 }));
    await store.register(host("bigger-elsewhere", "us-east-1c", { freeMemoryMiB: 60000 }));
    await store.register(host("stale", "us-east-1b", { freeMemoryMiB: 60000, heartbeatAt: now - 60_000 }));
    await store.register(host("lost", null, { freeMemoryMiB: 60000 }));
    assert.ok(await store.markLost("lost", Date.now() + 1));
    const me = new HostRegistry("us-east-1", store, { id: "me", zone: "a" }, () => compute(8));
    const chosen = await me.place("us-east-1b", micro, 2);
    assert.notEqual(chosen, "here");
    assert.equal((chosen as HostRecord).id, "big");
    // Full here: the zone's other host takes them; with no other, this host's own capacity error.
    const full = new HostRegistry("us-east-1", store, { id: "full", zone: "c" }, () => compute(0));
    assert.equal(((await full.place("us-east-1c", micro, 1)) as HostRecord).id, "bigger-elsewhere");
    const alone = new HostRegistry("us-east-1", store, { id: "alone", zone: "a" }, () => compute(0));
    assert.equal(await alone.place("us-east-1a", micro, 1), "here");
    await assert.rejects(me.place("us-east-1b", micro, 100), { code: "InsufficientInstanceCapacity" });
  });

  it("says where a resource is: here, another live host (forward), a silent one (wait), a lost one (adopt)", async () => {
    await store.register(host("live", "us-east-1a"));
    await store.register(host("silent", "us-east-1a", { heartbeatAt: now - 60_000 }));
    await store.register(host("gone", "us-east-1a", { heartbeatAt: now - 60_000 }));
    assert.ok(await store.markLost("gone", Date.now()));
    assert.equal(await store.markLost("gone", Date.now()), false, "marked once, by one caller");
    const me = new HostRegistry("us-east-1", store, { id: "me", zone: "a" }, () => compute(1));
    assert.equal(await me.assertHere("x", "me"), "here");
    assert.equal(await me.assertHere("x", null), "here", "recorded before hosts were");
    await assert.rejects(
      me.assertHere("x", "live"),
      (e) => e instanceof OnAnotherHost && e.url === "http://live:4566",
    );
    await assert.rejects(
      me.assertHere("x", "silent"),
      (e) => e instanceof StrataError && e.code === "IncorrectState",
    );
    assert.equal(await me.assertHere("x", "gone", "us-east-1a"), "adopt");
    // A lost host's resource of another zone is taken over by a host of that zone.
    await store.register(host("of-b", "us-east-1b"));
    await assert.rejects(
      me.assertHere("x", "gone", "us-east-1b"),
      (e) => e instanceof OnAnotherHost && e.hostId === "of-b",
    );
  });

  it("a lost host's instances are handled once per loss, not at every beat; again if it comes back and is lost again", async () => {
    await store.register(host("gone", null, { heartbeatAt: now - 60_000 }));
    const lost: string[] = [];
    const registry = new HostRegistry(
      "us-east-1",
      store,
      { id: "me", heartbeatMs: 10, lostAfterMs: 1000 },
      () => compute(1),
    );
    await registry.start("http://me:4566", {
      hostLost: async (id) => void lost.push(id),
      fence: async () => {},
    });
    const beats = (n: number) => new Promise((r) => setTimeout(r, n * 10 + 50));
    try {
      await beats(10);
      assert.deepEqual(lost, ["gone"]);
      assert.equal((await store.get("gone"))?.state, "lost");
      // Back (registered anew), then silent again: its new instances are handled too.
      await store.register(host("gone", null, { startedAt: Date.now(), heartbeatAt: Date.now() - 60_000 }));
      await beats(10);
      assert.deepEqual(lost, ["gone", "gone"]);
    } finally {
      await registry.close();
    }
  });

  it("a heartbeat of a host marked lost fails (it must fence itself); registering again revives it", async () => {
    await store.register(host("h", null, { heartbeatAt: now - 60_000 }));
    assert.ok(await store.heartbeat("h", { vcpus: 1, memoryMiB: 1 }, Date.now()));
    assert.equal(await store.markLost("h", Date.now() - 1000), false, "its heartbeat is fresh again");
    assert.ok(await store.markLost("h", Date.now() + 1));
    assert.equal(await store.heartbeat("h", { vcpus: 1, memoryMiB: 1 }, Date.now()), false);
    await store.register(host("h", null));
    assert.equal((await store.get("h"))?.state, "alive");
  });
});
