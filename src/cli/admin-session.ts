// The volume and snapshot engine commands act as an account over the data dir's admin socket: the
// options they share, and the client they get.
import { type Command, Option } from "commander";
import type { AdminClient } from "./admin-client.ts";
import { dataDirOf, dataDirOption } from "./options.ts";

export interface AdminFlags {
  dataDir?: string;
  account?: string;
  region: string;
}

export const ADMIN_HELP = [
  "These talk to the server of --data-dir over its admin socket (<data-dir>/run/admin.sock) and act",
  "as an account: --account ID|ALIAS|NAME, else the one whose key is the default profile of",
  "<data-dir>/credentials (admin). --region defaults to $AWS_REGION, else us-east-1.",
];

/** --data-dir, --account and --region, as every admin-socket command takes them. */
export function withAdminOptions(command: Command): Command {
  return command
    .addOption(dataDirOption().helpGroup("Account options:"))
    .addOption(
      new Option(
        "--account <account>",
        "act as this account: id, alias or name (default: the data dir's admin)",
      ).helpGroup("Account options:"),
    )
    .addOption(
      new Option("--region <region>", "region")
        .default(process.env.AWS_REGION || "us-east-1", "$AWS_REGION or us-east-1")
        .helpGroup("Account options:"),
    );
}

/** A client of the admin socket acting as the chosen account; `forRegion` for another region. */
export async function adminSession(
  o: AdminFlags,
): Promise<{ api: AdminClient; forRegion: (region: string) => AdminClient }> {
  const [{ adminSocketPath }, { actingAccount }, { AdminClient }] = await Promise.all([
    import("../server/admin-socket.ts"),
    import("./acting-account.ts"),
    import("./admin-client.ts"),
  ]);
  const dataDir = dataDirOf(o);
  const socket = adminSocketPath(dataDir);
  const account = await actingAccount(dataDir, o.account);
  const forRegion = (region: string) => new AdminClient(socket, region, account);
  return { api: forRegion(o.region), forRegion };
}
