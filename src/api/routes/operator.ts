import { Type } from 'typebox';
import { requireAdmin } from '../auth.js';
import { CachedOperatorCounts } from '../operator/cached-counts.js';
import { registerOperatorGauges } from '../operator/gauges.js';
import { ErrorBody, Nullable } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';
import { MAX_FAILING_LISTED, PER_MINUTE_WINDOW, attemptsPerMinute, failingEndpoints, operatorCounts } from '../../store/operator-overview.js';

const FailingEndpoint = Type.Object({
  tenantId: Type.String(),
  tenantName: Type.String(),
  endpointId: Type.String(),
  url: Type.String(),
  disabled: Type.Boolean(),
  consecutiveFailures: Type.Integer({ description: 'failed attempts since the last success' }),
  failingSince: Nullable(Type.String({ description: 'when the current run of failures began' })),
  circuitOpenUntil: Nullable(Type.String({ description: 'until when the circuit is open (null: closed)' })),
  lastAttemptAt: Nullable(Type.String()),
  lastStatus: Nullable(Type.Integer()),
  lastErrorCode: Nullable(Type.String()),
  lastError: Nullable(Type.String({ description: 'the message of a network failure (null for an HTTP status)' })),
});
const OldestDue = Type.Object({
  deliveryId: Type.String(),
  tenantId: Type.String(),
  endpointId: Type.String(),
  dueAt: Type.String(),
  ageSeconds: Type.Number({ description: 'seconds since it became due' }),
});
const MinuteCount = Type.Object({
  start: Type.String(),
  attempts: Type.Integer(),
  succeeded: Type.Integer({ description: 'attempts answered 2xx' }),
  failed: Type.Integer({ description: 'other statuses and network errors' }),
});
const OperatorOverview = Type.Object({
  generatedAt: Type.String(),
  endpointsFailing: Type.Integer({ description: 'all failing endpoints, listed or not' }),
  circuitsOpen: Type.Integer(),
  oldestDue: Nullable(OldestDue),
  failing: Type.Array(FailingEndpoint, { description: `at most ${MAX_FAILING_LISTED}, most recent attempt first` }),
  failingTruncated: Type.Boolean(),
  perMinute: Type.Array(MinuteCount, { description: `attempts per minute over the last ${PER_MINUTE_WINDOW} minutes, oldest first` }),
});

/**
 * The installation at a glance, for the admin: what fails now, how far the
 * queue is behind, how much goes out. The same counts feed the /metrics
 * gauges (through a 5 s cache); the route reads them fresh.
 */
export const operatorRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  registerOperatorGauges(ctx.metrics.registry, new CachedOperatorCounts(ctx.db));

  app.get(
    '/v1/operator/overview',
    { schema: { tags: ['operator'], response: { 200: OperatorOverview, 403: ErrorBody } } },
    async (req) => {
      requireAdmin(req);
      const counts = await operatorCounts(ctx.db);
      const failing = await failingEndpoints(ctx.db, MAX_FAILING_LISTED);
      const perMinute = await attemptsPerMinute(ctx.db);
      return {
        generatedAt: new Date().toISOString(),
        endpointsFailing: counts.endpointsFailing,
        circuitsOpen: counts.circuitsOpen,
        oldestDue: counts.oldestDue,
        failing,
        failingTruncated: counts.endpointsFailing > failing.length,
        perMinute,
      };
    },
  );
};
