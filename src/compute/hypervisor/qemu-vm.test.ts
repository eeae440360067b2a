import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type InstanceMetadata, MetadataService } from "../metadata/metadata-service.ts";
import { userNetdev } from "./qemu-vm.ts";

/** QEMU's option syntax: key=value pairs split at single commas; ",," is a literal comma. */
function parseQemuOpts(text: string): [string, string][] {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== ",") cur += text[i];
    else if (text[i + 1] === ",") {
      cur += ",";
      i++;
    } else {
      parts.push(cur);
      cur = "";
    }
  }
  parts.push(cur);
  return parts.map((p) => {
    const eq = p.indexOf("=");
    return eq < 0 ? [p, ""] : [p.slice(0, eq), p.slice(eq + 1)];
  });
}

const meta: InstanceMetadata = {
  instanceId: "i-0123456789abcdef0",
  imageId: "ami-0fedcba9876543210",
  instanceType: "t3.micro",
  region: "us-east-1",
  availabilityZone: "us-east-1a",
  accountId: "123456789012",
  hostname: "ip-169-254-0-15.ec2.internal",
  localIpv4: "169.254.0.15",
  mac: "02:ab:cd:ef:01:23",
  amiLaunchIndex: 0,
  reservationId: "r-0123456789abcdef0",
  launchedAt: new Date(),
  publicKeys: [],
  blockDevices: { root: "/dev/xvda", ebs: [] },
};

describe("the guest's user-mode network", () => {
  let dir: string;
  let imds: MetadataService;
  let opts: [string, string][];

  before(async () => {
    // A data dir path with what QEMU's option syntax and the shell would both misread.
    dir = mkdtempSync(join(tmpdir(), "strata q'uo,te "));
    imds = await MetadataService.start(() => meta, join(dir, `${meta.instanceId}.imds`));
    opts = parseQemuOpts(
      userNetdev({
        privateIp: "169.254.0.15",
        hostname: "ip-169-254-0-15",
        sshPort: 2222,
        metadataSocket: imds.socketPath,
      }),
    );
  });
  after(async () => {
    await imds.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is restricted to its forwards, IPv4 only", () => {
    const get = (k: string) => opts.filter(([key]) => key === k).map(([, v]) => v);
    assert.deepEqual(opts[0], ["user", ""]);
    assert.deepEqual(get("restrict"), ["on"]);
    assert.deepEqual(get("ipv6"), ["off"]);
    assert.deepEqual(get("hostfwd"), ["tcp:127.0.0.1:2222-:22"]);
    assert.equal(get("guestfwd").length, 1);
  });

  it("forwards 169.254.169.254:80 to the instance's own metadata socket, whatever its path", async () => {
    const fwd = opts.find(([k]) => k === "guestfwd")![1];
    const prefix = "tcp:169.254.169.254:80-cmd:";
    assert.ok(fwd.startsWith(prefix), fwd);
    // slirp splits the command as a shell does (g_shell_parse_argv) and runs it per connection,
    // the guest's bytes on its stdin.
    const nc = spawn("sh", ["-c", `exec ${fwd.slice(prefix.length)}`], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    nc.stdout.on("data", (d: Buffer) => {
      out += d;
    });
    nc.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    nc.stdin.end("GET /latest/meta-data/instance-id HTTP/1.0\r\nHost: 169.254.169.254\r\n\r\n");
    const code = await new Promise((r) => nc.once("exit", r));
    assert.equal(code, 0, err);
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(out.split("\r\n\r\n")[1], meta.instanceId);
  });
});
