// EBS direct API requests (rest-json under /snapshots): a well-formed call of one of the six
// operations on pool snapshots, then zero to a few mutations of its path (ids, block indexes,
// percent escapes), query, headers (lengths, checksums, counts), JSON body or block body, method
// and signature scope. Case i depends only on (seed, i).
import { createHash } from "node:crypto";
import { strayId } from "./ec2-values.ts";
import { Prng } from "./prng.ts";

export const BLOCK = 512 * 1024;

/** A block body, described rather than stored: `fill` bytes, with `tweak` random bytes at `at`. */
export interface BlockSpec {
  size: number;
  fill: number;
  at: number;
  tweak: string;
}

export interface EbsCase {
  index: number;
  op: string;
  caller: "a" | "b";
  region: "us-east-1" | "eu-west-1";
  service: string;
  method: string;
  /** Raw path (escapes as sent), with pool references. */
  path: string;
  query: string;
  headers: Record<string, string>;
  json?: string;
  block?: BlockSpec;
  mutations: string[];
}

export function blockBytes(spec: BlockSpec): Buffer {
  const data = Buffer.alloc(spec.size, spec.fill);
  if (spec.size > 0) Buffer.from(spec.tweak, "hex").copy(data, Math.min(spec.at, spec.size - 1));
  return data;
}

const sha256b64 = (data: Buffer) => createHash("sha256").update(data).digest("base64");

const PENDING = ["@{dsnap.a.0}", "@{dsnap.a.0}", "@{dsnap.a.0}", "@{dsnap.b.0}"];
const COMPLETED = ["@{snap.a.0}", "@{snap.a.0}", "@{dsnap.a.1}", "@{snap.b.1}", "@{snap.b.0}", "@{snap.e.0}"];
const BAD_ESCAPES = [
  "%",
  "%E0%A4%A",
  "%ZZ",
  "%C0%AF",
  "%2F",
  "%00",
  "%25",
  "%F0%9F%98%80",
  "%ED%A0%80",
  "%%41",
];
const BAD_NUMBERS = [
  "-1",
  "1.5",
  "1e3",
  "abc",
  "",
  "99999999999999999999999",
  "2048",
  "0x10",
  " 1",
  "+1",
  "\u0661",
];

function snapshotId(r: Prng, pool: string[]): string {
  return r.chance(0.85) ? r.pick(pool) : strayId(r, "snap");
}

