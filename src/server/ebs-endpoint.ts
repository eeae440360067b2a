// The EBS direct APIs (rest-json, SigV4 signing name `ebs`), on the same port as EC2: paths under
// /snapshots. Errors are rest-json documents with x-amzn-ErrorType and the API's Reason.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccountStore } from "../accounts/account-store.ts";
import { checkSignatureHeaders, verifySigV4 } from "../api/auth/verify-sigv4.ts";
import { StrataError } from "../errors.ts";
import type { Engine } from "../services/engine.ts";
import type { Region } from "../services/regions/region.ts";
import { BLOCK_SIZE } from "../storage/blocks.ts";
import { BlockBuffers } from "./block-buffers.ts";
import { BLOCK_STREAM_PATH, streamBlocks } from "./block-stream.ts";

export interface EbsOutcome {
  action: string;
  accountId: string;
  region: string;
  status: number;
}

interface Call {
  region: Region;
  accountId: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: Buffer;
  res: ServerResponse;
}

type Route = [method: string, pattern: RegExp, action: string, handler: (c: Call) => Promise<void>];

const routes: Route[] = [
  ["POST", /^\/snapshots$/, "StartSnapshot", startSnapshot],
  ["PUT", /^\/snapshots\/(?<id>[^/]+)\/blocks\/(?<index>[^/]+)$/, "PutSnapshotBlock", putBlock],
  ["POST", /^\/snapshots\/completion\/(?<id>[^/]+)$/, "CompleteSnapshot", completeSnapshot],
  ["GET", /^\/snapshots\/(?<id>[^/]+)\/blocks$/, "ListSnapshotBlocks", listBlocks],
  ["GET", /^\/snapshots\/(?<id>[^/]+)\/changedblocks$/, "ListChangedBlocks", changedBlocks],
  ["GET", /^\/snapshots\/(?<id>[^/]+)\/blocks\/(?<index>[^/]+)$/, "GetSnapshotBlock", getBlock],
  // Strata only (src/server/block-stream.ts): many blocks in one answer, for `strata snapshot export`.
  ["POST", BLOCK_STREAM_PATH, "StrataGetSnapshotBlocks", getBlocks],
];

export function isEbsPath(path: string): boolean {
  return path === "/snapshots" || path.startsWith("/snapshots/");
}

export async function handleEbs(
  deps: { engine: Engine; accounts: AccountStore },
  req: IncomingMessage,
  res: ServerResponse,
  readBody: () => Promise<Buffer>,
): Promise<EbsOutcome> {
  const requestId = randomUUID();
  const rawUrl = req.url ?? "/";
  const rawPath = rawUrl.split("?")[0];
  const query = new URL(rawUrl, "http://strata").searchParams;
  const path = decodePath(rawPath);
  const route = path === undefined ? undefined : routes.find(([m, re]) => m === req.method && re.test(path));
  const outcome: EbsOutcome = { action: route?.[2] ?? "-", accountId: "-", region: "-", status: 200 };
  let body: Buffer | undefined;
  try {
    const lookup = (key: string) => deps.accounts.lookupAccessKey(key);
    const signed = { method: req.method ?? "GET", path: rawPath, query, headers: req.headersDistinct };
    await checkSignatureHeaders(signed, lookup);
    body = await readBody().catch(() => undefined);
    if (body === undefined) {
      // The client went away mid-body: nobody to answer, nothing to log.
      res.destroy();
      outcome.status = 0;
      return outcome;
    }
    // SigV4's rule lets a client leave the payload unsigned (PutSnapshotBlock does: its block is
    // checked against its own x-amz-Checksum), but the JSON operations carry their parameters in
    // the body, so their signature must cover it.
    const caller = await verifySigV4({ ...signed, body }, lookup, new Date(), {
      signedPayload: route?.[2] !== "PutSnapshotBlock",
    });
    outcome.accountId = caller.accountId;
    outcome.region = caller.region;
    if (caller.service !== "ebs") {
      throw new StrataError(
        "SignatureDoesNotMatch",
        "Credential should be scoped to correct service: 'ebs'.",
      );
    }
    if (path === undefined) throw invalid(`The path ${rawPath} has a malformed percent escape`);
    if (!route) throw invalid(`No EBS operation for ${req.method} ${path}`);
    const params = (route[1].exec(path)?.groups ?? {}) as Record<string, string>;
    const region = deps.engine.region(caller.region);
    await route[3]({ region, accountId: caller.accountId, params, query, headers: req.headers, body, res });
  } catch (e) {
    const err =
      e instanceof StrataError ? e : new StrataError("InternalError", "An internal error has occurred.");
    if (!(e instanceof StrataError)) console.error(`request ${requestId}:`, e);
    outcome.status = err.status;
    const doc = JSON.stringify({ message: err.message, Message: err.message, Reason: err.reason });
    // Refused before its body was read: what follows is read and thrown away, never buffered (a
    // client still sending must get to the answer, not a reset connection).
    if (body === undefined) req.resume();
    res.writeHead(err.status, {
      "content-type": "application/json",
      "x-amzn-errortype": err.code,
      "x-amzn-requestid": requestId,
    });
    res.end(doc);
  }
  return outcome;
}

