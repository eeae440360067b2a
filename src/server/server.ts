import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { quotaSettingsOf } from "../accounts/account-quotas.ts";
import type { AccountStore } from "../accounts/account-store.ts";
import { bootstrapAccounts } from "../accounts/bootstrap.ts";
import { openAccounts } from "../accounts/open-accounts.ts";
import { buildBaseImage } from "../compute/base-image/build-base-image.ts";
import { StrataError } from "../errors.ts";
import { Engine } from "../services/engine.ts";
import type { HostOptions } from "../services/hosts/host-registry.ts";
import { publishBaseImage } from "../services/images/base-image-publisher.ts";
import type { ComputeOptions } from "../services/instances/compute-host.ts";
import type { NetworkOptions } from "../services/network/network-options.ts";
import { type StorageConfig, storageFor } from "../services/regions/storage-config.ts";
import { BLOCK_SIZE } from "../storage/blocks.ts";
import { DEFAULT_MAX_OPEN_VOLUME_FILES } from "../storage/volume-files/descriptor-pool.ts";
import { assertDataDirFree, listenAdminSocket } from "./admin-socket.ts";
import { httpConnectionCap } from "./connection-cap.ts";
import { ConsoleAssets } from "./console-assets.ts";
import { makeDataDirPrivate } from "./data-dir.ts";
import { handleEbs, isEbsPath } from "./ebs-endpoint.ts";
import { handleEc2, sendEc2Error } from "./ec2-endpoint.ts";
import { FrontDoor, isLoopback } from "./front-door.ts";
import { IAM } from "./iam-endpoint.ts";
import { handleJsonApi } from "./json-api.ts";
import { handleQueryService, isRequestFor } from "./query-service.ts";
import { STS } from "./sts-endpoint.ts";

export interface ServerOptions {
  dataDir: string;
  host: string;
  port: number;
  regions?: string[];
  /** Build (or take from the cache) and publish the public base image in every region (default true). */
  baseImage?: boolean;
  compute?: Partial<ComputeOptions>;
  /** Instance networking (default: auto, the default pool, no guest egress). */
  network?: NetworkOptions;
  /** Volume segment files the daemon keeps open at most (see EngineOptions). */
  maxOpenVolumeFiles?: number;
  /** Names clients may reach the server by besides its own addresses (the Host header check). */
  hostnames?: string[];
  /** PEM files: serve HTTPS instead of HTTP on the same port. */
  tls?: { certFile: string; keyFile: string };
  /** Each region's storage backends (default: SQLite + packs in the data dir). */
  storage?: StorageConfig;
  /**
   * This host among each region's hosts: its id, the zone letter it serves, and the URL other
   * hosts forward calls to (default: the URL it listens on).
   */
  hostOptions?: Partial<HostOptions> & { advertiseUrl?: string };
}

export interface RunningServer {
  engine: Engine;
  accounts: AccountStore;
  http: Server | HttpsServer;
  /** The JSON admin API, on `<dataDir>/run/admin.sock`. */
  admin: Server;
  url: string;
  /** Settles when the base image is published in every region (or publishing failed and was logged). */
  baseImage: Promise<void>;
  close(): Promise<void>;
}

export const VERSION = "0.1.0";

const logRequests = process.env.STRATA_LOG_REQUESTS !== "0";
const QUERY_SERVICES = [STS, IAM];

