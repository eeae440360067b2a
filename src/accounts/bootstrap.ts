import { join } from "node:path";
import type { Account, AccountStore } from "./account-store.ts";
import { writeCredentialsFile } from "./credentials-file.ts";
import { openAccountStore } from "./sqlite-account-store.ts";

export const ADMIN_ACCOUNT_NAME = "admin";
/** The provider account: owns public images, as `amazon` does on AWS. Its name and alias. */
export const PROVIDER_ACCOUNT_NAME = "strata";

export interface BootstrapOptions {
  /** The server's open store; without it one is opened on `<dataDir>/accounts.db` and closed. */
  store?: AccountStore;
  /** For the printed hint: the server's URL and a region it serves. */
  endpointUrl?: string;
  region?: string;
}

export interface BootstrapResult {
  /** True when this call created the admin account and wrote the credentials file. */
  created: boolean;
  admin: Account;
  provider: Account;
  credentialsPath: string;
  /** What to print: where the admin credentials are and how to point the aws CLI at them. */
  message: string;
}

/**
 * First start: creates the `admin` account and writes its key to `<dataDir>/credentials` (0600),
 * and creates the provider account `strata`. Later starts change nothing (an existing admin
 * account means the file is left alone, even if the user edited or removed it).
 */
export async function bootstrapAccounts(
  dataDir: string,
  options: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const store = options.store ?? openAccountStore(dataDir);
  try {
    const credentialsPath = join(dataDir, "credentials");
    let created = false;
    let admin = await store.findByName(ADMIN_ACCOUNT_NAME);
    if (!admin) {
      const c = await store.createAccount(ADMIN_ACCOUNT_NAME);
      writeCredentialsFile(credentialsPath, c.accessKeyId, c.secretAccessKey);
      admin = c.account;
      created = true;
    }
    // Its key is never handed out: the provider publishes images through the server itself.
    const provider =
      (await store.findByAlias(PROVIDER_ACCOUNT_NAME)) ??
      (await store.createAccount(PROVIDER_ACCOUNT_NAME, { alias: PROVIDER_ACCOUNT_NAME })).account;
    const endpointUrl = options.endpointUrl ?? "http://127.0.0.1:4566";
    const region = options.region ?? "us-east-1";
    const command = `AWS_SHARED_CREDENTIALS_FILE=${shellQuote(credentialsPath)} aws --endpoint-url ${endpointUrl} --region ${region} ec2 describe-regions`;
    const message = created
      ? `Created account '${admin.name}' (${admin.id}); its access key is in ${credentialsPath}. Try:\n  ${command}`
      : `Admin credentials: ${credentialsPath}. Try:\n  ${command}`;
    return { created, admin, provider, credentialsPath, message };
  } finally {
    if (!options.store) store.close();
  }
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
