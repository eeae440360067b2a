// Runs EC2 fuzz cases against the harness's daemon and applies the oracle to each answer.

import { applyTamper } from "./auth-tamper.ts";
import { describeCase, type Ec2Case } from "./ec2-cases.ts";
import type { Param } from "./ec2-values.ts";
import type { Harness } from "./harness.ts";
import { checkEc2Reply } from "./oracle.ts";
import { encodeParams, type Reply, type SignedRequest, send, sign } from "./wire.ts";

export interface CaseResult {
  reply?: Reply;
  /** The error code, or "200". */
  outcome: string;
  failures: string[];
}

// A URL longer than Node's header limit (16 KiB) is refused by the HTTP parser before any
// handler runs; GET cases stay well under it.
const MAX_GET_QUERY = 8 * 1024;

export function buildEc2Request(h: Harness, c: Ec2Case) {
  const resolve = (s: string) => h.pool.resolve(s);
  let inQuery: Param[] = [];
  let inBody: Param[] = c.params;
  if (c.transport !== "post" && c.params.every(([, v]) => typeof v === "string")) {
    const split = c.transport === "get" ? c.params.length : Math.ceil(c.params.length / 2);
    const query = encodeParams(c.params.slice(0, split), resolve);
    if (query.length < MAX_GET_QUERY) {
      inQuery = c.params.slice(0, split);
      inBody = c.params.slice(split);
    }
  }
  const query = inQuery.length ? encodeParams(inQuery, resolve) : undefined;
  const body = inQuery.length && inBody.length === 0 ? undefined : encodeParams(inBody, resolve);
  return {
    url: h.daemon.url,
    method: body === undefined ? "GET" : "POST",
    path: "/",
    query,
    headers: (body === undefined
      ? {}
      : { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }) as Record<string, string>,
    body,
    credentials: c.caller === "a" ? h.admin : h.bob,
    region: c.region,
    service: "ec2",
  };
}

/** Signed, then damaged if the case says so. */
async function signCase(h: Harness, c: Ec2Case): Promise<SignedRequest> {
  const request = await sign(buildEc2Request(h, c));
  if (c.auth) applyTamper(request, c.auth);
  return request;
}

export async function runEc2Case(h: Harness, c: Ec2Case): Promise<CaseResult> {
  const r = await signCase(h, c);
  const reply = await send(r.url, r.method, r.path, r.headers, r.body).catch((e: Error) => e);
  const { failures } = await checkState(h, c, reply);
  return judge(h, reply, failures);
}

/**
 * Cases `from` to `to` in order, one request at a time, with the next request built and signed
 * while the daemon works on the current one. `onResult` returns false to stop.
 */
export async function runEc2Cases(
  h: Harness,
  make: (index: number) => Ec2Case,
  from: number,
  to: number,
  onResult: (c: Ec2Case, r: CaseResult) => boolean,
): Promise<void> {
  const prepare = async (i: number) => {
    const c = make(i);
    return { c, request: await signCase(h, c) };
  };
  const start = (r: SignedRequest) => send(r.url, r.method, r.path, r.headers, r.body).catch((e: Error) => e);
  if (to < from) return;
  let current = await prepare(from);
  let inflight = start(current.request);
  let next = from < to ? prepare(from + 1) : undefined;
  for (let i = from; ; i++) {
    const reply = await inflight;
    // The state is checked before the next request goes out, so any change is this one's.
    const { failures, poolChanged } = await checkState(h, current.c, reply);
    const done = current.c;
    const more = next !== undefined;
    if (next) {
      // Pool ids the next request was built with may be gone: build it again with the new ones.
      current = poolChanged ? await prepare(i + 1) : await next;
      inflight = start(current.request);
      next = i + 2 <= to ? prepare(i + 2) : undefined;
    }
    if (!onResult(done, judge(h, reply, failures))) {
      if (more) await inflight;
      return;
    }
    if (!more) return;
  }
}

const DESTRUCTIVE = /^(Delete|Deregister|Terminate|Reset|Modify|Disable)/;

/** No state change on an error; after a success, the rules of invariants.ts and a full pool. */
async function checkState(
  h: Harness,
  c: Ec2Case,
  reply: Reply | Error,
): Promise<{ failures: string[]; poolChanged: boolean }> {
  const failures: string[] = [];
  let poolChanged = false;
  if (reply instanceof Error || reply.status !== 200) {
    if (!h.state.unchanged()) failures.push("the state changed, yet the answer was an error");
  } else {
    failures.push(...(await h.state.settle()));
    // A delete or a change may have consumed a pool resource: make it again for later cases.
    if (DESTRUCTIVE.test(c.action) && (await h.pool.ensure()) > 0) {
      poolChanged = true;
      failures.push(...(await h.state.settle()));
    }
  }
  return { failures, poolChanged };
}

/** The answer itself, and what the daemon logged meanwhile. */
function judge(h: Harness, reply: Reply | Error, failures: string[]): CaseResult {
  if (reply instanceof Error)
    return { outcome: "no answer", failures: [`no answer: ${reply.message}`, ...failures] };
  const verdict = checkEc2Reply(reply);
  if (!verdict.ok) failures.unshift(verdict.why);
  const died = h.died();
  if (died) failures.push(died);
  const stderr = h.takeStderr();
  if (stderr.length) failures.push(`daemon stderr (during this case or just before): ${stderr.join("\n")}`);
  return { reply, outcome: verdict.ok ? (verdict.error ?? "200") : "FAIL", failures };
}

export function failureReport(seed: string, h: Harness, c: Ec2Case, r: CaseResult): string {
  const answer = r.reply
    ? `HTTP ${r.reply.status} ${h.pool.symbolize(r.reply.body.toString("utf8").slice(0, 400))}`
    : "";
  return `${describeCase(seed, c)}\n  ${r.failures.join("\n  ")}\n  answer: ${answer}\n  replay: bin/node test/fuzz/replay.ts ec2 --seed ${JSON.stringify(seed)} --index ${c.index}`;
}
