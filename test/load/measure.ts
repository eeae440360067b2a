// What the load runs record: latency per action class, answers by kind, and the daemon's
// resident memory sampled from /proc/<pid>/status while it runs.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Action classes the figures are reported by. */
export const CLASSES = [
  "describe",
  "create",
  "copy",
  "delete",
  "tags",
  "key pairs",
  "expected error",
] as const;
export type ActionClass = (typeof CLASSES)[number];

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Latencies (ms) per class, answers per action, expected error codes, and every unexpected failure. */
export class Recorder {
  readonly latencies = new Map<ActionClass, number[]>(CLASSES.map((c) => [c, []]));
  readonly perAction = new Map<string, number>();
  readonly expectedErrors = new Map<string, number>();
  readonly unexpected: string[] = [];
  requests = 0;
  cycles = 0;
  contentChecks = 0;

  record(cls: ActionClass, action: string, ms: number): void {
    this.latencies.get(cls)!.push(ms);
    this.perAction.set(action, (this.perAction.get(action) ?? 0) + 1);
    this.requests++;
  }

  expected(code: string): void {
    this.expectedErrors.set(code, (this.expectedErrors.get(code) ?? 0) + 1);
  }
}

/** The VmRSS line of /proc/<pid>/status, in bytes. */
export function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Samples a process's RSS every `everyMs` until stopped; `at(t)` reads the samples up to t. */
export class RssSampler {
  readonly samples: { t: number; rss: number }[] = [];
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  readonly #start = performance.now();

  constructor(pid: number, everyMs = 250) {
    this.#pid = pid;
    this.sample();
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): number {
    const rss = rssOf(this.#pid);
    this.samples.push({ t: (performance.now() - this.#start) / 1000, rss });
    return rss;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  get max(): number {
    return Math.max(...this.samples.map((s) => s.rss));
  }
}

export const MiB = 1024 * 1024;

/** The daemon's main-thread memory right after a full GC, as process.memoryUsage() gives it. */
export interface AfterGc {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/**
 * The environment that makes a daemon collect its garbage on request (see gc-on-signal.ts), and
 * the function that asks it to: SIGUSR2, then the acknowledgement (with a deadline).
 */
export function gcOnRequest(ackFile: string): {
  env: Record<string, string>;
  collect(pid: number): Promise<AfterGc>;
} {
  let asked = 0;
  const read = () => {
    try {
      return JSON.parse(readFileSync(ackFile, "utf8")) as AfterGc & { n: number };
    } catch {
      return undefined; // not written yet, or being written
    }
  };
  return {
    env: {
      NODE_OPTIONS: [
        process.env.NODE_OPTIONS,
        `--expose-gc --import ${JSON.stringify(join(import.meta.dirname, "gc-on-signal.ts"))}`,
      ]
        .filter(Boolean)
        .join(" "),
      STRATA_TEST_GC_ACK: ackFile,
    },
    async collect(pid) {
      const want = ++asked;
      process.kill(pid, "SIGUSR2");
      const deadline = Date.now() + 30_000;
      for (;;) {
        const got = read();
        if (got?.n === want) return got;
        if (Date.now() > deadline)
          throw new Error(`pid ${pid} did not acknowledge garbage collection ${want}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
