// Seed and size of a fuzz run, from the environment: fixed in CI (the same cases every run),
// random when asked (STRATA_FUZZ_SEED=random; the seed is printed so a failure can be replayed).
import { randomBytes } from "node:crypto";

function seedFromEnv(): string {
  const seed = process.env.STRATA_FUZZ_SEED ?? "strata-ci-1";
  return seed === "random" ? randomBytes(6).toString("hex") : seed;
}

function count(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a count, not '${v}'`);
  return n;
}

export const fuzzSeed = seedFromEnv();
/** EC2 Query requests (the issue asks for at least 10,000). */
export const ec2Count = count("STRATA_FUZZ_EC2_COUNT", 10_000);
export const ebsCount = count("STRATA_FUZZ_EBS_COUNT", 2_000);
export const nbdCount = count("STRATA_FUZZ_NBD_COUNT", 2_000);
