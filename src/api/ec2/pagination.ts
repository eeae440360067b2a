import { StrataError } from "../../errors.ts";

export interface PageWindow {
  /** Ids strictly greater than this come next. */
  after?: string;
  /** Page size, when MaxResults was given. */
  limit?: number;
}

/**
 * EC2's MaxResults/NextToken. The token is opaque to clients: the last id returned, so pages stay
 * stable while resources are added or removed, and a database can seek straight to it.
 */
export function pageWindow(
  input: { MaxResults?: number; NextToken?: string },
  limits: { min: number; max: number } = { min: 5, max: 1000 },
): PageWindow {
  const window: PageWindow = {};
  if (input.NextToken !== undefined) window.after = decodeToken(input.NextToken);
  if (input.MaxResults !== undefined) {
    if (
      !Number.isInteger(input.MaxResults) ||
      input.MaxResults < limits.min ||
      input.MaxResults > limits.max
    ) {
      throw new StrataError(
        "InvalidParameterValue",
        `Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Expecting a value between ${limits.min} and ${limits.max}.`,
      );
    }
    window.limit = input.MaxResults;
  }
  return window;
}

/** Cuts a page from items sorted by id that start after the window (at most limit + 1 needed). */
export function pageOf<T>(
  sortedAfter: T[],
  idOf: (item: T) => string,
  window: PageWindow,
): { page: T[]; nextToken?: string } {
  if (window.limit === undefined) return { page: sortedAfter };
  const page = sortedAfter.slice(0, window.limit);
  const more = sortedAfter.length > window.limit;
  return { page, nextToken: more ? encodeToken(idOf(page[page.length - 1])) : undefined };
}

/** Pagination of an in-memory list. */
export function paginate<T>(
  items: T[],
  idOf: (item: T) => string,
  input: { MaxResults?: number; NextToken?: string },
  limits?: { min: number; max: number },
): { page: T[]; nextToken?: string } {
  const window = pageWindow(input, limits);
  const sorted = [...items].sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  const after = window.after;
  return pageOf(after === undefined ? sorted : sorted.filter((i) => idOf(i) > after), idOf, window);
}

function encodeToken(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId })).toString("base64url");
}

function decodeToken(token: string): string {
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof v.after === "string") return v.after;
  } catch {}
  throw new StrataError("InvalidParameterValue", `Invalid value '${token}' for NextToken`);
}

/** EC2 refuses MaxResults together with explicit ids. */
export function noMaxResultsWithIds(
  ids: unknown[] | undefined,
  maxResults: number | undefined,
  idName: string,
): void {
  if (ids?.length && maxResults !== undefined) {
    throw new StrataError(
      "InvalidParameterCombination",
      `The parameter ${idName} cannot be used with the parameter maxResults`,
    );
  }
}
