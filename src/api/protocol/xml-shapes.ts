// The model's shapes as the XML serializer walks them: per structure, its members in model order
// with their tags ready to write; per list, its item tags. Built on first use, then cached.
import { getShape, type ScalarType, xmlName } from "./ec2-model.ts";

/** `<name>`, `</name>` and `<name/>` (what an element with no content is written as). */
export type XmlTags = { name: string; open: string; close: string; empty: string };
/** `flattenedItem`: for a flattened list, its item shape (each item is written in the member's tags). */
export type XmlMember = XmlTags & { key: string; shape: XmlShape; flattenedItem?: XmlShape };
export type XmlShape =
  | { kind: "structure"; members: XmlMember[] }
  | { kind: "list"; item: XmlTags; member: XmlShape }
  | { kind: ScalarType };

const cache = new Map<string, XmlShape>();

export function xmlTags(name: string): XmlTags {
  return { name, open: `<${name}>`, close: `</${name}>`, empty: `<${name}/>` };
}

export function xmlShape(shapeName: string): XmlShape {
  const cached = cache.get(shapeName);
  if (cached) return cached;
  const shape = getShape(shapeName);
  if (shape.type === "list") {
    const list: XmlShape = {
      kind: "list",
      item: xmlTags(shape.member.locationName ?? "member"),
      member: xmlShape(shape.member.shape),
    };
    cache.set(shapeName, list);
    return list;
  }
  if (shape.type !== "structure") {
    const scalar: XmlShape = { kind: shape.type };
    cache.set(shapeName, scalar);
    return scalar;
  }
  // Cached before its members are built, so a structure that contains itself resolves to itself.
  const members: XmlMember[] = [];
  const structure: XmlShape = { kind: "structure", members };
  cache.set(shapeName, structure);
  for (const [key, ref] of Object.entries(shape.members)) {
    const memberShape = xmlShape(ref.shape);
    const target = getShape(ref.shape);
    const flattened = target.type === "list" && (ref.flattened || target.flattened);
    const flattenedItem = flattened && memberShape.kind === "list" ? memberShape.member : undefined;
    members.push({ ...xmlTags(xmlName(key, ref)), key, shape: memberShape, flattenedItem });
  }
  return structure;
}
