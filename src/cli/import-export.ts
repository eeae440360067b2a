// Usage and options of the import/export commands; the commands themselves (and the AWS SDK,
// slow to load) are imported only when one runs.

export const IMPORT_EXPORT_USAGE = `  strata snapshot import FILE [--format auto|raw|qcow2|vmdk|vpc|vhdx] [--description TEXT] [--json]
  strata snapshot export SNAP-ID FILE [--format raw|qcow2] [--json]
  strata image import FILE --name NAME [--architecture x86_64] [--boot-mode legacy-bios|uefi]
                      [--format F] [--description TEXT] [--json]
    These use the EBS direct APIs and EC2 with AWS credentials: --data-dir DIR's credentials
    file, else the standard AWS environment, else ~/.strata/credentials. Import reads the
    image's guest bytes in place (raw files directly, other formats through a private
    read-only qemu-nbd), skipping the holes \`qemu-img map\` reports and all-zero blocks: no
    converted copy is written to disk. A raw export is written sparse; a qcow2 export is first
    written as a sparse raw file beside FILE, converted with qemu-img convert, then removed.`;

export const importExportOptions = {
  format: { type: "string" },
  name: { type: "string" },
  architecture: { type: "string", default: "x86_64" },
  "boot-mode": { type: "string", default: "legacy-bios" },
} as const;

export interface ImportExportFlags {
  endpoint: string;
  region: string;
  "data-dir"?: string;
  format?: string;
  description?: string;
  name?: string;
  architecture: string;
  "boot-mode": string;
  json: boolean;
}

export async function importExportCommand(
  command: string,
  args: string[],
  o: ImportExportFlags,
): Promise<number> {
  const { runImportExport } = await import("./import-export-commands.ts");
  return runImportExport(command, args, o);
}
