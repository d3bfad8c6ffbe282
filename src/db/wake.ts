import type { Queryable } from './db.js';
import { FANOUT_PAYLOAD, NOTIFY_CHANNEL } from '../store/events.js';

/**
 * Wakes the workers after something became due (NOTIFY is a latency hint:
 * they poll anyway). Measured: a NOTIFY inside the publishing transaction
 * takes PostgreSQL's notification-queue lock at commit, which serialized
 * concurrent publishes (54 % of publish time waiting on `Lock:object` with
 * 16 clients). So publishing commits without it, and this sends one NOTIFY
 * for any number of publishes that happen while the previous one is on its
 * way: at most one in flight, never one per event.
 */
export class WakeSignal {
  private inFlight: Promise<void> | null = null;
  private again = false;
  private readonly statement: string;
  private readonly name: string;

  constructor(
    private readonly db: Queryable,
    /** '' (deliveries are due) or FANOUT_PAYLOAD (deferred deliveries to write out). */
    payload: '' | typeof FANOUT_PAYLOAD = '',
  ) {
    this.statement = `select pg_notify('${NOTIFY_CHANNEL}', '${payload}')`;
    this.name = payload === '' ? 'wake_workers' : 'wake_fanouts';
  }

  poke(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = this.db
      .query(this.statement, [], this.name)
      .then(
        () => undefined,
        () => undefined, // the workers' poll is the fallback
      )
      .finally(() => {
        this.inFlight = null;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  /** Resolves when no NOTIFY is on its way (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }
}
