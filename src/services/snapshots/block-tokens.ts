import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * EBS block tokens: a GetSnapshotBlock capability for one block of one snapshot, until a time.
 * An HMAC under a server secret, so it cannot be forged, nor reused for another snapshot or block.
 */
export class BlockTokens {
  readonly #key: Buffer;
  readonly ttlMs: number;

  constructor(key: Buffer, ttlMs: number) {
    this.#key = key;
    this.ttlMs = ttlMs;
  }

  /** The secret lives in the data dir (mode 0600), so tokens survive a restart. */
  static fromFile(path: string, ttlMs: number): BlockTokens {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, randomBytes(32), { mode: 0o600, flag: "wx" });
    }
    return new BlockTokens(readFileSync(path), ttlMs);
  }

  expiry(now = Date.now()): number {
    return Math.floor((now + this.ttlMs) / 1000);
  }

  issue(snapshotId: string, block: number, hash: string, expiry: number): string {
    const expiryBytes = Buffer.alloc(8);
    expiryBytes.writeBigUInt64BE(BigInt(expiry));
    return Buffer.concat([expiryBytes, this.#mac(snapshotId, block, hash, expiry)]).toString("base64url");
  }

  /** "ok", or why the token does not open this block now. */
  check(
    token: string,
    snapshotId: string,
    block: number,
    hash: string,
    now = Date.now(),
  ): "ok" | "invalid" | "expired" {
    const raw = Buffer.from(token, "base64url");
    if (raw.byteLength !== 8 + 24) return "invalid";
    const expiry = Number(raw.readBigUInt64BE(0));
    if (!timingSafeEqual(raw.subarray(8), this.#mac(snapshotId, block, hash, expiry))) return "invalid";
    return expiry * 1000 < now ? "expired" : "ok";
  }

  #mac(snapshotId: string, block: number, hash: string, expiry: number): Buffer {
    return createHmac("sha256", this.#key)
      .update(`${snapshotId}\n${block}\n${hash}\n${expiry}`)
      .digest()
      .subarray(0, 24);
  }
}
