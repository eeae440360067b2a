import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { MAX_IMDS_CONNECTIONS, MetadataService } from "./metadata-service.ts";
import { sampleMetadata } from "./sample-metadata.ts";

function instanceId(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: "/latest/meta-data/instance-id", agent: false }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

test("a guest holding many connections to its metadata service gets only a bounded number of the daemon's descriptors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "strata-imds-conn-"));
  const meta = sampleMetadata();
  const service = await MetadataService.start(() => meta, join(dir, "guest.imds"));
  let sockets: Socket[] = [];
  try {
    const flood = MAX_IMDS_CONNECTIONS + 20;
    let dropped = 0;
    // The server closes the connections beyond its cap at once; the deadline only turns a missing
    // cap into a failure instead of a hang.
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        sockets = Array.from({ length: flood }, () =>
          connect(service.socketPath)
            .on("error", () => {})
            .on("close", () => {
              if (++dropped === flood - MAX_IMDS_CONNECTIONS) resolve();
            }),
        );
      }),
      new Promise((r) => {
        deadline = setTimeout(r, 30_000);
      }),
    ]);
    clearTimeout(deadline);
    assert.equal(dropped, flood - MAX_IMDS_CONNECTIONS);
    for (const s of sockets) s.destroy();
    // Served again once the guest lets go (retried while the closes reach the server).
    for (let attempt = 0; ; attempt++) {
      try {
        assert.equal(await instanceId(service.socketPath), "i-0123456789abcdef0");
        break;
      } catch (e) {
        if (attempt === 100) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  } finally {
    for (const s of sockets) s.destroy();
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
