import { StrataError } from "../../errors.ts";

export const SIGV4_ALGORITHM = "AWS4-HMAC-SHA256";
/** Longest validity of a presigned URL, as AWS (one week). */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

/** The signature parameters of a request, from its Authorization header or presigned query. */
export interface SigV4Params {
  presigned: boolean;
  accessKeyId: string;
  /** X-Amz-Date as sent (YYYYMMDD'T'HHMMSS'Z') and parsed. */
  amzDate: string;
  signingDate: Date;
  region: string;
  service: string;
  /** Lowercase header names, in the client's order. */
  signedHeaders: string[];
  signature: string;
  /** X-Amz-Expires of a presigned request. */
  expiresInSeconds?: number;
}

/**
 * Reads and checks the shape of a SigV4 signature; no secrets involved. Headers are keyed by
 * lowercase name. A request that is signed but malformed gets IncompleteSignature (EC2's code for
 * a signature that "does not conform to AWS standards"), not AuthFailure: AuthFailure is kept for
 * well-formed credentials that do not validate, so the two failures stay distinguishable.
 */
export function parseSigV4(
  headers: Map<string, string>,
  query: Record<string, string | string[]>,
): SigV4Params {
  const authorization = headers.get("authorization");
  const presigned = "X-Amz-Algorithm" in query || "X-Amz-Credential" in query || "X-Amz-Signature" in query;
  if (authorization !== undefined && presigned) {
    throw new StrataError(
      "IncompleteSignature",
      "Only one authentication mechanism is allowed: the Authorization header or X-Amz-* query parameters.",
    );
  }
  if (authorization === undefined && !presigned) {
    throw new StrataError(
      "AuthFailure",
      "AWS was not able to validate the provided access credentials: the request is not signed (no Authorization header, no X-Amz-Signature query parameter).",
    );
  }
  if (headers.has("x-amz-security-token") || "X-Amz-Security-Token" in query) {
    throw new StrataError(
      "AuthFailure",
      "The request carries a security token, but Strata issues none: sign with an access key alone.",
    );
  }
  return authorization !== undefined ? fromHeader(authorization, headers) : fromQuery(query);
}

function fromHeader(authorization: string, headers: Map<string, string>): SigV4Params {
  const space = authorization.indexOf(" ");
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  checkAlgorithm(algorithm);
  const params = new Map<string, string>();
  for (const part of authorization.slice(space + 1).split(",")) {
    if (!part.trim()) continue;
    const eq = part.indexOf("=");
    if (eq < 0) throw incomplete(`Malformed Authorization header component '${part.trim()}'.`);
    params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const name of ["Credential", "SignedHeaders", "Signature"]) {
    if (!params.get(name)) throw incomplete(`Authorization header requires '${name}' parameter.`);
  }
  const amzDate = headers.get("x-amz-date");
  if (amzDate === undefined) throw incomplete("Authorization header requires an 'X-Amz-Date' header.");
  return common(
    false,
    params.get("Credential")!,
    amzDate,
    params.get("SignedHeaders")!,
    params.get("Signature")!,
  );
}

/** The query parameters of a presigned (query-string authenticated) request. */
export const PRESIGN_QUERY_PARAMS = [
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
];

function fromQuery(query: Record<string, string | string[]>): SigV4Params {
  const missing = PRESIGN_QUERY_PARAMS.filter((n) => typeof query[n] !== "string" || query[n] === "");
  if (missing.length) {
    throw incomplete(
      `Query-string authentication requires (once each) the parameters ${missing.join(", ")}.`,
    );
  }
  const [algorithm, credential, amzDate, expires, signedHeaders, signature] = PRESIGN_QUERY_PARAMS.map((n) =>
    String(query[n]),
  );
  checkAlgorithm(algorithm);
  const expiresInSeconds = Number(expires);
  if (!/^\d+$/.test(expires) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw incomplete(
      `X-Amz-Expires must be whole seconds from 1 to ${MAX_PRESIGNED_EXPIRES_SECONDS}, not '${expires}'.`,
    );
  }
  return { ...common(true, credential, amzDate, signedHeaders, signature), expiresInSeconds };
}

function common(
  presigned: boolean,
  credential: string,
  amzDate: string,
  signedHeaderList: string,
  signature: string,
): SigV4Params {
  const parts = credential.split("/");
  if (
    parts.length !== 5 ||
    !parts[0] ||
    !/^\d{8}$/.test(parts[1]) ||
    !parts[2] ||
    !parts[3] ||
    parts[4] !== "aws4_request"
  ) {
    throw incomplete(
      `Credential must have the form <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request, not '${credential}'.`,
    );
  }
  const [accessKeyId, scopeDate, region, service] = parts;
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) throw incomplete(`X-Amz-Date must have the form YYYYMMDD'T'HHMMSS'Z', not '${amzDate}'.`);
  if (scopeDate !== amzDate.slice(0, 8)) {
    throw new StrataError(
      "SignatureDoesNotMatch",
      `Date in Credential scope does not match YYYYMMDD from X-Amz-Date: '${scopeDate}' != '${amzDate.slice(0, 8)}'.`,
    );
  }
  const signedHeaders = signedHeaderList.split(";").map((h) => h.toLowerCase());
  if (signedHeaders.some((h) => !h)) throw incomplete(`Malformed SignedHeaders '${signedHeaderList}'.`);
  if (!signedHeaders.includes("host")) throw incomplete("'Host' must be a signed header.");
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) throw incomplete("Signature must be 64 hexadecimal digits.");
  return { presigned, accessKeyId, amzDate, signingDate, region, service, signedHeaders, signature };
}

function checkAlgorithm(algorithm: string): void {
  if (algorithm !== SIGV4_ALGORITHM) {
    throw incomplete(
      `Unsupported signing algorithm '${algorithm}': Strata accepts ${SIGV4_ALGORITHM} (SigV4) only.`,
    );
  }
}

/** YYYYMMDD'T'HHMMSS'Z' as a Date; undefined if malformed or not a real time (month 13...). */
export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]];
  const date = new Date(Date.UTC(y, mo, d, h, mi, s));
  // Date.UTC rolls overflow over (month 13, 24:00) and maps years 0-99 to 1900-1999: a real time
  // reads back unchanged (what toAmzDate(date) === value checked, without formatting a string).
  const same =
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s;
  return same ? date : undefined;
}

export function toAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]|\.\d{3}/g, "");
}

function incomplete(message: string): StrataError {
  return new StrataError("IncompleteSignature", message);
}
