// RegionLocks, the same contract on both implementations: in-process (a SQLite region, one host)
// and PostgreSQL advisory locks, there with two instances on one database standing for two hosts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { PgAdvisoryLocks } from "../src/storage/metadata/postgres/pg-advisory-locks.ts";
import { LocalRegionLocks, type RegionLocks } from "../src/storage/metadata/region-locks.ts";
import { stillPending } from "./contracts/metadata-fixtures.ts";
import { type PostgresServer, startPostgres } from "./servers/postgres.ts";

/** A promise and the function that settles it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => {
    open = r;
  });
  return { wait, open };
}

function contract(
  name: string,
  open: () => Promise<{ hosts: [RegionLocks, RegionLocks]; close(): Promise<void> }>,
) {
  describe(`RegionLocks contract: ${name}`, () => {
    let hosts: [RegionLocks, RegionLocks];
    let close: () => Promise<void>;
    before(async () => {
      ({ hosts, close } = await open());
    });
    after(() => close());

    it("a name held on one host makes the other wait until the holder settles; other names do not wait", async () => {
      const [a, b] = hosts;
      const events: string[] = [];
      const held = gate();
      const first = a.withLocks(["x", "y", "x"], async () => {
        await held.wait;
        events.push("first done");
        return 1;
      });
      await new Promise((r) => setTimeout(r, 50));
      const second = b.withLocks(["z", "y"], async () => {
        events.push("second in");
        return 2;
      });
      assert.equal(await stillPending(second), true);
      assert.equal(await b.withLocks(["w"], async () => "free"), "free");
      held.open();
      assert.deepEqual(await Promise.all([first, second]), [1, 2]);
      assert.deepEqual(events, ["first done", "second in"]);
    });

    it("a holder that throws releases its names", async () => {
      const [a, b] = hosts;
      await assert.rejects(
        a.withLocks(["thrown"], async () => {
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.equal(await b.withLocks(["thrown"], async () => "next"), "next");
    });

    it("chains holding a name each take a shared one inside, one at a time, across hosts", async () => {
      // More chains than PostgreSQL lock connections: a nested lock uses its chain's session.
      let inside = 0;
      let most = 0;
      const chains = Array.from({ length: 6 }, (_, i) =>
        hosts[i % 2].withLocks([`token-${i}`], () =>
          hosts[i % 2].withLocks(["quota"], async () => {
            inside++;
            most = Math.max(most, inside);
            await new Promise((r) => setTimeout(r, 10));
            inside--;
            return i;
          }),
        ),
      );
      assert.deepEqual(await Promise.all(chains), [0, 1, 2, 3, 4, 5]);
      assert.equal(most, 1);
    });

    it("sets named in opposite orders on the two hosts do not deadlock", async () => {
      const runs = Array.from({ length: 10 }, (_, i) =>
        hosts[i % 2].withLocks(i % 2 ? ["p", "q", "r"] : ["r", "q", "p"], async () => i),
      );
      assert.equal((await Promise.all(runs)).length, 10);
    });
  });
}

contract("in-process", async () => {
  const locks = new LocalRegionLocks();
  return { hosts: [locks, locks], close: async () => {} };
});

let server: PostgresServer | undefined;
after(() => server?.stop());

async function postgres(): Promise<string> {
  server ??= await startPostgres();
  return server.createDatabase();
}

contract("PostgreSQL", async () => {
  const url = await postgres();
  // Two lock connections per host: fewer than the nested test's chains.
  const hosts: [PgAdvisoryLocks, PgAdvisoryLocks] = [
    new PgAdvisoryLocks({ connectionString: url, max: 2 }, "test:"),
    new PgAdvisoryLocks({ connectionString: url, max: 2 }, "test:"),
  ];
  return { hosts, close: async () => void (await Promise.all(hosts.map((h) => h.close()))) };
});

describe("PgAdvisoryLocks", () => {
  it("a host whose lock session dies frees its names for the others, and takes them again later", async () => {
    const url = await postgres();
    const [a, b] = [
      new PgAdvisoryLocks({ connectionString: url, max: 1 }, "test:"),
      new PgAdvisoryLocks({ connectionString: url, max: 1 }, "test:"),
    ];
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const held = gate();
      const holder = a.withLocks(["k"], async () => {
        await held.wait;
        return "holder finished";
      });
      await new Promise((r) => setTimeout(r, 50));
      const waiting = b.withLocks(["k"], async () => "other host in");
      assert.equal(await stillPending(waiting), true);
      // The holder's backend: the one with a granted advisory lock and no one waiting behind it.
      const { rows } = await admin.query(
        "SELECT pg_terminate_backend(pid) AS ok FROM pg_locks WHERE locktype = 'advisory' AND granted",
      );
      assert.deepEqual(
        rows.map((r) => r.ok),
        [true],
      );
      assert.equal(await waiting, "other host in");
      held.open();
      assert.equal(await holder, "holder finished");
      // The broken client was destroyed: the pool's one connection is a new one.
      assert.equal(await a.withLocks(["k"], async () => "again"), "again");
      // The unlock lands just after withLocks returns.
      const advisory = async () =>
        (await admin.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'")).rows[0].n;
      for (let i = 0; i < 50 && (await advisory()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await advisory(), 0);
    } finally {
      await admin.end();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
