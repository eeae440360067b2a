// STS's Query-protocol XML (https://docs.aws.amazon.com/STS/latest/APIReference/): its own namespace,
// results under <Action>Result, errors as ErrorResponse/Error (not EC2's Response/Errors/Error).
import { queryErrorXml, queryResultXml } from "../protocol/query-service-xml.ts";
import { escapeXmlText } from "../protocol/xml-values.ts";

export const STS_VERSION = "2011-06-15";
const NAMESPACE = `https://sts.amazonaws.com/doc/${STS_VERSION}/`;

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

export function callerIdentityXml(id: CallerIdentity, requestId: string): string {
  const result =
    `<Arn>${escapeXmlText(id.arn)}</Arn><UserId>${escapeXmlText(id.userId)}</UserId>` +
    `<Account>${escapeXmlText(id.account)}</Account>`;
  return queryResultXml(NAMESPACE, "GetCallerIdentity", result, requestId);
}

export function stsErrorXml(status: number, code: string, message: string, requestId: string): string {
  return queryErrorXml(NAMESPACE, status, code, message, requestId);
}
