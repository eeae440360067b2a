// The EC2 Query API endpoint: SigV4 -> model-driven parsing -> typed handler -> model-driven XML.
// Every failure is an EC2 error document with the EC2 code; nothing unexpected escapes as a 500
// without being logged as InternalError.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccountStore } from "../accounts/account-store.ts";
import { checkSignatureHeaders, verifySigV4 } from "../api/auth/verify-sigv4.ts";
import { actions } from "../api/ec2/actions/index.ts";
import type { RequestContext } from "../api/ec2/context.ts";
import { hasOperation } from "../api/protocol/ec2-model.ts";
import { parseEc2Request } from "../api/protocol/query-parser.ts";
import { serializeEc2Error, serializeEc2Response } from "../api/protocol/xml-serializer.ts";
import { StrataError } from "../errors.ts";
import type { Engine } from "../services/engine.ts";
import { OnAnotherHost } from "../services/hosts/on-another-host.ts";
import { OnSeveralHosts } from "../services/hosts/on-several-hosts.ts";
import { forward, forwardedBy, mayForward } from "./forward.ts";
import { splitAcrossHosts } from "./split-across-hosts.ts";

const MAX_BODY = 1024 * 1024;

export interface Ec2Deps {
  engine: Engine;
  accounts: AccountStore;
}

export interface Ec2Outcome {
  action: string;
  accountId: string;
  region: string;
  status: number;
}

export async function handleEc2(
  deps: Ec2Deps,
  req: IncomingMessage,
  res: ServerResponse,
  readBody: () => Promise<Buffer>,
): Promise<Ec2Outcome> {
  const requestId = randomUUID();
  const rawUrl = req.url ?? "/";
  const query = new URL(rawUrl, "http://strata").searchParams;
  const outcome: Ec2Outcome = {
    action: query.get("Action") ?? "-",
    accountId: "-",
    region: "-",
    status: 200,
  };
  let body: Buffer | undefined;
  try {
    const lookup = (key: string) => deps.accounts.lookupAccessKey(key);
    const signed = {
      method: req.method ?? "GET",
      path: rawUrl.split("?")[0],
      query,
      headers: req.headersDistinct,
    };
    await checkSignatureHeaders(signed, lookup);
    body = await readBody().catch(() => undefined);
    if (body === undefined) {
      // The client went away mid-body: nobody to answer, nothing to log.
      res.destroy();
      outcome.status = 0;
      return outcome;
    }
    if (body.byteLength > MAX_BODY) {
      throw new StrataError("InvalidParameterValue", `The request body exceeds ${MAX_BODY} bytes`);
    }
    const caller = await verifySigV4(
      { ...signed, body },
      lookup,
      new Date(),
      // The action and its parameters are in the body: a signature that does not cover it could
      // be replayed with another action (EC2 always hashes the body it receives).
      { signedPayload: true },
    );
    outcome.accountId = caller.accountId;
    outcome.region = caller.region;
    if (caller.service !== "ec2") {
      throw new StrataError(
        "SignatureDoesNotMatch",
        `Credential should be scoped to correct service: 'ec2'.`,
      );
    }
    const params = new URLSearchParams(query);
    if (isForm(req)) for (const [k, v] of new URLSearchParams(body.toString("utf8"))) params.append(k, v);
    outcome.action = params.get("Action") ?? "-";
    const region = deps.engine.region(caller.region);
    const { action, input } = parseEc2Request(params);
    const handler = actions[action];
    if (!handler) {
      throw hasOperation(action)
        ? new StrataError("UnsupportedOperation", `The action ${action} is not supported by Strata.`)
        : new StrataError("InvalidAction", `The action ${action} is not valid for this web service.`);
    }
    const ctx: RequestContext = {
      accountId: caller.accountId,
      regionName: region.name,
      region,
      engine: deps.engine,
      accounts: deps.accounts,
      requestId,
      host: req.headers.host ?? "",
    };
    const output = await handler(ctx, input as never).catch(async (e) => {
      if (!(e instanceof OnSeveralHosts) || !mayForward(req)) throw e;
      outcome.action += ` (split across ${e.remote.map((g) => g.hostId).join(", ")})`;
      const key = await deps.accounts.lookupAccessKey(caller.accessKeyId);
      if (!key) throw e;
      return splitAcrossHosts(e, {
        action,
        input: input as { InstanceIds: string[] },
        runLocal: async (part) => (await handler(ctx, part as never)) as object,
        caller: { ...key, accessKeyId: caller.accessKeyId, region: caller.region },
        forwardedBy: forwardedBy(req, deps.engine.hostId),
      });
    });
    send(res, 200, serializeEc2Response(action, output as object, requestId), requestId);
  } catch (caught) {
    let e = caught;
    if (e instanceof OnAnotherHost && body !== undefined && mayForward(req) && !res.headersSent) {
      try {
        outcome.status = await forward(req, body, e.url, deps.engine.hostId, res);
        outcome.action += ` (forwarded to ${e.hostId})`;
        return outcome;
      } catch (f) {
        if (res.headersSent) {
          res.destroy();
          return outcome;
        }
        e = f;
      }
    }
    const err =
      e instanceof StrataError ? e : new StrataError("InternalError", "An internal error has occurred.");
    if (!(e instanceof StrataError)) console.error(`request ${requestId}:`, e);
    outcome.status = err.status;
    // Refused before its body was read: what follows is read and thrown away, never buffered (a
    // client still sending must get to the answer, not a reset connection).
    if (body === undefined) req.resume();
    send(res, err.status, serializeEc2Error(err.code, err.message, requestId), requestId);
  }
  return outcome;
}

/** An EC2 error document for a request refused before any handler (Host, Origin, unknown path). */
export function sendEc2Error(res: ServerResponse, err: StrataError): void {
  const requestId = randomUUID();
  send(res, err.status, serializeEc2Error(err.code, err.message, requestId), requestId);
}

function isForm(req: IncomingMessage): boolean {
  return (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
}

function send(res: ServerResponse, status: number, xml: string, requestId: string): void {
  // The SDK reads $metadata.requestId from this header, not from the body.
  res.writeHead(status, {
    "content-type": "text/xml;charset=UTF-8",
    "content-length": Buffer.byteLength(xml),
    "x-amzn-requestid": requestId,
  });
  res.end(xml);
}
