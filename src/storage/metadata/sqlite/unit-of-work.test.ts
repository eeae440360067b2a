// The unit of work on the shared SQLite connection: while one awaits between its statements,
// other callers wait for it (their writes are neither swallowed by its rollback nor refused), and
// a unit that throws leaves nothing behind.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { deferred } from "../../../util/concurrency.ts";
import type { KeyPairRecord } from "../instance-store.ts";
import { migrations } from "./migrations.ts";
import { SqliteDatabase } from "./sqlite-database.ts";
import { SqliteInstanceStore } from "./sqlite-instance-store.ts";
import { SqliteNetworkStore } from "./sqlite-network-store.ts";

const A = "111111111111";
const vpc = (n: number) => ({
  id: `vpc-${String(n).padStart(17, "0")}`,
  ownerId: A,
  cidr: `10.${n}.0.0/16`,
  isDefault: false,
  createdAt: "2026-01-01T00:00:00.000Z",
});
const keyPair = (name: string): KeyPairRecord => ({
  id: `key-${name.padStart(17, "0")}`,
  ownerId: A,
  name,
  keyType: "ed25519",
  fingerprint: "f",
  publicKey: "ssh-ed25519 AAAA",
  createdAt: "2026-01-01T00:00:00.000Z",
});

function open() {
  // A file, not :memory:, so a second connection can check what was committed.
  const dir = mkdtempSync(join(tmpdir(), "strata-uow-"));
  const db = new SqliteDatabase(join(dir, "metadata.db"), migrations);
  return {
    db,
    path: join(dir, "metadata.db"),
    network: new SqliteNetworkStore(db),
    instances: new SqliteInstanceStore(db),
    done: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test("a write from another caller while a unit of work awaits waits for it, then commits, even when the unit rolls back", async () => {
  const { path, network, instances, done } = open();
  try {
    const inside = deferred();
    const resume = deferred();
    const unit = network.tx(async (t) => {
      await t.insertVpc(vpc(1));
      inside.resolve();
      await resume.promise; // another request runs now
      assert.equal((await t.vpcsOf(A)).length, 1, "the other caller's write did not join this unit");
      throw new Error("changed my mind");
    });
    await inside.promise;
    // A synchronous-transaction write (tx) and a single statement from other callers, mid-unit.
    let keyStored = false;
    const key = instances.insertKeyPair(keyPair("other")).then(() => {
      keyStored = true;
    });
    const vpcOutside = network.tx((t) => t.insertVpc(vpc(2)));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(keyStored, false, "the other write waits for the unit of work");
    resume.resolve();
    await assert.rejects(unit, /changed my mind/);
    await key;
    await vpcOutside;
    assert.deepEqual(
      (await instances.keyPairs(A)).map((k) => k.name),
      ["other"],
      "the write made while the unit was open survived its rollback",
    );
    assert.deepEqual(
      (await network.tx((t) => t.vpcsOf(A))).map((v) => v.id),
      [vpc(2).id],
      "nothing of the rolled-back unit stayed; the later unit committed",
    );
    // What another connection sees in the file: committed, not only visible to this one.
    const other = new DatabaseSync(path);
    assert.deepEqual(
      other
        .prepare("SELECT name FROM key_pairs")
        .all()
        .map((r) => r.name),
      ["other"],
    );
    assert.deepEqual(
      other
        .prepare("SELECT id FROM vpcs")
        .all()
        .map((r) => r.id),
      [vpc(2).id],
    );
    other.close();
  } finally {
    done();
  }
});

test("a unit of work that throws after its writes leaves nothing; one that returns commits all", async () => {
  const { network, done } = open();
  try {
    await assert.rejects(
      network.tx(async (t) => {
        await t.insertVpc(vpc(1));
        await t.insertTags([vpc(1).id], [{ key: "k", value: "v" }]);
        await t.insertSubnet({
          id: "subnet-00000000000000001",
          ownerId: A,
          vpcId: vpc(1).id,
          cidr: "10.1.0.0/24",
          availabilityZone: "us-east-1a",
          mapPublicIpOnLaunch: false,
          defaultForAz: false,
        });
        throw new Error("check failed");
      }),
      /check failed/,
    );
    assert.deepEqual(await network.tx((t) => t.vpcsOf(A)), []);
    assert.deepEqual(await network.tx((t) => t.subnetsOf(A)), []);
    await network.tx(async (t) => {
      await t.insertVpc(vpc(3));
      await t.insertVpc(vpc(4));
    });
    assert.deepEqual(
      (await network.tx((t) => t.vpcsOf(A))).map((v) => v.id),
      [vpc(3).id, vpc(4).id],
    );
  } finally {
    done();
  }
});

test("concurrent units of work run one after another, each seeing the other's commit", async () => {
  const { network, done } = open();
  try {
    // Each reads the count, yields, then writes count+1: interleaved, two would write the same.
    const bump = () =>
      network.tx(async (t) => {
        const n = (await t.vpcsOf(A)).length;
        await new Promise((r) => setImmediate(r));
        await t.insertVpc(vpc(n + 1));
      });
    await Promise.all([bump(), bump(), bump(), bump()]);
    assert.deepEqual(
      (await network.tx((t) => t.vpcsOf(A))).map((v) => v.cidr),
      ["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16"],
    );
  } finally {
    done();
  }
});

test("a statement outside exclusive/tx/unitOfWork is refused, also from a unit that has ended", async () => {
  const { db, network, done } = open();
  try {
    assert.throws(() => db.q("SELECT 1"), /outside exclusive/);
    let leaked: (() => unknown) | undefined;
    await network.tx(async (t) => {
      leaked = () => t.vpcsOf(A);
    });
    await assert.rejects(async () => leaked!(), /outside exclusive/);
    // Inside a unit, a store method re-enters (it is part of the unit, not a deadlock).
    await db.unitOfWork(async () => {
      await db.exclusive(() => db.q("SELECT 1").get());
      await db.tx(() => db.q("SELECT 1").get());
    });
  } finally {
    done();
  }
});
