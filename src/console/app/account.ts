// Who the key belongs to (STS GetCallerIdentity) and the account's alias (IAM ListAccountAliases),
// as the AWS console's account menu shows them.
import { ListAccountAliasesCommand } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { iamClient, stsClient } from "../api/clients.ts";
import type { Credentials } from "../api/session.ts";

export interface AccountInfo {
  accountId: string;
  alias?: string;
}

export async function whoAmI(credentials: Credentials, region: string): Promise<AccountInfo> {
  const id = await stsClient(credentials, region).send(new GetCallerIdentityCommand({}));
  const aliases = await iamClient(credentials)
    .send(new ListAccountAliasesCommand({}))
    .then((r) => r.AccountAliases ?? [])
    .catch(() => [] as string[]);
  return { accountId: id.Account ?? "", alias: aliases[0] };
}
