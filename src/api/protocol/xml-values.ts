// Leaf values of an EC2 XML response: the text of a scalar, escaped for XML.
import type { ScalarType } from "./ec2-model.ts";

/** A value that does not fit its shape; `path` (e.g. `volumeSet.1.size`) is filled in on the way out. */
export class ShapeMismatch extends Error {
  path: (string | number)[] = [];
  expected: string;
  got: string;

  constructor(expected: string, value: unknown) {
    super(`expected ${expected}`);
    this.expected = expected;
    this.got = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
  }
}

/** The escaped text of a scalar of type `type`. */
export function scalarText(type: ScalarType, value: unknown): string {
  switch (type) {
    case "string":
      if (typeof value === "string") return escapeXmlText(value);
      if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
        return String(value);
      throw new ShapeMismatch("a string", value);
    case "integer":
    case "long":
    case "double":
    case "float":
      if (typeof value === "number" || typeof value === "bigint") return String(value);
      throw new ShapeMismatch("a number", value);
    case "boolean":
      if (typeof value === "boolean") return value ? "true" : "false";
      throw new ShapeMismatch("a boolean", value);
    case "timestamp": {
      const date = value instanceof Date ? value : typeof value === "string" ? new Date(value) : undefined;
      if (!date || Number.isNaN(date.getTime())) throw new ShapeMismatch("a Date", value);
      return date.toISOString();
    }
    case "blob":
      if (value instanceof Uint8Array)
        return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
      if (typeof value === "string") return Buffer.from(value, "utf8").toString("base64");
      throw new ShapeMismatch("bytes", value);
  }
}

// XML 1.0 cannot carry C0 controls other than tab, LF and CR, nor U+FFFE/U+FFFF or lone
// surrogates, not even as character references: those become U+FFFD. CR is written as a
// reference because parsers turn a literal one into LF.
const needsEscape = /[&<>"'\r]|[^\t\n\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const unsafeChars = new RegExp(needsEscape.source, "gu");
const escapes: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\r": "&#13;",
};

export function escapeXmlText(text: string): string {
  // Most values (ids, states, names) need nothing: test before paying for a replace.
  return needsEscape.test(text) ? text.replace(unsafeChars, (c) => escapes[c] ?? "\uFFFD") : text;
}
