// Options and help of the API commands (snapshot import/export, image import); the commands
// themselves (and the AWS SDK, slow to load) are imported only when one runs.
import { type Command, Option } from "commander";
import { DEFAULT_DATA_DIR } from "./options.ts";

export const IMPORT_FORMATS = ["auto", "raw", "qcow2", "vmdk", "vpc", "vhdx"];
export const EXPORT_FORMATS = ["raw", "qcow2"];
export const ARCHITECTURES = ["x86_64", "arm64", "i386", "x86_64_mac", "arm64_mac"];
export const BOOT_MODES = ["legacy-bios", "uefi", "uefi-preferred"];

export interface ImportExportFlags {
  endpoint?: string;
  region?: string;
  dataDir?: string;
  format?: string;
  description?: string;
  name?: string;
  architecture: string;
  bootMode: string;
  json?: boolean;
}

/** How the API commands find their endpoint, credentials and region (the AWS SDK's settings). */
export const API_HELP = [
  "They use the EBS direct APIs and EC2 as an AWS SDK client would (so they work against a remote",
  "Strata too):",
  "  endpoint     --endpoint; else AWS_ENDPOINT_URL_EBS / AWS_ENDPOINT_URL_EC2 (each for its own",
  "               service), AWS_ENDPOINT_URL, the profile's endpoint_url (read by the SDK);",
  "               else $STRATA_ENDPOINT; else http://127.0.0.1:4566",
  "  credentials  an explicit --data-dir's credentials file (profile default); else, when",
  "               AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE or AWS_CONFIG_FILE is",
  "               set, the SDK's chain; else ~/.strata/credentials; else the SDK's chain",
  "  region       --region; else AWS_REGION, the profile's region (read by the SDK); else",
  "               us-east-1 (AWS_DEFAULT_REGION is the aws CLI's and, as for the SDKs, not read)",
];

/** --endpoint, --region and --data-dir, as every API command takes them. */
export function withApiOptions(command: Command): Command {
  return command
    .addOption(new Option("--endpoint <url>", "the API's URL (see below)").helpGroup("API options:"))
    .addOption(new Option("--region <region>", "region (see below)").helpGroup("API options:"))
    .addOption(
      new Option(
        "--data-dir <dir>",
        `use this data dir's credentials file (e.g. ${DEFAULT_DATA_DIR})`,
      ).helpGroup("API options:"),
    )
    .addOption(new Option("--json", "print the result as JSON"));
}

export function importFormatOption(): Option {
  return new Option("--format <format>", "the file's format (auto: as qemu-img detects it)")
    .choices(IMPORT_FORMATS)
    .default("auto");
}

export const IMPORT_HELP = [
  "Import reads the image's guest bytes in place (raw files directly, other formats through a",
  "private read-only qemu-nbd), skipping the holes `qemu-img map` reports and all-zero blocks: no",
  "converted copy is written to disk. Progress goes to stderr.",
];

export const EXPORT_HELP = [
  "A raw export is written sparse; a qcow2 export is first written as a sparse raw file beside",
  "FILE, converted with qemu-img convert, then removed. Nothing is left behind on failure, and an",
  "existing FILE is replaced only at the end. Progress goes to stderr.",
];

export async function importExportCommand(
  command: "snapshot import" | "snapshot export" | "image import",
  args: string[],
  o: ImportExportFlags,
): Promise<number> {
  const { runImportExport } = await import("./import-export-commands.ts");
  return runImportExport(command, args, o);
}
