import { existsSync } from "node:fs";
import { join } from "node:path";
import { openAccounts } from "../accounts/open-accounts.ts";
import { readCredentialsFile } from "./credentials-file.ts";

/**
 * The account the engine commands act as: `--account` (an id, owner alias or name, which the
 * server resolves), else the account whose access key is the default profile of
 * `<dataDir>/credentials` (the admin account, as the server wrote it on first start).
 */
export async function actingAccount(dataDir: string, account: string | undefined): Promise<string> {
  if (account) return account;
  const path = join(dataDir, "credentials");
  if (!existsSync(path)) throw new Error(`no credentials file ${path}: pass --account ID|ALIAS|NAME`);
  const { accessKeyId } = readCredentialsFile(path, "default");
  const store = await openAccounts(dataDir);
  try {
    const key = await store.lookupAccessKey(accessKeyId);
    if (!key)
      throw new Error(`the access key in ${path} belongs to no account: pass --account ID|ALIAS|NAME`);
    return key.accountId;
  } finally {
    store.close();
  }
}
