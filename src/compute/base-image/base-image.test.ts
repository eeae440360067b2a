// Builds the base image (or takes it from the cache) and boots it under QEMU, as an instance would
// run: software emulation, user-mode networking on 169.254.0.0/16 with the metadata service behind
// guestfwd, a copy-on-write overlay so the cached disk stays untouched. Three boots of one disk:
// a new instance with user data, its reboot on a volume grown from 1 to 3 GiB (the root partition
// and file system grow to fill it), and a new instance id (an image made from the disk).
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { metadataForwardCommand } from "../hypervisor/qemu-vm.ts";
import { type InstanceMetadata, MetadataService } from "../metadata/metadata-service.ts";
import { type BuiltBaseImage, buildBaseImage, defaultBaseImageCacheDir } from "./build-base-image.ts";

const TOOLS = [
  "qemu-system-x86_64",
  "qemu-img",
  "ssh",
  "ssh-keygen",
  "nc",
  "apt-get",
  "mkfs.ext4",
  "e2fsck",
  "syslinux",
];
const missing = TOOLS.filter(
  (t) => spawnSync("sh", ["-c", `command -v ${t}`], { env: pathEnv() }).status !== 0,
);
const skip = missing.length ? `missing host tools: ${missing.join(", ")}` : false;

const MAC = "02:00:00:00:00:01";
const MiB = 1024 * 1024;
/** The size of the volume from the second boot on (the image is 1 GiB). */
const GROWN_DISK = 3 * 1024 * MiB;
const BOOT_TIMEOUT_MS = 120_000;
const SHUTDOWN_TIMEOUT_MS = 20_000;

function pathEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
}

function metadata(instanceId: string, publicKey: string, userData?: string): InstanceMetadata {
  return {
    instanceId,
    imageId: "ami-0123456789abcdef0",
    instanceType: "t3.micro",
    region: "us-east-1",
    availabilityZone: "us-east-1a",
    accountId: "123456789012",
    hostname: "ip-169-254-0-15.ec2.internal",
    localIpv4: "169.254.0.15",
    mac: MAC,
    amiLaunchIndex: 0,
    reservationId: "r-0123456789abcdef0",
    launchedAt: new Date(),
    publicKeys: [{ name: "test-key", openssh: publicKey }],
    userData: userData === undefined ? undefined : Buffer.from(userData),
    blockDevices: { root: "/dev/xvda", ebs: [] },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A QEMU guest booted from `disk` with its own metadata service, as the test drives it. */
class TestVm {
  readonly consoleLog: string;
  readonly qmpSocket: string;
  readonly sshPort: number;
  readonly keyFile: string;
  readonly startedAt = Date.now();
  readonly exited: Promise<number | null>;
  readonly args: string[];
  readonly #proc: ChildProcess;
  readonly #imds: MetadataService;
  #stderr = "";

  private constructor(proc: ChildProcess, imds: MetadataService, args: string[], o: VmFiles) {
    this.#proc = proc;
    this.#imds = imds;
    this.args = args;
    this.consoleLog = o.consoleLog;
    this.qmpSocket = o.qmpSocket;
    this.sshPort = o.sshPort;
    this.keyFile = o.keyFile;
    proc.stderr?.setEncoding("utf8");
    proc.stderr?.on("data", (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-4000);
    });
    this.exited = new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
  }

  static async boot(disk: string, files: Omit<VmFiles, "sshPort">, meta: InstanceMetadata): Promise<TestVm> {
    const imds = await MetadataService.start(() => meta, files.imdsSocket);
    const sshPort = await freePort();
    const args = qemuArgs({ ...files, sshPort }, disk, imds.socketPath);
    const proc = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"], env: pathEnv() });
    return new TestVm(proc, imds, args, { ...files, sshPort });
  }

  get console(): string {
    try {
      return readFileSync(this.consoleLog, "utf8");
    } catch {
      return "";
    }
  }

  /** Seconds since QEMU started, when `text` shows on the console. */
  async waitFor(text: string, timeoutMs = BOOT_TIMEOUT_MS): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    this.exited.then((c) => {
      exitCode = c;
    });
    for (;;) {
      if (this.console.includes(text)) return (Date.now() - this.startedAt) / 1000;
      if (exitCode !== undefined) {
        assert.fail(
          `QEMU exited (${exitCode}) before "${text}": ${this.#stderr}\n--- console ---\n${this.console}`,
        );
      }
      if (Date.now() > deadline)
        assert.fail(`no "${text}" on the console in ${timeoutMs} ms:\n${this.console}`);
      await sleep(100);
    }
  }

  ssh(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        "ssh",
        [
          ...["-i", this.keyFile, "-p", String(this.sshPort)],
          ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"],
          ...["-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "root@127.0.0.1", command],
        ],
        { encoding: "utf8", timeout: 60_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`ssh ${command}: ${stderr || err.message}`)) : resolve(stdout),
      );
    });
  }

  /** Presses the ACPI power button (QMP system_powerdown); seconds until QEMU exits by itself. */
  async powerdown(): Promise<number> {
    await qmp(this.qmpSocket, "system_powerdown");
    const pressed = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), SHUTDOWN_TIMEOUT_MS);
    });
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === "timeout")
      assert.fail(`the guest did not power off in ${SHUTDOWN_TIMEOUT_MS} ms:\n${this.console}`);
    assert.equal(result, 0, `QEMU exit code: ${this.#stderr}`);
    return (Date.now() - pressed) / 1000;
  }

  async close(): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) {
      this.#proc.kill("SIGKILL");
      await this.exited;
    }
    await this.#imds.close();
  }
}

