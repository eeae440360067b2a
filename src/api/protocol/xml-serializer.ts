// Serializes EC2 responses and errors as the XML EC2 sends:
//   <CreateVolumeResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>…</requestId>…
import { XMLBuilder } from "fast-xml-parser";
import { getOperation, xmlNamespace } from "./ec2-model.ts";
import { escapeXmlText, toXmlNode, type XmlNode } from "./xml-values.ts";

const declaration = '<?xml version="1.0" encoding="UTF-8"?>\n';

// The builder lays out elements; all text goes through escapeXmlText (which also handles what
// the builder's own entity replacement does not: control characters and CR).
const builder = new XMLBuilder({
  ignoreAttributes: false,
  suppressEmptyNode: true,
  processEntities: false,
  tagValueProcessor: (_name, value) => escapeXmlText(String(value)),
  attributeValueProcessor: (_name, value) => escapeXmlText(String(value)),
});

export function serializeEc2Response(operationName: string, output: unknown, requestId: string): string {
  const { output: shape } = getOperation(operationName);
  // Actions without an output shape (DeleteVolume, CreateTags, ...) answer <return>true</return>.
  const body = shape ? toXmlNode(shape, output ?? {}, operationName) : { return: "true" };
  const root: Record<string, XmlNode> = { "@_xmlns": xmlNamespace, requestId };
  return declaration + builder.build({ [`${operationName}Response`]: Object.assign(root, body) });
}

export function serializeEc2Error(code: string, message: string, requestId: string): string {
  const error = { Errors: { Error: { Code: code, Message: message } }, RequestID: requestId };
  return declaration + builder.build({ Response: error });
}
