// Checks that record what failed instead of stopping at the first, so one run lists every case.
import assert from "node:assert/strict";

export class Findings {
  readonly list: string[] = [];

  /** Records `what` unless `ok`. */
  check(ok: boolean, what: string): void {
    if (!ok) this.list.push(what);
  }

  /** Records `what` with both values unless they are deep-equal. */
  equal(actual: unknown, expected: unknown, what: string): void {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e) this.list.push(`${what}: got ${a}, expected ${e}`);
  }

  /** Fails with every finding at once. */
  done(): void {
    assert.deepEqual(this.list, [], `${this.list.length} findings`);
  }
}
