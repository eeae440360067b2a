// `strata server` and `strata images build-base`: the daemon and its base image. Both load their
// code only when they run (the client commands should not pay for the whole server at start).
import { type Command, Option } from "commander";
import {
  collect,
  DEFAULT_DATA_DIR,
  dataDirOf,
  exitWith,
  helpAfter,
  port,
  positiveNumber,
  wholeNumber,
} from "./options.ts";

const CACHE_DIR = "$STRATA_CACHE_DIR or ~/.cache/strata";

interface ServerFlags {
  dataDir?: string;
  host: string;
  port: number;
  regions?: string;
  hostname?: string[];
  tlsCert?: string;
  tlsKey?: string;
  baseImage: boolean;
  cpuAllocationRatio?: number;
  cacheDir?: string;
  maxOpenVolumeFiles?: number;
  network: "auto" | "vpc" | "user";
  publicPool?: string;
  guestEgress: "on" | "off";
  storageConfig?: string;
  hostId?: string;
  zone?: string;
  advertiseUrl?: string;
  heartbeatInterval?: number;
  hostTimeout?: number;
  checkpointInterval?: number;
  tunnel?: string;
}

export function addServerCommand(program: Command): void {
  const server = program
    .command("server")
    .description("run the daemon (EC2 and EBS APIs, console, admin socket)")
    .option("--data-dir <dir>", `where everything is stored (default: ${DEFAULT_DATA_DIR})`)
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .addOption(new Option("--port <port>", "TCP port (0: any free one)").default(4566).argParser(port))
    .option("--regions <list>", "comma-separated regions (default: us-east-1,us-west-2,eu-west-1)")
    .addOption(
      new Option(
        "--hostname <name>",
        "another name clients reach the server by (repeatable or comma-separated)",
      ).argParser(collect),
    )
    .addOption(
      new Option(
        "--storage-config <file>",
        "JSON: each region's pack store (local or S3-compatible bucket); see README",
      ).env("STRATA_STORAGE_CONFIG"),
    )
    .option("--host-id <id>", "this host's id among a region's hosts (default: kept in <data-dir>/host-id)")
    .addOption(
      new Option(
        "--zone <letter>",
        "the zone this host runs instances in, in each region (default: all)",
      ).choices(["a", "b", "c"]),
    )
    .option(
      "--advertise-url <url>",
      "where other hosts of the region reach this one (default: the URL it listens on)",
    )
    .addOption(
      new Option(
        "--heartbeat-interval <ms>",
        "how often this host beats in each region's database (default: 5000)",
      ).argParser(wholeNumber),
    )
    .addOption(
      new Option(
        "--host-timeout <ms>",
        "a host silent this long is lost: its instances stopped, its volumes taken over on demand (default: 30000)",
      ).argParser(wholeNumber),
    )
    .addOption(
      new Option(
        "--checkpoint-interval <ms>",
        "snapshot this host's written volumes into the pack store this often, bounding what its death loses (default: off)",
      ).argParser(wholeNumber),
    )
    .option("--tls-cert <file>", "PEM certificate: HTTPS instead of HTTP (with --tls-key)")
    .option("--tls-key <file>", "PEM private key of --tls-cert")
    .option("--no-base-image", "do not build and publish the public base image")
    .addOption(
      new Option("--cpu-allocation-ratio <ratio>", "vCPUs per host CPU thread (default: 16)").argParser(
        positiveNumber,
      ),
    )
    .option("--cache-dir <dir>", `base image and KVM probe cache (default: ${CACHE_DIR})`)
    .addOption(
      new Option("--max-open-volume-files <n>", "volume segment files kept open (default: 128)").argParser(
        wholeNumber,
      ),
    )
    .addOption(
      new Option(
        "--network <mode>",
        "instance networking: VPC data plane, QEMU user mode, or vpc when possible",
      )
        .choices(["auto", "vpc", "user"])
        .default("auto"),
    )
    .option("--public-pool <cidr>", "public addresses of instances (default: 100.96.0.0/16)")
    .addOption(
      new Option("--guest-egress <on|off>", "let guests reach beyond their VPC")
        .choices(["on", "off"])
        .default("off"),
    )
    .option(
      "--tunnel <address:port>",
      "this host's VXLAN endpoint: VPC traffic between instances on different hosts of a region (default: none)",
    )
    .action(exitWith(runServer));
  helpAfter(
    server,
    "On first start it creates the admin account and writes its key to <data-dir>/credentials.",
    "One server per data dir. SIGINT or SIGTERM stops it cleanly.",
  );

  const images = program.command("images").description("the public base image's disk");
  images
    .command("build-base")
    .description("build the base image's raw disk into the cache (the server does it on first start)")
    .option("--cache-dir <dir>", `cache directory (default: ${CACHE_DIR})`)
    .action(
      exitWith(async (o: { cacheDir?: string }) => {
        const { buildBaseImage, defaultBaseImageCacheDir } = await import(
          "../compute/base-image/build-base-image.ts"
        );
        const built = await buildBaseImage({
          cacheDir: o.cacheDir ?? defaultBaseImageCacheDir(),
          log: console.log,
        });
        console.log(JSON.stringify(built, null, 2));
        return 0;
      }),
    );
}

async function runServer(o: ServerFlags): Promise<number> {
  const dataDir = dataDirOf(o);
  if (!o.tlsCert !== !o.tlsKey) throw new Error("--tls-cert and --tls-key go together");
  const { startServer } = await import("../server/server.ts");
  const { readStorageConfig } = await import("../services/regions/storage-config.ts");
  const { checkHostId } = await import("../services/hosts/host-id.ts");
  const server = await startServer({
    storage: o.storageConfig ? readStorageConfig(o.storageConfig) : undefined,
    hostOptions: {
      ...(o.hostId ? { id: checkHostId(o.hostId) } : {}),
      ...(o.zone ? { zone: o.zone } : {}),
      ...(o.advertiseUrl ? { advertiseUrl: o.advertiseUrl } : {}),
      ...(o.heartbeatInterval ? { heartbeatMs: o.heartbeatInterval } : {}),
      ...(o.hostTimeout ? { lostAfterMs: o.hostTimeout } : {}),
      ...(o.checkpointInterval ? { checkpointMs: o.checkpointInterval } : {}),
    },
    dataDir,
    host: o.host,
    port: o.port,
    regions: o.regions?.split(","),
    baseImage: o.baseImage,
    ...(o.maxOpenVolumeFiles !== undefined ? { maxOpenVolumeFiles: o.maxOpenVolumeFiles } : {}),
    hostnames: (o.hostname ?? []).flatMap((h) => h.split(",")).filter((h) => h !== ""),
    tls: o.tlsCert && o.tlsKey ? { certFile: o.tlsCert, keyFile: o.tlsKey } : undefined,
    network: {
      mode: o.network,
      guestEgress: o.guestEgress === "on",
      ...(o.publicPool ? { publicPool: o.publicPool } : {}),
      ...(o.tunnel ? { tunnel: o.tunnel } : {}),
    },
    compute: {
      ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
      ...(o.cpuAllocationRatio !== undefined ? { cpuAllocationRatio: o.cpuAllocationRatio } : {}),
    },
  });
  console.log(`strata listening on ${server.url} (data dir ${dataDir})`);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return new Promise(() => {});
}