/** The path with its percent escapes decoded; undefined when one is malformed (`%ZZ`, `%E0%A4`). */
function decodePath(rawPath: string): string | undefined {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
}

function invalid(message: string, reason = "INVALID_PARAMETER_VALUE"): StrataError {
  return new StrataError("ValidationException", message, reason);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function parseJson(body: Buffer): Record<string, unknown> {
  if (body.byteLength === 0) return {};
  try {
    const v = JSON.parse(body.toString("utf8"));
    if (v && typeof v === "object" && !Array.isArray(v)) {
      // As EC2's API (a snapshot's description and tags are EC2's too): no U+0000 in any value.
      if (JSON.stringify(v).includes("\\u0000")) throw invalid("U+0000 is not allowed in a value");
      return v;
    }
  } catch (e) {
    if (e instanceof StrataError) throw e;
  }
  throw invalid("The request body is not a JSON object");
}

function int(value: string | null | undefined, name: string, fallback?: number): number {
  if (value === null || value === undefined || value === "") {
    if (fallback === undefined) throw invalid(`${name} is required`);
    return fallback;
  }
  if (!/^\d+$/.test(value)) throw invalid(`${name} must be a non-negative integer, not '${value}'`);
  return Number(value);
}

const epoch = (iso: string) => new Date(iso).getTime() / 1000;

async function startSnapshot(c: Call): Promise<void> {
  const b = parseJson(c.body);
  if (b.Encrypted === true || b.KmsKeyArn) throw invalid("Encrypted snapshots are not supported by Strata");
  const tags = (Array.isArray(b.Tags) ? b.Tags : []).map((t: { Key?: unknown; Value?: unknown }) => {
    if (typeof t?.Key !== "string" || t.Key === "") throw invalid("Each tag needs a Key", "INVALID_TAG");
    return { key: t.Key, value: typeof t.Value === "string" ? t.Value : "" };
  });
  // The EBS API's limits (keys up to 127, values up to 255 characters) and EC2's rules for the
  // snapshot's tags (at most 50, no aws: prefix): the snapshot is an EC2 snapshot too.
  const badTag = tags.find((t) => t.key.length > 127 || t.value.length > 255 || /^aws:/i.test(t.key));
  if (badTag || tags.length > 50) {
    throw invalid(
      badTag ? `Invalid tag ${JSON.stringify(badTag.key.slice(0, 130))}` : "A snapshot has at most 50 tags",
      "INVALID_TAG",
    );
  }
  if (typeof b.Description === "string" && b.Description.length > 255)
    throw invalid("Description is longer than 255 characters");
  const s = await c.region.direct.writes.start(c.accountId, {
    volumeSizeGiB: typeof b.VolumeSize === "number" ? b.VolumeSize : Number.NaN,
    parentSnapshotId: typeof b.ParentSnapshotId === "string" ? b.ParentSnapshotId : undefined,
    description: typeof b.Description === "string" ? b.Description : undefined,
    timeoutMinutes: typeof b.Timeout === "number" ? b.Timeout : undefined,
    clientToken: typeof b.ClientToken === "string" ? b.ClientToken : undefined,
    tags,
  });
  json(c.res, 201, {
    SnapshotId: s.id,
    OwnerId: s.ownerId,
    Status: s.state,
    StartTime: epoch(s.startedAt),
    VolumeSize: s.volumeSizeGiB,
    BlockSize: BLOCK_SIZE,
    Description: s.description,
    ParentSnapshotId: s.parentSnapshotId ?? undefined,
    Tags: tags.map((t) => ({ Key: t.key, Value: t.value })),
    SseType: "none",
  });
}

// Blocks being written per account: past this, RequestThrottledException (the SDK backs off and
// retries), so one client cannot queue unbounded 512 KiB bodies in memory.
const MAX_PUTS_IN_FLIGHT = 128;
const putsInFlight = new Map<string, number>();

async function putBlock(c: Call): Promise<void> {
  const inFlight = putsInFlight.get(c.accountId) ?? 0;
  if (inFlight >= MAX_PUTS_IN_FLIGHT) {
    throw new StrataError(
      "RequestThrottledException",
      "Too many PutSnapshotBlock requests in flight",
      "ACCOUNT_THROTTLED",
    );
  }
  putsInFlight.set(c.accountId, inFlight + 1);
  try {
    await writeBlock(c);
  } finally {
    const n = (putsInFlight.get(c.accountId) ?? 1) - 1;
    if (n === 0) putsInFlight.delete(c.accountId);
    else putsInFlight.set(c.accountId, n);
  }
}

async function writeBlock(c: Call): Promise<void> {
  const length = int(c.headers["x-amz-data-length"] as string, "x-amz-Data-Length");
  if (length !== c.body.byteLength) {
    throw invalid(
      `x-amz-Data-Length is ${length} but the body has ${c.body.byteLength} bytes`,
      "INVALID_BLOCK",
    );
  }
  const algorithm = c.headers["x-amz-checksum-algorithm"] ?? "SHA256";
  if (algorithm !== "SHA256") throw invalid(`Checksum algorithm ${algorithm} is not supported`);
  const checksum = c.headers["x-amz-checksum"];
  if (typeof checksum !== "string") throw invalid("x-amz-Checksum is required", "INVALID_BLOCK");
  const progress = c.headers["x-amz-progress"];
  const index = int(c.params.index, "BlockIndex");
  await c.region.direct.writes.putBlock(
    c.accountId,
    c.params.id,
    index,
    c.body,
    checksum,
    progress ? Number(progress) : undefined,
  );
  c.res.writeHead(201, {
    "x-amz-checksum": checksum,
    "x-amz-checksum-algorithm": "SHA256",
    "content-length": 0,
  });
  c.res.end();
}

async function completeSnapshot(c: Call): Promise<void> {
  const count = int(c.headers["x-amz-changedblockscount"] as string, "x-amz-ChangedBlocksCount");
  const value = c.headers["x-amz-checksum"];
  await c.region.direct.writes.complete(
    c.accountId,
    c.params.id,
    count,
    typeof value === "string"
      ? {
          value,
          algorithm: c.headers["x-amz-checksum-algorithm"] as string | undefined,
          aggregation: c.headers["x-amz-checksum-aggregation-method"] as string | undefined,
        }
      : undefined,
  );
  json(c.res, 202, { Status: "completed" });
}

function pageStart(q: URLSearchParams): { start: number; limit: number } {
  const token = q.get("pageToken");
  let start = int(q.get("startingBlockIndex"), "StartingBlockIndex", 0);
  if (token !== null) {
    const decoded = Buffer.from(token, "base64url").toString("utf8");
    if (!/^next:\d+$/.test(decoded)) throw invalid("The NextToken is not valid", "INVALID_PAGE_TOKEN");
    start = Math.max(start, Number(decoded.slice(5)));
  }
  const limit = int(q.get("maxResults"), "MaxResults", 10_000);
  if (limit < 100 || limit > 10_000) throw invalid("MaxResults must be 100 to 10000");
  return { start, limit };
}

const nextToken = (next: number | undefined) =>
  next === undefined ? undefined : Buffer.from(`next:${next}`).toString("base64url");

async function listBlocks(c: Call): Promise<void> {
  const { start, limit } = pageStart(c.query);
  const r = await c.region.direct.reads.listBlocks(c.accountId, c.params.id, start, limit);
  json(c.res, 200, {
    Blocks: r.blocks.map((b) => ({ BlockIndex: b.block, BlockToken: b.token })),
    ExpiryTime: r.expiry,
    VolumeSize: r.snapshot.volumeSizeGiB,
    BlockSize: BLOCK_SIZE,
    NextToken: nextToken(r.next),
  });
}

async function changedBlocks(c: Call): Promise<void> {
  const { start, limit } = pageStart(c.query);
  const first = c.query.get("firstSnapshotId") ?? undefined;
  const r = await c.region.direct.reads.changedBlocks(c.accountId, first, c.params.id, start, limit);
  json(c.res, 200, {
    ChangedBlocks: r.blocks.map((b) => ({
      BlockIndex: b.block,
      FirstBlockToken: b.firstToken,
      SecondBlockToken: b.secondToken,
    })),
    ExpiryTime: r.expiry,
    VolumeSize: r.snapshot.volumeSizeGiB,
    BlockSize: BLOCK_SIZE,
    NextToken: nextToken(r.next),
  });
}

// 32 MiB kept idle at most (two block streams' read-ahead); more are made while more answers are
// in flight.
const blockBuffers = new BlockBuffers(BLOCK_SIZE, 64);

async function getBlock(c: Call): Promise<void> {
  const token = c.query.get("blockToken");
  if (!token) throw invalid("blockToken is required", "INVALID_BLOCK_TOKEN");
  const index = int(c.params.index, "BlockIndex");
  const buffer = blockBuffers.take();
  let result: { data: Buffer; checksum: string };
  try {
    result = await c.region.direct.reads.getBlock(c.accountId, c.params.id, index, token, {
      buffer,
      offset: 0,
    });
  } catch (e) {
    blockBuffers.give(buffer);
    throw e;
  }
  const { data, checksum } = result;
  // Reused once the socket is done with it (written out, or the connection gone).
  if (c.res.destroyed) blockBuffers.give(buffer);
  else c.res.once("close", () => blockBuffers.give(buffer));
  c.res.writeHead(200, {
    "content-type": "application/octet-stream",
    "content-length": data.byteLength,
    "x-amz-data-length": data.byteLength,
    "x-amz-checksum": checksum,
    "x-amz-checksum-algorithm": "SHA256",
  });
  c.res.end(data);
}

async function getBlocks(c: Call): Promise<void> {
  await streamBlocks(c.region, c.accountId, c.params.id, c.body, c.res, blockBuffers);
}
