// S3PackStore's ranged reads (s3-range-get + keepalive-get, not the SDK) against a real Ceph RGW:
// bytes into the caller's buffer over few kept-alive sockets, and each failure as read() promises
// it: a missing pack, a missing bucket, a short range, a server that ignores Range, a socket the
// server closed between two requests, an endpoint nobody listens on.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import { connect, createServer, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { isStrataError } from "../src/errors.ts";
import { S3PackStore, type S3PackStoreConfig } from "../src/storage/chunks/s3-pack-store.ts";
import { S3RangeGet } from "../src/storage/chunks/s3-range-get.ts";
import { type Rgw, startRgw } from "./servers/rgw.ts";

let rgw: Rgw;
const BUCKET = "range-get";
const id = randomBytes(16).toString("hex");
const pack = randomBytes(3 * 1024 * 1024 + 123);

before(async () => {
  rgw = await startRgw();
  await rgw.createBucket(BUCKET);
  const store = new S3PackStore(config());
  await store.put(id, pack);
  store.close();
});
after(async () => {
  await rgw?.stop();
});

function config(o: Partial<S3PackStoreConfig> = {}): S3PackStoreConfig {
  return {
    endpoint: rgw.endpoint,
    region: "us-east-1",
    bucket: BUCKET,
    prefix: "p/",
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
    ...o,
  };
}

async function listen(server: Server | ReturnType<typeof createServer>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as { port: number }).port;
}

const rejectsAs = (code: Parameters<typeof isStrataError>[1]) => (e: unknown) => {
  assert.ok(isStrataError(e, code), String(e));
  return true;
};

test("the endpoint's addressing is the SDK's: path style here, virtual-hosted on AWS", () => {
  const url = (bucket: string, region: string, endpoint?: string, forcePathStyle = false) => {
    const s3 = new S3Client({ region, endpoint, forcePathStyle });
    const t = { bucket, region, endpoint, forcePathStyle, maxSockets: 1, timeoutMs: 1000 };
    const get = S3RangeGet.create(s3, t);
    s3.destroy();
    return get?.baseUrl;
  };
  assert.equal(url("b", "us-east-1", rgw.endpoint, true), `${rgw.endpoint}/b/`);
  assert.equal(url("packs", "eu-west-1"), "https://packs.s3.eu-west-1.amazonaws.com/");
  // Dots in a bucket name break its TLS certificate as a host name: the SDK goes path style.
  assert.equal(url("my.packs", "eu-west-1"), "https://s3.eu-west-1.amazonaws.com/my.packs/");
});

test("ranges read back exactly, into the caller's buffer, many at once over two sockets", async () => {
  const store = new S3PackStore(config({ maxSockets: 2 }));
  try {
    const ranges = Array.from({ length: 40 }, (_, i) => {
      const offset = (i * 77_777) % (pack.length - 300_000);
      return { offset, length: 1 + ((i * 7919) % 300_000) };
    });
    ranges.push({ offset: 0, length: pack.length }, { offset: pack.length - 1, length: 1 });
    const got = await Promise.all(ranges.map((r) => store.read(id, r.offset, r.length)));
    for (const [i, r] of ranges.entries()) {
      assert.ok(got[i].equals(pack.subarray(r.offset, r.offset + r.length)), `range ${r.offset}+${r.length}`);
    }
    const into = Buffer.from(new SharedArrayBuffer(4096));
    const out = await store.read(id, 1000, 4096, into);
    assert.equal(out, into);
    assert.ok(into.equals(pack.subarray(1000, 5096)));
  } finally {
    store.close();
  }
});

test("missing pack: ChunkMissing; missing bucket: ServiceUnavailable; short range: ChunkCorrupt", async () => {
  const store = new S3PackStore(config());
  const gone = new S3PackStore(config({ bucket: "no-such-bucket" }));
  try {
    await assert.rejects(store.read(randomBytes(16).toString("hex"), 0, 10), rejectsAs("ChunkMissing"));
    await assert.rejects(gone.read(id, 0, 10), rejectsAs("ServiceUnavailable"));
    // Past the end (416), and partly past it (RGW answers fewer bytes): never fewer bytes.
    await assert.rejects(store.read(id, pack.length, 10), rejectsAs("ChunkCorrupt"));
    await assert.rejects(store.read(id, pack.length - 5, 10), rejectsAs("ChunkCorrupt"));
    // The sockets are still good after the error answers.
    assert.ok((await store.read(id, 5, 10)).equals(pack.subarray(5, 15)));
  } finally {
    store.close();
    gone.close();
  }
});

test("a server that ignores Range (the whole object, 200) is a short read, not data", async () => {
  // In front of RGW: answers every GET with the whole object, as a server without Range support.
  const s3 = rgw.client();
  const server = createHttpServer(async (req, res) => {
    const Key = decodeURIComponent(
      new URL(req.url ?? "/", "http://x").pathname.split("/").slice(2).join("/"),
    );
    const whole = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    const body = Buffer.from(await whole.Body!.transformToByteArray());
    res.writeHead(200, { "content-length": body.length }).end(body);
  });
  const port = await listen(server);
  const store = new S3PackStore(config({ endpoint: `http://127.0.0.1:${port}` }));
  try {
    await assert.rejects(store.read(id, 10, 100), rejectsAs("ChunkCorrupt"));
    // From 0, the whole object is only right when it is exactly the range asked for.
    await assert.rejects(store.read(id, 0, 100), rejectsAs("ChunkCorrupt"));
    assert.ok((await store.read(id, 0, pack.length)).equals(pack));
  } finally {
    store.close();
    s3.destroy();
    server.close();
  }
});

test("a kept-alive socket the server closed is replaced, the read still answered", async () => {
  // A TCP relay to RGW that drops each connection when its second request arrives, unanswered.
  const sockets: Socket[] = [];
  let connections = 0;
  const relay = createServer((client) => {
    connections++;
    const { hostname, port } = new URL(rgw.endpoint);
    const server = connect(Number(port), hostname);
    sockets.push(client, server);
    let requests = 0;
    client.on("data", (d: Buffer) => {
      if (d.subarray(0, 4).toString() === "GET " && ++requests === 2) {
        client.destroy();
        server.destroy();
      } else server.write(d);
    });
    server.pipe(client);
    client.on("error", () => server.destroy());
    server.on("error", () => client.destroy());
  });
  const port = await listen(relay);
  const store = new S3PackStore(config({ endpoint: `http://127.0.0.1:${port}`, maxSockets: 1 }));
  try {
    for (let i = 0; i < 3; i++) {
      assert.ok((await store.read(id, i * 100, 100)).equals(pack.subarray(i * 100, i * 100 + 100)));
    }
    // Each read after the first found its socket gone and opened another.
    assert.equal(connections, 3);
  } finally {
    store.close();
    for (const s of sockets) s.destroy();
    relay.close();
  }
});

test("an endpoint nobody listens on: reads are ServiceUnavailable", async () => {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((r) => probe.close(r));
  const store = new S3PackStore(config({ endpoint: `http://127.0.0.1:${port}` }));
  try {
    await assert.rejects(store.read(id, 0, 10), (e) => {
      assert.ok(isStrataError(e, "ServiceUnavailable"), String(e));
      assert.match((e as Error).message, /Cannot read pack .* ECONNREFUSED|connect/);
      return true;
    });
  } finally {
    store.close();
  }
});
