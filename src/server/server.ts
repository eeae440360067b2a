import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AccountStore } from "../accounts/account-store.ts";
import { bootstrapAccounts } from "../accounts/bootstrap.ts";
import { openAccountStore } from "../accounts/sqlite-account-store.ts";
import { buildBaseImage } from "../compute/base-image/build-base-image.ts";
import { StrataError } from "../errors.ts";
import { Engine } from "../services/engine.ts";
import { publishBaseImage } from "../services/images/base-image-publisher.ts";
import type { ComputeOptions } from "../services/instances/compute-host.ts";
import { BLOCK_SIZE } from "../storage/blocks.ts";
import { DEFAULT_MAX_OPEN_VOLUME_FILES } from "../storage/volume-files/descriptor-pool.ts";
import { httpConnectionCap } from "./connection-cap.ts";
import { handleEbs, isEbsPath } from "./ebs-endpoint.ts";
import { handleEc2 } from "./ec2-endpoint.ts";
import { handleJsonApi } from "./json-api.ts";

export interface ServerOptions {
  dataDir: string;
  host: string;
  port: number;
  regions?: string[];
  /** Build (or take from the cache) and publish the public base image in every region (default true). */
  baseImage?: boolean;
  compute?: Partial<ComputeOptions>;
  /** Volume segment files the daemon keeps open at most (see EngineOptions). */
  maxOpenVolumeFiles?: number;
}

export interface RunningServer {
  engine: Engine;
  accounts: AccountStore;
  http: Server;
  url: string;
  /** Settles when the base image is published in every region (or publishing failed and was logged). */
  baseImage: Promise<void>;
  close(): Promise<void>;
}

export const VERSION = "0.1.0";

const logRequests = process.env.STRATA_LOG_REQUESTS !== "0";

/**
 * The Strata daemon: the engine (crash recovery done before listening) behind one HTTP port:
 * the EC2 Query API at `/`, a health check at `/health`, the JSON admin API at `/strata/v1/`.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const engine = await Engine.open({
    dataDir: options.dataDir,
    regions: options.regions,
    compute: options.compute,
    maxOpenVolumeFiles: options.maxOpenVolumeFiles,
  });
  const accounts = openAccountStore(options.dataDir);
  // Accounts exist before the port opens, so no request can beat the admin account into being.
  const boot = await bootstrapAccounts(options.dataDir, {
    store: accounts,
    endpointUrl: `http://${options.host}:${options.port}`,
  });
  const http = createServer((req, res) => {
    const started = performance.now();
    const ms = () => (performance.now() - started).toFixed(1);
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/health") {
      const body = JSON.stringify({ status: "ok", version: VERSION, regions: [...engine.regions.keys()] });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
      return;
    }
    if (isEbsPath(path)) {
      readBody(req, BLOCK_SIZE + 1024)
        .then((body) => handleEbs({ engine, accounts }, req, res, body))
        .then((o) => {
          if (logRequests)
            console.log(`ebs ${o.action} account=${o.accountId} region=${o.region} ${o.status} ${ms()}ms`);
        })
        .catch((e) => {
          console.error(e);
          res.destroy();
        });
      return;
    }
    if (path === "/") {
      readBody(req)
        .then((body) => handleEc2({ engine, accounts }, req, res, body))
        .then((o) => {
          if (logRequests)
            console.log(`ec2 ${o.action} account=${o.accountId} region=${o.region} ${o.status} ${ms()}ms`);
        })
        .catch((e) => {
          console.error(e);
          res.destroy();
        });
      return;
    }
    handleJsonApi(engine, req, res).then((handled) => {
      if (!handled) {
        const err = new StrataError("InvalidAction", `No route for ${req.method} ${req.url}`);
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: err.code, message: err.message } }));
      }
      if (logRequests) console.log(`admin ${req.method} ${path} ${res.statusCode} ${ms()}ms`);
    });
  });
  // Longer than clients keep idle connections, so a client never reuses a socket the server is
  // closing at that moment ("other side closed" under load).
  http.keepAliveTimeout = 75_000;
  const cap = httpConnectionCap(options.maxOpenVolumeFiles ?? DEFAULT_MAX_OPEN_VOLUME_FILES);
  if (cap !== undefined) {
    // Beyond it, node closes new connections at once (better than every account's I/O failing).
    http.maxConnections = cap;
    let warned = 0;
    http.on("drop", () => {
      if (Date.now() - warned < 60_000) return;
      warned = Date.now();
      console.error(`http: ${cap} connections open, the most allowed: closing new ones`);
    });
  }
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host, resolve);
  });
  const { port } = http.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  console.log(boot.message);
  // In the background: the first build downloads Debian packages (a minute); later starts only
  // find the image published already, or import it from the cache.
  const baseImage =
    options.baseImage === false
      ? Promise.resolve()
      : publishBaseImages(engine, boot.provider.id, engine.compute.options.cacheDir);
  return {
    engine,
    accounts,
    http,
    url,
    baseImage,
    async close() {
      await baseImage;
      await new Promise<void>((r) => http.close(() => r()));
      http.closeAllConnections();
      await engine.close();
      accounts.close();
    },
  };
}

async function publishBaseImages(engine: Engine, providerId: string, cacheDir: string): Promise<void> {
  try {
    const disk = await buildBaseImage({ cacheDir, log: (m) => console.log(`base image: ${m}`) });
    for (const region of engine.regions.values()) {
      const image = await publishBaseImage(region, providerId, disk);
      console.log(`base image: ${image.id} (${image.name}) is public in ${region.name}`);
    }
  } catch (e) {
    console.error(`base image: not published: ${(e as Error).stack ?? e}`);
  }
}

// Reads at most 1 byte past the EC2 limit, so oversized bodies are refused without buffering them.
async function readBody(req: IncomingMessage, limit = 1024 * 1024 + 1): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if (size < limit) parts.push(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return Buffer.concat(parts).subarray(0, limit);
}
