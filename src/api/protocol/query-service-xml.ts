// The Query-protocol XML of the AWS services other than EC2 that Strata answers (STS, IAM): each
// has its own namespace, results under <Action>Response/<Action>Result with ResponseMetadata, and
// errors as ErrorResponse/Error (not EC2's Response/Errors/Error).
import { escapeXmlText } from "./xml-values.ts";

/** `resultXml` is the already escaped content of <ActionResult>. */
export function queryResultXml(
  namespace: string,
  action: string,
  resultXml: string,
  requestId: string,
): string {
  return (
    `<${action}Response xmlns="${namespace}"><${action}Result>${resultXml}</${action}Result>` +
    `<ResponseMetadata><RequestId>${escapeXmlText(requestId)}</RequestId></ResponseMetadata>` +
    `</${action}Response>`
  );
}

/** `Sender` for the caller's faults (4xx), `Receiver` for the server's, as these services mark them. */
export function queryErrorXml(
  namespace: string,
  status: number,
  code: string,
  message: string,
  requestId: string,
): string {
  const type = status < 500 ? "Sender" : "Receiver";
  return (
    `<ErrorResponse xmlns="${namespace}"><Error><Type>${type}</Type>` +
    `<Code>${escapeXmlText(code)}</Code><Message>${escapeXmlText(message)}</Message></Error>` +
    `<RequestId>${escapeXmlText(requestId)}</RequestId></ErrorResponse>`
  );
}
