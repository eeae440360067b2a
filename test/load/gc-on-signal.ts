// Preloaded into the daemon by the load test (NODE_OPTIONS="--expose-gc --import <this file>"):
// SIGUSR2 runs a full garbage collection of the main thread's heap, then writes a sequence number
// and process.memoryUsage() as JSON to the file named by STRATA_TEST_GC_ACK, so the test can
// compare the daemon's memory without uncollected garbage in it. (Preloads do not run in worker
// threads: the codec workers' heaps are collected when V8 decides.) Does nothing in processes
// started without that variable.
import { writeFileSync } from "node:fs";

const ack = process.env.STRATA_TEST_GC_ACK;
const gc = (globalThis as { gc?: () => void }).gc;
if (ack && gc) {
  let n = 0;
  process.on("SIGUSR2", () => {
    gc();
    writeFileSync(ack, JSON.stringify({ n: ++n, ...process.memoryUsage() }));
  });
}
