import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openAccountStore } from "../accounts/sqlite-account-store.ts";
import { adminSocketPath } from "../server/admin-socket.ts";
import { actingAccount } from "./acting-account.ts";
import { AdminClient } from "./admin-client.ts";
import { IMPORT_EXPORT_USAGE, importExportCommand, importExportOptions } from "./import-export.ts";
import { quotasCommand } from "./quota-commands.ts";

const USAGE = `strata: a self-hosted, EC2-compatible service for machine images and block snapshots

Usage:
  strata server [--data-dir DIR] [--host 127.0.0.1] [--port 4566] [--regions us-east-1,us-west-2,eu-west-1]
                [--hostname NAME[,NAME]]... [--tls-cert FILE --tls-key FILE]
                [--no-base-image] [--cpu-allocation-ratio 16] [--cache-dir ~/.cache/strata]
                [--max-open-volume-files 128] [--network auto|vpc|user]
                [--public-pool 100.96.0.0/16] [--guest-egress off|on]
  strata images build-base [--cache-dir DIR]     build the base image's raw disk into the cache

  strata accounts create NAME [--alias ALIAS] [--json] [--data-dir DIR]
  strata accounts list [--data-dir DIR]
  strata accounts quotas ACCOUNT [--json] [--data-dir DIR]      ACCOUNT: id, name or alias
  strata accounts set-quota ACCOUNT QUOTA VALUE|default [--data-dir DIR]

  strata volume create (--size GIB | --snapshot SNAP-ID)
  strata volume write VOL-ID FILE [--offset BYTES]
  strata volume read VOL-ID --out FILE [--offset BYTES] [--length BYTES]
  strata volume show|delete VOL-ID
  strata volume list
  strata snapshot create VOL-ID [--description TEXT] [--wait]
  strata snapshot copy SNAP-ID --to REGION [--wait]
  strata snapshot show SNAP-ID [--wait]
  strata snapshot delete SNAP-ID
  strata snapshot list

The volume and snapshot commands talk to the server serving --data-dir (default ~/.strata) over
its admin socket (<data-dir>/run/admin.sock) and act as an account: --account ID|ALIAS|NAME, else
the one whose key is the default profile of <data-dir>/credentials (admin). --region NAME
(default $AWS_REGION or us-east-1).

${IMPORT_EXPORT_USAGE}

Import and export talk to --endpoint URL (default $STRATA_ENDPOINT or http://127.0.0.1:4566).`;

