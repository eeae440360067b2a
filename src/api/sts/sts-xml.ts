// STS's Query-protocol XML (https://docs.aws.amazon.com/STS/latest/APIReference/): its own namespace,
// results under <Action>Result, errors as ErrorResponse/Error (not EC2's Response/Errors/Error).
import { escapeXmlText } from "../protocol/xml-values.ts";

export const STS_VERSION = "2011-06-15";
const NAMESPACE = `https://sts.amazonaws.com/doc/${STS_VERSION}/`;

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

export function callerIdentityXml(id: CallerIdentity, requestId: string): string {
  return (
    `<GetCallerIdentityResponse xmlns="${NAMESPACE}"><GetCallerIdentityResult>` +
    `<Arn>${escapeXmlText(id.arn)}</Arn><UserId>${escapeXmlText(id.userId)}</UserId>` +
    `<Account>${escapeXmlText(id.account)}</Account></GetCallerIdentityResult>` +
    `<ResponseMetadata><RequestId>${escapeXmlText(requestId)}</RequestId></ResponseMetadata>` +
    "</GetCallerIdentityResponse>"
  );
}

/** `Sender` for the caller's faults (4xx), `Receiver` for the server's, as STS marks them. */
export function stsErrorXml(status: number, code: string, message: string, requestId: string): string {
  const type = status < 500 ? "Sender" : "Receiver";
  return (
    `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${type}</Type>` +
    `<Code>${escapeXmlText(code)}</Code><Message>${escapeXmlText(message)}</Message></Error>` +
    `<RequestId>${escapeXmlText(requestId)}</RequestId></ErrorResponse>`
  );
}
