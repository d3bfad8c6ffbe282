import { Type } from 'typebox';
import { requireAdmin } from '../auth.js';
import { registerOperatorGauges } from '../operator/gauges.js';
import { ErrorBody, Nullable } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';
import { alertActivity } from '../../store/alerts.js';
import { MAX_FAILING_LISTED, PER_MINUTE_WINDOW, attemptsPerMinute, failingEndpoints, operatorCounts } from '../../store/operator-overview.js';

/** Alerts listed on the overview. */
const RECENT_ALERTS = 10;

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
  eventId: Type.String(),
  writtenOut: Type.Boolean({
    description: 'false while the delivery waits in a batch no worker has written out yet: its record does not exist yet, its event does',
  }),
  dueAt: Type.String(),
  ageSeconds: Type.Number({ description: 'seconds since it became due' }),
});
const MinuteCount = Type.Object({
  start: Type.String(),
  attempts: Type.Integer(),
  succeeded: Type.Integer({ description: 'attempts answered 2xx' }),
  failed: Type.Integer({ description: 'other statuses and network errors' }),
});
const AlertEntry = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('failing'), Type.Literal('disabled'), Type.Literal('recovered')]),
  tenantId: Type.String(),
  tenantName: Type.String(),
  endpointId: Type.String(),
  url: Type.String(),
  createdAt: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('dropped')], { description: 'dropped: given up after repeated failed posts' }),
  attempts: Type.Integer({ description: 'posts of the message that carried it' }),
  sentAt: Nullable(Type.String()),
  lastError: Nullable(Type.String({ description: 'why the last post failed' })),
});
const AlertsState = Type.Object({
  configured: Type.Boolean({ description: 'whether HERALD_ALERT_WEBHOOK_URL is set' }),
  target: Nullable(Type.String({ description: 'the alert URL with its path hidden (incoming-webhook paths are secrets)' })),
  afterFailures: Type.Integer({ description: 'failed attempts in a row that make an endpoint failing (an open circuit always does)' }),
  intervalSeconds: Type.Integer({ description: 'how often states are compared; at most one message per interval per worker' }),
  pending: Type.Integer({ description: 'alerts waiting to be posted' }),
  recent: Type.Array(AlertEntry, { description: `the latest ${RECENT_ALERTS}, newest first` }),
});
const OperatorOverview = Type.Object({
  generatedAt: Type.String(),
  endpointsFailing: Type.Integer({ description: 'all failing endpoints, listed or not' }),
  circuitsOpen: Type.Integer(),
  oldestDue: Nullable(OldestDue),
  failing: Type.Array(FailingEndpoint, { description: `at most ${MAX_FAILING_LISTED}, most recent attempt first` }),
  failingTruncated: Type.Boolean(),
  perMinute: Type.Array(MinuteCount, { description: `attempts per minute over the last ${PER_MINUTE_WINDOW} minutes, oldest first` }),
  alerts: AlertsState,
});

/** The alert URL as shown: its origin only, since an incoming webhook's path is its secret. */
function alertTarget(url: string | undefined): string | null {
  if (!url) return null;
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return null;
  }
}

/**
 * The installation at a glance, for the admin: what fails now, how far the
 * queue is behind, how much goes out. The same counts feed the /metrics
 * gauges (api/operator/gauges.ts, through a 1 s cache); the route reads them fresh.
 */
export const operatorRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  registerOperatorGauges(ctx.metrics.registry, ctx.db);

  app.get(
    '/v1/operator/overview',
    { schema: { tags: ['operator'], response: { 200: OperatorOverview, 403: ErrorBody } } },
    async (req) => {
      requireAdmin(req);
      const counts = await operatorCounts(ctx.db);
      const failing = await failingEndpoints(ctx.db, MAX_FAILING_LISTED);
      const perMinute = await attemptsPerMinute(ctx.db);
      const activity = await alertActivity(ctx.db, RECENT_ALERTS);
      const { config } = ctx;
      return {
        generatedAt: new Date().toISOString(),
        endpointsFailing: counts.endpointsFailing,
        circuitsOpen: counts.circuitsOpen,
        oldestDue: counts.oldestDue,
        failing,
        failingTruncated: counts.endpointsFailing > failing.length,
        perMinute,
        alerts: {
          configured: config.alertWebhookUrl !== undefined,
          target: alertTarget(config.alertWebhookUrl),
          afterFailures: config.alertAfterFailures,
          intervalSeconds: config.alertIntervalSeconds,
          pending: activity.pending,
          recent: activity.recent.map((a) => ({
            id: a.id,
            kind: a.kind,
            tenantId: a.tenantId,
            tenantName: a.detail.tenantName,
            endpointId: a.endpointId,
            url: a.detail.url,
            createdAt: a.createdAt,
            status: a.status,
            attempts: a.attempts,
            sentAt: a.sentAt,
            lastError: a.lastError,
          })),
        },
      };
    },
  );
};
