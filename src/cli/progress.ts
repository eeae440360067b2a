const MB = 1e6;

/**
 * Progress on stderr: a redrawn bar when stderr is a terminal, otherwise a plain line every few
 * seconds (logs and CI stay readable).
 */
export class Progress {
  readonly #label: string;
  #total: number;
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #started = performance.now();
  #done = 0;
  #lastDraw = 0;

  constructor(label: string, total: number, out: NodeJS.WriteStream = process.stderr) {
    this.#label = label;
    this.#total = total;
    this.#out = out;
    this.#tty = Boolean(out.isTTY);
  }

  get bytes(): number {
    return this.#done;
  }

  /** For work whose size is learned as it goes (paged listings). */
  set total(bytes: number) {
    this.#total = bytes;
  }

  add(n: number): void {
    this.at(this.#done + n);
  }

  /** Sets how far the work got. */
  at(bytes: number): void {
    this.#done = bytes;
    const now = performance.now();
    if (now - this.#lastDraw < (this.#tty ? 200 : 5000)) return;
    this.#lastDraw = now;
    this.#draw(false);
  }

  finish(): void {
    this.#draw(true);
  }

  #draw(final: boolean): void {
    const seconds = (performance.now() - this.#started) / 1000;
    const rate = seconds > 0 ? this.#done / MB / seconds : 0;
    const fraction = this.#total > 0 ? Math.min(1, this.#done / this.#total) : 1;
    const numbers =
      `${(fraction * 100).toFixed(0).padStart(3)}% ${(this.#done / MB).toFixed(1)}/` +
      `${(this.#total / MB).toFixed(1)} MB ${rate.toFixed(1)} MB/s`;
    if (!this.#tty) {
      this.#out.write(`${this.#label}: ${numbers}${final ? ` in ${seconds.toFixed(1)} s` : ""}\n`);
      return;
    }
    const width = 30;
    const filled = Math.round(fraction * width);
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
    this.#out.write(`\r\x1b[2K${this.#label} ${bar} ${numbers}${final ? "\n" : ""}`);
  }
}
