import type { Db } from '../db/db.js';
import type { Logger } from '../logger.js';
import { endStaleSessions, removeEndedSessions, touchSessions } from '../store/listen-sessions.js';
import type { ListenStreams } from './streams.js';

/** How long an ended session's endpoint, deliveries and attempts stay to be looked at, in seconds. */
export const KEEP_ENDED_SECONDS = 86_400;

const STATES = { created: 'created', running: 'running', stopped: 'stopped' } as const;
type State = (typeof STATES)[keyof typeof STATES];

/**
 * The bookkeeping of listen sessions, run by every API process: marks the
 * sessions whose streams it holds as seen, ends the sessions nobody has
 * seen for the grace period (any process may: the rule is the same
 * everywhere), and removes ended ones after KEEP_ENDED_SECONDS. Seen marks
 * come at a third of the grace period (at most every 10 s), so a connected
 * session is never taken for a gone one.
 */
export class ListenUpkeep {
  private state: State = STATES.created;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  readonly intervalMs: number;

  constructor(
    private readonly db: Db,
    private readonly streams: ListenStreams,
    private readonly logger: Logger,
    private readonly graceSeconds: number,
  ) {
    this.intervalMs = Math.max(250, Math.min(10_000, (graceSeconds * 1000) / 3));
  }

  start(): void {
    if (this.state !== STATES.created) return;
    this.state = STATES.running;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.state = STATES.stopped;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass (also called by tests). */
  async tick(): Promise<void> {
    await touchSessions(this.db, this.streams.connected());
    const ended = await endStaleSessions(this.db, this.graceSeconds);
    if (ended.length > 0) this.logger.info({ sessions: ended }, 'listen sessions ended (not seen within the grace period)');
    await removeEndedSessions(this.db, KEEP_ENDED_SECONDS, 100);
  }

  private schedule(): void {
    if (this.state !== STATES.running) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: unknown) => this.logger.warn({ err }, 'listen session upkeep failed; trying again'))
        .finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }
}
