// Strata's own admin API (JSON over HTTP) for the storage engine, used by the `strata volume` and
// `strata snapshot` commands and the tests. Served only on the data dir's unix socket (see
// admin-socket.ts): whoever can open it is the operator, and names the account to act as in the
// x-strata-account header. Each call sees and changes only that account's volumes and snapshots:
// the services decide, as they do for the EC2 API.
import type { IncomingMessage, ServerResponse } from "node:http";
import { isAccountId } from "../accounts/account-ids.ts";
import type { AccountStore } from "../accounts/account-store.ts";
import { StrataError } from "../errors.ts";
import type { Engine } from "../services/engine.ts";
import { EXTENTS_CONTENT_TYPE, streamExtents } from "./volume-extents.ts";

/** The header naming the account a call acts as: its 12-digit id, owner alias or name. */
export const ACCOUNT_HEADER = "x-strata-account";

export interface JsonApiDeps {
  engine: Engine;
  accounts: AccountStore;
}

type Handler = (ctx: Ctx) => Promise<unknown>;
interface Ctx {
  engine: Engine;
  /** The acting account's id. */
  accountId: string;
  params: Record<string, string>;
  query: URLSearchParams;
  req: IncomingMessage;
  res: ServerResponse;
}

const MAX_JSON = 1024 * 1024;
const MAX_DATA = 64 * 1024 * 1024;

const routes: [string, RegExp, Handler][] = [];
function route(method: string, pattern: string, handler: Handler): void {
  const re = new RegExp(`^${pattern.replace(/:(\w+)/g, "(?<$1>[^/]+)")}$`);
  routes.push([method, re, handler]);
}

route("POST", "/strata/v1/:region/volumes", async ({ engine, accountId, params, req }) => {
  const body = await json(req);
  // As CreateVolume: from a snapshot the account may restore (its own, shared, public).
  return engine.region(params.region).volumes.create({
    ownerId: accountId,
    sizeGiB: optionalInt(body, "sizeGiB"),
    snapshotId: optionalString(body, "snapshotId"),
    availabilityZone: optionalString(body, "availabilityZone"),
    volumeType: optionalString(body, "volumeType"),
  });
});
route("GET", "/strata/v1/:region/volumes", async ({ engine, accountId, params }) =>
  engine.region(params.region).volumes.listOwned(accountId),
);
route("GET", "/strata/v1/:region/volumes/:id", async ({ engine, accountId, params }) => {
  const region = engine.region(params.region);
  const volume = await region.volumes.owned(accountId, params.id);
  const handle = await region.volumes.handle(volume.id);
  return { ...volume, hydration: handle.hydration, changedBlocks: handle.dirty.count };
});
route("DELETE", "/strata/v1/:region/volumes/:id", async ({ engine, accountId, params }) => {
  await engine.region(params.region).volumes.deleteOwned(accountId, params.id);
  return { deleted: params.id };
});
route("PUT", "/strata/v1/:region/volumes/:id/data", async ({ engine, accountId, params, query, req }) => {
  const offset = intParam(query, "offset", 0);
  const region = engine.region(params.region);
  const handle = await region.volumes.handle((await region.volumes.owned(accountId, params.id)).id);
  const data = await readBody(req, MAX_DATA);
  await handle.write(offset, data);
  if (query.get("flush") === "true") await handle.flush();
  return { written: data.byteLength };
});
route("GET", "/strata/v1/:region/volumes/:id/data", async ({ engine, accountId, params, query, res }) => {
  const offset = intParam(query, "offset", 0);
  const region = engine.region(params.region);
  const handle = await region.volumes.handle((await region.volumes.owned(accountId, params.id)).id);
  const length = intParam(query, "length", Math.min(MAX_DATA, handle.sizeBytes - offset));
  if (length > MAX_DATA) throw new StrataError("InvalidParameterValue", `length may be at most ${MAX_DATA}`);
  const data = await handle.read(offset, length);
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": data.byteLength });
  res.end(data);
  return undefined;
});
// The whole range in one streamed response of data frames, holes left out (volume-extents.ts).
route("GET", "/strata/v1/:region/volumes/:id/extents", async ({ engine, accountId, params, query, res }) => {
  const offset = intParam(query, "offset", 0);
  const region = engine.region(params.region);
  const handle = await region.volumes.handle((await region.volumes.owned(accountId, params.id)).id);
  const length = intParam(query, "length", Math.max(0, handle.sizeBytes - offset));
  if (offset + length > handle.sizeBytes) {
    throw new StrataError(
      "InvalidParameterValue",
      `Range ${offset}+${length} is beyond the end of ${handle.id} (${handle.sizeBytes} bytes)`,
    );
  }
  res.writeHead(200, { "content-type": EXTENTS_CONTENT_TYPE });
  await streamExtents(handle, offset, length, res);
  return undefined;
});
route("POST", "/strata/v1/:region/snapshots", async ({ engine, accountId, params, req }) => {
  const body = await json(req);
  const volumeId = optionalString(body, "volumeId");
  if (!volumeId) throw new StrataError("MissingParameter", "The request must contain the parameter volumeId");
  return engine
    .region(params.region)
    .snapshots.createOwned(accountId, volumeId, optionalString(body, "description") ?? "");
});
route("GET", "/strata/v1/:region/snapshots", async ({ engine, accountId, params }) =>
  engine.region(params.region).snapshots.listVisible(accountId, { ownerIds: [accountId] }),
);
route("GET", "/strata/v1/:region/snapshots/:id", async ({ engine, accountId, params, query }) => {
  const region = engine.region(params.region);
  const id = (await region.snapshots.owned(accountId, params.id)).id;
  const snapshots = region.snapshots;
  const s = query.get("wait") === "true" ? await snapshots.wait(id) : await snapshots.get(id);
  return { ...s, stats: await snapshots.stats(id) };
});
route("DELETE", "/strata/v1/:region/snapshots/:id", async ({ engine, accountId, params }) => {
  await engine.region(params.region).snapshots.deleteOwned(accountId, params.id);
  return { deleted: params.id };
});
route("POST", "/strata/v1/:region/snapshots/:id/copy", async ({ engine, accountId, params, req }) => {
  const body = await json(req);
  const to = optionalString(body, "toRegion") ?? params.region;
  // As CopySnapshot: of a snapshot the account may read; the copy is the account's.
  return engine.copySnapshot(params.region, params.id, to, {
    ownerId: accountId,
    description: optionalString(body, "description"),
  });
});