const options = {
  "data-dir": { type: "string" },
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string", default: "4566" },
  regions: { type: "string" },
  hostname: { type: "string", multiple: true },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  account: { type: "string" },
  endpoint: { type: "string", default: process.env.STRATA_ENDPOINT ?? "http://127.0.0.1:4566" },
  region: { type: "string", default: process.env.AWS_REGION ?? "us-east-1" },
  size: { type: "string" },
  snapshot: { type: "string" },
  offset: { type: "string", default: "0" },
  length: { type: "string" },
  out: { type: "string" },
  to: { type: "string" },
  description: { type: "string" },
  wait: { type: "boolean", default: false },
  alias: { type: "string" },
  "no-base-image": { type: "boolean", default: false },
  "cpu-allocation-ratio": { type: "string" },
  "cache-dir": { type: "string" },
  "max-open-volume-files": { type: "string" },
  network: { type: "string", default: "auto" },
  "public-pool": { type: "string" },
  "guest-egress": { type: "string", default: "off" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  ...importExportOptions,
} as const;

async function main(argv: string[]): Promise<number> {
  const { values: o, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
  const [group, verb, ...rest] = positionals;
  if (o.help || !group) {
    console.log(USAGE);
    return group || o.help ? 0 : 1;
  }
  if (group === "server") {
    const dataDir = o["data-dir"] ?? join(homedir(), ".strata");
    if (!o["tls-cert"] !== !o["tls-key"]) throw new Error("--tls-cert and --tls-key go together");
    const mode = o.network;
    if (mode !== "auto" && mode !== "vpc" && mode !== "user")
      throw new Error("--network is auto, vpc or user");
    const egress = o["guest-egress"];
    if (egress !== "on" && egress !== "off") throw new Error("--guest-egress is on or off");
    // Loaded only here: the client commands should not pay for the whole server at start.
    const { startServer } = await import("../server/server.ts");
    const server = await startServer({
      dataDir,
      host: o.host,
      port: Number(o.port),
      regions: o.regions?.split(","),
      baseImage: !o["no-base-image"],
      ...(o["max-open-volume-files"] ? { maxOpenVolumeFiles: Number(o["max-open-volume-files"]) } : {}),
      hostnames: (o.hostname ?? []).flatMap((h) => h.split(",")).filter((h) => h !== ""),
      tls: o["tls-cert"] && o["tls-key"] ? { certFile: o["tls-cert"], keyFile: o["tls-key"] } : undefined,
      network: {
        mode,
        guestEgress: egress === "on",
        ...(o["public-pool"] ? { publicPool: o["public-pool"] } : {}),
      },
      compute: {
        ...(o["cache-dir"] ? { cacheDir: o["cache-dir"] } : {}),
        ...(o["cpu-allocation-ratio"] ? { cpuAllocationRatio: Number(o["cpu-allocation-ratio"]) } : {}),
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
  if (group === "images" && verb === "build-base") {
    const { buildBaseImage, defaultBaseImageCacheDir } = await import(
      "../compute/base-image/build-base-image.ts"
    );
    const built = await buildBaseImage({
      cacheDir: o["cache-dir"] ?? defaultBaseImageCacheDir(),
      log: console.log,
    });
    console.log(JSON.stringify(built, null, 2));
    return 0;
  }
  if (group === "accounts")
    return accountsCommand(verb, rest, o["data-dir"] ?? join(homedir(), ".strata"), o);
  if (["snapshot import", "snapshot export", "image import"].includes(`${group} ${verb}`))
    return importExportCommand(`${group} ${verb}`, rest, o);
  if (
    !/^(volume (create|write|read|show|delete|list)|snapshot (create|copy|show|delete|list))$/.test(
      `${group} ${verb}`,
    )
  ) {
    console.error(USAGE);
    return 1;
  }
  const dataDir = o["data-dir"] ?? join(homedir(), ".strata");
  const socket = adminSocketPath(dataDir);
  const account = await actingAccount(dataDir, o.account);
  const api = new AdminClient(socket, o.region, account);
  const id = verb === "list" || verb === "create" ? undefined : rest[0];
  const print = (v: unknown) => console.log(JSON.stringify(v, null, 2));
  switch (`${group} ${verb}`) {
    case "volume create":
      print(await api.createVolume({ sizeGiB: o.size ? Number(o.size) : undefined, snapshotId: o.snapshot }));
      return 0;
    case "volume write": {
      const file = rest[1];
      if (!id || !file) throw new Error("usage: strata volume write VOL-ID FILE");
      let offset = Number(o.offset);
      for await (const chunk of createReadStream(file, { highWaterMark: 8 * 1024 * 1024 })) {
        await api.write(id, offset, chunk as Buffer);
        offset += (chunk as Buffer).byteLength;
      }
      print({ written: offset - Number(o.offset) });
      return 0;
    }
    case "volume read": {
      if (!id || !o.out) throw new Error("usage: strata volume read VOL-ID --out FILE");
      const vol = (await api.getVolume(id)) as { sizeGiB: number };
      const length = o.length ? Number(o.length) : vol.sizeGiB * 1024 ** 3 - Number(o.offset);
      await writeFile(o.out, "");
      await api.readTo(id, Number(o.offset), length, o.out);
      return 0;
    }
    case "volume show":
      print(await api.getVolume(need(id)));
      return 0;
    case "volume delete":
      print(await api.deleteVolume(need(id)));
      return 0;
    case "volume list":
      print(await api.listVolumes());
      return 0;
    case "snapshot create": {
      const volumeId = need(rest[0]);
      const s = (await api.createSnapshot(volumeId, o.description ?? "")) as { id: string };
      print(o.wait ? await api.getSnapshot(s.id, true) : s);
      return 0;
    }
    case "snapshot copy": {
      if (!o.to) throw new Error("usage: strata snapshot copy SNAP-ID --to REGION");
      const s = (await api.copySnapshot(need(id), o.to)) as { id: string };
      print(o.wait ? await new AdminClient(socket, o.to, account).getSnapshot(s.id, true) : s);
      return 0;
    }
    case "snapshot show":
      print(await api.getSnapshot(need(id), o.wait));
      return 0;
    case "snapshot delete":
      print(await api.deleteSnapshot(need(id)));
      return 0;
    case "snapshot list":
      print(await api.listSnapshots());
      return 0;
    default:
      console.error(USAGE);
      return 1;
  }
}

/** Works beside a running server: the accounts database is shared (SQLite WAL). */
async function accountsCommand(
  verb: string | undefined,
  rest: string[],
  dataDir: string,
  o: { alias?: string; json: boolean },
): Promise<number> {
  const store = openAccountStore(dataDir);
  try {
    if (verb === "create") {
      const c = await store.createAccount(need(rest[0]), { alias: o.alias });
      if (o.json) {
        console.log(
          JSON.stringify({
            accountId: c.account.id,
            name: c.account.name,
            accessKeyId: c.accessKeyId,
            secretAccessKey: c.secretAccessKey,
          }),
        );
      } else {
        console.log(`account ${c.account.name}: ${c.account.id}`);
        console.log(`aws_access_key_id = ${c.accessKeyId}`);
        console.log(`aws_secret_access_key = ${c.secretAccessKey}`);
      }
      return 0;
    }
    if (verb === "list") {
      for (const a of await store.listAccounts())
        console.log(`${a.id}  ${a.name}${a.alias ? `  (alias ${a.alias})` : ""}`);
      return 0;
    }
    if (verb === "quotas" || verb === "set-quota") return await quotasCommand(store, verb, rest, o.json);
    console.error(USAGE);
    return 1;
  } finally {
    store.close();
  }
}

function need(v: string | undefined): string {
  if (!v) throw new Error("missing id; see strata --help");
  return v;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: Error) => {
    console.error(`strata: ${e.message}`);
    process.exitCode = 1;
  },
);
