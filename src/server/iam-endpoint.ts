// IAM on the EC2 endpoint, for the web console's account menu (and `aws iam list-account-aliases`):
// ListAccountAliases only, Query protocol, signed for service `iam` (global: any region's scope is
// taken, as the SDKs sign IAM for us-east-1). The alias is the account's own (`strata accounts
// create NAME --alias X`), the one EC2 shows as ImageOwnerAlias; an account sees only its own, as
// on AWS. Errors have IAM's shape and codes.
import { accountAliasesXml, IAM_VERSION, iamErrorXml } from "../api/iam/iam-xml.ts";
import { StrataError } from "../errors.ts";
import type { QueryService } from "./query-service.ts";

export const IAM: QueryService = {
  signingName: "iam",
  title: "IAM",
  version: IAM_VERSION,
  actions: {
    ListAccountAliases: async ({ accountId, params, requestId }, { accounts }) => {
      checkMaxItems(params.get("MaxItems"));
      const account = await accounts.getAccount(accountId);
      return accountAliasesXml(account?.alias ? [account.alias] : [], requestId);
    },
  },
  errorXml: iamErrorXml,
};

/** IAM's paging bound (1-1000); with at most one alias there is never a second page. */
function checkMaxItems(value: string | null): void {
  if (value === null) return;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new StrataError(
      "ValidationError",
      `1 validation error detected: Value '${value}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`,
    );
  }
}
