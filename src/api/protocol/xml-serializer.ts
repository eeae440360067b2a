// Serializes EC2 responses and errors as the XML EC2 sends:
//   <CreateVolumeResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>…</requestId>…
// Walks the output value with its shape from the model, writing text directly (no element tree).
import { getOperation, xmlNamespace } from "./ec2-model.ts";
import { type XmlMember, type XmlShape, type XmlTags, xmlShape, xmlTags } from "./xml-shapes.ts";
import { escapeXmlText, ShapeMismatch, scalarText } from "./xml-values.ts";

const declaration = '<?xml version="1.0" encoding="UTF-8"?>\n';
const rootAttributes = ` xmlns="${escapeXmlText(xmlNamespace)}"`;
const requestIdTags = xmlTags("requestId");

export function serializeEc2Response(operationName: string, output: unknown, requestId: string): string {
  const { output: shapeName } = getOperation(operationName);
  let body: string;
  try {
    // Actions without an output shape (DeleteVolume, CreateTags, ...) answer <return>true</return>.
    body = shapeName ? content(xmlShape(shapeName), output ?? {}) : "<return>true</return>";
  } catch (error) {
    if (!(error instanceof ShapeMismatch)) throw error;
    const path = [operationName, ...error.path].join(".");
    throw new TypeError(`EC2 response ${path}: expected ${error.expected}, got ${error.got}`);
  }
  const root = `${operationName}Response`;
  return `${declaration}<${root}${rootAttributes}>${element(requestIdTags, escapeXmlText(requestId))}${body}</${root}>`;
}

const [errorsTags, errorTags, codeTags, messageTags, requestIDTags] = [
  "Errors",
  "Error",
  "Code",
  "Message",
  "RequestID",
].map(xmlTags);

export function serializeEc2Error(code: string, message: string, requestId: string): string {
  const error = element(codeTags, escapeXmlText(code)) + element(messageTags, escapeXmlText(message));
  const errors = element(errorsTags, element(errorTags, error));
  return `${declaration}<Response>${errors}${element(requestIDTags, escapeXmlText(requestId))}</Response>`;
}

function element(tags: XmlTags, text: string): string {
  return text === "" ? tags.empty : tags.open + text + tags.close;
}

/** The XML inside the element that holds `value`. */
function content(shape: XmlShape, value: unknown): string {
  if (shape.kind === "structure") return structureContent(shape.members, value);
  if (shape.kind === "list") return listContent(shape.item, shape.member, value);
  return scalarText(shape.kind, value);
}

function structureContent(members: XmlMember[], value: unknown): string {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ShapeMismatch("an object", value);
  const fields = value as Record<string, unknown>;
  let xml = "";
  for (const member of members) {
    const field = fields[member.key];
    if (field === undefined || field === null) continue;
    try {
      if (member.flattenedItem && Array.isArray(field))
        xml += flattenedList(member, member.flattenedItem, field);
      else xml += element(member, content(member.shape, field));
    } catch (error) {
      if (error instanceof ShapeMismatch) error.path.unshift(member.name);
      throw error;
    }
  }
  return xml;
}

function listContent(item: XmlTags, shape: XmlShape, value: unknown): string {
  if (!Array.isArray(value)) throw new ShapeMismatch("an array", value);
  // An empty list is an empty element (`<volumeSet/>`), as EC2 sends it; so is one of only nulls.
  let xml = "";
  let index = 0;
  for (const entry of value) {
    if (entry === undefined || entry === null) continue;
    index++;
    xml += element(item, withIndex(index, shape, entry));
  }
  return xml;
}

// A flattened list repeats the member's own element, one per entry (none in the EC2 model today).
function flattenedList(tags: XmlTags, shape: XmlShape, entries: unknown[]): string {
  let xml = "";
  for (let i = 0; i < entries.length; i++) xml += element(tags, withIndex(i + 1, shape, entries[i]));
  return xml;
}

function withIndex(index: number, shape: XmlShape, value: unknown): string {
  try {
    return content(shape, value);
  } catch (error) {
    if (error instanceof ShapeMismatch) error.path.unshift(index);
    throw error;
  }
}
