// The MetadataStore and PackIndex contracts, run against SQLite (a fresh in-memory database per
// suite) and PostgreSQL (one private cluster for this file, a fresh database per suite); and
// PostgreSQL's chunk locks between two "hosts" (two stores with their own pools on one database).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pgMigrations } from "../src/storage/metadata/postgres/migrations.ts";
import { PgCatalogStore } from "../src/storage/metadata/postgres/pg-catalog-store.ts";
import { PgDatabase } from "../src/storage/metadata/postgres/pg-database.ts";
import { PgInstanceStore } from "../src/storage/metadata/postgres/pg-instance-store.ts";
import { PgMetadataStore } from "../src/storage/metadata/postgres/pg-metadata-store.ts";
import { PgPackIndex } from "../src/storage/metadata/postgres/pg-pack-index.ts";
import { migrations } from "../src/storage/metadata/sqlite/migrations.ts";
import { SqliteCatalogStore } from "../src/storage/metadata/sqlite/sqlite-catalog-store.ts";
import { SqliteDatabase } from "../src/storage/metadata/sqlite/sqlite-database.ts";
import { SqliteInstanceStore } from "../src/storage/metadata/sqlite/sqlite-instance-store.ts";
import { SqliteMetadataStore } from "../src/storage/metadata/sqlite/sqlite-metadata-store.ts";
import { SqlitePackIndex } from "../src/storage/metadata/sqlite/sqlite-pack-index.ts";
import type { Open, RegionFixtures } from "./contracts/harness.ts";
import {
  hash,
  type MetadataStores,
  type PackStores,
  snapshot,
  stillPending,
} from "./contracts/metadata-fixtures.ts";
import { metadataStoreContract } from "./contracts/metadata-store.contract.ts";
import { packIndexContract } from "./contracts/pack-index.contract.ts";
import { type PostgresServer, startPostgres } from "./servers/postgres.ts";

const PG_MIGRATIONS = pgMigrations;

// These stores write their own rows; the contracts need no fixtures.
const noFixtures: RegionFixtures = {
  addVolume: async () => assert.fail("not used"),
  addSnapshot: async () => assert.fail("not used"),
};

function sqlite<S>(make: (db: SqliteDatabase) => S): Open<S> {
  return async () => {
    const db = new SqliteDatabase(":memory:", migrations);
    return { store: make(db), fixtures: noFixtures, close: async () => db.close() };
  };
}

let server: PostgresServer | undefined;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

async function pgDatabase(url?: string): Promise<PgDatabase> {
  if (!server) throw new Error("the PostgreSQL test server did not start");
  return PgDatabase.open(url ?? (await server.createDatabase()), PG_MIGRATIONS);
}

/** The stores on one PostgreSQL database; closing the metadata store closes it (as SQLite's does). */
function postgres<S>(make: (meta: PgMetadataStore, db: PgDatabase) => S): Open<S> {
  return async () => {
    const db = await pgDatabase();
    const meta = new PgMetadataStore(db);
    return { store: make(meta, db), fixtures: noFixtures, close: () => meta.end() };
  };
}

metadataStoreContract(
  "SQLite",
  sqlite<MetadataStores>((db) => ({
    meta: new SqliteMetadataStore(db),
    catalog: new SqliteCatalogStore(db),
    instances: new SqliteInstanceStore(db),
  })),
);
metadataStoreContract(
  "PostgreSQL",
  postgres<MetadataStores>((meta, db) => ({
    meta,
    catalog: new PgCatalogStore(db),
    instances: new PgInstanceStore(db),
  })),
);
packIndexContract(
  "SQLite",
  sqlite<PackStores>((db) => ({ index: new SqlitePackIndex(db), meta: new SqliteMetadataStore(db) })),
);
packIndexContract(
  "PostgreSQL",
  postgres<PackStores>((meta, db) => ({ index: new PgPackIndex(db), meta })),
);

