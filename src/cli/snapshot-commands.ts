// `strata snapshot ...`: create/copy/show/delete/list act as an account over the admin socket;
// import/export move disk images through the EBS direct APIs (import-export.ts).
import { type Command, Option } from "commander";
import { ADMIN_HELP, type AdminFlags, adminSession, withAdminOptions } from "./admin-session.ts";
import {
  API_HELP,
  EXPORT_FORMATS,
  EXPORT_HELP,
  IMPORT_HELP,
  type ImportExportFlags,
  importExportCommand,
  importFormatOption,
  withApiOptions,
} from "./import-export.ts";
import { exitWith, helpAfter, printJson } from "./options.ts";

const waitOption = () => new Option("--wait", "wait until it is completed, then print it");

export function addSnapshotCommands(program: Command): void {
  const snapshot = program.command("snapshot").description("snapshots of an account; disk images in and out");
  helpAfter(
    snapshot,
    "create, copy, show, delete and list:",
    ...ADMIN_HELP.map((l) => `  ${l}`),
    "import and export:",
    ...API_HELP.map((l) => `  ${l}`),
  );

  withAdminOptions(
    snapshot
      .command("create")
      .description("snapshot a volume (incremental, point in time)")
      .argument("<volume-id>")
      .option("--description <text>", "the snapshot's description")
      .addOption(waitOption()),
  ).action(
    exitWith(async (volumeId: string, o: AdminFlags & { description?: string; wait?: boolean }) => {
      const { api } = await adminSession(o);
      const s = (await api.createSnapshot(volumeId, o.description ?? "")) as { id: string };
      printJson(o.wait ? await api.getSnapshot(s.id, true) : s);
      return 0;
    }),
  );

  withAdminOptions(
    snapshot
      .command("copy")
      .description("copy a snapshot to another region")
      .argument("<snapshot-id>")
      .requiredOption("--to <region>", "the destination region")
      .addOption(waitOption()),
  ).action(
    exitWith(async (id: string, o: AdminFlags & { to: string; wait?: boolean }) => {
      const { api, forRegion } = await adminSession(o);
      const s = (await api.copySnapshot(id, o.to)) as { id: string };
      printJson(o.wait ? await forRegion(o.to).getSnapshot(s.id, true) : s);
      return 0;
    }),
  );

  withAdminOptions(
    snapshot
      .command("show")
      .description("a snapshot: state, progress, sizes")
      .argument("<snapshot-id>")
      .addOption(waitOption()),
  ).action(
    exitWith(async (id: string, o: AdminFlags & { wait?: boolean }) => {
      const { api } = await adminSession(o);
      printJson(await api.getSnapshot(id, Boolean(o.wait)));
      return 0;
    }),
  );

  withAdminOptions(
    snapshot.command("delete").description("delete a snapshot").argument("<snapshot-id>"),
  ).action(
    exitWith(async (id: string, o: AdminFlags) => {
      const { api } = await adminSession(o);
      printJson(await api.deleteSnapshot(id));
      return 0;
    }),
  );

  withAdminOptions(snapshot.command("list").description("the account's snapshots in the region")).action(
    exitWith(async (o: AdminFlags) => {
      const { api } = await adminSession(o);
      printJson(await api.listSnapshots());
      return 0;
    }),
  );

  const imports = withApiOptions(
    snapshot
      .command("import")
      .description("import a disk image as a snapshot")
      .argument("<file>", "raw, qcow2, vmdk, vpc (vhd) or vhdx")
      .addOption(importFormatOption())
      .option("--description <text>", "the snapshot's description (default: Imported from FILE (FORMAT))"),
  ).action(
    exitWith((file: string, o: ImportExportFlags) => importExportCommand("snapshot import", [file], o)),
  );
  helpAfter(
    imports,
    "Prints the snapshot's id; with --json {SnapshotId, VolumeSize, Format, VirtualSize, ChangedBlocks}.",
    ...IMPORT_HELP,
    "",
    ...API_HELP,
  );

  const exports = withApiOptions(
    snapshot
      .command("export")
      .description("export a snapshot to a disk image file")
      .argument("<snapshot-id>")
      .argument("<file>", "the image to write")
      .addOption(new Option("--format <format>", "the file's format").choices(EXPORT_FORMATS).default("raw")),
  ).action(
    exitWith((id: string, file: string, o: ImportExportFlags) =>
      importExportCommand("snapshot export", [id, file], o),
    ),
  );
  helpAfter(
    exports,
    "Prints the file's path; with --json {SnapshotId, File, Format, VolumeSize, Blocks}.",
    ...EXPORT_HELP,
    "",
    ...API_HELP,
  );
}
