import { Gauge, type Registry } from 'prom-client';
import type { Queryable } from '../../db/db.js';
import { LookupCache } from '../../store/lookup-cache.js';
import { operatorCounts, type OperatorCounts } from '../../store/operator-overview.js';

/** How long one read of the operator counts serves scrapes, in milliseconds. */
const OPERATOR_COUNTS_TTL_MS = 5000;

/**
 * Installation-wide gauges read when Prometheus scrapes. Prometheus may
 * scrape every second from several servers and each gauge asks for the same
 * figures, so one read of the operator counts serves every gauge for
 * OPERATOR_COUNTS_TTL_MS (shared while in flight, not kept when it failed).
 * Registered by the API only, so a worker-only process does not query for them.
 */
export function registerOperatorGauges(registry: Registry, db: Queryable): void {
  const cache = new LookupCache<OperatorCounts>(OPERATOR_COUNTS_TTL_MS, 1, Date.now, false);
  const counts = () => cache.get('counts', () => operatorCounts(db));
  new Gauge({
    name: 'herald_endpoints_failing',
    help: 'Endpoints whose latest attempts failed (consecutive failures, or a failure run not yet ended by a success), all tenants.',
    registers: [registry],
    async collect() {
      this.set((await counts()).endpointsFailing);
    },
  });
  new Gauge({
    name: 'herald_circuits_open',
    help: 'Endpoints whose circuit is open now (Herald sends them nothing until it closes), all tenants.',
    registers: [registry],
    async collect() {
      this.set((await counts()).circuitsOpen);
    },
  });
  new Gauge({
    name: 'herald_oldest_due_delivery_age_seconds',
    help: 'Seconds the oldest due delivery not held by a live lease has waited (0 when none), all tenants.',
    registers: [registry],
    async collect() {
      this.set((await counts()).oldestDue?.ageSeconds ?? 0);
    },
  });
}
