/**
 * The progress line on stderr, so stdout stays the report. On a terminal one line is redrawn
 * in place; in a CI log (not a TTY) every step is its own plain line, without escape codes.
 */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export class Progress {
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly started = Date.now(),
  ) {}

  /** `done` of `total` steps finished; `what` is the step now running or just finished. */
  update(done: number, total: number, what: string): void {
    const elapsed = (Date.now() - this.started) / 1000;
    const left = done > 0 ? (elapsed / done) * (total - done) : null;
    const eta = left === null ? '' : `, ~${Math.ceil(left)} s left`;
    const line = `[${done}/${total}] ${what} (${Math.round(elapsed)} s${eta})`;
    if (this.stream.isTTY === true) {
      this.stream.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** A line that stays (a warning, a finished phase). */
  note(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