/** The account named by the x-strata-account header: an id, an owner alias or a name. */
async function actingAccount(accounts: AccountStore, req: IncomingMessage): Promise<string> {
  const named = req.headers[ACCOUNT_HEADER];
  if (typeof named !== "string" || named === "") {
    throw new StrataError(
      "MissingParameter",
      `The request must name the account to act as in the ${ACCOUNT_HEADER} header.`,
    );
  }
  const account =
    (isAccountId(named) ? await accounts.getAccount(named) : undefined) ??
    (await accounts.findByAlias(named)) ??
    (await accounts.findByName(named));
  if (!account) {
    throw new StrataError(
      "InvalidParameterValue",
      `No account '${named}' (by id, owner alias or name); see strata accounts list.`,
    );
  }
  return account.id;
}

export async function handleJsonApi(
  { engine, accounts }: JsonApiDeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  // A request target like `//` or `//a:b` reads as a URL without a valid host: no route here.
  let url: URL;
  try {
    url = new URL(req.url ?? "/", "http://strata");
  } catch {
    return false;
  }
  const match = routes
    .map(([method, re, handler]) => ({ method, m: re.exec(url.pathname), handler }))
    .filter((r) => r.m);
  if (match.length === 0) return false;
  const hit = match.find((r) => r.method === req.method);
  try {
    if (!hit)
      throw new StrataError(
        "InvalidParameterValue",
        `Method ${req.method} is not allowed on ${url.pathname}`,
      );
    const params = { ...hit.m!.groups } as Record<string, string>;
    const accountId = await actingAccount(accounts, req);
    const result = await hit.handler({ engine, accountId, params, query: url.searchParams, req, res });
    if (!res.headersSent) send(res, 200, result);
  } catch (e) {
    const err =
      e instanceof StrataError
        ? e
        : new StrataError("InternalError", "An internal error occurred; see the server log.");
    if (!(e instanceof StrataError)) console.error(e);
    if (!res.headersSent) send(res, err.status, { error: { code: err.code, message: err.message } });
    else res.destroy();
  }
  return true;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) throw new StrataError("InvalidParameterValue", `Request body exceeds ${limit} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

async function json(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(req, MAX_JSON)).toString("utf8");
  if (text.trim() === "") return {};
  try {
    const v = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {}
  throw new StrataError("InvalidParameterValue", "The request body must be a JSON object");
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new StrataError("InvalidParameterValue", `${key} must be a string`);
  return v;
}

function optionalInt(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new StrataError("InvalidParameterValue", `${key} must be an integer`);
  }
  return v;
}

function intParam(q: URLSearchParams, key: string, fallback: number): number {
  const v = q.get(key);
  if (v === null) return fallback;
  if (!/^\d+$/.test(v))
    throw new StrataError("InvalidParameterValue", `${key} must be a non-negative integer`);
  return Number(v);
}
