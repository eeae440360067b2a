// `strata image import`: a disk image in as a snapshot, then RegisterImage on it (the API's way).
import { type Command, Option } from "commander";
import {
  API_HELP,
  ARCHITECTURES,
  BOOT_MODES,
  IMPORT_HELP,
  type ImportExportFlags,
  importExportCommand,
  importFormatOption,
  withApiOptions,
} from "./import-export.ts";
import { exitWith, helpAfter } from "./options.ts";

export function addImageCommands(program: Command): void {
  const image = program.command("image").description("machine images (AMIs) from disk images");
  const imports = withApiOptions(
    image
      .command("import")
      .description("import a disk image and register an AMI on it")
      .argument("<file>", "raw, qcow2, vmdk, vpc (vhd) or vhdx")
      .requiredOption("--name <name>", "the AMI's name")
      .addOption(
        new Option("--architecture <arch>", "the AMI's architecture")
          .choices(ARCHITECTURES)
          .default("x86_64"),
      )
      .addOption(
        new Option("--boot-mode <mode>", "the AMI's boot mode").choices(BOOT_MODES).default("legacy-bios"),
      )
      .addOption(importFormatOption())
      .option("--description <text>", "the snapshot's and the AMI's description"),
  ).action(exitWith((file: string, o: ImportExportFlags) => importExportCommand("image import", [file], o)));
  helpAfter(
    imports,
    "Prints the AMI's id; with --json {ImageId, SnapshotId, VolumeSize}.",
    "The image's root device is /dev/xvda (hvm), deleted on termination. If RegisterImage fails, the",
    "imported snapshot is kept and named in the error.",
    "",
    ...IMPORT_HELP,
    "",
    ...API_HELP,
  );
}
