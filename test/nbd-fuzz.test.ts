// Fuzzing of the NBD server at unit level (in-memory exports, as src/compute/nbd's tests do): a
// connection per case with generated handshakes and requests (see test/fuzz/nbd-cases.ts). Every
// answer is the one the protocol calls for, the exports hold exactly what the model wrote, and a
// connection opened before the run keeps being served throughout. STRATA_FUZZ_SEED /
// STRATA_FUZZ_NBD_COUNT set the run; a failure prints the case's steps and how to replay it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { RawClient, startServer } from "../src/compute/nbd/test-tools.ts";
import { describeNbdCase, type Exported, fuzzExports, generateNbdCase } from "./fuzz/nbd-cases.ts";
import { runNbdCase } from "./fuzz/nbd-model.ts";
import { Prng } from "./fuzz/prng.ts";
import { fuzzSeed, nbdCount } from "./fuzz/settings.ts";

let s: Awaited<ReturnType<typeof startServer>>;
let exports: Map<string, Exported>;

before(async () => {
  exports = fuzzExports();
  s = await startServer((name) => exports.get(name)?.exp);
});
after(() => s.stop());

test(`${nbdCount} fuzzed NBD connections (seed ${fuzzSeed})`, async () => {
  const vol = exports.get("vol")!;
  // Opened before the first case and used after every one: the server must keep serving it.
  const canary = await RawClient.connect(s.socket);
  await canary.go("vol");
  const failures: string[] = [];
  const started = performance.now();
  for (let i = 0; i < nbdCount; i++) {
    const c = generateNbdCase(fuzzSeed, i);
    const problems = await runNbdCase(s.socket, exports, c);
    const r = Prng.forCase(fuzzSeed, "nbd-canary", i);
    const offset = r.int(0, vol.mirror.length - 4096);
    canary.request(0, i, offset, 4096);
    const reply = await canary.reply(4096);
    if (
      reply.error !== 0 ||
      reply.cookie !== i ||
      !reply.data.equals(vol.mirror.subarray(offset, offset + 4096))
    )
      problems.push(`the canary connection's READ at ${offset} was not answered with the export's bytes`);
    if (problems.length)
      failures.push(
        `${describeNbdCase(fuzzSeed, c)}\n  ${problems.join("\n  ")}\n  replay: bin/node test/fuzz/replay.ts nbd --seed ${JSON.stringify(fuzzSeed)} --index ${i}`,
      );
    if (failures.length >= 10) break;
    // A failure leaves the exports off the model: start the next case from the real content.
    if (problems.length) for (const e of exports.values()) e.exp.data.copy(e.mirror);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`nbd fuzz: seed=${fuzzSeed} ${nbdCount} connections in ${seconds.toFixed(1)} s`);
  canary.socket.end();
  assert.equal(failures.length, 0, `\n${failures.join("\n\n")}`);
});
