// `strata snapshot import|export` and `strata image import`: disk images in and out of Strata
// through the EBS direct APIs and EC2 (so they work against a remote Strata as well).
import { execFile } from "node:child_process";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import type { EBSClient } from "@aws-sdk/client-ebs";
import { type Clients, createClients, createEbsClient, describeError } from "./aws-clients.ts";
import { readImageBlocks } from "./block-reader.ts";
import { dataRanges, type ImageFormat, type ImageInfo, openImage, probeImage } from "./image-source.ts";
import type { ImportExportFlags } from "./import-export.ts";
import { Progress } from "./progress.ts";
import { downloadSnapshot } from "./snapshot-download.ts";
import type { UploadResult } from "./snapshot-upload.ts";

const run = promisify(execFile);

/**
 * Runs one of the commands (arguments and option values already checked by the parser); service
 * errors print as "Code: message" and exit 1.
 */
export async function runImportExport(
  command: "snapshot import" | "snapshot export" | "image import",
  args: string[],
  o: ImportExportFlags,
): Promise<number> {
  const options = { endpoint: o.endpoint, region: o.region, dataDir: o.dataDir, maxSockets: 64 };
  const clients = () => createClients(options);
  try {
    if (command === "snapshot import") {
      const file = need(args[0], "strata snapshot import FILE");
      const r = await importFile(await clients(), file, o);
      print(o, r.snapshotId, {
        SnapshotId: r.snapshotId,
        VolumeSize: r.volumeSizeGiB,
        Format: r.format,
        VirtualSize: r.virtualSize,
        ChangedBlocks: r.changedBlocks,
      });
      return 0;
    }
    if (command === "snapshot export") {
      const usage = "strata snapshot export SNAP-ID FILE [--format raw|qcow2]";
      await exportSnapshot(createEbsClient(options), need(args[0], usage), need(args[1], usage), o);
      return 0;
    }
    if (command === "image import") {
      const file = need(args[0], "strata image import FILE --name NAME");
      const name = need(o.name, "strata image import FILE --name NAME");
      const c = await clients();
      const snap = await importFile(c, file, o);
      const imageId = await register(c, name, snap.snapshotId, o);
      print(o, imageId, { ImageId: imageId, SnapshotId: snap.snapshotId, VolumeSize: snap.volumeSizeGiB });
      return 0;
    }
    throw new Error(`unknown command '${command}'`);
  } catch (e) {
    console.error(`strata: ${describeError(e)}`);
    return 1;
  }
}

async function importFile(
  clients: Clients,
  file: string,
  o: ImportExportFlags,
): Promise<UploadResult & ImageInfo> {
  const info = await probeImage(file, (o.format ?? "auto") as "auto" | ImageFormat);
  const ranges = await dataRanges(info);
  const reader = await openImage(info);
  const progress = new Progress(`import ${basename(file)} (${info.format})`, info.virtualSize);
  // Ctrl-C or SIGTERM: stop, and let the upload delete its pending snapshot before exiting.
  const abort = new AbortController();
  const stop = () => abort.abort(new Error("interrupted"));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const blocks = readImageBlocks(reader, ranges, {
      size: info.virtualSize,
      onPosition: (bytes) => progress.at(bytes),
    });
    const { uploadSnapshot } = await import("./snapshot-upload.ts");
    const result = await uploadSnapshot(clients, blocks, {
      size: info.virtualSize,
      dataBytes: ranges.reduce((n, [start, end]) => n + end - start, 0),
      signal: abort.signal,
      description: o.description ?? `Imported from ${basename(file)} (${info.format})`,
    });
    progress.finish();
    return { ...result, ...info };
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await reader.close();
  }
}

/**
 * Writes beside FILE under temporary names and renames at the end, so a failed export leaves no
 * partial file and never clobbers an existing FILE.
 */
async function exportSnapshot(ebs: EBSClient, snapshotId: string, file: string, o: ImportExportFlags) {
  const format = o.format ?? "raw";
  const target = resolve(file);
  const temp = (ext: string) => join(dirname(target), `.${basename(target)}.${process.pid}.${ext}`);
  const rawPath = temp("raw");
  const qcow2Path = temp("qcow2");
  const progress = new Progress(`export ${snapshotId}`, 0);
  try {
    const fh = await open(rawPath, "wx");
    let result: Awaited<ReturnType<typeof downloadSnapshot>>;
    try {
      result = await downloadSnapshot({ ebs }, snapshotId, fh, {
        onListed: (bytes) => {
          progress.total = bytes;
        },
        onBytes: (n) => progress.add(n),
      });
    } finally {
      await fh.close();
    }
    progress.finish();
    if (format === "qcow2") await qemuConvert(rawPath, qcow2Path);
    await rename(format === "qcow2" ? qcow2Path : rawPath, target);
    print(o, target, {
      SnapshotId: snapshotId,
      File: target,
      Format: format,
      VolumeSize: result.volumeSizeGiB,
      Blocks: result.blocks,
    });
  } finally {
    for (const path of [rawPath, qcow2Path]) await unlink(path).catch(() => {});
  }
}

async function qemuConvert(rawPath: string, target: string): Promise<void> {
  try {
    await run("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", rawPath, target]);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`qemu-img convert: ${(err.stderr || err.message).trim()}`);
  }
}

async function register(c: Clients, name: string, snapshotId: string, o: ImportExportFlags): Promise<string> {
  try {
    const { RegisterImageCommand } = await import("@aws-sdk/client-ec2");
    const out = await c.ec2.send(
      new RegisterImageCommand({
        Name: name,
        Description: o.description,
        Architecture: o.architecture as "x86_64",
        BootMode: o.bootMode as "legacy-bios",
        VirtualizationType: "hvm",
        RootDeviceName: "/dev/xvda",
        BlockDeviceMappings: [
          { DeviceName: "/dev/xvda", Ebs: { SnapshotId: snapshotId, DeleteOnTermination: true } },
        ],
      }),
    );
    return out.ImageId!;
  } catch (e) {
    throw new Error(`RegisterImage: ${describeError(e)} (snapshot ${snapshotId} was kept)`);
  }
}

function print(o: { json?: boolean }, plain: string, json: Record<string, unknown>): void {
  console.log(o.json ? JSON.stringify(json) : plain);
}

function need(v: string | undefined, usage: string): string {
  if (!v) throw new Error(`usage: ${usage}`);
  return v;
}
