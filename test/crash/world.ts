// The daemon under test and the harness's clients to it, rebuilt after every restart (a new
// process listens on a new port), with the model's volume I/O: writes are tracked block by block
// so an unacknowledged one is known to be uncertain, reads are compared block by block.
import { EBSClient } from "@aws-sdk/client-ebs";
import { EC2Client } from "@aws-sdk/client-ec2";
import { AdminClient } from "../../src/cli/admin-client.ts";
import { adminSocketPath } from "../../src/server/admin-socket.ts";
import { adminCredentials, type Credentials } from "../ec2-helpers.ts";
import { BLOCK_SIZE, sha256 } from "../helpers.ts";
import { type DaemonOptions, DaemonProcess } from "./daemon-process.ts";
import { type BlockContent, content, isZero, type VolumeModel } from "./model.ts";

export const REGIONS = ["us-east-1", "eu-west-1"];

export class DeadlineError extends Error {}

/** Polls `get` until `done` holds, or throws after `ms` naming what never happened. */
export async function waitUntil<T>(
  what: string,
  get: () => Promise<T>,
  done: (v: T) => boolean,
  ms: number,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (let pause = 20; ; pause = Math.min(250, pause * 2)) {
    const v = await get();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new DeadlineError(`${what}: not done after ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, pause));
  }
}

export class World {
  readonly dataDir: string;
  readonly options: DaemonOptions;
  daemon!: DaemonProcess;
  #credentials: Credentials | undefined;
  #ec2 = new Map<string, EC2Client>();
  #ebs = new Map<string, EBSClient>();

  constructor(dataDir: string, options: Partial<DaemonOptions> = {}) {
    this.dataDir = dataDir;
    this.options = { regions: REGIONS.join(","), ...options };
  }

  /** Starts the server; resolves once it listens (or rejects if it died first). */
  async start(): Promise<void> {
    this.spawn();
    await this.daemon.ready;
  }

  /** Starts the server without waiting for it (a second kill may land during start-up). */
  spawn(env?: Record<string, string>): void {
    this.#dropClients();
    this.daemon = new DaemonProcess(this.dataDir, { ...this.options, env });
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await this.daemon.kill(signal);
    this.#dropClients();
  }

  get url(): string {
    return this.daemon.url;
  }

  get credentials(): Credentials {
    this.#credentials ??= adminCredentials(this.dataDir);
    return this.#credentials;
  }

  ec2(region = REGIONS[0]): EC2Client {
    let c = this.#ec2.get(region);
    if (!c) {
      c = new EC2Client({ endpoint: this.url, region, credentials: this.credentials, maxAttempts: 1 });
      this.#ec2.set(region, c);
    }
    return c;
  }

  ebs(region = REGIONS[0]): EBSClient {
    let c = this.#ebs.get(region);
    if (!c) {
      c = new EBSClient({ endpoint: this.url, region, credentials: this.credentials, maxAttempts: 1 });
      this.#ebs.set(region, c);
    }
    return c;
  }

  /** The JSON admin API on the data dir's unix socket, acting as the admin account. */
  admin(region = REGIONS[0]): AdminClient {
    return new AdminClient(adminSocketPath(this.dataDir), region, "admin");
  }

  #dropClients(): void {
    for (const c of [...this.#ec2.values(), ...this.#ebs.values()]) c.destroy();
    this.#ec2.clear();
    this.#ebs.clear();
  }

  /**
   * Writes whole blocks in runs of contiguous blocks, one request per run. The blocks are
   * uncertain until the request is acknowledged; then the model takes their new content.
   */
  async writeBlocks(volume: VolumeModel, writes: Map<number, Buffer>): Promise<void> {
    const blocks = [...writes.keys()].sort((a, b) => a - b);
    for (let i = 0; i < blocks.length; ) {
      let j = i + 1;
      while (j < blocks.length && blocks[j] === blocks[j - 1] + 1 && j - i < 8) j++;
      const run = blocks.slice(i, j);
      const data = Buffer.concat(run.map((b) => writes.get(b)!));
      for (const b of run) volume.unknown.add(b);
      await this.admin(volume.region).write(volume.id, run[0] * BLOCK_SIZE, data);
      for (const b of run) {
        const bytes = writes.get(b)!;
        volume.set(b, isZero(bytes) ? null : content(bytes));
        volume.unknown.delete(b);
      }
      i = j;
    }
  }

  /** A write of part of one block (offset within it), tracked like writeBlocks. */
  async writePartial(volume: VolumeModel, block: number, offset: number, patch: Buffer): Promise<void> {
    const before: BlockContent | undefined = volume.blocks.get(block);
    const next = before ? before.make() : Buffer.alloc(BLOCK_SIZE);
    patch.copy(next, offset);
    volume.unknown.add(block);
    await this.admin(volume.region).write(volume.id, block * BLOCK_SIZE + offset, patch);
    volume.set(block, isZero(next) ? null : content(next));
    volume.unknown.delete(block);
  }

  /** Reads blocks [0, extent) of a volume: block -> SHA-256 of its content (zero blocks left out). */
  async readVolume(
    region: string,
    id: string,
    extent: number,
    only?: number[],
  ): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const admin = this.admin(region);
    const take = (first: number, data: Buffer) => {
      for (let k = 0; k * BLOCK_SIZE < data.byteLength; k++) {
        const block = data.subarray(k * BLOCK_SIZE, (k + 1) * BLOCK_SIZE);
        if (!isZero(block)) out.set(first + k, sha256(block));
      }
    };
    if (only) {
      for (const b of only) take(b, await admin.read(id, b * BLOCK_SIZE, BLOCK_SIZE));
      return out;
    }
    for (let b = 0; b < extent; b += 32) {
      const n = Math.min(32, extent - b);
      take(b, await admin.read(id, b * BLOCK_SIZE, n * BLOCK_SIZE));
    }
    return out;
  }

  /** After a restart: the blocks an unacknowledged write touched are whatever they now read. */
  async resolveUnknown(volume: VolumeModel): Promise<void> {
    const admin = this.admin(volume.region);
    for (const b of [...volume.unknown]) {
      const data = await admin.read(volume.id, b * BLOCK_SIZE, BLOCK_SIZE);
      volume.set(b, isZero(data) ? null : content(data));
      volume.unknown.delete(b);
    }
  }
}
