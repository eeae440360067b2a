// Runs EBS direct API fuzz cases against the harness's daemon and applies the oracle.
import { createHash } from "node:crypto";
import { blockBytes, describeEbsCase, type EbsCase } from "./ebs-cases.ts";
import type { Harness } from "./harness.ts";
import { checkEbsReply, checkEc2Reply } from "./oracle.ts";
import { type Reply, signedCall } from "./wire.ts";

export interface EbsResult {
  reply?: Reply;
  outcome: string;
  failures: string[];
}

export async function runEbsCase(h: Harness, c: EbsCase): Promise<EbsResult> {
  const failures: string[] = [];
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.headers)) headers[k] = h.pool.resolve(v);
  const path = h.pool.resolve(c.path, encodeURIComponent);
  let reply: Reply;
  try {
    reply = await signedCall({
      url: h.daemon.url,
      method: c.method,
      path,
      query: h.pool.resolve(c.query, encodeURIComponent) || undefined,
      headers,
      body: c.block ? blockBytes(c.block) : c.json !== undefined ? h.pool.resolve(c.json) : undefined,
      credentials: c.caller === "a" ? h.admin : h.bob,
      region: c.region,
      service: c.service,
    });
  } catch (e) {
    return { outcome: "no answer", failures: [`no answer: ${(e as Error).message}`] };
  }
  // A mutated path may leave the EBS API: every other path on the TCP port is the EC2 endpoint's
  // (an unknown one answers EC2's InvalidAction; the admin API is on the unix socket only).
  const ebsPath = path === "/snapshots" || path.startsWith("/snapshots/");
  const verdict = ebsPath ? checkEbsReply(reply) : checkEc2Reply(reply);
  if (!verdict.ok) failures.push(verdict.why);
  else if (reply.status === 200) failures.push(...checkContent(c, reply));
  const died = h.died();
  if (died) failures.push(died);
  const stderr = h.takeStderr();
  if (stderr.length) failures.push(`daemon stderr (during this case or just before): ${stderr.join("\n")}`);
  if (reply.status >= 300) {
    if (!h.state.unchanged()) failures.push("the state changed, yet the answer was an error");
  } else {
    failures.push(...(await h.state.settle()));
    if ((await h.pool.ensure()) > 0) failures.push(...(await h.state.settle()));
  }
  return { reply, outcome: verdict.ok ? (verdict.error ?? String(reply.status)) : "FAIL", failures };
}

/** A block must be the one its checksum names; listings must be JSON. */
function checkContent(c: EbsCase, reply: Reply): string[] {
  if (c.method !== "GET") return [];
  const type = reply.headers["content-type"];
  if (type === "application/octet-stream") {
    const out: string[] = [];
    const checksum = createHash("sha256").update(reply.body).digest("base64");
    if (checksum !== reply.headers["x-amz-checksum"])
      out.push(`block data does not hash to its x-amz-Checksum`);
    if (String(reply.body.length) !== reply.headers["x-amz-data-length"])
      out.push("x-amz-Data-Length is wrong");
    return out;
  }
  try {
    JSON.parse(reply.body.toString("utf8"));
    return [];
  } catch {
    return [`200 with a body that is not JSON: ${reply.body.toString("utf8").slice(0, 200)}`];
  }
}

export function ebsFailureReport(seed: string, h: Harness, c: EbsCase, r: EbsResult): string {
  const answer = r.reply
    ? `HTTP ${r.reply.status} ${r.reply.headers["x-amzn-errortype"] ?? ""} ${h.pool.symbolize(r.reply.body.toString("utf8").slice(0, 300))}`
    : "";
  return `${describeEbsCase(seed, c)}\n  ${r.failures.join("\n  ")}\n  answer: ${answer}\n  replay: bin/node test/fuzz/replay.ts ebs --seed ${JSON.stringify(seed)} --index ${c.index}`;
}
