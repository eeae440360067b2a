// Debian packages for the guest, fetched without privileges: `apt-get download` of the cloud
// kernel's meta package (to learn the current kernel image) and of the kernel and PACKAGES, then
// `dpkg-deb -x` of each into one tree. The name, version and architecture of every package go into
// the manifest.
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./host-commands.ts";
import { KERNEL_META_PACKAGE, PACKAGES } from "./recipe.ts";

export interface DebianPackage {
  name: string;
  version: string;
  architecture: string;
}

export interface ExtractedPackages {
  /** The tree every package (but the kernel meta package) was extracted into. */
  pkgRoot: string;
  packages: DebianPackage[];
  /** The one kernel's version, its directory under lib/modules. */
  kernelVersion: string;
}

/** Downloads the packages into `work`/debs and extracts them into `work`/packages. */
export async function downloadAndExtractPackages(
  work: string,
  log: (m: string) => void,
): Promise<ExtractedPackages> {
  const debs = join(work, "debs");
  const pkgRoot = join(work, "packages");
  await mkdir(debs, { recursive: true });

  log("downloading Debian packages");
  await aptDownload(debs, [KERNEL_META_PACKAGE], log);
  const meta = (await readdir(debs)).find((f) => f.startsWith(`${KERNEL_META_PACKAGE}_`));
  if (!meta) throw new Error(`apt-get download ${KERNEL_META_PACKAGE} left no .deb`);
  const depends = (await run("dpkg-deb", ["-f", join(debs, meta), "Depends"])).trim();
  const kernelPackage = /(linux-image-\d[^\s,(]*)/.exec(depends)?.[1];
  if (!kernelPackage) throw new Error(`${KERNEL_META_PACKAGE} depends on no kernel image: ${depends}`);
  await aptDownload(debs, [kernelPackage, ...PACKAGES], log);

  log("extracting packages");
  const packages: DebianPackage[] = [];
  for (const f of (await readdir(debs)).filter((f) => f.endsWith(".deb")).sort()) {
    const [name, version, architecture] = (
      await run("dpkg-deb", ["-f", join(debs, f), "Package", "Version", "Architecture"])
    )
      .trim()
      .split("\n")
      .map((l) => l.replace(/^[^:]+:\s*/, ""));
    packages.push({ name, version, architecture });
    if (name !== KERNEL_META_PACKAGE) await run("dpkg-deb", ["-x", join(debs, f), pkgRoot]);
  }
  const kernelVersions = await readdir(join(pkgRoot, "lib/modules")).catch(() => []);
  if (kernelVersions.length !== 1)
    throw new Error(`expected one kernel in ${kernelPackage}, found ${kernelVersions}`);
  return { pkgRoot, packages, kernelVersion: kernelVersions[0] };
}

/** `apt-get download` into `dir`; if the package lists are missing or stale, runs `apt-get update` once. */
async function aptDownload(dir: string, packages: string[], log: (m: string) => void): Promise<void> {
  // As root, apt drops to _apt for downloads, which cannot write into our directory.
  const args = [
    ...(process.getuid?.() === 0 ? ["-o", "APT::Sandbox::User=root"] : []),
    "download",
    ...packages,
  ];
  try {
    await run("apt-get", args, { cwd: dir });
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? "");
    if (
      !/Unable to locate package|no installation candidate|Can't select|not found|Failed to fetch/.test(
        stderr,
      )
    ) {
      throw e;
    }
    log("apt-get download failed, running apt-get update");
    await run("apt-get", ["update"], { cwd: dir });
    await run("apt-get", args, { cwd: dir });
  }
}