describe("PostgreSQL chunk locks between two hosts on one database", () => {
  let hostA: PgMetadataStore;
  let hostB: PgMetadataStore;
  let url: string;
  before(async () => {
    if (!server) throw new Error("the PostgreSQL test server did not start");
    url = await server.createDatabase();
    hostA = new PgMetadataStore(await pgDatabase(url));
    hostB = new PgMetadataStore(await pgDatabase(url));
  });
  after(async () => {
    await hostA?.end();
    await hostB?.end();
  });

  it("a key one host holds waits on the other until released; other keys do not", async () => {
    const [k1, k2, k3] = [hash(), hash(), hash()];
    const releaseA = await hostA.lockChunks([k1, k2]);
    const b = hostB.lockChunks([k3, k2]);
    assert.equal(await stillPending(b, 300), true);
    (await hostB.lockChunks([hash(), hash()]))();
    releaseA();
    const releaseB = await b;
    const a = hostA.lockChunks([k3]);
    assert.equal(await stillPending(a, 300), true);
    releaseB();
    (await a)();
  });

  it("excludes across hosts under contention: no two holders of a key at once, none starved", async () => {
    const key = hash();
    let inside = 0;
    let most = 0;
    let done = 0;
    const worker = async (host: PgMetadataStore) => {
      for (let i = 0; i < 5; i++) {
        const release = await host.lockChunks([hash(), key]);
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 2));
        inside--;
        done++;
        release();
      }
    };
    await Promise.all([hostA, hostB, hostA, hostB, hostA, hostB].map(worker));
    assert.equal(most, 1);
    assert.equal(done, 30);
  });

  it("thousands of keys are taken in one statement; overlapping sets in opposite orders do not deadlock", async () => {
    const keys = Array.from({ length: 5000 }, () => hash());
    const started = performance.now();
    const release = await hostA.lockChunks(keys);
    const took = performance.now() - started;
    release();
    console.log(`# lockChunks of 5000 keys: ${took.toFixed(0)} ms`);
    assert.ok(took < 5000, `took ${took} ms`);
    const reversed = [...keys].reverse();
    const holdBriefly = async (host: PgMetadataStore, list: string[]) => {
      const release = await host.lockChunks(list);
      await new Promise((r) => setTimeout(r, 5));
      release();
    };
    for (let i = 0; i < 5; i++) await Promise.all([holdBriefly(hostA, keys), holdBriefly(hostB, reversed)]);
  });

  it("a reference recorded on one host and a GC on the other never leave a referenced chunk missing unseen", async () => {
    // addSnapshotBlocks promises: a hash it does not return as missing stays stored (its
    // reference pins it). A drop racing it on another host must lose, not delete the chunk.
    const owner = "111122223333";
    const rounds = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const snap = snapshot(owner);
        await hostA.insertSnapshot(snap);
        const h = hash();
        await hostB.addChunks([{ hash: h, storedBytes: 1, pack: null, offset: 0 }]);
        const [missing, dropped] = await Promise.all([
          hostA.addSnapshotBlocks(snap.id, [{ block: 0, hash: h }]),
          hostB.dropUnreferencedChunks([h]),
        ]);
        const live = await hostA.liveChunks([h]);
        return { reportedMissing: missing.includes(h), dropped: dropped.includes(h), live: live.has(h) };
      }),
    );
    for (const r of rounds) assert.equal(r.live || r.reportedMissing, true, JSON.stringify(r));
    const raced = rounds.filter((r) => r.dropped).length;
    console.log(`# reference vs GC: ${raced} of ${rounds.length} drops won (each reported missing)`);
  });

  it("a host whose session ends (a crash) frees its locks", async () => {
    const key = hash();
    const releaseA = await hostA.lockChunks([key]);
    const b = hostB.lockChunks([key]);
    assert.equal(await stillPending(b, 200), true);
    // Kill the session of host A's lock: what PostgreSQL sees when a host dies.
    const admin = await pgDatabase(url);
    try {
      const killed = await admin.column(
        `SELECT pg_terminate_backend(l.pid) AS v FROM pg_locks l
         WHERE l.locktype = 'advisory' AND l.granted AND l.pid != pg_backend_pid()
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      assert.deepEqual(killed, [true]);
    } finally {
      await admin.close();
    }
    const releaseB = await b;
    releaseA(); // its connection is gone: releasing must not throw, nor free B's lock
    const again = hostA.lockChunks([key]);
    assert.equal(await stillPending(again, 200), true);
    releaseB();
    (await again)();
  });
});
