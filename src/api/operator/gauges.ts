import { Gauge, type Registry } from 'prom-client';
import type { Queryable } from '../../db/db.js';
import { LookupCache } from '../../store/lookup-cache.js';
import { operatorCounts, type OperatorCounts } from '../../store/operator-overview.js';

/** How long one read of the counts serves scrapes, in milliseconds. */
const COUNTS_TTL_MS = 1000;

/**
 * Installation-wide gauges read when Prometheus scrapes: the queue (how
 * many deliveries are due, how long the oldest has waited: the alert that
 * catches a stalled queue) and the endpoints (failing, circuits open).
 * Prometheus may scrape every second from several servers, and counting the
 * due queue is a scan of it, so one statement reads every figure and serves
 * every gauge for COUNTS_TTL_MS (shared while in flight, not kept when it
 * failed): at most one read per interval per API process, whatever the
 * scrapes, and figures of one snapshot (a second old at most: the stall
 * alert and tests that wait for the queue to empty see it drain promptly).
 * Registered by the API only, so a worker-only process does not query for
 * them.
 */
export function registerOperatorGauges(registry: Registry, db: Queryable): void {
  const cache = new LookupCache<OperatorCounts>(COUNTS_TTL_MS, 1, Date.now, false);
  const counts = () => cache.get('counts', () => operatorCounts(db, { due: true }));
  const gauge = (name: string, help: string, value: (c: OperatorCounts) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(value(await counts()));
      },
    });
  gauge(
    'herald_queue_due_deliveries',
    'Pending deliveries that are due now (not held by a live lease), with those of batches not yet written out by a worker; all tenants.',
    (c) => c.dueDeliveries ?? 0,
  );
  gauge(
    'herald_queue_oldest_due_age_seconds',
    'How long the oldest due delivery not held by a live lease has waited (0 when none), a batch not yet written out by a worker included; all tenants.',
    (c) => c.oldestDue?.ageSeconds ?? 0,
  );
  gauge(
    'herald_endpoints_failing',
    'Endpoints whose latest attempts failed (consecutive failures, or a failure run not yet ended by a success), all tenants.',
    (c) => c.endpointsFailing,
  );
  gauge('herald_circuits_open', 'Endpoints whose circuit is open now (Herald sends them nothing until it closes), all tenants.', (c) => c.circuitsOpen);
}
