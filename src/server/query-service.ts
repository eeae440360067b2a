// The AWS services other than EC2 that Strata answers on its one endpoint (STS, IAM): Query
// protocol, POST / (or GET) with Action and Version, told apart from EC2 by the service the request
// is signed for. One path for all of them: the signature is verified exactly as for EC2 (headers
// before the body is read, then the body's own hash), and every error is the service's own
// ErrorResponse, with the codes these services use where EC2 says AuthFailure.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccountStore } from "../accounts/account-store.ts";
import { checkSignatureHeaders, verifySigV4 } from "../api/auth/verify-sigv4.ts";
import { StrataError } from "../errors.ts";

const MAX_BODY = 64 * 1024;

export interface QueryServiceDeps {
  accounts: AccountStore;
}

export interface QueryCall {
  /** The verified caller's account. */
  accountId: string;
  /** Query string and form body together. */
  params: URLSearchParams;
  requestId: string;
}

export interface QueryService {
  /** The signing name (credential scope) and the log's prefix: `sts`, `iam`. */
  signingName: string;
  /** For messages: "STS", "IAM". */
  title: string;
  version: string;
  /** Each action Strata has, answering the XML of a successful call (throws StrataError). */
  actions: Record<string, (call: QueryCall, deps: QueryServiceDeps) => Promise<string> | string>;
  errorXml(status: number, code: string, message: string, requestId: string): string;
}

export interface QueryOutcome {
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
 * Whether a request to `/` is `service`'s: signed for it, or unsigned and naming one of its actions
 * in the query string (an unsigned POST's action is in a body not yet read; it gets EC2's
 * AuthFailure).
 */
export function isRequestFor(service: QueryService, req: IncomingMessage): boolean {
  const query = new URL(req.url ?? "/", "http://strata").searchParams;
  const signed = signedService(req, query);
  if (signed !== undefined) return signed === service.signingName;
  return Object.hasOwn(service.actions, query.get("Action") ?? "");
}

export async function handleQueryService(
  service: QueryService,
  deps: QueryServiceDeps,
  req: IncomingMessage,
  res: ServerResponse,
  readBody: () => Promise<Buffer>,
): Promise<QueryOutcome> {
  const requestId = randomUUID();
  const rawUrl = req.url ?? "/";
  const query = new URL(rawUrl, "http://strata").searchParams;
  const outcome: QueryOutcome = { action: query.get("Action") ?? "-", accountId: "-", status: 200 };
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
    await checkSignatureHeaders(signed, lookup).catch(authError);
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
      authError,
    );
    outcome.accountId = caller.accountId;
    const params = new URLSearchParams(query);
    if ((req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      for (const [k, v] of new URLSearchParams(body.toString("utf8"))) params.append(k, v);
    }
    const action = params.get("Action");
    outcome.action = action ?? "-";
    if (!action) throw new StrataError("MissingAction", "The request must contain the parameter Action");
    const handler = Object.hasOwn(service.actions, action) ? service.actions[action] : undefined;
    if (!handler || params.get("Version") !== service.version) {
      throw new StrataError(
        "InvalidAction",
        `Could not find operation ${action} for version ${params.get("Version") ?? "(none)"}: Strata's ${service.title} has ${Object.keys(service.actions).join(", ")}, version ${service.version}.`,
      );
    }
    const xml = await handler({ accountId: caller.accountId, params, requestId }, deps);
    send(res, 200, xml, requestId);
  } catch (e) {
    const err =
      e instanceof StrataError ? e : new StrataError("InternalError", "An internal error has occurred.");
    if (!(e instanceof StrataError)) console.error(`request ${requestId}:`, e);
    outcome.status = err.status;
    if (body === undefined) req.resume();
    send(res, err.status, service.errorXml(err.status, err.code, err.message, requestId), requestId);
  }
  return outcome;
}

/** EC2's AuthFailure for an unknown access key is InvalidClientTokenId for STS and IAM. */
function authError(e: unknown): never {
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
