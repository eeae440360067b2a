// IAM's Query-protocol XML (https://docs.aws.amazon.com/IAM/latest/APIReference/): namespace
// https://iam.amazonaws.com/doc/2010-05-08/, results under <Action>Result, lists as <member>
// elements, errors as ErrorResponse/Error, as STS's.
import { queryErrorXml, queryResultXml } from "../protocol/query-service-xml.ts";
import { escapeXmlText } from "../protocol/xml-values.ts";

export const IAM_VERSION = "2010-05-08";
const NAMESPACE = `https://iam.amazonaws.com/doc/${IAM_VERSION}/`;

/** ListAccountAliases: an account has at most one alias, so the list is never truncated. */
export function accountAliasesXml(aliases: string[], requestId: string): string {
  const members = aliases.map((a) => `<member>${escapeXmlText(a)}</member>`).join("");
  return queryResultXml(
    NAMESPACE,
    "ListAccountAliases",
    `<IsTruncated>false</IsTruncated><AccountAliases>${members}</AccountAliases>`,
    requestId,
  );
}

export function iamErrorXml(status: number, code: string, message: string, requestId: string): string {
  return queryErrorXml(NAMESPACE, status, code, message, requestId);
}
