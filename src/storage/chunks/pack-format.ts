// A pack: encoded chunks back to back, then an index of them, then a trailer. Written once, never
// changed. The metadata database holds each chunk's (pack, offset, length), so reads never parse
// the index; it is there so a pack explains itself (audits, a rebuilt database), as restic's and
// Proxmox Backup Server's packs and indexes do.
//
//   "STRPACK1" | chunk bytes ... | index: n x (sha256 32 bytes, offset u64 BE, length u32 BE) |
//   n u32 BE | "STRIDX01"

const HEADER = Buffer.from("STRPACK1", "latin1");
const TRAILER_MAGIC = Buffer.from("STRIDX01", "latin1");
const ENTRY_BYTES = 32 + 8 + 4;
const TRAILER_BYTES = 4 + TRAILER_MAGIC.length;

/** Where the first chunk of a pack starts. */
export const PACK_HEADER_BYTES = HEADER.length;

export interface PackEntry {
  hash: string;
  offset: number;
  length: number;
}

/** The pack's bytes for chunks laid out from PACK_HEADER_BYTES in order, with their entries. */
export function buildPack(chunks: { hash: string; encoded: Uint8Array }[]): {
  bytes: Buffer;
  entries: PackEntry[];
} {
  const entries: PackEntry[] = [];
  let offset = PACK_HEADER_BYTES;
  for (const c of chunks) {
    entries.push({ hash: c.hash, offset, length: c.encoded.byteLength });
    offset += c.encoded.byteLength;
  }
  const index = Buffer.alloc(entries.length * ENTRY_BYTES + TRAILER_BYTES);
  entries.forEach((e, i) => {
    const at = i * ENTRY_BYTES;
    index.write(e.hash, at, 32, "hex");
    index.writeBigUInt64BE(BigInt(e.offset), at + 32);
    index.writeUInt32BE(e.length, at + 40);
  });
  index.writeUInt32BE(entries.length, entries.length * ENTRY_BYTES);
  TRAILER_MAGIC.copy(index, entries.length * ENTRY_BYTES + 4);
  return { bytes: Buffer.concat([HEADER, ...chunks.map((c) => c.encoded), index]), entries };
}

/** The index of a whole pack's bytes; throws if they are not a pack. */
export function readPackIndex(pack: Buffer): PackEntry[] {
  if (pack.length < HEADER.length + TRAILER_BYTES || !pack.subarray(0, HEADER.length).equals(HEADER)) {
    throw new Error("not a Strata pack (bad header)");
  }
  if (!pack.subarray(pack.length - TRAILER_MAGIC.length).equals(TRAILER_MAGIC)) {
    throw new Error("not a Strata pack (bad trailer)");
  }
  const n = pack.readUInt32BE(pack.length - TRAILER_BYTES);
  const start = pack.length - TRAILER_BYTES - n * ENTRY_BYTES;
  if (start < HEADER.length) throw new Error("not a Strata pack (index larger than the pack)");
  const entries: PackEntry[] = [];
  for (let i = 0; i < n; i++) {
    const at = start + i * ENTRY_BYTES;
    const e = {
      hash: pack.toString("hex", at, at + 32),
      offset: Number(pack.readBigUInt64BE(at + 32)),
      length: pack.readUInt32BE(at + 40),
    };
    if (e.offset < HEADER.length || e.offset + e.length > start)
      throw new Error("pack index entry out of range");
    entries.push(e);
  }
  return entries;
}
