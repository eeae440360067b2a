// What every contract suite is given: a store over a fresh region database, and the few rows the
// store reads but does not write itself (volumes, snapshots: MetadataStore's), put in by SQL.
import assert from "node:assert/strict";

export interface Opened<S> {
  store: S;
  /** Rows owned by MetadataStore, written straight into the same database. */
  fixtures: RegionFixtures;
  close(): Promise<void>;
}

export type Open<S> = () => Promise<Opened<S>>;

export interface VolumeFixture {
  id: string;
  ownerId: string;
  sizeGiB: number;
  volumeType: string;
  state?: string;
  iops?: number | null;
}

export interface RegionFixtures {
  addVolume(v: VolumeFixture): Promise<void>;
  addSnapshot(id: string, ownerId: string, state: string): Promise<void>;
}

let counter = 0;
/** An id unique within the process, in EC2's style (`ami-0000...1f`). */
export function uid(prefix: string): string {
  return `${prefix}-${(++counter).toString(16).padStart(17, "0")}`;
}

/** A 12-digit account id unique within the process. */
export function account(): string {
  return String(100000000000 + ++counter);
}

/** The promise rejects with a StrataError-like error of this code. */
export async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.equal((e as { code?: string }).code, code, `expected ${code}, got ${String(e)}`);
    return true;
  });
}

/** Sorted by code unit (what ORDER BY gives under SQLite's BINARY and PostgreSQL's "C"). */
export function byteSorted(values: string[]): string[] {
  return [...values].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) as number);
}
