// The accounts database's side of the quotas: which account a CLI argument names, and what the
// quota checks need of an account (the operator's overrides, whether it is the operator's own).
import type { Account, AccountStore } from "./account-store.ts";
import { ADMIN_ACCOUNT_NAME, PROVIDER_ACCOUNT_NAME } from "./bootstrap.ts";

/** The admin and provider accounts: the operator's own (their host share defaults to all of it). */
export function isOperatorAccount(account: Account): boolean {
  return account.name === ADMIN_ACCOUNT_NAME || account.alias === PROVIDER_ACCOUNT_NAME;
}

/** ACCOUNT as the CLI takes it: a 12-digit id, a name or an owner alias. */
export async function findAccount(store: AccountStore, ref: string): Promise<Account | undefined> {
  if (/^\d{12}$/.test(ref)) return store.getAccount(ref);
  return (await store.findByName(ref)) ?? (await store.findByAlias(ref));
}

/** Read at every quota check (two indexed lookups), so a `set-quota` applies at once. */
export async function quotaSettingsOf(
  store: AccountStore,
  accountId: string,
): Promise<{ overrides: Record<string, number>; operator: boolean }> {
  const account = await store.getAccount(accountId);
  return {
    overrides: await store.quotaOverrides(accountId),
    operator: account !== undefined && isOperatorAccount(account),
  };
}
