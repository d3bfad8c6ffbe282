import type { Logger } from '../logger.js';
import type { AttemptResult } from './queue/types.js';

/**
 * Failed attempts, logged at `info` so that an operator sees at the default
 * level which tenant, endpoint, event and delivery failed and why, but
 * never more than `perSecond` lines a second: a receiver that is down for a
 * busy tenant would otherwise write thousands of lines a second. What goes
 * over is counted and said in one line when the second is over (and the
 * metrics count every attempt anyway: herald_delivery_attempts_total).
 */
export class FailureLog {
  private windowStart = 0;
  private logged = 0;
  private suppressed = 0;
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly perSecond = 20,
  ) {}

  /** Logs a failed attempt (a no-op for successes and for attempts never made). */
  note(r: AttemptResult): void {
    if (r.status === 'succeeded' || r.skipped || !this.logger.isLevelEnabled('info')) return;
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.logged = 0;
    }
    if (this.logged >= this.perSecond) {
      this.suppressed++;
      this.flushTimer ??= setTimeout(() => this.flush(), 1000).unref();
      return;
    }
    this.logged++;
    const d = r.delivery;
    this.logger.info(
      {
        tenantId: d.tenantId,
        endpointId: d.endpointId,
        eventId: d.eventId,
        eventType: d.eventType,
        deliveryId: d.id,
        attempt: d.attempts + 1,
        status: r.responseStatus,
        error: r.errorCode ?? `http_${r.responseStatus}`,
        next: r.status === 'pending' && r.retryInMs !== null ? `retry in ${Math.round(r.retryInMs / 1000)} s` : 'failed for good',
      },
      'delivery attempt failed',
    );
  }

  /** Says how many failures were not logged, if any (at stop too). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.suppressed === 0) return;
    this.logger.info({ notLogged: this.suppressed, perSecond: this.perSecond }, 'more delivery attempts failed than are logged per second');
    this.suppressed = 0;
  }
}
