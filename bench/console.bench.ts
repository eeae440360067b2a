// `npm run bench:console`: how fast the web console shows the instance and AMI lists of an
// account with 1,000 images, in Debian's Chromium (headless, this machine), beside two references
// measured in the same run: the console's sign-in page (the static floor: same bundle, no API
// call) and the API call the AMI list is built from, made by the SDK in Node (the API floor).
// Also prints the bundle's size (raw, gzip and brotli, as the daemon serves it). A benchmark,
// not a test: it prints figures.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { DescribeImagesCommand } from "@aws-sdk/client-ec2";
import type { Browser } from "playwright-core";
import { bootstrapAccounts } from "../src/accounts/bootstrap.ts";
import { Engine } from "../src/services/engine.ts";
import { launchBrowser } from "../test/console/browser.ts";
import { startDaemon } from "../test/daemon.ts";
import { adminCredentials, ec2 } from "../test/ec2-helpers.ts";
import { tempDir } from "../test/helpers.ts";

const IMAGES = 1000;
const TRIALS = 5;
const REGION = "us-east-1";

async function seed(dataDir: string): Promise<void> {
  const boot = await bootstrapAccounts(dataDir);
  const owner = boot.admin.id;
  const engine = await Engine.open({ dataDir, regions: [REGION] });
  const r = engine.region(REGION);
  const vol = await r.volumes.create({ sizeGiB: 8, ownerId: owner });
  await (await r.volumes.handle(vol.id)).write(0, Buffer.alloc(4096, 1));
  const snap = await r.snapshots.wait((await r.snapshots.create(vol.id, "root")).id);
  for (let i = 0; i < IMAGES; i++) {
    const image = await r.images.register(owner, {
      name: `app-${String(i).padStart(4, "0")}`,
      rootDeviceName: "/dev/xvda",
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: { snapshotId: snap.id, deleteOnTermination: true, encrypted: false },
        },
      ],
    });
    await r.catalog.setTags([image.id], [{ key: "release", value: i % 2 ? "stable" : "beta" }]);
  }
  await engine.close();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Milliseconds from navigation start to `ready` being visible, as the page measured it itself
 * (performance.now() is relative to navigation start), in a fresh context (cold: empty HTTP
 * cache) or by reloading the same page (warm: the bundle cached, the API asked again).
 */
async function timeToRender(
  browser: Browser,
  url: string,
  session: string | undefined,
  path: string,
  ready: string,
): Promise<{ cold: number; warm: number }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (session) {
    await context.addInitScript((s) => sessionStorage.setItem("strata.console.session", s), session);
  }
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${url}${path}`);
  await page.locator(ready).first().waitFor({ timeout: 60_000 });
  const cold = await page.evaluate(() => performance.now());
  await page.reload();
  await page.locator(ready).first().waitFor({ timeout: 60_000 });
  const warm = await page.evaluate(() => performance.now());
  await context.close();
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  return { cold, warm };
}

function bundleSize(): { files: number; raw: number; gzip: number; br: number } {
  const dir = join(import.meta.dirname, "../dist/console/assets");
  let raw = 0;
  let gzip = 0;
  let br = 0;
  const files = readdirSync(dir);
  for (const f of files) {
    const bytes = readFileSync(join(dir, f));
    raw += bytes.byteLength;
    gzip += gzipSync(bytes, { level: 9 }).byteLength;
    br += brotliCompressSync(bytes).byteLength;
  }
  return { files: files.length, raw, gzip, br };
}

const dataDir = tempDir("strata-bench-console-");
const seedStart = performance.now();
await seed(dataDir);
console.log(`seeded ${IMAGES} images in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
const daemon = await startDaemon(dataDir, REGION);
const browser = await launchBrowser();
try {
  const credentials = adminCredentials(dataDir);
  const session = JSON.stringify({ credentials, region: REGION });
  const client = ec2(daemon, credentials, REGION);
  const rows = {
    images: `role=table[name="AMIs"] >> role=link[name=/^ami-/]`,
    instances: `role=table[name="Instances"] >> text=No instances`,
    signIn: `role=button[name="Sign in"]`,
  };
  const results: Record<string, { cold: number[]; warm: number[] }> = {};
  const api: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    const started = performance.now();
    const listed = (await client.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images?.length;
    api.push(performance.now() - started);
    if (listed !== IMAGES) throw new Error(`DescribeImages listed ${listed} images, not ${IMAGES}`);
    for (const [name, path, ready, signed] of [
      ["sign-in page (static floor)", "/console/", rows.signIn, false],
      ["AMI list, 1,000 images", "/console/images", rows.images, true],
      ["instance list (no instances)", "/console/instances", rows.instances, true],
    ] as const) {
      const r = await timeToRender(browser, daemon.url, signed ? session : undefined, path, ready);
      results[name] ??= { cold: [], warm: [] };
      results[name].cold.push(r.cold);
      results[name].warm.push(r.warm);
    }
  }
  const floor = median(results["sign-in page (static floor)"].cold);
  console.log(`\nChromium ${browser.version()}, headless, 1280x800; median of ${TRIALS} trials\n`);
  console.log("| page | first render, cold ms | warm (reload) ms | cold / static floor |");
  console.log("| --- | --- | --- | --- |");
  for (const [name, r] of Object.entries(results)) {
    const cold = median(r.cold);
    console.log(
      `| ${name} | ${cold.toFixed(0)} | ${median(r.warm).toFixed(0)} | ${(cold / floor).toFixed(2)}x |`,
    );
  }
  console.log(
    `| DescribeImages (Owners=self, 1,000 images) from Node, the API floor | ${median(api).toFixed(0)} | | |`,
  );
  const b = bundleSize();
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(
    `\nbundle: ${b.files} files, ${kib(b.raw)} raw, ${kib(b.gzip)} gzip, ${kib(b.br)} brotli (served)`,
  );
} finally {
  await browser.close();
  await daemon.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
}