export function generateEbsCase(seed: string, index: number): EbsCase {
  const r = Prng.forCase(seed, "ebs", index);
  const op = r.weighted({
    PutSnapshotBlock: 30,
    StartSnapshot: 20,
    CompleteSnapshot: 12,
    ListSnapshotBlocks: 12,
    ListChangedBlocks: 12,
    GetSnapshotBlock: 14,
  });
  const c: EbsCase = {
    index,
    op,
    caller: r.chance(0.85) ? "a" : "b",
    region: r.chance(0.9) ? "us-east-1" : "eu-west-1",
    service: "ebs",
    method: "GET",
    path: "",
    query: "",
    headers: {},
    mutations: [],
  };
  switch (op) {
    case "StartSnapshot": {
      c.method = "POST";
      c.path = "/snapshots";
      c.headers["content-type"] = "application/json";
      const body: Record<string, unknown> = { VolumeSize: r.pick([1, 1, 2, 16384]) };
      // Not 10 minutes: a snapshot left pending would time out during a long run, a background
      // state change the oracle would blame on whichever request was answered then.
      if (r.chance(0.5)) body.Timeout = r.pick([60, 4320]);
      if (r.chance(0.5)) body.Description = r.pick(["fuzz", "", "d\u00e9j\u00e0 vu"]);
      if (r.chance(0.3)) body.Tags = [{ Key: "k", Value: "v" }];
      if (r.chance(0.3)) body.ClientToken = r.pick(["ct-1", "ct-2"]);
      if (r.chance(0.4)) body.ParentSnapshotId = snapshotId(r, [...COMPLETED, "@{dsnap.a.0}"]);
      c.json = JSON.stringify(body);
      break;
    }
    case "PutSnapshotBlock": {
      c.method = "PUT";
      const block: BlockSpec = {
        size: BLOCK,
        fill: r.pick([0, 0x11, 0x22, 0x5a]),
        at: r.int(0, BLOCK - 1),
        tweak: r.chance(0.5) ? r.bytes(16).toString("hex") : "",
      };
      c.block = block;
      c.path = `/snapshots/${snapshotId(r, PENDING)}/blocks/${r.int(0, r.chance(0.8) ? 15 : 2047)}`;
      c.headers["content-type"] = "application/octet-stream";
      c.headers["x-amz-data-length"] = String(BLOCK);
      c.headers["x-amz-checksum"] = sha256b64(blockBytes(block));
      c.headers["x-amz-checksum-algorithm"] = "SHA256";
      if (r.chance(0.3)) c.headers["x-amz-progress"] = String(r.int(0, 100));
      break;
    }
    case "CompleteSnapshot": {
      c.method = "POST";
      c.path = `/snapshots/completion/${snapshotId(r, PENDING)}`;
      c.headers["x-amz-changedblockscount"] = String(r.int(0, 4));
      if (r.chance(0.3)) {
        c.headers["x-amz-checksum"] = sha256b64(r.bytes(32));
        c.headers["x-amz-checksum-algorithm"] = "SHA256";
        c.headers["x-amz-checksum-aggregation-method"] = "LINEAR";
      }
      break;
    }
    case "ListSnapshotBlocks":
    case "ListChangedBlocks": {
      const changed = op === "ListChangedBlocks";
      c.path = `/snapshots/${snapshotId(r, changed ? ["@{dsnap.a.1}", ...COMPLETED] : COMPLETED)}/${changed ? "changedblocks" : "blocks"}`;
      const q = new URLSearchParams();
      if (changed && r.chance(0.6)) q.set("firstSnapshotId", snapshotId(r, COMPLETED));
      if (r.chance(0.3)) q.set("maxResults", String(r.pick([100, 1000, 10000])));
      if (r.chance(0.3)) q.set("startingBlockIndex", String(r.int(0, 3)));
      if (r.chance(0.2)) q.set("pageToken", Buffer.from(`next:${r.int(0, 3)}`).toString("base64url"));
      c.query = q.toString().replaceAll("%40%7B", "@{").replaceAll("%7D", "}");
      break;
    }
    case "GetSnapshotBlock": {
      c.path = `/snapshots/${r.chance(0.8) ? "@{snap.a.0}" : snapshotId(r, COMPLETED)}/blocks/${r.chance(0.8) ? 0 : r.int(1, 3)}`;
      c.query = "blockToken=@{token.a.0}";
      break;
    }
  }
  const count = r.pick([0, 1, 1, 1, 2, 2, 3]);
  for (let i = 0; i < count; i++) c.mutations.push(mutate(r, c));
  return c;
}

function replaceSegment(c: EbsCase, at: number, value: string): void {
  const parts = c.path.split("/");
  parts[Math.min(at, parts.length - 1)] = value;
  c.path = parts.join("/");
}

