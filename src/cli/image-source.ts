// A disk image's guest-visible bytes, whatever its format, without converting it to a second file:
// `qemu-img info` gives the format and size, `qemu-img map` the ranges that may hold data (holes
// and zero clusters are never read), and the bytes come from the file itself (raw) or from a
// private read-only qemu-nbd server (every other format).
import { execFile, spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { ByteReader } from "./block-reader.ts";
import { NbdClient } from "./nbd-client.ts";

const run = promisify(execFile);

export const IMAGE_FORMATS = ["raw", "qcow2", "vmdk", "vpc", "vhdx"] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export interface ImageInfo {
  path: string;
  format: ImageFormat;
  virtualSize: number;
}

export interface ImageReader extends ByteReader {
  close(): Promise<void>;
}

async function qemuImg(args: string[]): Promise<string> {
  try {
    return (await run("qemu-img", args, { maxBuffer: 256 * 1024 * 1024 })).stdout;
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message: string };
    if (err.code === "ENOENT") throw new Error("qemu-img not found (Debian package qemu-utils)");
    throw new Error(`qemu-img ${args[0]} ${args.at(-1)}: ${(err.stderr || err.message).trim()}`);
  }
}

/** The format (detected unless given) and the virtual size. */
export async function probeImage(file: string, format: "auto" | ImageFormat): Promise<ImageInfo> {
  const path = resolve(file);
  if (format !== "auto" && !IMAGE_FORMATS.includes(format))
    throw new Error(`unknown format '${format}' (auto, ${IMAGE_FORMATS.join(", ")})`);
  const fmt = format === "auto" ? [] : ["-f", format];
  const info = JSON.parse(await qemuImg(["info", "--output=json", ...fmt, path])) as {
    format: string;
    "virtual-size": number;
  };
  if (!IMAGE_FORMATS.includes(info.format as ImageFormat))
    throw new Error(`${file}: format '${info.format}' is not supported (${IMAGE_FORMATS.join(", ")})`);
  // qemu-img rounds a raw file up to whole 512-byte sectors; the file itself is the truth.
  const st = statSync(path);
  const virtualSize = info.format === "raw" && st.isFile() ? st.size : info["virtual-size"];
  return { path, format: info.format as ImageFormat, virtualSize };
}

/** Sorted ranges [start, end) that may hold non-zero bytes (everything else reads as zeros). */
export async function dataRanges(info: ImageInfo): Promise<[number, number][]> {
  const map = JSON.parse(await qemuImg(["map", "--output=json", "-f", info.format, info.path])) as {
    start: number;
    length: number;
    zero: boolean;
  }[];
  const ranges: [number, number][] = [];
  for (const e of map) {
    if (e.zero) continue;
    const end = Math.min(info.virtualSize, e.start + e.length);
    const last = ranges.at(-1);
    if (last && last[1] === e.start) last[1] = end;
    else if (e.start < end) ranges.push([e.start, end]);
  }
  return ranges;
}

export async function openImage(info: ImageInfo): Promise<ImageReader> {
  return info.format === "raw" ? openRaw(info.path) : openWithQemuNbd(info);
}

async function openRaw(path: string): Promise<ImageReader> {
  const fh = await open(path, "r");
  return {
    async read(offset, length) {
      const out = Buffer.allocUnsafe(length);
      for (let done = 0; done < length; ) {
        const { bytesRead } = await fh.read(out, done, length - done, offset + done);
        if (bytesRead === 0) return out.subarray(0, done); // the file shrank: padded with zeros
        done += bytesRead;
      }
      return out;
    },
    close: () => fh.close(),
  };
}

/** qemu-nbd serves the image read-only on a socket in a private temp dir; one client, us. */
async function openWithQemuNbd(info: ImageInfo): Promise<ImageReader> {
  const dir = await mkdtemp(join(tmpdir(), "strata-nbd-"));
  const socket = join(dir, "nbd.sock");
  const child = spawn("qemu-nbd", ["-r", "-f", info.format, "-k", socket, "--shared=1", info.path], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  let exit: string | null = null;
  const exited = new Promise<void>((r) => {
    child.once("error", (e: NodeJS.ErrnoException) => {
      exit = e.code === "ENOENT" ? "qemu-nbd not found (Debian package qemu-utils)" : e.message;
      r();
    });
    child.once("exit", (code, signal) => {
      exit ??= `qemu-nbd exited (${code ?? signal}): ${stderr.trim()}`;
      r();
    });
  });
  const stop = async () => {
    if (exit === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const client = await connectWhenReady(socket, () => exit);
    if (client.size !== info.virtualSize)
      throw new Error(`qemu-nbd serves ${client.size} bytes, qemu-img info said ${info.virtualSize}`);
    return {
      read: (offset, length) => client.read(offset, length),
      async close() {
        client.close();
        await stop();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function connectWhenReady(socket: string, exited: () => string | null): Promise<NbdClient> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const gone = exited();
    if (gone) throw new Error(gone);
    // The socket file appears at bind(), a moment before listen(): refused until then.
    if (existsSync(socket)) {
      try {
        return await NbdClient.connect(socket);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ECONNREFUSED") throw e;
      }
    }
    if (Date.now() > deadline) throw new Error("qemu-nbd did not open its socket within 30 s");
    await new Promise((r) => setTimeout(r, 10));
  }
}
