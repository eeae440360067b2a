import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { SigV4Params } from "./parse-sigv4.ts";

export const CONTENT_SHA256 = "x-amz-content-sha256";
const sha256 = Hash.bind(null, "sha256");

/** What a signature is recomputed from, once verifySigV4 has parsed and checked the request. */
export interface SignatureInput {
  /** Uppercase. */
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** The value of every header in auth.signedHeaders, by lowercase name. */
  signedHeaders: Map<string, string>;
  /** x-amz-content-sha256 as sent (checked against the body), or the body's SHA-256. */
  payloadHash: string;
  auth: SigV4Params;
}

/** The signature @smithy/signature-v4 computes: the reference, and the route for presigned URLs. */
export async function librarySignature(input: SignatureInput, secretAccessKey: string): Promise<string> {
  const { auth } = input;
  const signed = new Set(auth.signedHeaders);
  // Hand the signer exactly the client's signed headers, plus the payload hash it reads from
  // x-amz-content-sha256 (left out of the canonical headers unless the client signed it).
  const headers: Record<string, string> = { [CONTENT_SHA256]: input.payloadHash };
  for (const [name, value] of input.signedHeaders) headers[name] = value;
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
  const request = new HttpRequest({ method: input.method, path: input.path, query: input.query, headers });
  const options = { signingDate: auth.signingDate, signableHeaders: signed, unsignableHeaders: unsignable };
  if (auth.presigned) {
    const presigned = await signer.presign(request, {
      ...options,
      expiresIn: auth.expiresInSeconds,
      // Whatever the client hoisted into the query is there already; hoist nothing more.
      unhoistableHeaders: new Set(Object.keys(headers)),
    });
    return String(presigned.query?.["X-Amz-Signature"]);
  }
  const signedRequest = await signer.sign(request, options);
  return /Signature=([0-9a-f]{64})$/.exec(String(signedRequest.headers.authorization))![1];
}
