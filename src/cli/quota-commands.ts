// `strata accounts quotas|set-quota`: read and write the accounts database beside a running
// daemon, which reads the overrides at each check, so a change applies to the next request.
import { findAccount, quotaSettingsOf } from "../accounts/account-quotas.ts";
import type { AccountStore } from "../accounts/account-store.ts";
import { limitOf, parseQuotaValue, QUOTAS, quotaInfo } from "../services/quotas/quota-catalogue.ts";

export async function quotasCommand(
  store: AccountStore,
  verb: "quotas" | "set-quota",
  args: string[],
  json: boolean,
): Promise<number> {
  const [ref, name, value] = args;
  if (!ref || (verb === "set-quota" && (!name || value === undefined))) {
    throw new Error(
      verb === "quotas"
        ? "usage: strata accounts quotas ACCOUNT"
        : "usage: strata accounts set-quota ACCOUNT QUOTA VALUE|default",
    );
  }
  const account = await findAccount(store, ref);
  if (!account) throw new Error(`No account '${ref}' (give its id, name or alias)`);
  if (verb === "set-quota") {
    if (!quotaInfo(name)) parseQuotaValue(name, value); // throws: unknown quota, with the list
    await store.setQuotaOverride(account.id, name, value === "default" ? null : parseQuotaValue(name, value));
  }
  const settings = await quotaSettingsOf(store, account.id);
  const rows = QUOTAS.map((q) => ({
    quota: q.name,
    value: limitOf(q.name, settings),
    unit: q.unit,
    default: settings.operator ? (q.operatorDefault ?? q.default) : q.default,
    set: settings.overrides[q.name] !== undefined,
    error: q.error,
    description: q.description,
  }));
  if (json) {
    console.log(JSON.stringify({ accountId: account.id, name: account.name, quotas: rows }, null, 2));
    return 0;
  }
  if (verb === "set-quota") {
    const row = rows.find((r) => r.quota === name)!;
    console.log(
      `${account.name} (${account.id}): ${name} = ${row.value} ${row.unit}${row.set ? "" : " (default)"}`,
    );
    return 0;
  }
  console.log(`${account.name} (${account.id})${settings.operator ? ", an operator account" : ""}`);
  const width = Math.max(...rows.map((r) => r.quota.length));
  for (const r of rows) {
    const origin = r.set ? `set; default ${r.default}` : "default";
    console.log(
      `  ${r.quota.padEnd(width)}  ${`${r.value} ${r.unit}`.padEnd(16)} ${origin.padEnd(22)} ${r.error}: ${r.description}`,
    );
  }
  return 0;
}
