import assert from "node:assert/strict";
import { test } from "node:test";
import { isStrataError } from "../../errors.ts";
import { parseAmzDate, parseSigV4, toAmzDate } from "./parse-sigv4.ts";

const SIG = "a".repeat(64);
const CREDENTIAL = "AKIAAAAAAAAAAAAAAAAA/20250102/us-west-2/ec2/aws4_request";

function headers(authorization: string | undefined, amzDate: string | undefined = "20250102T030405Z") {
  const h = new Map<string, string>([["host", "127.0.0.1:4566"]]);
  if (authorization !== undefined) h.set("authorization", authorization);
  if (amzDate !== undefined) h.set("x-amz-date", amzDate);
  return h;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isStrataError(e)) return e.code;
    throw e;
  }
  return undefined;
}

test("X-Amz-Date round-trips and impossible dates are rejected", () => {
  assert.equal(parseAmzDate("20250102T030405Z")?.toISOString(), "2025-01-02T03:04:05.000Z");
  assert.equal(toAmzDate(new Date("2025-01-02T03:04:05.678Z")), "20250102T030405Z");
  for (const bad of ["20251302T000000Z", "20250230T000000Z", "2025-01-02T03:04:05Z", "20250102T030405", ""]) {
    assert.equal(parseAmzDate(bad), undefined, bad);
  }
});

test("X-Amz-Date is accepted exactly when it formats back to itself", () => {
  const edges = ["0000", "0099", "0100", "1970", "2024", "2025", "2100", "9999"].flatMap((y) =>
    ["0101", "0229", "0230", "0431", "1231", "1301", "0001", "0100"].flatMap((md) =>
      ["000000", "235959", "240000", "236000", "235960"].map((t) => `${y}${md}T${t}Z`),
    ),
  );
  for (const value of edges) {
    const date = parseAmzDate(value);
    // The definition it replaced: parse, then format back and compare.
    const expected = (() => {
      const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)!;
      const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
      return toAmzDate(d) === value ? d : undefined;
    })();
    assert.deepEqual(date, expected, value);
  }
  assert.ok(parseAmzDate("20240229T235959Z"));
  assert.equal(parseAmzDate("20250229T000000Z"), undefined);
  assert.equal(parseAmzDate("00990101T000000Z"), undefined, "Date.UTC reads year 99 as 1999");
});

test("an Authorization header parses into key, scope, signed headers and signature", () => {
  const auth = parseSigV4(
    headers(`AWS4-HMAC-SHA256 Credential=${CREDENTIAL}, SignedHeaders=host;x-amz-date, Signature=${SIG}`),
    {},
  );
  assert.deepEqual(
    { ...auth, signingDate: auth.signingDate.toISOString() },
    {
      presigned: false,
      accessKeyId: "AKIAAAAAAAAAAAAAAAAA",
      amzDate: "20250102T030405Z",
      signingDate: "2025-01-02T03:04:05.000Z",
      region: "us-west-2",
      service: "ec2",
      signedHeaders: ["host", "x-amz-date"],
      signature: SIG,
    },
  );
  // No space after the commas is accepted too.
  const tight = parseSigV4(
    headers(`AWS4-HMAC-SHA256 Credential=${CREDENTIAL},SignedHeaders=host,Signature=${SIG}`),
    {},
  );
  assert.deepEqual(tight.signedHeaders, ["host"]);
});

test("an unsigned request is AuthFailure; a malformed signature is IncompleteSignature", () => {
  assert.equal(
    code(() => parseSigV4(headers(undefined), {})),
    "AuthFailure",
  );
  const ok = `Credential=${CREDENTIAL}, SignedHeaders=host;x-amz-date, Signature=${SIG}`;
  const cases: [string, string | undefined][] = [
    [`AWS4-HMAC-SHA512 ${ok}`, undefined],
    [`AWS AKIAAAAAAAAAAAAAAAAA:c2lnbmF0dXJl`, undefined],
    [`AWS4-HMAC-SHA256 SignedHeaders=host, Signature=${SIG}`, undefined],
    [`AWS4-HMAC-SHA256 Credential=${CREDENTIAL}, Signature=${SIG}`, undefined],
    [`AWS4-HMAC-SHA256 Credential=${CREDENTIAL}, SignedHeaders=host`, undefined],
    [
      `AWS4-HMAC-SHA256 Credential=AKIAAAAAAAAAAAAAAAAA/20250102/us-west-2/ec2, SignedHeaders=host, Signature=${SIG}`,
      undefined,
    ],
    [`AWS4-HMAC-SHA256 Credential=${CREDENTIAL}, SignedHeaders=x-amz-date, Signature=${SIG}`, undefined],
    [`AWS4-HMAC-SHA256 Credential=${CREDENTIAL}, SignedHeaders=host, Signature=xyz`, undefined],
    [`AWS4-HMAC-SHA256 ${ok}`, "not-a-date"],
  ];
  for (const [authorization, amzDate] of cases) {
    assert.equal(
      code(() => parseSigV4(headers(authorization, amzDate), {})),
      "IncompleteSignature",
      authorization,
    );
  }
  assert.equal(
    code(() => parseSigV4(headers(`AWS4-HMAC-SHA256 ${ok}`), {})),
    undefined,
    "the valid one parses",
  );
  const noDate = new Map([
    ["host", "h"],
    ["authorization", `AWS4-HMAC-SHA256 ${ok}`],
  ]);
  assert.equal(
    code(() => parseSigV4(noDate, {})),
    "IncompleteSignature",
  );
  // The scope's date must be the date of X-Amz-Date.
  assert.equal(
    code(() => parseSigV4(headers(`AWS4-HMAC-SHA256 ${ok}`, "20250103T000000Z"), {})),
    "SignatureDoesNotMatch",
  );
});

test("presigned query parameters parse; missing ones, a bad X-Amz-Expires or two mechanisms do not", () => {
  const query = {
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": CREDENTIAL,
    "X-Amz-Date": "20250102T030405Z",
    "X-Amz-Expires": "300",
    "X-Amz-SignedHeaders": "host",
    "X-Amz-Signature": SIG,
  };
  const auth = parseSigV4(new Map([["host", "h"]]), query);
  assert.equal(auth.presigned, true);
  assert.equal(auth.expiresInSeconds, 300);
  const { "X-Amz-Expires": _, ...noExpires } = query;
  for (const q of [noExpires, { ...query, "X-Amz-Expires": "604801" }, { ...query, "X-Amz-Expires": "-1" }]) {
    assert.equal(
      code(() => parseSigV4(new Map([["host", "h"]]), q)),
      "IncompleteSignature",
    );
  }
  const both = new Map([
    ["host", "h"],
    ["authorization", `AWS4-HMAC-SHA256 Credential=${CREDENTIAL}, SignedHeaders=host, Signature=${SIG}`],
  ]);
  assert.equal(
    code(() => parseSigV4(both, query)),
    "IncompleteSignature",
  );
  assert.equal(
    code(() => parseSigV4(new Map([["host", "h"]]), { ...query, "X-Amz-Security-Token": "t" })),
    "AuthFailure",
  );
});
