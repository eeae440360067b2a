// The `strata` command line: one commander program, a group of subcommands per concern. Each
// command loads what it runs only when it runs, so `strata --help` and the client commands start
// without the server's code (or the AWS SDK, for the admin-socket commands).
import { Command } from "commander";
import { addAccountsCommands } from "./accounts-command.ts";
import { addImageCommands } from "./image-commands.ts";
import { addServerCommand } from "./server-command.ts";
import { addSnapshotCommands } from "./snapshot-commands.ts";
import { addVolumeCommands } from "./volume-commands.ts";

const ENVIRONMENT = `
Environment:
  AWS_ENDPOINT_URL_EBS, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL
                         the API commands' endpoint, as the AWS SDKs read them (--endpoint beats
                         them); STRATA_ENDPOINT after them; else http://127.0.0.1:4566
  AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
  AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE
                         the API commands' credentials and region (the SDK's chain)
  AWS_REGION             the region (--region beats it); else the profile's region for the API
                         commands; else us-east-1
  STRATA_CACHE_DIR       the server's cache (default ~/.cache/strata)

API commands: snapshot import, snapshot export, image import. The others run on this machine:
the server, the accounts database, and the volume and snapshot commands over the admin socket.
Run strata <command> --help for a command's options.`;

export function buildProgram(): Command {
  const program = new Command("strata")
    .description("A self-hosted, EC2-compatible service for machine images and block snapshots.")
    .configureHelp({ sortOptions: false, showGlobalOptions: false })
    .addHelpText("after", ENVIRONMENT);
  addServerCommand(program);
  addAccountsCommands(program);
  addVolumeCommands(program);
  addSnapshotCommands(program);
  addImageCommands(program);
  for (const command of allCommands(program)) {
    // A wrong option or argument names the command's own help.
    const path = commandPath(command);
    command.showHelpAfterError(`(run '${path} --help' for its usage)`);
  }
  return program;
}

function* allCommands(command: Command): Generator<Command> {
  yield command;
  for (const sub of command.commands) yield* allCommands(sub);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}