/**
 * The Strata daemon: the engine (crash recovery done before listening) behind one HTTP(S) port:
 * the EC2 Query API at `/`, the EBS direct APIs under `/snapshots`, a health check at `/health`,
 * the web console's files under `/console/`;
 * and the JSON admin API at `/strata/v1/` on the data dir's unix socket only.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  // Before anything is created: every file the daemon and its children write is private.
  const tightened = makeDataDirPrivate(options.dataDir);
  if (tightened) console.log(tightened);
  await assertDataDirFree(options.dataDir);
  // Read before anything starts, so a missing or unreadable file fails the start at once.
  const tls = options.tls && {
    cert: readFileSync(options.tls.certFile),
    key: readFileSync(options.tls.keyFile),
  };
  const scheme = tls ? "https" : "http";
  const accounts = await openAccounts(options.dataDir, options.storage);
  const engine = await Engine.open({
    dataDir: options.dataDir,
    regions: options.regions,
    compute: options.compute,
    network: options.network ?? { mode: "auto" },
    maxOpenVolumeFiles: options.maxOpenVolumeFiles,
    // Read at each check: `strata accounts set-quota` beside the running daemon applies at once.
    quotaSettings: (accountId) => quotaSettingsOf(accounts, accountId),
    storage:
      options.storage && ((region) => storageFor(options.storage as StorageConfig, region, options.dataDir)),
    host: options.hostOptions,
  });
  console.log(engine.network.message);
  // Accounts exist before the port opens, so no request can beat the admin account into being.
  const boot = await bootstrapAccounts(options.dataDir, {
    store: accounts,
    endpointUrl: `${scheme}://${urlHost(options.host)}:${options.port}`,
  });
  const consoleAssets = new ConsoleAssets();
  if (!consoleAssets.built) console.log("web console not built (run scripts/setup.sh): /console/ says so");
  // Made once the port is bound (it needs the bound address), before any request is accepted.
  let door: FrontDoor;
  const handler: RequestListener = (req, res) => {
    const started = performance.now();
    const ms = () => (performance.now() - started).toFixed(1);
    const path = (req.url ?? "/").split("?")[0];
    const refused = door.refusal(req);
    if (refused) {
      sendEc2Error(res, refused);
      if (logRequests)
        console.log(
          `refused ${req.method} ${path} host=${req.headers.host ?? "-"} origin=${req.headers.origin ?? "-"}: ${refused.code}`,
        );
      return;
    }
    if (path === "/health") {
      const body = JSON.stringify({ status: "ok", version: VERSION, regions: [...engine.regions.keys()] });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
      return;
    }
    if (ConsoleAssets.handles(path)) {
      consoleAssets.serve(req, res, path);
      if (logRequests) console.log(`console ${req.method} ${path} ${res.statusCode} ${ms()}ms`);
      return;
    }
    if (isEbsPath(path)) {
      handleEbs({ engine, accounts }, req, res, () => readBody(req, BLOCK_SIZE + 1024))
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
    // STS and IAM share the endpoint with EC2; the service a request is signed for tells them apart.
    const queryService = path === "/" ? QUERY_SERVICES.find((s) => isRequestFor(s, req)) : undefined;
    if (queryService) {
      handleQueryService(queryService, { accounts }, req, res, () => readBody(req))
        .then((o) => {
          if (logRequests)
            console.log(
              `${queryService.signingName} ${o.action} account=${o.accountId} ${o.status} ${ms()}ms`,
            );
        })
        .catch((e) => {
          console.error(e);
          res.destroy();
        });
      return;
    }
    if (path === "/") {
      handleEc2({ engine, accounts }, req, res, () => readBody(req))
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
    // Everything else (the admin API's /strata/v1 included: it is on the unix socket only).
    sendEc2Error(res, new StrataError("InvalidAction", `No route for ${req.method} ${path}`));
    if (logRequests) console.log(`unknown ${req.method} ${path} ${res.statusCode} ${ms()}ms`);
  };
  const http = tls ? createHttpsServer(tls, handler) : createServer(handler);
  const admin = await listenAdminSocket(options.dataDir, (req, res) => {
    const started = performance.now();
    const path = (req.url ?? "/").split("?")[0];
    handleJsonApi({ engine, accounts }, req, res)
      .then((handled) => {
        if (!handled) {
          const err = new StrataError("InvalidAction", `No route for ${req.method} ${req.url}`);
          res.writeHead(404, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: { code: err.code, message: err.message } }));
        }
        if (logRequests)
          console.log(
            `admin ${req.method} ${path} ${res.statusCode} ${(performance.now() - started).toFixed(1)}ms`,
          );
      })
      // As for the other endpoints: a request's failure must never become an unhandled rejection,
      // which ends the daemon (`GET //` did, found by the fuzzer).
      .catch((e) => {
        console.error(e);
        res.destroy();
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
    http.once("error", (e) => {
      // The port is taken (or the address is not ours): release what is open, so the process ends.
      admin.close();
      accounts.close();
      engine.close().then(() => reject(e), reject);
    });
    http.listen(options.port, options.host, () => {
      const { address } = http.address() as AddressInfo;
      door = new FrontDoor({
        scheme,
        host: options.host,
        boundAddress: address,
        hostnames: options.hostnames,
      });
      resolve();
    });
  });
  const { port, address } = http.address() as AddressInfo;
  const url = `${scheme}://${urlHost(options.host)}:${port}`;
  console.log(boot.message);
  // Registered once reachable: from now on other hosts may forward calls here.
  for (const region of engine.regions.values())
    await region.startHost(options.hostOptions?.advertiseUrl ?? url);
  if (!tls && !isLoopback(address)) {
    console.warn(
      `warning: listening on ${address} without TLS: requests and answers (user data, console output, key pairs) cross the network in the clear; start with --tls-cert FILE --tls-key FILE`,
    );
  }
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
    admin,
    url,
    baseImage,
    async close() {
      await baseImage;
      await Promise.all([
        new Promise<void>((r) => http.close(() => r())),
        new Promise<void>((r) => admin.close(() => r())),
      ]);
      http.closeAllConnections();
      admin.closeAllConnections();
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

/** A host as it goes in a URL (IPv6 addresses in brackets). */
function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
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
