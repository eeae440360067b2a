// Turns an output object into the element tree of an EC2 XML response, following the model:
// strings for leaves, objects for structures, `{ item: [...] }` for lists.
import { getShape, type ScalarShape, xmlName } from "./ec2-model.ts";

export type XmlNode = string | { [element: string]: XmlNode | XmlNode[] };

// `path` (e.g. `Volume.tagSet.1.key`) only locates a handler's mistake in the thrown error.
export function toXmlNode(shapeName: string, value: unknown, path: string): XmlNode {
  const shape = getShape(shapeName);
  if (shape.type === "structure") {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw mismatch(path, "an object", value);
    const node: { [element: string]: XmlNode | XmlNode[] } = {};
    const fields = value as Record<string, unknown>;
    for (const [member, ref] of Object.entries(shape.members)) {
      const field = fields[member];
      if (field === undefined || field === null) continue;
      const element = xmlName(member, ref);
      const target = getShape(ref.shape);
      if (target.type === "list" && (target.flattened || ref.flattened) && Array.isArray(field)) {
        node[element] = field.map((item, i) =>
          toXmlNode(target.member.shape, item, `${path}.${element}.${i + 1}`),
        );
      } else {
        node[element] = toXmlNode(ref.shape, field, `${path}.${element}`);
      }
    }
    return node;
  }
  if (shape.type === "list") {
    if (!Array.isArray(value)) throw mismatch(path, "an array", value);
    // An empty list is an empty element (`<volumeSet/>`), as EC2 sends it.
    if (value.length === 0) return "";
    const items = value.filter((item) => item !== undefined && item !== null);
    const element = shape.member.locationName ?? "member";
    return { [element]: items.map((item, i) => toXmlNode(shape.member.shape, item, `${path}.${i + 1}`)) };
  }
  return scalarText(shape, value, path);
}

function scalarText(shape: ScalarShape, value: unknown, path: string): string {
  switch (shape.type) {
    case "string":
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
        return String(value);
      throw mismatch(path, "a string", value);
    case "integer":
    case "long":
    case "double":
    case "float":
      if (typeof value === "number" || typeof value === "bigint") return String(value);
      throw mismatch(path, "a number", value);
    case "boolean":
      if (typeof value === "boolean") return String(value);
      throw mismatch(path, "a boolean", value);
    case "timestamp": {
      const date = value instanceof Date ? value : typeof value === "string" ? new Date(value) : undefined;
      if (!date || Number.isNaN(date.getTime())) throw mismatch(path, "a Date", value);
      return date.toISOString();
    }
    case "blob":
      if (value instanceof Uint8Array)
        return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
      if (typeof value === "string") return Buffer.from(value, "utf8").toString("base64");
      throw mismatch(path, "bytes", value);
  }
}

function mismatch(path: string, expected: string, value: unknown): TypeError {
  const got = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
  return new TypeError(`EC2 response ${path}: expected ${expected}, got ${got}`);
}

// XML 1.0 cannot carry C0 controls other than tab, LF and CR, nor U+FFFE/U+FFFF or lone
// surrogates, not even as character references: those become U+FFFD. CR is written as a
// reference because parsers turn a literal one into LF.
const needsEscape = /[&<>"'\r]|[^\t\n\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const escapes: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\r": "&#13;",
};

export function escapeXmlText(text: string): string {
  return text.replace(needsEscape, (c) => escapes[c] ?? "\uFFFD");
}
