// STS on the EC2 endpoint, for the clients that ask who they are before anything else (Packer,
// Terraform): GetCallerIdentity, Query protocol, signed for service `sts`. Every Strata account is
// its own root, so the answer is the account's root ARN. Errors have STS's shape and codes.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccountStore } from "../accounts/account-store.ts";
import { checkSignatureHeaders, verifySigV4 } from "../api/auth/verify-sigv4.ts";
import { callerIdentityXml, STS_VERSION, stsErrorXml } from "../api/sts/sts-xml.ts";
import { StrataError } from "../errors.ts";

const MAX_BODY = 64 * 1024;

export interface StsOutcome {
  action: string;
  accountId: string;
  status: number;
}

/** The service a request is signed for, read from its credential scope (not yet verified). */
function signedService(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const credential =
    /Credential=([^,\s]+)/.exec(req.headers.authorization ?? "")?.[1] ?? query.get("X-Amz-Credential");
  return credential?.split("/")[3];
}

/**
 * Requests for STS: signed for `sts`, or unsigned and asking a GET for GetCallerIdentity (an
 * unsigned POST's action is in a body not yet read; it gets EC2's AuthFailure).
 */
export function isStsRequest(req: IncomingMessage): boolean {
  const query = new URL(req.url ?? "/", "http://strata").searchParams;
  const service = signedService(req, query);
  return service === undefined ? query.get("Action") === "GetCallerIdentity" : service === "sts";
}

export async function handleSts(
  deps: { accounts: AccountStore },
  req: IncomingMessage,
  res: ServerResponse,
  readBody: () => Promise<Buffer>,
): Promise<StsOutcome> {
  const requestId = randomUUID();
  const rawUrl = req.url ?? "/";
  const query = new URL(rawUrl, "http://strata").searchParams;
  const outcome: StsOutcome = { action: query.get("Action") ?? "-", accountId: "-", status: 200 };
  let body: Buffer | undefined;
  try {
    const signed = {
      method: req.method ?? "GET",
      path: rawUrl.split("?")[0],
      query,
      headers: req.headersDistinct,
    };
    if (req.headers.authorization === undefined && !query.has("X-Amz-Signature")) {
      throw new StrataError("MissingAuthenticationToken", "Request is missing Authentication Token");
    }
    const lookup = (key: string) => deps.accounts.lookupAccessKey(key);
    await checkSignatureHeaders(signed, lookup).catch(stsAuthError);
    body = await readBody().catch(() => undefined);
    if (body === undefined) {
      res.destroy();
      outcome.status = 0;
      return outcome;
    }
    if (body.byteLength > MAX_BODY) {
      throw new StrataError("InvalidParameterValue", `The request body exceeds ${MAX_BODY} bytes`);
    }
    // The body carries the action, so the signature must cover it (as on the EC2 side).
    const caller = await verifySigV4({ ...signed, body }, lookup, new Date(), { signedPayload: true }).catch(
      stsAuthError,
    );
    outcome.accountId = caller.accountId;
    const params = new URLSearchParams(query);
    if ((req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      for (const [k, v] of new URLSearchParams(body.toString("utf8"))) params.append(k, v);
    }
    const action = params.get("Action");
    outcome.action = action ?? "-";
    if (!action) throw new StrataError("MissingAction", "The request must contain the parameter Action");
    if (action !== "GetCallerIdentity" || params.get("Version") !== STS_VERSION) {
      throw new StrataError(
        "InvalidAction",
        `Could not find operation ${action} for version ${params.get("Version") ?? "(none)"}: Strata's STS has GetCallerIdentity, version ${STS_VERSION}.`,
      );
    }
    const id = {
      account: caller.accountId,
      arn: `arn:aws:iam::${caller.accountId}:root`,
      userId: caller.accountId,
    };
    send(res, 200, callerIdentityXml(id, requestId), requestId);
  } catch (e) {
    const err =
      e instanceof StrataError ? e : new StrataError("InternalError", "An internal error has occurred.");
    if (!(e instanceof StrataError)) console.error(`request ${requestId}:`, e);
    outcome.status = err.status;
    if (body === undefined) req.resume();
    send(res, err.status, stsErrorXml(err.status, err.code, err.message, requestId), requestId);
  }
  return outcome;
}

/** EC2's AuthFailure for an unknown access key is STS's InvalidClientTokenId. */
function stsAuthError(e: unknown): never {
  if (e instanceof StrataError && e.code === "AuthFailure") {
    throw new StrataError("InvalidClientTokenId", "The security token included in the request is invalid.");
  }
  throw e;
}

function send(res: ServerResponse, status: number, xml: string, requestId: string): void {
  res.writeHead(status, {
    "content-type": "text/xml",
    "content-length": Buffer.byteLength(xml),
    "x-amzn-requestid": requestId,
  });
  res.end(xml);
}
