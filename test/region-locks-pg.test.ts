// Two Strata hosts on one PostgreSQL database (one schema, data dirs of their own): the quota
// checks and ClientTokens hold across them, as they do within one process, because both take the
// region's advisory locks. Concurrent creates at a quota limit make exactly the allowed number;
// one token sent to both hosts at once makes one resource, and every call answers with it.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { StrataError } from "../src/errors.ts";
import { Engine } from "../src/services/engine.ts";
import { publishBaseImage } from "../src/services/images/base-image-publisher.ts";
import { MiB, seededBytes, tempDir } from "./helpers.ts";
import { type PostgresServer, startPostgres } from "./servers/postgres.ts";

const REGION = "us-east-1";
const LIMITS: Record<string, number> = { "key-pairs": 3, snapshots: 4 };

let server: PostgresServer;
let hosts: Engine[];

before(async () => {
  server = await startPostgres();
  const url = await server.createDatabase();
  const open = () =>
    Engine.open({
      dataDir: tempDir(),
      regions: [REGION],
      quotaSettings: async () => ({ overrides: LIMITS, operator: false }),
      storage: () => ({ metadata: { type: "postgres", url, schema: "shared" }, packs: { type: "local" } }),
    });
  // One after the other: the first runs the migrations.
  hosts = [await open(), await open()];
});
after(async () => {
  for (const e of hosts ?? []) await e.close();
  await server?.stop();
});

/** Runs `n` calls spread over both hosts at once; what each settled with. */
function onBothHosts<T>(n: number, call: (host: Engine, i: number) => Promise<T>) {
  return Promise.allSettled(Array.from({ length: n }, (_, i) => call(hosts[i % 2], i)));
}

function codes(results: PromiseSettledResult<unknown>[]): string[] {
  return results.flatMap((r) => {
    if (r.status === "fulfilled") return [];
    assert.ok(r.reason instanceof StrataError, String(r.reason));
    return [r.reason.code];
  });
}

/** Four accounts racing at once: a race lost by any of them shows. */
const ACCOUNTS = ["0", "1", "2", "3"];

test("key pairs created on two hosts at once never pass the account's quota", async () => {
  await Promise.all(
    ACCOUNTS.map(async (n) => {
      const account = `alice-${n}`;
      const results = await onBothHosts(8, (host, i) =>
        host.region(REGION).keyPairs.create(account, { name: `k${i}`, keyType: "ed25519" }),
      );
      const made = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.record.name] : []));
      assert.equal(made.length, 3, `${account}: exactly the quota's worth succeed`);
      assert.deepEqual(codes(results), Array(5).fill("KeyPairLimitExceeded"));
      // Both hosts see the same three, and nothing else was stored.
      for (const host of hosts) {
        const stored = await host.region(REGION).keyPairs.list(account);
        assert.deepEqual(stored.map((k) => k.name).sort(), made.sort());
      }
    }),
  );
});

test("snapshots started on two hosts at once never pass the account's quota", async () => {
  await Promise.all(
    ACCOUNTS.map(async (n) => {
      const account = `bob-${n}`;
      const results = await onBothHosts(10, (host) =>
        host.region(REGION).direct.writes.start(account, { volumeSizeGiB: 1 }),
      );
      const ids = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.id] : []));
      assert.equal(ids.length, 4, `${account}: exactly the quota's worth succeed`);
      // The EBS direct API's code for a quota.
      assert.deepEqual(codes(results), Array(6).fill("ServiceQuotaExceededException"));
      const all = await hosts[1].region(REGION).meta.listSnapshots();
      const stored = all.filter((s) => s.ownerId === account);
      assert.deepEqual(stored.map((s) => s.id).sort(), ids.sort());
    }),
  );
});

test("one ClientToken sent to both hosts at once makes one snapshot, and every call answers with it", async () => {
  await Promise.all(
    ACCOUNTS.map(async (n, round) => {
      const account = `carol-${n}`;
      const size = round + 1;
      const results = await onBothHosts(6, (host) =>
        host.region(REGION).direct.writes.start(account, { volumeSizeGiB: size, clientToken: "token-1" }),
      );
      assert.deepEqual(codes(results), []);
      const ids = new Set(results.map((r) => (r.status === "fulfilled" ? r.value.id : "")));
      assert.equal(ids.size, 1, `${account}: one snapshot, not ${[...ids].join(", ")}`);
      const [id] = ids;
      const all = await hosts[0].region(REGION).meta.listSnapshots();
      assert.deepEqual(
        all.filter((s) => s.ownerId === account).map((s) => s.id),
        [id],
      );
      for (const host of hosts) {
        const snap = await host.region(REGION).meta.getSnapshot(id);
        assert.equal(snap?.ownerId, account);
        assert.equal(snap?.volumeSizeGiB, size);
      }
    }),
  );
});

test("a security group created on one host while the other deletes its VPC: never both", async () => {
  const [a, b] = hosts.map((h) => h.region(REGION));
  for (let i = 0; i < 6; i++) {
    const vpc = await a.vpcs.createVpc("dave", { cidr: "10.20.0.0/16" });
    const [create, del] = await Promise.allSettled([
      (i % 2 ? a : b).securityGroups.create("dave", { name: `web-${i}`, description: "web", vpcId: vpc.id }),
      (i % 2 ? b : a).vpcs.deleteVpc("dave", vpc.id),
    ]);
    const created = create.status === "fulfilled";
    assert.equal(del.status === "fulfilled", !created, "one of the two wins");
    const lost = (created ? del : create) as PromiseRejectedResult;
    assert.equal(lost.reason.code, created ? "DependencyViolation" : "InvalidVpcID.NotFound");
    // Whichever won, no group is left in a VPC that is gone, nor gone from one that stays.
    const groups = (await b.securityGroups.groupsInVpc(vpc.id)).map((g) => g.name).sort();
    assert.deepEqual(groups, created ? ["default", `web-${i}`] : []);
    if (created) {
      await a.securityGroups.delete("dave", {
        groupId: (create as PromiseFulfilledResult<{ id: string }>).value.id,
      });
      await b.vpcs.deleteVpc("dave", vpc.id);
    }
  }
});

test("two hosts starting at once publish the base image once, and both answer with it", async () => {
  // Each listed the provider's images, found none, and published: the second registration failed
  // on the name, or one host's leftover sweep deleted the other's scratch snapshot meanwhile; the
  // region could end with no base image until a restart.
  const path = join(tempDir(), "disk.raw");
  writeFileSync(path, seededBytes("base disk", 3 * MiB));
  const disk = { path, sizeBytes: 3 * MiB, name: "strata-minimal-race", kernelVersion: "test" };
  const provider = "strata-provider";
  const published = await Promise.all(hosts.map((h) => publishBaseImage(h.region(REGION), provider, disk)));
  assert.equal(published[0].id, published[1].id);
  const r = hosts[0].region(REGION);
  const images = (await r.images.list()).filter((i) => i.ownerId === provider);
  assert.deepEqual(
    images.map((i) => i.id),
    [published[0].id],
  );
  // Nothing else of the provider's stays: its one snapshot is the image's.
  const snapshots = (await r.snapshots.list()).filter((s) => s.ownerId === provider);
  assert.deepEqual(
    snapshots.map((s) => s.id),
    [images[0].blockDeviceMappings[0].ebs?.snapshotId],
  );
  assert.deepEqual(
    (await r.volumes.list()).filter((v) => v.ownerId === provider),
    [],
  );
});
