// `strata accounts ...`: the accounts database of a data dir. They work beside a running server:
// the database is shared (SQLite WAL), and the server reads quota overrides at each check.
import type { Command } from "commander";
import type { AccountStore } from "../accounts/account-store.ts";
import { dataDirOf, dataDirOption, exitWith, helpAfter, jsonOption } from "./options.ts";

interface AccountsFlags {
  dataDir?: string;
  json?: boolean;
}

export function addAccountsCommands(program: Command): void {
  const accounts = program
    .command("accounts")
    .description("accounts and their quotas (the data dir's database)");
  helpAfter(accounts, "ACCOUNT is an account's 12-digit id, name or owner alias.");

  accounts
    .command("create")
    .description("create an account and its access key (printed once)")
    .argument("<name>", "the account's name")
    .option("--alias <alias>", "owner alias (as `amazon` is on AWS)")
    .addOption(jsonOption())
    .addOption(dataDirOption())
    .action(
      exitWith((name: string, o: AccountsFlags & { alias?: string }) =>
        withStore(o, async (store) => {
          const c = await store.createAccount(name, { alias: o.alias });
          if (o.json) {
            console.log(
              JSON.stringify({
                accountId: c.account.id,
                name: c.account.name,
                accessKeyId: c.accessKeyId,
                secretAccessKey: c.secretAccessKey,
              }),
            );
          } else {
            console.log(`account ${c.account.name}: ${c.account.id}`);
            console.log(`aws_access_key_id = ${c.accessKeyId}`);
            console.log(`aws_secret_access_key = ${c.secretAccessKey}`);
          }
          return 0;
        }),
      ),
    );

  accounts
    .command("list")
    .description("list the accounts: id, name and alias")
    .addOption(dataDirOption())
    .action(
      exitWith((o: AccountsFlags) =>
        withStore(o, async (store) => {
          for (const a of await store.listAccounts())
            console.log(`${a.id}  ${a.name}${a.alias ? `  (alias ${a.alias})` : ""}`);
          return 0;
        }),
      ),
    );

  accounts
    .command("quotas")
    .description("an account's quotas: value, unit, default or set, and the error past it")
    .argument("<account>", "id, name or alias")
    .addOption(jsonOption())
    .addOption(dataDirOption())
    .action(
      exitWith((account: string, o: AccountsFlags) =>
        withStore(o, async (store) => {
          const { quotasCommand } = await import("./quota-commands.ts");
          return quotasCommand(store, "quotas", [account], Boolean(o.json));
        }),
      ),
    );

  const setQuota = accounts
    .command("set-quota")
    .description("set one quota of an account, or put it back to its default")
    .argument("<account>", "id, name or alias")
    .argument("<quota>", "a quota's name (see strata accounts quotas)")
    .argument("<value>", "the new value in the quota's unit, or `default`")
    .addOption(jsonOption())
    .addOption(dataDirOption())
    .action(
      exitWith((account: string, quota: string, value: string, o: AccountsFlags) =>
        withStore(o, async (store) => {
          const { quotasCommand } = await import("./quota-commands.ts");
          return quotasCommand(store, "set-quota", [account, quota, value], Boolean(o.json));
        }),
      ),
    );
  helpAfter(setQuota, "The server applies it to the next request.");
}

async function withStore(o: AccountsFlags, use: (store: AccountStore) => Promise<number>): Promise<number> {
  const { openAccounts } = await import("../accounts/open-accounts.ts");
  const store = await openAccounts(dataDirOf(o));
  try {
    return await use(store);
  } finally {
    store.close();
  }
}
