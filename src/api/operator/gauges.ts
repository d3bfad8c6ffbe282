import { Gauge, type Registry } from 'prom-client';
import type { CachedOperatorCounts } from './cached-counts.js';

/**
 * Installation-wide gauges read when Prometheus scrapes, from the cached
 * operator counts (one database read per cache period for all of them).
 * Registered by the API only, so a worker-only process does not query for them.
 */
export function registerOperatorGauges(registry: Registry, counts: CachedOperatorCounts): void {
  new Gauge({
    name: 'herald_endpoints_failing',
    help: 'Endpoints whose latest attempts failed (consecutive failures, or a failure run not yet ended by a success), all tenants.',
    registers: [registry],
    async collect() {
      this.set((await counts.get()).endpointsFailing);
    },
  });
  new Gauge({
    name: 'herald_circuits_open',
    help: 'Endpoints whose circuit is open now (Herald sends them nothing until it closes), all tenants.',
    registers: [registry],
    async collect() {
      this.set((await counts.get()).circuitsOpen);
    },
  });
  new Gauge({
    name: 'herald_oldest_due_delivery_age_seconds',
    help: 'Seconds the oldest due delivery not held by a live lease has waited (0 when none), all tenants.',
    registers: [registry],
    async collect() {
      this.set((await counts.get()).oldestDue?.ageSeconds ?? 0);
    },
  });
}
