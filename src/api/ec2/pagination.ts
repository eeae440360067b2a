import { StrataError } from "../../errors.ts";

/**
 * EC2's MaxResults/NextToken over a list sorted by id. The token is opaque to clients: the last
 * id returned, so pages stay stable while resources are added or removed.
 */
export function paginate<T>(
  items: T[],
  idOf: (item: T) => string,
  input: { MaxResults?: number; NextToken?: string },
  limits: { min: number; max: number } = { min: 5, max: 1000 },
): { page: T[]; nextToken?: string } {
  const sorted = [...items].sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  let start = 0;
  if (input.NextToken !== undefined) {
    const after = decodeToken(input.NextToken);
    start = sorted.findIndex((i) => idOf(i) > after);
    if (start < 0) start = sorted.length;
  }
  if (input.MaxResults === undefined) return { page: sorted.slice(start) };
  if (!Number.isInteger(input.MaxResults) || input.MaxResults < limits.min || input.MaxResults > limits.max) {
    throw new StrataError(
      "InvalidParameterValue",
      `Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Expecting a value between ${limits.min} and ${limits.max}.`,
    );
  }
  const page = sorted.slice(start, start + input.MaxResults);
  const more = start + input.MaxResults < sorted.length;
  return { page, nextToken: more ? encodeToken(idOf(page[page.length - 1])) : undefined };
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
