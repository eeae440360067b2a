import { hash, timingSafeEqual } from "node:crypto";
import type { AccessKeySecret } from "../../accounts/account-store.ts";
import { StrataError } from "../../errors.ts";
import { CONTENT_SHA256, librarySignature } from "./library-signature.ts";
import { parseSigV4, type SigV4Params, toAmzDate } from "./parse-sigv4.ts";

/** How far X-Amz-Date may be from the server's clock (SigV4's documented 5 minutes). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/** An incoming request as the signature covers it. */
export interface SignedRequest {
  method: string;
  /** `req.url` up to '?', as received: decoding or normalising it would change what was signed. */
  path: string;
  /** Decoded query parameters (e.g. `new URL(req.url, "http://x").searchParams`). */
  query: URLSearchParams | Record<string, string | string[] | undefined>;
  /** Prefer node's `req.headersDistinct`: repeated headers are then joined with "," as SigV4 says. */
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

export interface VerifiedCaller {
  accountId: string;
  accessKeyId: string;
  /** From the credential scope: the caller checks they are a region and service it serves. */
  region: string;
  service: string;
}

export type AccessKeyLookup = (
  accessKeyId: string,
) => AccessKeySecret | undefined | Promise<AccessKeySecret | undefined>;

export interface VerifyOptions {
  /**
   * Verify against the SHA-256 of the body received, whatever x-amz-content-sha256 claims
   * (UNSIGNED-PAYLOAD included), so a signature covers the body. The EC2 Query API needs it: its
   * action and parameters travel in the body. REST services such as EBS keep SigV4's rule.
   */
  signedPayload?: boolean;
}

/**
 * Verifies an AWS Signature Version 4 request (Authorization header or presigned query) by
 * recomputing it with the SDK's own signer. Throws StrataError: AuthFailure (unsigned, unknown
 * key), IncompleteSignature (malformed), RequestExpired (clock skew, expired URL),
 * SignatureDoesNotMatch.
 */
export async function verifySigV4(
  request: SignedRequest,
  lookup: AccessKeyLookup,
  now: Date = new Date(),
  options: VerifyOptions = {},
): Promise<VerifiedCaller> {
  const headers = lowercaseHeaders(request.headers);
  const query = queryRecord(request.query);
  const auth = parseSigV4(headers, query);
  checkTime(auth, now);
  const key = await lookup(auth.accessKeyId);
  if (!key) {
    throw new StrataError("AuthFailure", "AWS was not able to validate the provided access credentials");
  }
  const payload = options.signedPayload
    ? receivedPayloadHash(request, headers)
    : payloadHash(request, headers, auth);
  const expected = await computeSignature(request, headers, query, auth, payload, key.secretAccessKey);
  const a = Buffer.from(expected, "hex");
  const b = Buffer.from(auth.signature, "hex");
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new StrataError(
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your secret access key and signing method.",
    );
  }
  const { accessKeyId, region, service } = auth;
  return { accountId: key.accountId, accessKeyId, region, service };
}

/**
 * What can be checked before the body arrives: the signature's form, its time and that its access
 * key exists. The endpoints do this before they read a body, so an unsigned request or an unknown
 * key cannot make the server buffer one (up to a megabyte per connection).
 */
export async function checkSignatureHeaders(
  request: Omit<SignedRequest, "body">,
  lookup: AccessKeyLookup,
  now: Date = new Date(),
): Promise<void> {
  const auth = parseSigV4(lowercaseHeaders(request.headers), queryRecord(request.query));
  checkTime(auth, now);
  if (!(await lookup(auth.accessKeyId))) {
    throw new StrataError("AuthFailure", "AWS was not able to validate the provided access credentials");
  }
}

function checkTime(auth: SigV4Params, now: Date): void {
  const signedAt = auth.signingDate.getTime();
  if (auth.presigned) {
    const expiresAt = signedAt + auth.expiresInSeconds! * 1000;
    if (now.getTime() > expiresAt) {
      throw new StrataError(
        "RequestExpired",
        `Request has expired: the presigned URL was valid until ${toAmzDate(new Date(expiresAt))}; it is now ${toAmzDate(now)}.`,
      );
    }
    if (signedAt - now.getTime() > MAX_CLOCK_SKEW_MS) {
      throw new StrataError(
        "RequestExpired",
        `Request is not valid yet: its X-Amz-Date ${auth.amzDate} is more than 5 minutes after the server time ${toAmzDate(now)}.`,
      );
    }
  } else if (Math.abs(now.getTime() - signedAt) > MAX_CLOCK_SKEW_MS) {
    throw new StrataError(
      "RequestExpired",
      `Request has expired: its X-Amz-Date ${auth.amzDate} is more than 5 minutes from the server time ${toAmzDate(now)}.`,
    );
  }
}

