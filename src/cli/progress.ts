/**
 * A progress bar for long operations (recover, bulk retry, migrations,
 * `rotate-secrets-key`): done / total, rate per second and a bar, redrawn
 * in place on stderr at most 10 times a second. Silent when stderr is not a
 * terminal, so scripts and logs get only the final result the command prints.
 */
export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly startedAt = Date.now();
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private total: number | null,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = stream.isTTY === true;
  }

  /** `n` more items are done. */
  tick(n = 1): void {
    this.done += n;
    this.draw(false);
  }

  /** The total became known (or changed). */
  setTotal(total: number): void {
    this.total = total;
    this.draw(false);
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (!this.enabled) return;
    this.draw(true);
    this.stream.write('\n');
  }

  private draw(force: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.stream.write(`\r${this.line(now)}\x1b[K`);
  }

  /** e.g. `retrying  [##########----------]  50/100  42.0/s` */
  line(now = Date.now()): string {
    const seconds = Math.max((now - this.startedAt) / 1000, 0.001);
    const rate = `${(this.done / seconds).toFixed(1)}/s`;
    if (this.total === null) return `${this.label}  ${this.done}  ${rate}`;
    const width = 20;
    const filled = this.total === 0 ? width : Math.min(width, Math.round((this.done / this.total) * width));
    return `${this.label}  [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]  ${this.done}/${this.total}  ${rate}`;
  }
}
