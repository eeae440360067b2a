// The accounts seam: who may call the API (access keys) and who owns what (12-digit account ids).
// Global to the server, unlike the per-region metadata. SQLite implements it today.

export interface Account {
  /** 12 digits, as an AWS account id (the OwnerId of everything the account creates). */
  id: string;
  /** Unique, for people and the CLI. */
  name: string;
  /** Owner alias as EC2 shows it (ImageOwnerAlias, `--owners strata`), like `amazon` on AWS. */
  alias: string | null;
  createdAt: string;
}

export interface CreatedAccount {
  account: Account;
  accessKeyId: string;
  /** Only ever returned here; the verifier gets it again through lookupAccessKey. */
  secretAccessKey: string;
}

export interface AccessKeySecret {
  accountId: string;
  secretAccessKey: string;
}

export interface AccountStore {
  /** Creates the account with one access key. AccountAlreadyExists if the name or alias is taken. */
  createAccount(name: string, options?: { alias?: string }): Promise<CreatedAccount>;
  listAccounts(): Promise<Account[]>;
  getAccount(id: string): Promise<Account | undefined>;
  findByName(name: string): Promise<Account | undefined>;
  findByAlias(alias: string): Promise<Account | undefined>;
  lookupAccessKey(accessKeyId: string): Promise<AccessKeySecret | undefined>;
  /** The quota values the operator set for the account (quota name -> value). */
  quotaOverrides(accountId: string): Promise<Record<string, number>>;
  /** Sets (or, with null, removes) the account's override of one quota. */
  setQuotaOverride(accountId: string, name: string, value: number | null): Promise<void>;
  close(): void;
}