async function computeSignature(
  request: SignedRequest,
  headers: Map<string, string>,
  query: Record<string, string | string[]>,
  auth: SigV4Params,
  payload: string,
  secretAccessKey: string,
): Promise<string> {
  const signedHeaders = new Map<string, string>();
  for (const name of auth.signedHeaders) {
    const value = headers.get(name);
    if (value === undefined) {
      throw new StrataError(
        "SignatureDoesNotMatch",
        `SignedHeaders lists '${name}', which the request lacks.`,
      );
    }
    signedHeaders.set(name, value);
  }
  const input = {
    method: request.method.toUpperCase(),
    path: request.path,
    query,
    signedHeaders,
    payloadHash: payload,
    auth,
  };
  // The well-kept signer recomputes the signature; a hand-written SigV4 measured 25 us faster per
  // request, too little against the rest of a request to be worth a second implementation.
  return librarySignature(input, secretAccessKey);
}

/** The payload hash the client signed: x-amz-content-sha256 if sent, else the body's SHA-256. */
function payloadHash(request: SignedRequest, headers: Map<string, string>, auth: SigV4Params): string {
  const claimed = headers.get(CONTENT_SHA256);
  if (claimed === undefined) {
    // S3 presigners sign UNSIGNED-PAYLOAD; the others (SDK v3, botocore) the body, usually empty.
    return auth.presigned && auth.service === "s3" ? UNSIGNED_PAYLOAD : bodySha256(request.body);
  }
  if (claimed === UNSIGNED_PAYLOAD) return claimed;
  if (!/^[0-9a-fA-F]{64}$/.test(claimed)) {
    throw new StrataError("IncompleteSignature", `Unsupported x-amz-content-sha256 value '${claimed}'.`);
  }
  // The signature covers the claimed hash, not the body: check the body against it.
  if (claimed.toLowerCase() !== bodySha256(request.body)) {
    throw new StrataError(
      "SignatureDoesNotMatch",
      "The x-amz-content-sha256 header does not match the SHA-256 of the request body.",
    );
  }
  return claimed;
}

/** The received body's SHA-256; x-amz-content-sha256, when sent, must be exactly that. */
function receivedPayloadHash(request: SignedRequest, headers: Map<string, string>): string {
  const actual = bodySha256(request.body);
  const claimed = headers.get(CONTENT_SHA256);
  if (claimed !== undefined && claimed !== actual) {
    // EC2 itself hashes the body it receives, so an UNSIGNED-PAYLOAD signature does not match.
    throw new StrataError(
      "SignatureDoesNotMatch",
      claimed === UNSIGNED_PAYLOAD
        ? "The request signature must cover the payload: UNSIGNED-PAYLOAD is not accepted by this API."
        : "The x-amz-content-sha256 header does not match the SHA-256 of the request body.",
    );
  }
  return actual;
}

function bodySha256(body: Uint8Array): string {
  return hash("sha256", body, "hex");
}

function lowercaseHeaders(headers: SignedRequest["headers"]): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const joined = typeof value === "string" ? value : value.length === 1 ? value[0] : value.join(",");
    const prev = out.get(lower);
    out.set(lower, prev === undefined ? joined : `${prev},${joined}`);
  }
  // HTTP/2 carries the host as :authority.
  if (!out.has("host") && out.has(":authority")) out.set("host", out.get(":authority")!);
  return out;
}

function queryRecord(query: SignedRequest["query"]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const entries = query instanceof URLSearchParams ? [...query] : Object.entries(query);
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    // Own keys only: `out.constructor` would otherwise find Object and sign it into the query.
    const prev = Object.hasOwn(out, name) ? out[name] : undefined;
    out[name] = prev === undefined ? value : [prev, value].flat();
  }
  return out;
}
