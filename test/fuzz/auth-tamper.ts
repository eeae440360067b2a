// Broken signatures: a signed request whose Authorization header, X-Amz-Date, payload hash or
// presigned query is damaged after signing. verifySigV4 runs before anything else, for anyone:
// each must get AuthFailure, IncompleteSignature, SignatureDoesNotMatch or RequestExpired.
import type { Prng } from "./prng.ts";
import type { SignedRequest } from "./wire.ts";

/** What to damage, chosen when the case is generated (so a replay damages the same way). */
export interface AuthTamper {
  kind: string;
  /** Kind-specific: a position, a replacement, a count. */
  value: string;
}

const CREDENTIALS = [
  "AKIAXXXXXXXXXXXXXXXX/20240101/us-east-1/ec2/aws4_request",
  "/20240101/us-east-1/ec2/aws4_request",
  "KEY/2024/us-east-1/ec2/aws4_request",
  "KEY/20240101/us-east-1/ec2",
  "KEY/20240101//ec2/aws4_request",
  "KEY/20240101/us-east-1/ec2/aws4_request/extra",
  "KEY/20240101/us-east-1/ec2/AWS4_REQUEST",
  "a/b/c/d/e",
];
const SIGNED_HEADERS = [
  "",
  ";",
  "host;;x-amz-date",
  "HOST;X-AMZ-DATE",
  "x-amz-date",
  "host;x-nope",
  "host;content-length;x-amz-date",
  Array.from({ length: 2000 }, (_, i) => `h${i}`).join(";"),
];
const DATES = [
  "20240230T000000Z",
  "2024-01-01T00:00:00Z",
  "20240101T246000Z",
  "99991231T235959Z",
  "00000101T000000Z",
  "",
  "20240101t000000z",
];

export function pickTamper(r: Prng): AuthTamper {
  const kind = r.pick([
    "dropAuthorization",
    "dropDate",
    "algorithm",
    "truncate",
    "credential",
    "signedHeaders",
    "signature",
    "duplicate",
    "date",
    "token",
    "contentSha",
    "presignToo",
    "presignOnly",
  ]);
  const value =
    kind === "algorithm"
      ? r.pick([
          "AWS4-HMAC-SHA1",
          "aws4-hmac-sha256",
          "",
          "AWS4-ECDSA-P256-SHA256",
          "AWS4-HMAC-SHA256 AWS4-HMAC-SHA256",
        ])
      : kind === "truncate"
        ? String(r.int(0, 200))
        : kind === "credential"
          ? r.pick(CREDENTIALS)
          : kind === "signedHeaders"
            ? r.pick(SIGNED_HEADERS)
            : kind === "signature"
              ? r.pick(["0".repeat(63), "g".repeat(64), "", "0".repeat(65), "A".repeat(64)])
              : kind === "date"
                ? r.pick(DATES)
                : kind === "contentSha"
                  ? r.pick(["UNSIGNED-PAYLOAD", "0".repeat(64), "xyz", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
                  : kind === "presignOnly"
                    ? r.pick(["0", "604801", "-1", "1e3", "60", ""])
                    : "";
  return { kind, value };
}

const replaceComponent = (auth: string, name: string, value: string) =>
  auth.replace(new RegExp(`${name}=[^,]*`), `${name}=${value}`);

/** Damages a signed request in place. */
export function applyTamper(req: SignedRequest, t: AuthTamper): void {
  const h = req.headers;
  const auth = h.authorization ?? "";
  switch (t.kind) {
    case "dropAuthorization":
      delete h.authorization;
      return;
    case "dropDate":
      delete h["x-amz-date"];
      return;
    case "algorithm":
      h.authorization = auth.replace(/^\S+/, t.value);
      return;
    case "truncate":
      h.authorization = auth.slice(0, Number(t.value));
      return;
    case "credential":
      h.authorization = replaceComponent(auth, "Credential", t.value);
      return;
    case "signedHeaders":
      h.authorization = replaceComponent(auth, "SignedHeaders", t.value);
      return;
    case "signature":
      h.authorization = replaceComponent(auth, "Signature", t.value);
      return;
    case "duplicate":
      h.authorization = `${auth}, ${auth.slice(auth.indexOf(" ") + 1)}`;
      return;
    case "date":
      h["x-amz-date"] = t.value;
      return;
    case "token":
      h["x-amz-security-token"] = "FQoGZXIvYXdzE";
      return;
    case "contentSha":
      h["x-amz-content-sha256"] = t.value;
      return;
    case "presignToo":
    case "presignOnly": {
      // The header's parts as X-Amz-* query parameters (the signature no longer fits the request).
      const credential = /Credential=([^,]*)/.exec(auth)?.[1] ?? "";
      const signed = /SignedHeaders=([^,]*)/.exec(auth)?.[1] ?? "";
      const signature = /Signature=([^,]*)/.exec(auth)?.[1] ?? "";
      const q = new URLSearchParams({
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": credential,
        "X-Amz-Date": h["x-amz-date"] ?? "",
        "X-Amz-Expires": t.kind === "presignOnly" ? t.value : "300",
        "X-Amz-SignedHeaders": signed,
        "X-Amz-Signature": signature,
      });
      req.path += `${req.path.includes("?") ? "&" : "?"}${q}`;
      if (t.kind === "presignOnly") delete h.authorization;
      return;
    }
  }
}