interface VmFiles {
  consoleLog: string;
  /** The SSH private key whose public half is in the metadata. */
  keyFile: string;
  qmpSocket: string;
  imdsSocket: string;
  sshPort: number;
}

function qemuArgs(files: VmFiles, disk: string, imdsSocket: string): string[] {
  return [
    ...[
      "-machine",
      "pc,accel=tcg",
      "-m",
      "256",
      "-smp",
      "1",
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
    ],
    ...["-chardev", `file,id=console,path=${files.consoleLog}`, "-serial", "chardev:console"],
    ...["-qmp", `unix:${files.qmpSocket},server=on,wait=off`, "-rtc", "base=utc"],
    ...["-drive", `file=${disk},format=qcow2,if=virtio`],
    "-netdev",
    [
      "user,id=n0,ipv4=on,ipv6=off,restrict=on,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15",
      `hostfwd=tcp:127.0.0.1:${files.sshPort}-:22`,
      `guestfwd=tcp:169.254.169.254:80-cmd:${metadataForwardCommand(imdsSocket)}`,
    ].join(","),
    ...["-device", `virtio-net-pci,netdev=n0,mac=${MAC}`],
    // Without an entropy source the guest's first getrandom() waits ~1.5 s for the kernel's jitter entropy.
    ...["-device", "virtio-rng-pci"],
  ];
}

/** Reads `count` bytes at `offset` of a qcow2 disk (qemu-img dd; its count includes the skipped blocks). */
function readDisk(disk: string, offset: number, count: number, scratch: string): Buffer {
  const bs = 512;
  assert.equal(offset % bs, 0);
  rmSync(scratch, { force: true });
  const r = spawnSync("qemu-img", [
    "dd",
    "-f",
    "qcow2",
    "-O",
    "raw",
    `bs=${bs}`,
    `skip=${offset / bs}`,
    `count=${offset / bs + Math.ceil(count / bs)}`,
    `if=${disk}`,
    `of=${scratch}`,
  ]);
  assert.equal(r.status, 0, String(r.stderr));
  return readFileSync(scratch).subarray(0, count);
}

/** Whether the root file system (partition 2) was left clean: ext4 clears needs_recovery when it is unmounted or remounted read-only. */
function rootFsClean(disk: string, scratch: string): boolean {
  const mbr = readDisk(disk, 0, 512, scratch);
  const start = mbr.readUInt32LE(446 + 16 + 8) * 512;
  const sb = readDisk(disk, start + 1024, 1024, scratch);
  assert.equal(sb.readUInt16LE(0x38), 0xef53, "ext4 superblock magic");
  const needsRecovery = (sb.readUInt32LE(0x60) & 0x4) !== 0;
  return !needsRecovery;
}

/** Partition 2 of the MBR: [start, size] in sectors. */
function rootPartition(disk: string, scratch: string): [number, number] {
  const mbr = readDisk(disk, 0, 512, scratch);
  return [mbr.readUInt32LE(446 + 16 + 8), mbr.readUInt32LE(446 + 16 + 12)];
}

/** e2fsck -fn of the root file system (partition 2), through a sparse raw copy of the disk. */
function checkRootFs(disk: string, scratch: string): void {
  const [start] = rootPartition(disk, scratch);
  rmSync(scratch, { force: true });
  const conv = spawnSync("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", disk, scratch]);
  assert.equal(conv.status, 0, String(conv.stderr));
  const fsck = spawnSync("e2fsck", ["-fn", `${scratch}?offset=${start * 512}`], { env: pathEnv() });
  rmSync(scratch, { force: true });
  assert.equal(fsck.status, 0, `e2fsck -fn: ${fsck.stdout}${fsck.stderr}`);
}

/** The "1M-blocks" of `df -m /` output. */
function dfMiB(out: string): number {
  const m = /^\S+\s+(\d+)\s+\d+\s+\d+\s+\S+\s+\/$/m.exec(out);
  assert.ok(m, `df -m /: ${out}`);
  return Number(m[1]);
}

