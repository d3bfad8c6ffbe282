import type { Db } from '../db/db.js';
import type { Logger } from '../logger.js';

/** A publish span's context as stored (events.trace_context): `traceparent`, maybe `tracestate`. */
export type StoredTraceContext = Record<string, string>;

interface Waiting {
  tenantId: string;
  eventId: string;
  resolve: (c: StoredTraceContext | null) => void;
}

/**
 * The stored trace contexts of the events a worker sends, read in one
 * statement for all the deliveries it starts in the same turn of the event
 * loop (a claim's batch, a hand-off) and kept for later attempts: an
 * event's context never changes.
 *
 * Read apart from the claim, which already joins the event for its body:
 * returning the context there would change the claim statement, which is
 * the queue core, and widen every claimed row whether or not tracing is on.
 * This costs one primary-key lookup per batch, and only while tracing is on.
 */
export class TraceContexts {
  private readonly known = new Map<string, StoredTraceContext | null>();
  private waiting: Waiting[] = [];

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    /** Events remembered at most; past that the cache starts afresh. (Default: 10000) */
    private readonly max = 10_000,
  ) {}

  get(tenantId: string, eventId: string): Promise<StoredTraceContext | null> {
    const hit = this.known.get(`${tenantId}/${eventId}`);
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise((resolve) => {
      if (this.waiting.length === 0) setImmediate(() => void this.read());
      this.waiting.push({ tenantId, eventId, resolve });
    });
  }

  private async read(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    const keys = new Map<string, { tenantId: string; eventId: string }>();
    for (const w of batch) keys.set(`${w.tenantId}/${w.eventId}`, w);
    let found = new Map<string, StoredTraceContext>();
    try {
      const list = [...keys.values()];
      const res = await this.db.query<{ tenant_id: string; id: string; trace_context: StoredTraceContext }>(
        `select e.tenant_id, e.id, e.trace_context from events e
           join unnest($1::text[], $2::text[]) k(tenant_id, id) on e.tenant_id = k.tenant_id and e.id = k.id
          where e.trace_context is not null`,
        [list.map((k) => k.tenantId), list.map((k) => k.eventId)],
        'event_trace_contexts',
      );
      found = new Map(res.rows.map((r) => [`${r.tenant_id}/${r.id}`, r.trace_context]));
      if (this.known.size + keys.size > this.max) this.known.clear();
      for (const k of keys.keys()) this.known.set(k, found.get(k) ?? null);
    } catch (err) {
      // tracing never holds up a delivery: without its context, the attempt starts a trace of its own
      this.logger.warn({ err: (err as Error).message }, 'OpenTelemetry: could not read stored trace contexts');
    }
    for (const w of batch) w.resolve(found.get(`${w.tenantId}/${w.eventId}`) ?? null);
  }
}
