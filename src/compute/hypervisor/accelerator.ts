// KVM or software emulation. "/dev/kvm exists" is not "KVM works": on nested hosts (this CI's
// machine) a KVM guest hangs at "Booting from ROM..." with the CPU busy. So boot a real guest
// under KVM with a deadline, fall back to TCG, and remember the answer for this host boot.
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Accelerator } from "./qemu-vm.ts";

export interface AcceleratorChoice {
  accel: Accelerator;
  reason: string;
}

export async function chooseAccelerator(options: {
  /** A bootable raw disk whose guest prints `marker` on the serial console early in boot. */
  probeDisk: string;
  marker: string;
  cacheFile: string;
  timeoutMs?: number;
}): Promise<AcceleratorChoice> {
  const forced = process.env.STRATA_ACCEL;
  if (forced === "kvm" || forced === "tcg") return { accel: forced, reason: "STRATA_ACCEL" };
  if (
    !(await access("/dev/kvm", constants.R_OK | constants.W_OK).then(
      () => true,
      () => false,
    ))
  ) {
    return { accel: "tcg", reason: "/dev/kvm is not usable" };
  }
  const bootId = (await readFile("/proc/sys/kernel/random/boot_id", "utf8").catch(() => "")).trim();
  const cached = await readFile(options.cacheFile, "utf8").then(
    (t) => JSON.parse(t) as AcceleratorChoice & { bootId: string },
    () => undefined,
  );
  if (cached && cached.bootId === bootId) return { accel: cached.accel, reason: `${cached.reason} (cached)` };
  const works = await kvmBoots(options.probeDisk, options.marker, options.timeoutMs ?? 20_000);
  const choice: AcceleratorChoice = works
    ? { accel: "kvm", reason: "a KVM guest booted" }
    : { accel: "tcg", reason: "/dev/kvm exists but a KVM guest did not boot in time" };
  await mkdir(dirname(options.cacheFile), { recursive: true });
  await writeFile(options.cacheFile, JSON.stringify({ ...choice, bootId }));
  return choice;
}

function kvmBoots(disk: string, marker: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(
      "setpriv",
      [
        "--pdeathsig",
        "KILL",
        "--",
        "qemu-system-x86_64",
        "-machine",
        "pc,accel=kvm",
        "-m",
        "256",
        "-nodefaults",
        "-display",
        "none",
        "-serial",
        "stdio",
        "-drive",
        `file=${disk},format=raw,if=virtio,snapshot=on`,
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    let out = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      out = (out + d).slice(-10_000);
      if (out.includes(marker)) done(true);
    });
    child.once("exit", () => done(false));
  });
}
