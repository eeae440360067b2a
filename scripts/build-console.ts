// Builds the web console (src/console, Vite) into dist/console, which the daemon serves at
// /console/. Skipped when the sources and the lock are what the last build was made from, so the
// setup step stays fast and idempotent.
//
//   bin/node scripts/build-console.ts            build if stale
//   bin/node scripts/build-console.ts --force    build anyway
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { build } from "vite";

const repo = join(import.meta.dirname, "..");
const sources = join(repo, "src/console");
const out = join(repo, "dist/console");
const stamp = join(out, ".source-hash");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
    .filter((f) => !f.endsWith(".test.ts"))
    .sort();
}

const hash = createHash("sha256");
for (const f of [...files(sources), join(repo, "package-lock.json")]) {
  hash.update(relative(repo, f)).update("\0").update(readFileSync(f)).update("\0");
}
const want = hash.digest("hex");
if (!process.argv.includes("--force") && existsSync(stamp) && readFileSync(stamp, "utf8") === want) {
  console.log("console: up to date (dist/console)");
} else {
  const started = performance.now();
  await build({ configFile: join(sources, "vite.config.ts") });
  writeFileSync(stamp, want);
  console.log(`console: built into dist/console in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
