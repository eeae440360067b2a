import type { Filter } from "@aws-sdk/client-ec2";
import { StrataError } from "../../errors.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";

/** Values a filter name reads from a resource; undefined when the resource has none. */
export type FilterFields<T> = Record<
  string,
  (item: T) => string | number | boolean | undefined | (string | undefined)[]
>;

const STAR = 0;
const ANY = 1;
type Token = typeof STAR | typeof ANY | string;

// EC2 filter values accept * (any run) and ? (one character); \ escapes them. Matched without a
// regular expression: one with several `.*` backtracks exponentially (`*a*a*a*a*a*a*a*a*b`
// against 40 a's blocked the event loop for seconds, found by the fuzzer); this takes at most
// pattern length x value length steps.
function matcher(pattern: string): (v: string) => boolean {
  if (!/[*?]/.test(pattern)) return (v) => v === pattern;
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && i + 1 < pattern.length) tokens.push(pattern[++i]);
    else if (c === "*") {
      if (tokens.at(-1) !== STAR) tokens.push(STAR);
    } else tokens.push(c === "?" ? ANY : c);
  }
  return (v) => wildcardMatch(tokens, v);
}

/** Greedy matching that, on a mismatch, retries from the last star one character further. */
function wildcardMatch(tokens: Token[], v: string): boolean {
  let t = 0;
  let i = 0;
  let star = -1;
  let resume = 0;
  while (i < v.length) {
    const token = tokens[t];
    if (t < tokens.length && (token === ANY || token === v[i])) {
      t++;
      i++;
    } else if (t < tokens.length && token === STAR) {
      star = t++;
      resume = i;
    } else if (star >= 0) {
      t = star + 1;
      i = ++resume;
    } else return false;
  }
  while (tokens[t] === STAR) t++;
  return t === tokens.length;
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
