import { randomBytes, randomInt } from "node:crypto";

const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** A 12-digit account id, as AWS's (never a leading zero, so tools that parse it as a number agree). */
export function newAccountId(): string {
  return String(randomInt(100_000_000_000, 1_000_000_000_000));
}

/** An access key id shaped like AWS's long-term keys: `AKIA` and 16 uppercase letters or digits. */
export function newAccessKeyId(): string {
  let id = "AKIA";
  for (let i = 0; i < 16; i++) id += UPPER_ALNUM[randomInt(UPPER_ALNUM.length)];
  return id;
}

/** A 40-character secret access key (30 random bytes in base64: letters, digits, `+` and `/`). */
export function newSecret(): string {
  return randomBytes(30).toString("base64");
}

export function isAccountId(value: string): boolean {
  return /^\d{12}$/.test(value);
}

export function isAccessKeyId(value: string): boolean {
  return /^AKIA[A-Z0-9]{16}$/.test(value);
}
