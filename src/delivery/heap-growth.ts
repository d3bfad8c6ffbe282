import v8 from 'node:v8';

/**
 * How far V8 lets the old generation grow past the live heap before its
 * next full GC (`--heap-growing-percent`), chosen from what the worker keeps
 * of its answers.
 *
 * Why two settings: every delivery's response body (up to its 64 KiB cap)
 * and outcome live until the batched write of the outcome, long enough to
 * be promoted, so with big answers the old generation fills with garbage
 * that only a full GC frees. There a lean setting holds RSS down (bench
 * memory scenario, 16 MB answers, 3 runs each: 25 % peaked at 174-200 MB,
 * 100 % at 207-220 MB, over the 200 MB a worker is held to). With small
 * answers there is little such garbage, and the full GCs a lean setting
 * forces are CPU the deliveries need: steady state, `herald api` + `herald
 * worker`, 20 s runs alternated: 5,766 and 5,414 deliveries/s at 25 %
 * against 6,247 and 5,975 at 100 %, worker peak RSS 136-138 against 151-153
 * MB; one `herald serve`: 5,104-5,398 at 50 % against 4,897-6,151 at 100 %.
 *
 * So the lean setting holds from the start and whenever the answers kept
 * reach BIG_ANSWERS_BYTES_PER_SECOND, checked every CHECK_MS while answers
 * arrive: a busy worker switches within a quarter of a second of big
 * answers arriving (the new setting applies from the next full GC). With no
 * answers it checks every QUIET_CHECK_MS, so that an idle process is not
 * woken four times a second for it: one that had none switches within a
 * second and a quarter. It goes roomy after ROOMY_AFTER_MS
 * with no big answers. V8 reads the flag at each full GC, so setting it while
 * running works.
 */
export const BIG_ANSWERS_BYTES_PER_SECOND = 4 * 1024 * 1024;
const CHECK_MS = 250;
const QUIET_CHECK_MS = 1_000;
const ROOMY_AFTER_MS = 10_000;

export interface HeapGrowthOptions {
  /** Percent while answers are big (and at the start). */
  lean: number;
  /** Percent once answers have been small for a while. */
  roomy: number;
  /** Response-body bytes this process's sends have kept so far (a running total). */
  keptBytes: () => number;
  /** Applies a percent. (Default: sets V8's flag) */
  apply?: (percent: number) => void;
  now?: () => number;
}

export class HeapGrowth {
  private percent: number;
  private lastKept: number;
  private lastBigAt: number;
  private lastCheckAt: number;
  private readonly apply: (percent: number) => void;
  private readonly now: () => number;

  constructor(private readonly o: HeapGrowthOptions) {
    this.apply = o.apply ?? ((p) => v8.setFlagsFromString(`--heap-growing-percent=${p}`));
    this.now = o.now ?? Date.now;
    this.percent = o.lean;
    this.apply(o.lean);
    this.lastKept = o.keptBytes();
    this.lastCheckAt = this.lastBigAt = this.now();
  }

  /** The percent in force. */
  get current(): number {
    return this.percent;
  }

  /** Checks for the life of the process (see CHECK_MS, QUIET_CHECK_MS); the timer never keeps it alive. */
  start(): this {
    const next = (ms: number) => setTimeout(() => next(this.check() ? CHECK_MS : QUIET_CHECK_MS), ms).unref();
    next(CHECK_MS);
    return this;
  }

  /** Looks at the answers kept since the last check and picks the setting; says whether any were kept meanwhile. */
  check(): boolean {
    const at = this.now();
    const kept = this.o.keptBytes();
    const moved = kept !== this.lastKept;
    const perSecond = ((kept - this.lastKept) * 1000) / Math.max(1, at - this.lastCheckAt);
    this.lastKept = kept;
    this.lastCheckAt = at;
    if (perSecond >= BIG_ANSWERS_BYTES_PER_SECOND) this.lastBigAt = at;
    const want = at - this.lastBigAt >= ROOMY_AFTER_MS ? this.o.roomy : this.o.lean;
    if (want !== this.percent) {
      this.percent = want;
      this.apply(want);
    }
    return moved;
  }
}
