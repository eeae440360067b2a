// PostgreSQL's versions of SQLite's migrations from 10 on (10: chunks in packs; 11: hosts; 12: tunnels), with
// bigint for byte counts, offsets and times (ms since the epoch), and "C" collation on text as in
// version 1. Numbered like SQLite's, so from 10 on a version means the same schema in both
// (PostgreSQL's version 1 is SQLite's 1-9 at once; the runner applies every version above the
// current one, so the gap is harmless).
import type { PgMigration } from "./pg-database.ts";

const T = `text COLLATE "C"`;

export const packsMigration: PgMigration = {
  version: 10,
  name: "chunks in packs (SQLite schema version 10)",
  sql: `
    -- Where each chunk's bytes are: a range of a pack (NULL pack: a chunk file of its own, as
    -- stored before packs existed).
    ALTER TABLE chunks ADD COLUMN pack ${T};
    ALTER TABLE chunks ADD COLUMN pack_offset bigint NOT NULL DEFAULT 0;
    CREATE INDEX chunks_pack ON chunks (pack);
    -- A row before the pack's put begins ('writing'), sealed once durable; at: ms since the epoch
    -- of the latest of the two, from which the GC's grace period counts. recorded counts the
    -- chunks whose writers are done with them (rows added or found): once it reaches chunks, no
    -- row can appear any more, so a pack emptied by deletes can go at once.
    CREATE TABLE packs (
      id ${T} PRIMARY KEY,
      state ${T} NOT NULL,
      bytes bigint NOT NULL,
      chunks integer NOT NULL DEFAULT 0,
      recorded integer NOT NULL DEFAULT 0,
      at bigint NOT NULL
    );
  `,
};

/** SQLite migration 11 (several hosts per region), with bigint times. */
export const hostsMigration: PgMigration = {
  version: 11,
  name: "several hosts per region (SQLite schema version 11)",
  sql: `
    CREATE TABLE hosts (
      id ${T} PRIMARY KEY,
      url ${T} NOT NULL,
      zone ${T},
      free_vcpus integer NOT NULL,
      free_memory_mib integer NOT NULL,
      state ${T} NOT NULL,
      started_at bigint NOT NULL,
      heartbeat_at bigint NOT NULL
    );
    ALTER TABLE volumes ADD COLUMN host ${T};
    ALTER TABLE snapshots ADD COLUMN host ${T};
  `,
};

/** SQLite migration 12 (VPC traffic between hosts). */
export const tunnelMigration: PgMigration = {
  version: 12,
  name: "VPC traffic between hosts (SQLite schema version 12)",
  sql: `ALTER TABLE hosts ADD COLUMN tunnel ${T};`,
};
