import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { instanceType } from "../../compute/instance-types.ts";
import { isStrataError } from "../../errors.ts";
import type { QuotaUsageStore, VolumeUsage } from "../../storage/metadata/quota-usage.ts";
import { ComputeHost } from "../instances/compute-host.ts";
import { limitOf, parseQuotaValue, QUOTAS } from "./quota-catalogue.ts";
import { RegionQuotas } from "./region-quotas.ts";
import { addVolumes, provisionedIops, volumeChange } from "./volume-requests.ts";

/** Usage kept in memory; creates add to it as the metadata would. */
class FakeUsage implements QuotaUsageStore {
  volumes = new Map<string, VolumeUsage>();
  snapshots = 0;
  images = 0;
  publicImages = 0;
  keyPairs = 0;
  instances: string[] = [];
  async volumeUsage() {
    return new Map([...this.volumes].map(([k, v]) => [k, { ...v }]));
  }
  async snapshotCount() {
    return this.snapshots;
  }
  async imageCount() {
    return this.images;
  }
  async publicImageCount() {
    return this.publicImages;
  }
  async keyPairCount() {
    return this.keyPairs;
  }
  async activeInstanceTypes() {
    return this.instances;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

test("limits: the override, else the default; the operator's accounts get the whole host", () => {
  assert.equal(limitOf("vcpus", { overrides: {}, operator: false }), 5);
  assert.equal(limitOf("volume-storage-io2", { overrides: {}, operator: false }), 20);
  assert.equal(limitOf("volume-storage-gp3", { overrides: {}, operator: false }), 50);
  assert.equal(limitOf("host-share", { overrides: {}, operator: false }), 0.5);
  assert.equal(limitOf("host-share", { overrides: {}, operator: true }), 1);
  assert.equal(limitOf("host-share", { overrides: { "host-share": 0.25 }, operator: true }), 0.25);
  assert.equal(limitOf("vcpus", { overrides: { vcpus: 64 }, operator: false }), 64);
  // Every quota has an EC2 error and a description.
  for (const q of QUOTAS) assert.ok(q.error && q.description.length > 10, q.name);
});

test("set-quota values are checked against the quota's unit", () => {
  assert.equal(parseQuotaValue("vcpus", "32"), 32);
  assert.equal(parseQuotaValue("volume-storage-gp3", "0.5"), 0.5);
  assert.equal(parseQuotaValue("host-share", "1"), 1);
  assert.throws(() => parseQuotaValue("vcpus", "2.5"), /whole number/);
  assert.throws(() => parseQuotaValue("vcpus", "-1"), />= 0/);
  assert.throws(() => parseQuotaValue("vcpus", ""), />= 0/);
  assert.throws(() => parseQuotaValue("host-share", "1.5"), /at most 1/);
  assert.throws(() => parseQuotaValue("cpus", "4"), /Unknown quota 'cpus'. Quotas: vcpus, host-share/);
});

test("volume requests sum per type; a modification adds the new shape and gives the old back", () => {
  assert.deepEqual(
    [
      ...addVolumes([
        { volumeType: "gp3", sizeGiB: 8 },
        { volumeType: "io1", sizeGiB: 10, iops: 500 },
        { volumeType: "gp3", sizeGiB: 2 },
      ]),
    ],
    [
      ["gp3", { sizeGiB: 10, iops: 0 }],
      ["io1", { sizeGiB: 10, iops: 500 }],
    ],
  );
  // Growing within a type counts the growth only.
  assert.deepEqual(
    addVolumes(volumeChange({ volumeType: "gp3", sizeGiB: 8 }, { volumeType: "gp3", sizeGiB: 20 })).get(
      "gp3",
    ),
    {
      sizeGiB: 12,
      iops: 0,
    },
  );
  // A type change counts the whole volume against the new type.
  const changed = addVolumes(
    volumeChange({ volumeType: "gp3", sizeGiB: 8 }, { volumeType: "io2", sizeGiB: 8, iops: 3000 }),
  );
  assert.deepEqual(changed.get("io2"), { sizeGiB: 8, iops: 3000 });
  assert.deepEqual(changed.get("gp3"), { sizeGiB: -8, iops: 0 });
});

test("provisioned IOPS: io1/io2 only, in EBS's ranges, 3,000 when not given", () => {
  assert.equal(provisionedIops("gp3", 4000), null);
  assert.equal(provisionedIops("io1", undefined), 3000);
  assert.equal(provisionedIops("io2", 256_000), 256_000);
  assert.throws(
    () => provisionedIops("io1", 64_001),
    (e) => isStrataError(e, "InvalidParameterValue"),
  );
  assert.throws(
    () => provisionedIops("io2", 99),
    (e) => isStrataError(e, "InvalidParameterValue"),
  );
});

test("each quota answers with its EC2 error, and nothing runs past a failed check", async () => {
  const usage = new FakeUsage();
  const quotas = new RegionQuotas("r", usage, async () => ({
    overrides: { snapshots: 2, images: 1, "public-images": 0, "key-pairs": 1, "volume-storage-gp2": 0.01 },
    operator: false,
  }));
  let created = 0;
  const create = async () => {
    created++;
  };
  const cases: [string, Parameters<RegionQuotas["reserve"]>[1]][] = [
    ["SnapshotLimitExceeded", { snapshots: 3 }],
    ["ResourceLimitExceeded", { images: 2 }],
    ["ResourceLimitExceeded", { publicImages: 1 }],
    ["KeyPairLimitExceeded", { keyPairs: 2 }],
    // 0.01 TiB is 10.24 GiB.
    ["VolumeLimitExceeded", { volumes: [{ volumeType: "gp2", sizeGiB: 11 }] }],
    ["MaxIOPSLimitExceeded", { volumes: [{ volumeType: "io2", sizeGiB: 4, iops: 100_001 }] }],
  ];
  for (const [code, request] of cases) {
    await assert.rejects(quotas.reserve("111111111111", request, create), (e) =>
      isStrataError(e, code as never),
    );
  }
  assert.equal(created, 0);
  await quotas.reserve(
    "111111111111",
    { volumes: [{ volumeType: "gp2", sizeGiB: 10 }], snapshots: 2 },
    create,
  );
  assert.equal(created, 1);
  // Engine-internal resources (no account) are not counted.
  await quotas.reserve("", { snapshots: 1000 }, create);
  assert.equal(created, 2);
});

test("concurrent creates at the edge of a limit: exactly the allowed number pass", async () => {
  const usage = new FakeUsage();
  const quotas = new RegionQuotas("r", usage, async () => ({ overrides: { snapshots: 3 }, operator: false }));
  const results = await Promise.allSettled(
    Array.from({ length: 8 }, () =>
      quotas.reserve("111111111111", { snapshots: 1 }, async () => {
        // The create takes a while; a check that did not wait for it would let others through.
        await tick();
        usage.snapshots++;
      }),
    ),
  );
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 3);
  assert.equal(usage.snapshots, 3);
  // Another account is not held up by the first one's lock or usage.
  const other = new RegionQuotas("r", new FakeUsage(), async () => ({ overrides: {}, operator: false }));
  await other.reserve("222222222222", { snapshots: 1 }, async () => {});
});

test("a create nested in another (CopyImage's snapshot copies) checks again without waiting for itself", async () => {
  const usage = new FakeUsage();
  const quotas = new RegionQuotas("r", usage, async () => ({ overrides: { snapshots: 2 }, operator: false }));
  let background: Promise<unknown> = Promise.resolve();
  await quotas.reserve("111111111111", { images: 1, snapshots: 2 }, async () => {
    for (let i = 0; i < 2; i++) {
      await quotas.reserve("111111111111", { snapshots: 1 }, async () => {
        usage.snapshots++;
      });
    }
    usage.images++;
    // Started inside, run after the outer create released its locks: it must lock for itself.
    background = tick().then(() =>
      quotas.reserve("111111111111", { snapshots: 1 }, async () => {
        usage.snapshots++;
      }),
    );
  });
  await assert.rejects(background, (e) => isStrataError(e, "SnapshotLimitExceeded"));
  assert.equal(usage.snapshots, 2);
});

test("vCPU quota and host share: RunInstances gets what both allow, or EC2's errors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "strata-quotas-"));
  const host = await ComputeHost.open(dir, { cacheDir: dir }, async () => undefined);
  try {
    const nano = instanceType("t3.nano")!;
    const usage = new FakeUsage();
    const settings = { overrides: {} as Record<string, number>, operator: false };
    const quotas = new RegionQuotas("r", usage, async () => settings);
    const launch = (min: number, max: number) =>
      quotas.launch(
        "111111111111",
        { type: nano, minCount: min, maxCount: max, volumesEach: [] },
        host,
        async (r) => r,
      );
    // 5 vCPUs: two 2-vCPU instances, however many are asked for.
    const two = await launch(1, 10);
    assert.equal(two.length, 2);
    assert.deepEqual(host.usedBy("111111111111"), { vcpus: 4, memoryMiB: 1024 });
    usage.instances.push("t3.nano", "t3.nano");
    await assert.rejects(
      launch(1, 1),
      (e) => isStrataError(e, "VcpuLimitExceeded") && /vCPU limit of 5 allows/.test(e.message),
    );
    for (const release of two) release();
    usage.instances = [];
    assert.deepEqual(host.usedBy("111111111111"), { vcpus: 0, memoryMiB: 0 });

    // A quota that would allow the whole host: the account's share (a fraction of it) stops it.
    settings.overrides = { vcpus: 100_000, "host-share": 0.0001 };
    await assert.rejects(
      launch(1, 1),
      (e) => isStrataError(e, "InsufficientInstanceCapacity") && /its share of this host/.test(e.message),
    );
    assert.deepEqual(host.used, { vcpus: 0, memoryMiB: 0 });
    // With all of the host, the host's own capacity is the limit.
    settings.overrides = { vcpus: 100_000, "host-share": 1 };
    await assert.rejects(
      launch(1000, 1000),
      (e) => isStrataError(e, "InsufficientInstanceCapacity") && /does not fit on this host/.test(e.message),
    );
    const all = await launch(1, 100_000);
    assert.equal(all.length, Math.floor(host.capacity.vcpus / nano.vcpus));
    assert.equal(host.fits(nano, 1), 0);
    for (const release of all) release();
    assert.deepEqual(host.used, { vcpus: 0, memoryMiB: 0 });

    // StartInstances: one instance, the same checks; a failed start gives its reservation back.
    settings.overrides = { vcpus: 3 };
    usage.instances = ["t3.nano"];
    const start = () => quotas.start("111111111111", nano, host, async () => "started");
    await assert.rejects(start(), (e) => isStrataError(e, "VcpuLimitExceeded"));
    usage.instances = [];
    await assert.rejects(
      quotas.start("111111111111", nano, host, async () => {
        throw new Error("state not recorded");
      }),
      /state not recorded/,
    );
    assert.deepEqual(host.used, { vcpus: 0, memoryMiB: 0 });
    settings.overrides = { "host-share": 0.0001 };
    await assert.rejects(start(), (e) => isStrataError(e, "InsufficientInstanceCapacity"));
    settings.overrides = {};
    assert.equal(await start(), "started");
  } finally {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
