import { createHash, timingSafeEqual } from "node:crypto";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AccessKeySecret } from "../../accounts/account-store.ts";
import { StrataError } from "../../errors.ts";
import { parseSigV4, type SigV4Params, toAmzDate } from "./parse-sigv4.ts";

/** How far X-Amz-Date may be from the server's clock (SigV4's documented 5 minutes). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
const CONTENT_SHA256 = "x-amz-content-sha256";
const sha256 = Hash.bind(null, "sha256");

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
): Promise<VerifiedCaller> {
  const headers = lowercaseHeaders(request.headers);
  const query = queryRecord(request.query);
  const auth = parseSigV4(headers, query);
  checkTime(auth, now);
  const key = await lookup(auth.accessKeyId);
  if (!key) {
    throw new StrataError("AuthFailure", "AWS was not able to validate the provided access credentials");
  }
  const expected = await computeSignature(request, headers, query, auth, key.secretAccessKey);
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
  secretAccessKey: string,
): Promise<string> {
  const signed = new Set(auth.signedHeaders);
  // Hand the signer exactly the client's signed headers, plus the payload hash it reads from
  // x-amz-content-sha256 (left out of the canonical headers unless the client signed it).
  const signerHeaders: Record<string, string> = { [CONTENT_SHA256]: payloadHash(request, headers, auth) };
  for (const name of signed) {
    const value = headers.get(name);
    if (value === undefined) {
      throw new StrataError(
        "SignatureDoesNotMatch",
        `SignedHeaders lists '${name}', which the request lacks.`,
      );
    }
    signerHeaders[name] = value;
  }
  const unsignable = new Set([CONTENT_SHA256, "x-amz-date"].filter((h) => !signed.has(h)));
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey },
    region: auth.region,
    service: auth.service,
    sha256,
    // S3 signs the path as sent; every other service URI-encodes it once more.
    uriEscapePath: auth.service !== "s3",
    applyChecksum: false,
  });
  const httpRequest = new HttpRequest({
    method: request.method.toUpperCase(),
    path: request.path,
    query,
    headers: signerHeaders,
  });
  const options = { signingDate: auth.signingDate, signableHeaders: signed, unsignableHeaders: unsignable };
  if (auth.presigned) {
    const presigned = await signer.presign(httpRequest, {
      ...options,
      expiresIn: auth.expiresInSeconds,
      // Whatever the client hoisted into the query is there already; hoist nothing more.
      unhoistableHeaders: new Set(Object.keys(signerHeaders)),
    });
    return String(presigned.query?.["X-Amz-Signature"]);
  }
  const signedRequest = await signer.sign(httpRequest, options);
  return /Signature=([0-9a-f]{64})$/.exec(String(signedRequest.headers.authorization))![1];
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

function bodySha256(body: Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

function lowercaseHeaders(headers: SignedRequest["headers"]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const joined = Array.isArray(value) ? value.join(",") : value;
    out.set(lower, out.has(lower) ? `${out.get(lower)},${joined}` : joined);
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
    const prev = out[name];
    out[name] = prev === undefined ? value : [prev, value].flat();
  }
  return out;
}
