import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ComputeHost } from "./compute-host.ts";

describe("ComputeHost's run dir", () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "strata-compute-"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const open = (dataDir: string) => ComputeHost.open(dataDir, { cacheDir: root }, async () => undefined);

  it("refuses a data dir whose instance sockets would not fit in a unix socket path, before creating anything", async () => {
    const dataDir = join(root, "d".repeat(80));
    await assert.rejects(
      open(dataDir),
      /data directory .* is too long: .*bytes, more than the 107 Linux allows/,
    );
    assert.equal(existsSync(dataDir), false);
  });

  it("makes the run dir private again and clears instances' sockets a killed daemon left", async () => {
    const dataDir = join(root, "data");
    const run = join(dataDir, "run");
    mkdirSync(run, { recursive: true });
    chmodSync(run, 0o755);
    // A dead socket under an instance's name: a second link to a listening socket, closed since.
    const live = createServer();
    await new Promise<void>((r) => live.listen(join(run, "live.sock"), r));
    linkSync(join(run, "live.sock"), join(run, "i-0123456789abcdef0.imds"));
    await new Promise((r) => live.close(r));
    writeFileSync(join(run, "notes.imds"), "not a socket");

    const host = await open(dataDir);
    try {
      assert.equal(statSync(run).mode & 0o777, 0o700);
      assert.equal(existsSync(join(run, "i-0123456789abcdef0.imds")), false);
      assert.equal(existsSync(join(run, "notes.imds")), true, "only sockets are removed");
      assert.equal(host.instanceSocket("i-0123456789abcdef0", "imds"), join(run, "i-0123456789abcdef0.imds"));
    } finally {
      await host.close();
    }
  });
});
