import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { ConsoleAssets } from "./console-assets.ts";

const dir = mkdtempSync(join(tmpdir(), "strata-console-"));
const js = `console.log(${JSON.stringify("x".repeat(5000))});`;
let server: Server;
let base: string;

before(async () => {
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>Strata</title>");
  writeFileSync(join(dir, "assets/index-abc123.js"), js);
  writeFileSync(join(dir, ".source-hash"), "secret-ish build stamp");
  const assets = new ConsoleAssets(dir);
  server = createServer((req, res) => assets.serve(req, res, (req.url ?? "/").split("?")[0]));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test("hashed assets are cacheable for a year; the page itself is revalidated", async () => {
  const asset = await fetch(`${base}/console/assets/index-abc123.js`);
  assert.equal(asset.status, 200);
  assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.match(asset.headers.get("content-type") ?? "", /^text\/javascript/);
  assert.equal(await asset.text(), js);
  const page = await fetch(`${base}/console/`);
  assert.equal(page.headers.get("cache-control"), "no-cache");
  assert.match(await page.text(), /<title>Strata<\/title>/);
  assert.match(page.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
});

test("a matching ETag gets 304 with no body", async () => {
  const first = await fetch(`${base}/console/assets/index-abc123.js`);
  const etag = first.headers.get("etag")!;
  const again = await fetch(`${base}/console/assets/index-abc123.js`, { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), "");
});

test("compressed when the client accepts it, and the bytes decompress to the file", async () => {
  for (const [encoding, decode] of [
    ["br", brotliDecompressSync],
    ["gzip", gunzipSync],
  ] as const) {
    // node's fetch would decompress; a raw request shows what is on the wire.
    const { status, headers, body } = await raw(`/console/assets/index-abc123.js`, {
      "accept-encoding": encoding,
    });
    assert.equal(status, 200);
    assert.equal(headers["content-encoding"], encoding);
    assert.ok(body.byteLength < js.length / 10, `${encoding} ${body.byteLength}`);
    assert.equal(decode(body).toString(), js);
  }
});

test("app routes get the page; missing files and dot files are 404; /console redirects; writes are refused", async () => {
  const route = await fetch(`${base}/console/images/ami-12345678`);
  assert.equal(route.status, 200);
  assert.match(await route.text(), /<title>Strata/);
  assert.equal((await fetch(`${base}/console/assets/index-old.js`)).status, 404);
  assert.equal((await fetch(`${base}/console/.source-hash`)).status, 404);
  const traversal = await raw("/console/%2e%2e/%2e%2e/package.json", {});
  assert.equal(traversal.status, 404, "no file outside the build is served");
  assert.equal(
    (await raw("/console/%E0%A4%A", {})).status,
    200,
    "a malformed escape is a route, not a crash",
  );
  const redirect = await fetch(`${base}/console`, { redirect: "manual" });
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.get("location"), "/console/");
  assert.equal((await fetch(`${base}/console/`, { method: "POST", body: "x" })).status, 405);
});

test("a checkout whose console is not built says how to build it", async () => {
  const empty = mkdtempSync(join(tmpdir(), "strata-console-empty-"));
  const assets = new ConsoleAssets(empty);
  assert.equal(assets.built, false);
  const s = createServer((req, res) => assets.serve(req, res, (req.url ?? "/").split("?")[0]));
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const res = await fetch(`http://127.0.0.1:${(s.address() as { port: number }).port}/console/`);
  assert.equal(res.status, 503);
  assert.match(await res.text(), /scripts\/setup\.sh/);
  s.close();
  rmSync(empty, { recursive: true });
});

async function raw(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { request } = await import("node:http");
  return new Promise((resolve, reject) => {
    // host/port/path given apart: a URL string would be normalised ("%2e%2e" resolved) first.
    const { hostname, port } = new URL(base);
    const req = request({ hostname, port, path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}