/** Connects to QMP, negotiates, runs one command. */
async function qmp(socketPath: string, command: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        const s = connect(socketPath);
        let buf = "";
        let replies = 0;
        s.setEncoding("utf8");
        s.on("error", reject);
        s.on("data", (d: string) => {
          buf += d;
          for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
            const msg = JSON.parse(buf.slice(0, nl)) as {
              QMP?: unknown;
              return?: unknown;
              error?: { desc: string };
            };
            buf = buf.slice(nl + 1);
            if (msg.error) reject(new Error(`QMP ${command}: ${msg.error.desc}`));
            if (msg.QMP) s.write(`${JSON.stringify({ execute: "qmp_capabilities" })}\n`);
            else if (msg.return !== undefined && ++replies === 1)
              s.write(`${JSON.stringify({ execute: command })}\n`);
            else if (msg.return !== undefined) {
              s.end();
              resolve();
            }
          }
        });
      });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(100);
    }
  }
}

describe("base image under QEMU", { skip, timeout: 900_000 }, () => {
  let built: BuiltBaseImage;
  let dir: string;
  let overlay: string;
  let publicKey: string;
  const vms: TestVm[] = [];
  const marker = `marker-${randomBytes(6).toString("hex")}`;
  const firstId = `i-0${randomBytes(8).toString("hex")}`;
  const secondId = `i-0${randomBytes(8).toString("hex")}`;
  const userData = [
    "#!/bin/sh",
    "echo 'user-data says hello'",
    `echo ${marker} > /marker`,
    "cat > /etc/rc.local <<'EOF'",
    "#!/bin/sh",
    "echo 'rc.local says hello'",
    "EOF",
    "chmod +x /etc/rc.local",
    "# A process left running with the script's output must not hold up the boot.",
    "sleep 600 &",
    "",
  ].join("\n");

  before(async () => {
    const started = Date.now();
    built = await buildBaseImage({ cacheDir: defaultBaseImageCacheDir() });
    console.log(
      `# base image ${built.name} (${built.kernelVersion}) ready in ${(Date.now() - started) / 1000} s`,
    );
    dir = mkdtempSync(join(tmpdir(), "strata-base-image-"));
    overlay = join(dir, "overlay.qcow2");
    const img = spawnSync("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-b",
      built.path,
      "-F",
      "raw",
      overlay,
    ]);
    assert.equal(img.status, 0, String(img.stderr));
    const kg = spawnSync("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      "test-key",
      "-f",
      join(dir, "key"),
    ]);
    assert.equal(kg.status, 0, String(kg.stderr));
    publicKey = readFileSync(join(dir, "key.pub"), "utf8").trim();
  });

  after(async () => {
    for (const vm of vms) await vm.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function boot(n: number, meta: InstanceMetadata): Promise<TestVm> {
    const vm = await TestVm.boot(
      overlay,
      {
        consoleLog: join(dir, `console-${n}.log`),
        qmpSocket: join(dir, `qmp-${n}.sock`),
        imdsSocket: join(dir, `imds-${n}.sock`),
        keyFile: join(dir, "key"),
      },
      meta,
    );
    vms.push(vm);
    return vm;
  }

  it("a new instance runs its user data, takes SSH with its key and powers off on the ACPI button", async (t) => {
    const vm = await boot(1, metadata(firstId, publicKey, userData));
    t.diagnostic(`qemu-system-x86_64 ${vm.args.join(" ")}`);
    const booting = await vm.waitFor("strata: booting ");
    const userDataDone = await vm.waitFor("strata: user-data finished (exit 0)");
    const finished = await vm.waitFor(`strata: boot finished ${firstId}`);
    const consoleText = vm.console;
    assert.match(consoleText, /^user-data says hello$/m);
    assert.match(consoleText, /^rc\.local says hello$/m);
    assert.match(consoleText, new RegExp(`strata: booting ${built.kernelVersion.replaceAll(".", "\\.")}`));
    assert.equal((await vm.ssh("cat /marker")).trim(), marker);
    assert.equal((await vm.ssh("hostname")).trim(), "ip-169-254-0-15");
    // scp (SFTP since OpenSSH 9) goes through dropbear's sftp-server.
    const copied = join(dir, "os-release");
    const scp = spawnSync(
      "scp",
      [
        ...["-i", join(dir, "key"), "-P", String(vm.sshPort), "-o", "StrictHostKeyChecking=no"],
        ...["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"],
        ...["root@127.0.0.1:/etc/os-release", copied],
      ],
      { timeout: 60_000 },
    );
    assert.equal(scp.status, 0, String(scp.stderr));
    assert.match(readFileSync(copied, "utf8"), /^ID=strata-minimal$/m);
    t.diagnostic(`boot steps (uptime):\n${await vm.ssh("cat /run/strata/boot-steps; dmesg | grep crng")}`);
    const off = await vm.powerdown();
    t.diagnostic(
      `power-on -> booting ${booting} s, -> user-data finished ${userDataDone} s, -> boot finished ${finished} s; ` +
        `power button -> QEMU exit ${off} s`,
    );
    assert.match(vm.console, /strata: shutting down/);
    assert.doesNotMatch(vm.console, /could not remount/);
    // The volume is the image's size: nothing to grow.
    assert.doesNotMatch(vm.console, /grown|could not grow/);
    assert.ok(rootFsClean(overlay, join(dir, "scratch")), "the root file system was left clean");
  });

  it("the same instance rebooted on a larger volume grows its root file system, keeps its files, runs rc.local, not its user data", async (t) => {
    // The volume grows from 1 to 3 GiB (as ModifyVolume, or an image launched with a larger VolumeSize).
    const [rootStart, rootSize] = rootPartition(overlay, join(dir, "scratch"));
    assert.ok(rootStart + rootSize <= built.sizeBytes / 512);
    const resize = spawnSync("qemu-img", ["resize", "-q", "-f", "qcow2", overlay, String(GROWN_DISK)]);
    assert.equal(resize.status, 0, String(resize.stderr));
    const vm = await boot(2, metadata(firstId, publicKey, userData));
    const grown = await vm.waitFor("strata: root file system grown to ");
    const finished = await vm.waitFor(`strata: boot finished ${firstId}`);
    const consoleText = vm.console;
    const partMiB = (GROWN_DISK / 512 - rootStart) / 2048;
    assert.match(consoleText, new RegExp(`^strata: root partition /dev/vda2 grown to ${partMiB} MiB$`, "m"));
    const fsMiB = Number(/^strata: root file system grown to (\d+) MiB$/m.exec(consoleText)?.[1]);
    assert.ok(fsMiB > partMiB - 8 && fsMiB <= partMiB, `file system ${fsMiB} MiB, partition ${partMiB} MiB`);
    assert.doesNotMatch(consoleText, /could not grow/);
    assert.doesNotMatch(consoleText, /user-data says hello/);
    assert.doesNotMatch(consoleText, /strata: user-data finished/);
    assert.match(consoleText, new RegExp(`strata: user-data already ran for ${firstId}`));
    assert.match(consoleText, /^rc\.local says hello$/m);
    // The file written by the user data on the first boot, on a file system of more than 2500 MiB.
    const out = await vm.ssh("cat /marker; df -m /; cat /run/strata/boot-steps");
    assert.equal(out.split("\n")[0], marker);
    assert.ok(dfMiB(out) > 2500, out);
    t.diagnostic(out);
    const off = await vm.powerdown();
    t.diagnostic(
      `power-on -> root file system grown ${grown} s, -> boot finished ${finished} s; power button -> QEMU exit ${off} s`,
    );
    assert.ok(rootFsClean(overlay, join(dir, "scratch")), "the root file system was left clean");
    assert.deepEqual(rootPartition(overlay, join(dir, "scratch")), [rootStart, GROWN_DISK / 512 - rootStart]);
    const fsckStarted = Date.now();
    checkRootFs(overlay, join(dir, "scratch.raw"));
    t.diagnostic(`e2fsck -fn of the grown file system: ${(Date.now() - fsckStarted) / 1000} s`);
  });

  it("a new instance id without user data boots the same disk (an image made from it), already grown", async (t) => {
    const vm = await boot(3, metadata(secondId, publicKey));
    const finished = await vm.waitFor(`strata: boot finished ${secondId}`);
    const consoleText = vm.console;
    assert.match(consoleText, /^strata: no user-data$/m);
    assert.doesNotMatch(consoleText, /user-data says hello/);
    assert.match(consoleText, /^rc\.local says hello$/m);
    assert.doesNotMatch(consoleText, /grown|could not grow/);
    const out = await vm.ssh("cat /marker; df -m /");
    assert.equal(out.split("\n")[0], marker);
    assert.ok(dfMiB(out) > 2500, out);
    // A new instance gets new SSH host keys.
    const hostKey = (log: string) => /^ssh-ed25519 \S+/m.exec(log)?.[0];
    const first = hostKey(readFileSync(join(dir, "console-1.log"), "utf8"));
    assert.ok(first && hostKey(consoleText));
    assert.notEqual(hostKey(consoleText), first);
    const off = await vm.powerdown();
    t.diagnostic(`power-on -> boot finished ${finished} s; power button -> QEMU exit ${off} s`);
    assert.ok(rootFsClean(overlay, join(dir, "scratch")), "the root file system was left clean");
  });
});
