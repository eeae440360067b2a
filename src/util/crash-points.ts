// Named places where the daemon can be made to die on purpose, for crash tests that must hit a
// gap a few microseconds wide (between two steps that are not one transaction). Armed only by
// STRATA_CRASH_AT="name" (the first time it is reached) or "name@N" (the N-th time); the test
// harness restarts the daemon with it. Unarmed, a crash point is one Map lookup.
const armed = new Map<string, number>();
for (const item of (process.env.STRATA_CRASH_AT ?? "").split(",")) {
  const [name, n] = item.trim().split("@");
  if (name) armed.set(name, Number(n ?? 1));
}

export function crashPoint(name: string): void {
  const left = armed.get(name);
  if (left === undefined) return;
  if (left > 1) {
    armed.set(name, left - 1);
    return;
  }
  // What a power cut or the OOM killer does: no cleanup, no flushing, no exit handlers.
  process.kill(process.pid, "SIGKILL");
}
