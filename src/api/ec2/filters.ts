import type { Filter } from "@aws-sdk/client-ec2";
import { StrataError } from "../../errors.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";

/** Values a filter name reads from a resource; undefined when the resource has none. */
export type FilterFields<T> = Record<
  string,
  (item: T) => string | number | boolean | undefined | (string | undefined)[]
>;

// EC2 filter values accept * (any run) and ? (one character); \ escapes them.
function matcher(pattern: string): (v: string) => boolean {
  if (!/[*?]/.test(pattern)) return (v) => v === pattern;
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && i + 1 < pattern.length) re += escapeRe(pattern[++i]);
    else if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else re += escapeRe(c);
  }
  const compiled = new RegExp(`^${re}$`);
  return (v) => compiled.test(v);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * Keeps the items matching every filter (AND across filters, OR across one filter's values), with
 * the tag:<key> and tag-key filters every taggable resource has. Unknown filter names are an
 * error, as on EC2.
 */
export function applyFilters<T>(
  items: T[],
  filters: Filter[] | undefined,
  fields: FilterFields<T>,
  tagsOf: (item: T) => Tag[] = () => [],
): T[] {
  if (!filters?.length) return items;
  const tests = filters.map((f) => {
    const name = f.Name ?? "";
    const values = (f.Values ?? []).map(matcher);
    if (name.startsWith("tag:")) {
      const key = name.slice(4);
      return (item: T) => tagsOf(item).some((t) => t.key === key && values.some((m) => m(t.value)));
    }
    if (name === "tag-key") return (item: T) => tagsOf(item).some((t) => values.some((m) => m(t.key)));
    if (name === "tag-value") return (item: T) => tagsOf(item).some((t) => values.some((m) => m(t.value)));
    // Own keys only: `constructor` or `toString` is an unknown filter, not Object.prototype's.
    const field = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (!field) {
      throw new StrataError("InvalidParameterValue", `The filter '${name}' is invalid`);
    }
    return (item: T) => {
      const raw = field(item);
      const list = Array.isArray(raw) ? raw : [raw];
      return list.some((v) => v !== undefined && values.some((m) => m(String(v))));
    };
  });
  return items.filter((item) => tests.every((t) => t(item)));
}
