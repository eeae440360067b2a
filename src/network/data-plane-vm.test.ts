// One real VM on the data plane: the base image booted by QemuVm in tap mode inside its VPC's
// namespace takes its address by DHCP, reads its metadata and user data through the namespace's
// metadata proxy, and its SSH port answers the host at its public address (only once the firewall
// allows it). Software emulation on a shared machine: generous timeouts.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBaseImage, defaultBaseImageCacheDir } from "../compute/base-image/build-base-image.ts";
import { QemuVm } from "../compute/hypervisor/qemu-vm.ts";
import { MetadataService } from "../compute/metadata/metadata-service.ts";
import { sampleMetadata } from "../compute/metadata/sample-metadata.ts";
import { DataPlane, type DataPlaneOptions } from "./data-plane.ts";

const probe = await DataPlane.probe();
const tools = ["qemu-system-x86_64", "qemu-img", "qemu-nbd", "ssh", "ssh-keygen", "socat"].filter(
  (t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0,
);
const skip = !probe.ok ? probe.reason : tools.length ? `missing: ${tools.join(", ")}` : false;

const BOOT_TIMEOUT_MS = 300_000;
const hex = (n: number) =>
  randomBytes(Math.ceil(n / 2))
    .toString("hex")
    .slice(0, n);

/** The first bytes the host gets from ip:port within `ms`, or null. */
function banner(ip: string, port: number, ms = 3000): Promise<string | null> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(null);
    }, ms);
    s.setEncoding("utf8");
    s.once("data", (d: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(d);
    });
    s.once("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

describe("a VM on the data plane (tap mode)", { skip, timeout: 900_000 }, () => {
  let dir: string;
  let dp: DataPlane;
  let imds: MetadataService;
  let nbd: ChildProcess;
  let vm: QemuVm;
  let publicIp: string;
  let vmNetns: string;
  const instanceId = `i-0${hex(16)}`;
  const vpcId = `vpc-${hex(17)}`;
  const subnetId = `subnet-${hex(17)}`;
  const mac = "02:00:0a:05:00:04";
  const marker = `marker-${hex(12)}`;

  before(async () => {
    const built = await buildBaseImage({ cacheDir: defaultBaseImageCacheDir() });
    dir = mkdtempSync(join(tmpdir(), "strata-dp-vm-"));
    const overlay = join(dir, "root.qcow2");
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
    const kg = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "k", "-f", join(dir, "key")]);
    assert.equal(kg.status, 0, String(kg.stderr));
    const nbdSocket = join(dir, "nbd.sock");
    nbd = spawn(
      "qemu-nbd",
      [
        "--socket",
        nbdSocket,
        "--format",
        "qcow2",
        "--export-name",
        "root",
        "--persistent",
        "--shared",
        "4",
        overlay,
      ],
      {
        stdio: "ignore",
      },
    );
    const options: DataPlaneOptions = {
      tag: hex(6),
      runDir: dir,
      publicPool: `100.${100 + (randomBytes(1)[0] % 20)}.${randomBytes(1)[0]}.0/24`,
      guestEgress: false,
      domain: () => "ec2.internal",
    };
    publicIp = options.publicPool.replace(/\.0\/24$/, ".44");
    dp = await DataPlane.open(options);
    await dp.ensureVpc({ id: vpcId, cidr: "10.5.0.0/16", subnets: [{ id: subnetId, cidr: "10.5.0.0/24" }] });
    imds = await MetadataService.start(
      () =>
        sampleMetadata({
          instanceId,
          hostname: "ip-10-5-0-4.ec2.internal",
          localIpv4: "10.5.0.4",
          mac,
          publicKeys: [{ name: "k", openssh: readFileSync(join(dir, "key.pub"), "utf8").trim() }],
          userData: Buffer.from(`#!/bin/sh\necho ${marker}\n`),
        }),
      join(dir, "imds.sock"),
    );
    const { netns, tap } = await dp.plugNic({
      instanceId,
      vpcId,
      subnetId,
      mac,
      privateIp: "10.5.0.4",
      publicIp,
      hostname: "ip-10-5-0-4",
      metadataSocket: imds.socketPath,
    });
    vmNetns = netns;
    await dp.setFirewall(vpcId, [
      { instanceId, privateIp: "10.5.0.4", ingress: [], egress: [{ protocol: "all", cidrs: ["0.0.0.0/0"] }] },
    ]);
    for (let i = 0; i < 200 && spawnSync("test", ["-S", nbdSocket]).status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    vm = await QemuVm.start({
      instanceId,
      accel: "tcg",
      vcpus: 1,
      memoryMiB: 256,
      nbdSocket,
      qmpSocket: join(dir, "qmp.sock"),
      consoleLog: join(dir, "console.log"),
      disks: [{ id: "root", exportName: "root", boot: true }],
      mac,
      network: { kind: "tap", netns, tap },
      product: "t3.micro",
    });
  });

  after(async () => {
    await vm?.kill().catch(() => {});
    await imds?.close();
    await dp?.close();
    nbd?.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const consoleText = () => {
    try {
      return readFileSync(join(dir, "console.log"), "utf8");
    } catch {
      return "";
    }
  };

  async function waitConsole(text: string): Promise<void> {
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    while (!consoleText().includes(text)) {
      if (vm.process.exitCode !== null) assert.fail(`QEMU exited: ${vm.stderr}\n${consoleText()}`);
      if (Date.now() > deadline) assert.fail(`no "${text}" on the console:\n${consoleText()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it("runs QEMU inside the VPC's namespace", () => {
    assert.equal(readFileSync(`/proc/${vm.pid}/comm`, "utf8").trim(), "qemu-system-x86");
    const own = spawnSync("ip", ["netns", "identify", String(vm.pid)], { encoding: "utf8" }).stdout.trim();
    assert.match(own, /^strata-[0-9a-f]{6}-[0-9a-f]{17}$/);
  });

  it("boots with its DHCP address, runs its user data fetched through the metadata proxy", async () => {
    await waitConsole(`strata: boot finished ${instanceId}`);
    const text = consoleText();
    assert.doesNotMatch(text, /DHCP failed/);
    assert.doesNotMatch(text, /metadata service unreachable/);
    assert.match(text, new RegExp(`^${marker}\\r?$`, "m"));
  });

  it("answers SSH at its public address from the host, once the firewall allows port 22", async () => {
    assert.equal(await banner(publicIp, 22), null, "no rule for port 22 yet");
    await dp.setFirewall(vpcId, [
      {
        instanceId,
        privateIp: "10.5.0.4",
        ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrs: ["0.0.0.0/0"] }],
        egress: [{ protocol: "all", cidrs: ["0.0.0.0/0"] }],
      },
    ]);
    assert.match((await banner(publicIp, 22, 30_000)) ?? "", /^SSH-2\.0-dropbear/);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        "ssh",
        [
          ...["-i", join(dir, "key"), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
          ...["-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30", `root@${publicIp}`],
          "ip -4 -o addr show dev eth0; ip route show default; cat /etc/resolv.conf; hostname",
        ],
        { encoding: "utf8", timeout: 120_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`ssh: ${stderr || err.message}`)) : resolve(stdout)),
      ),
    );
    assert.match(out, /inet 10\.5\.0\.4\/24 /);
    assert.match(out, /^default via 10\.5\.0\.1 dev eth0/m);
    assert.match(out, /^nameserver 10\.5\.0\.2$/m);
    assert.match(out, /^ip-10-5-0-4$/m);
  });

  it("unplugs the interface while QEMU still holds its tap", async () => {
    await dp.unplugNic(instanceId);
    assert.equal(await banner(publicIp, 22), null);
    const links = spawnSync("ip", ["-n", vmNetns, "-o", "link", "show"], {
      encoding: "utf8",
    });
    assert.equal(links.status, 0, links.stderr);
    assert.doesNotMatch(links.stdout, /master/, "no port left on the bridge");
  });
});
