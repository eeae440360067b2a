// Runs EC2 fuzz cases against the harness's daemon and applies the oracle to each answer.
import { describeCase, type Ec2Case } from "./ec2-cases.ts";
import type { Param } from "./ec2-values.ts";
import type { Harness } from "./harness.ts";
import { checkEc2Reply } from "./oracle.ts";
import { encodeParams, type Reply, signedCall } from "./wire.ts";

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

const DESTRUCTIVE = /^(Delete|Deregister|Terminate|Reset|Modify|Disable)/;

export async function runEc2Case(h: Harness, c: Ec2Case): Promise<CaseResult> {
  const failures: string[] = [];
  let reply: Reply;
  try {
    reply = await signedCall(buildEc2Request(h, c));
  } catch (e) {
    return { outcome: "no answer", failures: [`no answer: ${(e as Error).message}`] };
  }
  const verdict = checkEc2Reply(reply);
  if (!verdict.ok) failures.push(verdict.why);
  const stderr = h.takeStderr();
  if (stderr.length) failures.push(`daemon stderr (during this case or just before): ${stderr.join("\n")}`);
  if (reply.status !== 200) {
    if (!h.state.unchanged()) failures.push("the state changed, yet the answer was an error");
  } else {
    failures.push(...(await h.state.settle()));
    // A delete or a change may have consumed a pool resource: make it again for later cases.
    if (DESTRUCTIVE.test(c.action) && (await h.pool.ensure()) > 0) failures.push(...(await h.state.settle()));
  }
  return { reply, outcome: verdict.ok ? (verdict.error ?? "200") : "FAIL", failures };
}

export function failureReport(seed: string, h: Harness, c: Ec2Case, r: CaseResult): string {
  const answer = r.reply
    ? `HTTP ${r.reply.status} ${h.pool.symbolize(r.reply.body.toString("utf8").slice(0, 400))}`
    : "";
  return `${describeCase(seed, c)}\n  ${r.failures.join("\n  ")}\n  answer: ${answer}\n  replay: bin/node test/fuzz/replay.ts ec2 --seed ${JSON.stringify(seed)} --index ${c.index}`;
}
