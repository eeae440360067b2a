// `strata volume ...`: volumes of an account over the admin socket; each prints the server's JSON.
import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { ADMIN_HELP, type AdminFlags, adminSession, withAdminOptions } from "./admin-session.ts";
import { exitWith, helpAfter, printJson, wholeNumber } from "./options.ts";

const offsetOption = () =>
  new Option("--offset <bytes>", "byte offset in the volume").default(0).argParser(wholeNumber);

export function addVolumeCommands(program: Command): void {
  const volume = program.command("volume").description("volumes of an account: create, write, read");
  helpAfter(volume, ...ADMIN_HELP);

  withAdminOptions(
    volume
      .command("create")
      .description("create a volume: empty (--size), or from a snapshot (available at once, lazy restore)")
      .addOption(
        new Option("--size <GiB>", "size in GiB (default with --snapshot: the snapshot's)").argParser(
          wholeNumber,
        ),
      )
      .option("--snapshot <snapshot-id>", "restore this snapshot"),
  ).action(
    exitWith(async (o: AdminFlags & { size?: number; snapshot?: string }) => {
      const { api } = await adminSession(o);
      printJson(await api.createVolume({ sizeGiB: o.size, snapshotId: o.snapshot }));
      return 0;
    }),
  );

  withAdminOptions(
    volume
      .command("write")
      .description("write a file's bytes to a volume; prints {written: bytes}")
      .argument("<volume-id>")
      .argument("<file>", "the bytes to write")
      .addOption(offsetOption()),
  ).action(
    exitWith(async (id: string, file: string, o: AdminFlags & { offset: number }) => {
      const { api } = await adminSession(o);
      let offset = o.offset;
      for await (const chunk of createReadStream(file, { highWaterMark: 8 * 1024 * 1024 })) {
        await api.write(id, offset, chunk as Buffer);
        offset += (chunk as Buffer).byteLength;
      }
      printJson({ written: offset - o.offset });
      return 0;
    }),
  );

  withAdminOptions(
    volume
      .command("read")
      .description("read a volume's bytes into a file")
      .argument("<volume-id>")
      .requiredOption("--out <file>", "the file to write")
      .addOption(offsetOption())
      .addOption(
        new Option("--length <bytes>", "bytes to read (default: to the end)").argParser(wholeNumber),
      ),
  ).action(
    exitWith(async (id: string, o: AdminFlags & { out: string; offset: number; length?: number }) => {
      const { api } = await adminSession(o);
      const vol = (await api.getVolume(id)) as { sizeGiB: number };
      const length = o.length ?? vol.sizeGiB * 1024 ** 3 - o.offset;
      await writeFile(o.out, "");
      await api.readTo(id, o.offset, length, o.out);
      return 0;
    }),
  );

  for (const [verb, description] of [
    ["show", "a volume: size, state, restore progress"],
    ["delete", "delete a volume"],
  ] as const) {
    withAdminOptions(volume.command(verb).description(description).argument("<volume-id>")).action(
      exitWith(async (id: string, o: AdminFlags) => {
        const { api } = await adminSession(o);
        printJson(await (verb === "show" ? api.getVolume(id) : api.deleteVolume(id)));
        return 0;
      }),
    );
  }

  withAdminOptions(volume.command("list").description("the account's volumes in the region")).action(
    exitWith(async (o: AdminFlags) => {
      const { api } = await adminSession(o);
      printJson(await api.listVolumes());
      return 0;
    }),
  );
}
