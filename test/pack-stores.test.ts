// The PackStore contract against each backend: a local directory, and a real Ceph RGW (one for the
// file) through S3PackStore, both at a bucket's root and under a prefix beside other objects.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { isStrataError } from "../src/errors.ts";
import { LocalPackStore } from "../src/storage/chunks/local-pack-store.ts";
import { S3PackStore, type S3PackStoreConfig } from "../src/storage/chunks/s3-pack-store.ts";
import { packStoreContract } from "./contracts/pack-store.contract.ts";
import { type Rgw, startRgw } from "./servers/rgw.ts";

let rgw: Rgw;
before(async () => {
  rgw = await startRgw();
  console.log(`RGW started in ${Math.round(rgw.startMs)} ms at ${rgw.endpoint}`);
});
after(async () => {
  await rgw?.stop();
});

let buckets = 0;
async function freshBucket(): Promise<string> {
  const name = `packs-${process.pid}-${++buckets}`;
  await rgw.createBucket(name);
  return name;
}

function s3Config(bucket: string, prefix = ""): S3PackStoreConfig {
  return {
    endpoint: rgw.endpoint,
    region: "us-east-1",
    bucket,
    prefix,
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
  };
}

packStoreContract("LocalPackStore", async () => {
  const root = mkdtempSync(join(tmpdir(), "strata-packs-"));
  return {
    store: new LocalPackStore(root),
    async leaveIncompletePut(id) {
      writeFileSync(join(root, "tmp", `${id}.99999.0`), randomBytes(1000));
    },
    async close() {
      rmSync(root, { recursive: true, force: true });
    },
  };
});

function s3Contract(name: string, prefixed: boolean) {
  packStoreContract(name, async () => {
    const bucket = await freshBucket();
    const prefix = prefixed ? "strata/region-a/" : "";
    const s3 = rgw.client();
    if (prefixed) {
      // Objects beside the prefix (another installation's packs, an unrelated file) are not ours.
      const other = randomBytes(16).toString("hex");
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `packs/${other.slice(0, 2)}/${other}`, Body: "x" }),
      );
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "strata/readme.txt", Body: "x" }));
      await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: `packs/${other.slice(0, 2)}/${other}` }),
      );
    }
    const store = new S3PackStore(s3Config(bucket, prefix));
    await store.check();
    return {
      store,
      async leaveIncompletePut(id) {
        const Key = `${prefix}packs/${id.slice(0, 2)}/${id}`;
        await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
      },
      async close() {
        store.close();
        s3.destroy();
      },
    };
  });
}
s3Contract("S3PackStore on Ceph RGW, bucket root", false);
s3Contract("S3PackStore on Ceph RGW, under a prefix", true);

test("S3PackStore lists and cleans up page by page", async () => {
  const bucket = await freshBucket();
  const store = new S3PackStore({ ...s3Config(bucket, "p/"), listPageSize: 2 });
  const s3 = rgw.client();
  try {
    const ids = Array.from({ length: 7 }, () => randomBytes(16).toString("hex"));
    for (const id of ids) {
      await store.put(id, Buffer.from(id));
      await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: `p/packs/${id.slice(0, 2)}/${id}` }),
      );
    }
    // Two unfinished uploads of one key: the upload-id marker, not only the key marker, must move on.
    await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: `p/packs/${ids[0].slice(0, 2)}/${ids[0]}` }),
    );
    // The server does page at 2 (else this test would prove nothing).
    const page = { Bucket: bucket, Prefix: "p/packs/" };
    assert.equal((await s3.send(new ListObjectsV2Command({ ...page, MaxKeys: 2 }))).IsTruncated, true);
    assert.equal(
      (await s3.send(new ListMultipartUploadsCommand({ ...page, MaxUploads: 2 }))).IsTruncated,
      true,
    );
    const listed: string[] = [];
    for await (const p of store.list()) listed.push(p.id);
    assert.deepEqual(listed.sort(), [...ids].sort());
    assert.equal(await store.removeIncompletePuts(0), 8);
    assert.equal(await store.removeIncompletePuts(0), 0);
  } finally {
    store.close();
    s3.destroy();
  }
});

describe("S3PackStore configuration errors", () => {
  test("check() passes for a usable bucket", async () => {
    const store = new S3PackStore(s3Config(await freshBucket()));
    await store.check();
    store.close();
  });

  test("check() names a missing bucket", async () => {
    const store = new S3PackStore(s3Config("no-such-bucket"));
    await assert.rejects(
      store.check(),
      /S3 bucket 'no-such-bucket' at http:\/\/127\.0\.0\.1:\d+ does not exist/,
    );
    store.close();
  });

  test("check() says the credentials are refused, and so do reads", async () => {
    const bucket = await freshBucket();
    for (const credentials of [
      { accessKeyId: rgw.accessKeyId, secretAccessKey: "wrong" },
      { accessKeyId: "nobody", secretAccessKey: "wrong" },
    ]) {
      const store = new S3PackStore({ ...s3Config(bucket), credentials });
      await assert.rejects(store.check(), /S3 bucket '.*' at http:.* refuses our credentials/);
      await assert.rejects(store.read(randomBytes(16).toString("hex"), 0, 1), (e) => {
        assert.ok(isStrataError(e, "ServiceUnavailable"), String(e));
        assert.match(e.message, new RegExp(`bucket '${bucket}' at ${rgw.endpoint}`));
        return true;
      });
      store.close();
    }
  });

  test("check() says the endpoint cannot be reached, and puts fail with ServiceUnavailable", async () => {
    // A port nothing listens on (the server's own, closed right away).
    const { createServer } = await import("node:net");
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const store = new S3PackStore({ ...s3Config("whatever"), endpoint: `http://127.0.0.1:${port}` });
    await assert.rejects(
      store.check(),
      /Cannot reach the S3 endpoint for bucket 'whatever' at http:\/\/127\.0\.0\.1/,
    );
    await assert.rejects(store.put(randomBytes(16).toString("hex"), Buffer.from("x")), (e) => {
      assert.ok(isStrataError(e, "ServiceUnavailable"), String(e));
      return true;
    });
    store.close();
  });

  test("reads from a missing bucket are ServiceUnavailable, not ChunkMissing", async () => {
    const store = new S3PackStore(s3Config("gone-bucket"));
    await assert.rejects(store.read(randomBytes(16).toString("hex"), 0, 1), (e) => {
      assert.ok(isStrataError(e, "ServiceUnavailable"), String(e));
      return true;
    });
    store.close();
  });
});