function mutate(r: Prng, c: EbsCase): string {
  const kind = r.weighted({
    idEscape: 8,
    index: 6,
    path: 6,
    method: 3,
    query: 8,
    header: 14,
    json: c.json === undefined ? 0 : 16,
    body: c.block ? 8 : 2,
    scope: 3,
  });
  switch (kind) {
    case "idEscape": {
      // The id segment: malformed or unusual percent escapes, a very long id, empty.
      const value = r.pick([
        () => r.pick(BAD_ESCAPES),
        () => `snap-${r.pick(BAD_ESCAPES)}0123`,
        () => `@{snap.a.0}${r.pick(BAD_ESCAPES)}`,
        () => "x".repeat(r.pick([300, 5000])),
        () => "",
        () => "..",
        () => "%73nap-0123456789abcdef0",
      ])();
      replaceSegment(c, c.path.startsWith("/snapshots/completion/") ? 3 : 2, value);
      return `idEscape ${value.slice(0, 40)}`;
    }
    case "index": {
      if (!/\/blocks\/[^/]+$/.test(c.path)) return mutate(r, c);
      const value = r.chance(0.5) ? r.pick(BAD_NUMBERS) : r.pick(BAD_ESCAPES);
      c.path = c.path.replace(/\/blocks\/[^/]+$/, `/blocks/${encodeURIComponent(value).replace("%25", "%")}`);
      return `index ${value}`;
    }
    case "path": {
      c.path = r.pick([
        () => `${c.path}/`,
        () => c.path.replace("/snapshots", "/SNAPSHOTS"),
        () => c.path.replace("/snapshots/", "/snapshots//"),
        () => `${c.path}/extra`,
        () => "/snapshots/",
        () => "/snapshots/completion",
        () => `/snapshots/${"a/".repeat(200)}`,
        () => c.path.replace("/blocks", "/blocks/../blocks"),
        () => r.pick(["//", "//a:b", "///snapshots", "//%", "/snapshots/%2e%2e/blocks"]),
      ])();
      return `path ${c.path.slice(0, 60)}`;
    }
    case "method": {
      c.method = r.pick(["GET", "PUT", "POST", "DELETE", "PATCH"]);
      return `method ${c.method}`;
    }
    case "query": {
      const extra = r.pick([
        () => `maxResults=${encodeURIComponent(r.pick([...BAD_NUMBERS, "99", "10001", "100"]))}`,
        () => `startingBlockIndex=${encodeURIComponent(r.pick(BAD_NUMBERS))}`,
        () =>
          `pageToken=${r.pick(["", "abc", Buffer.from("next:-1").toString("base64url"), Buffer.from("next:1e99").toString("base64url"), Buffer.from(`next:${"9".repeat(400)}`).toString("base64url"), "%"])}`,
        () => `firstSnapshotId=${r.pick(["@{dsnap.a.0}", "@{snap.b.0}", "@{dsnap.a.1}", "", "%"])}`,
        () => `blockToken=${r.pick(["", "x", "AAAA", "%", "@{token.a.0}x", "@{token.a.0}".padEnd(40, "A")])}`,
        () => "maxResults=100&maxResults=200",
        () => "%=%",
      ])();
      c.query = c.query ? `${c.query}&${extra}` : extra;
      return `query ${extra.slice(0, 60)}`;
    }
    case "header": {
      const name = r.pick([
        "x-amz-data-length",
        "x-amz-checksum",
        "x-amz-checksum-algorithm",
        "x-amz-checksum-aggregation-method",
        "x-amz-progress",
        "x-amz-changedblockscount",
        "content-type",
      ]);
      if (r.chance(0.25)) {
        delete c.headers[name];
        return `drop header ${name}`;
      }
      const value = r.pick([
        ...BAD_NUMBERS,
        "SHA1",
        "sha256",
        "LINEAR ",
        "TREE",
        "====",
        "AAAA",
        "!!!!",
        "0".repeat(8000),
        String(BLOCK - 1),
        String(BLOCK + 1),
        "0",
        "5",
        Buffer.alloc(32).toString("base64"),
        Buffer.alloc(31, 1).toString("base64"),
        "text/plain",
      ]);
      // Header values travel as bytes: UTF-8 beyond Latin-1 goes out as its raw bytes.
      c.headers[name] = [...value].every((ch) => ch.charCodeAt(0) <= 0xff)
        ? value
        : Buffer.from(value).toString("latin1");
      return `header ${name}=${c.headers[name].slice(0, 40)}`;
    }
    case "json": {
      const how = r.pick([
        "field",
        "field",
        "field",
        "drop",
        "unknown",
        "tags",
        "notJson",
        "notObject",
        "deep",
        "big",
        "surrogate",
      ]);
      const body = safeParse(c.json!);
      const field = r.pick([
        "VolumeSize",
        "Timeout",
        "Description",
        "ParentSnapshotId",
        "ClientToken",
        "Tags",
        "Encrypted",
        "KmsKeyArn",
      ]);
      if (how === "field") {
        body[field] = r.pick<unknown>([
          -1,
          0,
          1.5,
          2 ** 53 + 2,
          16385,
          "1",
          "",
          null,
          true,
          [],
          {},
          "\u0000",
          "x".repeat(300),
          "@{snap.b.0}",
          "@{dsnap.a.0}",
        ]);
        c.json = JSON.stringify(body);
        if (r.chance(0.2)) c.json = c.json.replace(/"VolumeSize":[^,}]+/, '"VolumeSize":1e400');
        return `json ${field}`;
      }
      if (how === "drop") delete body[field];
      const unknown = r.pick(["__proto__", "constructor", "Bogus", "volumesize"]);
      if (how === "unknown" && unknown !== "__proto__") body[unknown] = 1;
      if (how === "tags")
        body.Tags = r.pick<unknown>([
          "k=v",
          [null],
          [5],
          [{ Key: 5 }],
          [{ Key: "" }],
          [{ Key: "aws:x", Value: "v" }],
          [{ Key: "k", Value: { x: 1 } }],
          Array.from({ length: 200 }, (_, i) => ({ Key: `k${i}`, Value: "v" })),
          [{ Key: "k".repeat(1000), Value: "v".repeat(1000) }],
        ]);
      c.json = JSON.stringify(body);
      // JSON.parse makes "__proto__" an own property; an object literal would not write it.
      if (how === "unknown" && unknown === "__proto__")
        c.json = `{"__proto__":{"VolumeSize":2}${c.json === "{}" ? "" : ","}${c.json.slice(1)}`;
      if (how === "notJson")
        c.json = r.pick(["", "{", "nope", "\u0000", "{'VolumeSize': 1}", '{"VolumeSize":1,}']);
      if (how === "notObject") c.json = r.pick(["[]", "null", "1", '"x"', "true", '[{"VolumeSize":1}]']);
      if (how === "deep") c.json = `{"VolumeSize":1,"Tags":${"[".repeat(50_000)}${"]".repeat(50_000)}}`;
      if (how === "big")
        c.json = `{"VolumeSize":1,"Description":"${"x".repeat(r.pick([400_000, 600_000]))}"}`;
      if (how === "surrogate")
        c.json = `{"VolumeSize":1,"Description":"\\ud800\\u0000\\u202e","Tags":[{"Key":"\\udfff","Value":"\\ud83d"}]}`;
      return `json ${how}`;
    }
    case "body": {
      if (!c.block) {
        c.json = r.pick(["x", "{}", "[]"]);
        return "body on a call without one";
      }
      c.block = { ...c.block, size: r.pick([0, 1, BLOCK - 1, BLOCK + 1, BLOCK + 2048]) };
      if (r.chance(0.5)) c.headers["x-amz-data-length"] = String(c.block.size);
      if (r.chance(0.5)) c.headers["x-amz-checksum"] = sha256b64(blockBytes(c.block));
      return `body size ${c.block.size}`;
    }
    case "scope": {
      const how = r.pick(["ec2", "s3", "region"]);
      if (how === "region") c.region = c.region === "us-east-1" ? "eu-west-1" : "us-east-1";
      else c.service = how;
      return `scope ${how}`;
    }
  }
  return "none";
}

function safeParse(json: string): Record<string, unknown> {
  try {
    const v = JSON.parse(json);
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {}
  return {};
}

export function describeEbsCase(seed: string, c: EbsCase): string {
  const json = c.json && c.json.length > 300 ? `${c.json.slice(0, 100)}...(${c.json.length} chars)` : c.json;
  return `seed=${seed} index=${c.index} op=${c.op} caller=${c.caller} region=${c.region} service=${c.service} mutations=${c.mutations.join("; ")}\n  ${c.method} ${c.path.slice(0, 300)}${c.query ? `?${c.query.slice(0, 300)}` : ""}\n  headers=${JSON.stringify(c.headers).slice(0, 400)}${json !== undefined ? `\n  json=${json}` : ""}${c.block ? `\n  block=${JSON.stringify(c.block)}` : ""}`;
}
