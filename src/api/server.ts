import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyPluginAsync, type RawServerDefault } from 'fastify';
import type { Config } from '../config/config.js';
import type { Db } from '../db/db.js';
import { PgDb } from '../db/pg.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { AddressPolicy } from '../security/address-policy.js';
import type { SecretBox } from '../security/secret-box.js';
import { Authenticator, enforceRole } from './auth.js';
import { ApiError, errors } from '../errors.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-depth.js';
import { jsonText } from './json-text.js';
import { answerClientError, protoKeyPath, refuseContentEncoding, refuseNul } from './request-guards.js';
import { PayloadValidator } from '../intake/payload-validator.js';
import { Publisher, type LocalWorker } from '../intake/publisher.js';
import { WakeSignal } from '../db/wake.js';
import { FANOUT_PAYLOAD } from '../store/events.js';
import { auditRoutes } from './routes/audit-log.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { deliveryReplayRoutes } from './routes/delivery-replays.js';
import { endpointRoutes } from './routes/endpoints.js';
import { endpointSecretRoutes } from './routes/endpoint-secrets.js';
import { endpointFilterRoutes } from './routes/endpoint-filters.js';
import { endpointTransformationRoutes } from './routes/endpoint-transformations.js';
import { transformPoolFor, type TransformPool } from '../transform/pool.js';
import { eventRoutes } from './routes/events.js';
import { eventTypeRoutes } from './routes/event-types.js';
import { healthRoutes } from './routes/health.js';
import { operatorRoutes } from './routes/operator.js';
import { portalLinkRoutes } from './routes/portal-links.js';
import { statsRoutes } from './routes/stats.js';
import { tenantRoutes } from './routes/tenants.js';
import { tokenRoutes } from './routes/tokens.js';
import { listenRelayRoutes } from './routes/listen-relay.js';
import { listenSessionRoutes } from './routes/listen-sessions.js';
import { relayBase } from '../listen/relay-base.js';
import { RelayUrls } from '../listen/relay-urls.js';
import { ListenUpkeep } from '../listen/session-upkeep.js';
import { ListenStreams } from '../listen/streams.js';
import { apiReference } from './api-reference.js';
import { staticUi } from './static-ui.js';
import { tenantScope } from './tenant-scope.js';
import { VERSION } from '../version.js';
import type { Telemetry } from '../telemetry/telemetry.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body as received, for JSON requests. */
    rawBody?: string;
  }
}

/** What every route plugin gets. */
export interface AppContext {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  auth: Authenticator;
  addressPolicy: AddressPolicy;
  payloads: PayloadValidator;
  publisher: Publisher;
  /** Encrypts and decrypts endpoint secrets at rest. */
  secrets: SecretBox;
  /** OpenTelemetry export (telemetry/); null when off, as by default. */
  telemetry: Telemetry | null;
  /** `herald listen`: the CLI streams this process holds, relay URLs, and where workers reach this process. */
  listen: ListenContext;
  /** The transformation sandbox threads (save-time checks and try-outs). */
  transforms: TransformPool;
}

export interface ListenContext {
  streams: ListenStreams;
  urls: RelayUrls;
  /** The origin workers reach this process at (listen/relay-base.ts); known once the server listens. */
  base(): string;
}

export type App = FastifyInstance<any, any, any, Logger, TypeBoxTypeProvider>;

/** A plugin of routes: typed with the TypeBox provider and Herald's logger, so routes infer their schemas' types. */
export type RoutePlugin = FastifyPluginAsync<Record<never, never>, RawServerDefault, TypeBoxTypeProvider, Logger>;

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Two validators: request bodies are checked strictly (a string is never
 * taken for a number), while path and query strings are coerced to the
 * declared types, as they can only ever be strings.
 */
function validators() {
  const strict = withStorableDates(addFormats(new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: true, removeAdditional: false })));
  const coercing = withStorableDates(addFormats(new Ajv({ allErrors: false, strict: false, coerceTypes: 'array', useDefaults: true, removeAdditional: false })));
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema);
}

/**
 * `date-time` as ajv-formats checks it, and storable: PostgreSQL has no
 * year 0, so `0000-01-01T00:00:00Z` passed validation and then failed in
 * the database without naming its field.
 */
function withStorableDates(ajv: Ajv): Ajv {
  const dateTime = ajv.formats['date-time'] as { validate: (s: string) => boolean } | undefined;
  if (!dateTime) return ajv;
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => dateTime.validate(s) && !/^0000/.test(s) });
  return ajv;
}

export interface ServerOptions {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  adminTokenHash: string;
  addressPolicy: AddressPolicy;
  secrets: SecretBox;
  /** The worker of this process (`herald serve`): publishes hand their deliveries to it directly. (Default: none) */
  localWorker?: LocalWorker | null;
  /** OpenTelemetry export, when the environment asks for it. (Default: none) */
  telemetry?: Telemetry | null;
  /** Transformation threads shared with this process's worker. (Default: a pool of the server's own, closed with it) */
  transforms?: TransformPool;
}

/**
 * The publish statements' connections (PostgreSQL): a few of their own,
 * kept open while idle. The publish statement is the largest Herald has;
 * on a connection that had not run it yet, parse, plan and first runs took
 * 50-110 ms (a new backend's catalog caches are cold, and the first five
 * runs of a prepared statement are planned afresh), and every publish
 * gathered behind it waited that long. Sharing the API's pool, it moved to
 * such a connection whenever a burst of other queries took the warm one,
 * and idle connections were closed after 30 s. Here it only ever runs where
 * it ran before, and a burst of listings never delays it. Their backends
 * are primed for the batch route's megabyte messages (db/backend-heap.ts).
 * On PGlite (one connection) the database itself.
 */
function intakeDatabase(o: ServerOptions): Db {
  if (o.db.kind !== 'pg' || !o.config.databaseUrl) return o.db;
  return new PgDb({ connectionString: o.config.databaseUrl, logger: o.logger, max: 4, idleTimeoutMs: 0, largeStatements: true });
}

export async function buildServer(o: ServerOptions): Promise<App> {
  const app = Fastify({
    loggerInstance: o.logger,
    bodyLimit: o.config.maxBodyBytes,
    // One log line per request would cost more than publishing an event; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Tenant and event ids may hold ':'; Fastify must not read it as a route parameter separator.
    // Parameters longer than ids may be (128) still reach the route, whose schema names them
    // (a 201-character tenant id was answered 404 "no route").
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;
  app.setValidatorCompiler(validators());
  // Keep the raw JSON text beside the parsed body: publish routes re-read it when a payload holds
  // integers beyond 2^53 (see lossless-payload.ts). Parsing itself stays Fastify's (prototype-safe).
  const defaultJson = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  // JSON only: a text/plain body is 415, not a string that fails the schema.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, bytes, done) => {
    const body = jsonText(bytes as Buffer);
    req.rawBody = body;
    if (nestedDeeperThan(body, MAX_JSON_DEPTH)) return done(errors.tooDeep(MAX_JSON_DEPTH), undefined);
    defaultJson(req, body, (err, parsed) => {
      const proto = err ? protoKeyPath(body) : null;
      if (proto) return done(errors.invalidField(proto, 'a key named __proto__ is not accepted'), undefined);
      done(err, parsed);
    });
  });
  app.addHook('preParsing', async (req) => refuseContentEncoding(req.headers['content-encoding']));
  app.addHook('preValidation', async (req) => {
    // A POST with no body at all is an empty object: routes whose fields are all optional
    // (secret rotation, tokens, portal links, test events) need none, the others name what is missing.
    if (req.method === 'POST' && req.body === undefined && !req.headers['content-type']) req.body = {};
    refuseNul(req.body, req.query, req.rawBody);
  });

  const payloads = new PayloadValidator(o.db, o.config.validationTimeoutMs);
  const intakeDb = intakeDatabase(o);
  if (intakeDb !== o.db) app.addHook('onClose', () => intakeDb.close());
  app.addHook('onClose', () => payloads.close());
  const transforms = o.transforms ?? transformPoolFor(o.config);
  if (!o.transforms) app.addHook('onClose', () => transforms.close());
  const ctx: AppContext = {
    db: o.db,
    config: o.config,
    logger: o.logger,
    metrics: o.metrics,
    auth: new Authenticator(o.db, o.adminTokenHash),
    addressPolicy: o.addressPolicy,
    payloads,
    publisher: new Publisher(o.db, payloads, new WakeSignal(o.db), new WakeSignal(o.db, FANOUT_PAYLOAD), o.localWorker ?? null, undefined, o.config.maxBodyBytes, intakeDb),
    secrets: o.secrets,
    telemetry: o.telemetry ?? null,
    transforms,
    listen: {
      streams: new ListenStreams((n) => o.metrics.listenConnections.set(n)),
      urls: RelayUrls.from(o.secrets),
      base: () => relayBase(o.config.listenRelayUrl, app.server.address()),
    },
  };
  const listenUpkeep = new ListenUpkeep(o.db, ctx.listen.streams, o.logger, o.config.listenGraceSeconds);
  app.addHook('onReady', async () => listenUpkeep.start());
  // Open event streams would keep close() waiting for ever: end them first (their CLIs reconnect elsewhere).
  app.addHook('preClose', async () => {
    ctx.listen.streams.closeAll();
    await listenUpkeep.stop();
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = asApiError(err, o.config.maxBodyBytes);
    if (e.code === 'unavailable') reply.header('retry-after', '1');
    if (e.code === 'internal') req.log.error({ err, url: req.url }, 'unhandled error');
    return reply.status(e.status).send(e.body());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = errors.noRoute(req.method, req.url.split('?')[0] ?? '');
    return reply.status(e.status).send(e.body());
  });


  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Herald', version: VERSION, description: 'Webhook delivery service API' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  // Every /v1 route needs a token; health, metrics and the OpenAPI document do not.
  // Judged on the matched route too: the router decodes the path, so `/%761/...` reaches `/v1/...` routes.
  app.addHook('onRequest', async (req) => {
    if (!(req.url.startsWith('/v1/') || req.routeOptions.url?.startsWith('/v1/'))) return;
    req.principal = await ctx.auth.authenticate(req);
    enforceRole(req);
  });

  // Per-token API rate limit (after authentication, so the key is the token, not the IP).
  if (o.config.apiRateLimitPerSecond > 0) {
    await app.register(rateLimit, {
      global: true,
      hook: 'preHandler',
      max: o.config.apiRateLimitPerSecond,
      timeWindow: 1000,
      allowList: (req) => !req.principal,
      keyGenerator: (req) => (req.principal?.kind === 'tenant' ? req.principal.tokenId : 'admin'),
      errorResponseBuilder: (_req, c) =>
        errors.rateLimited(`more than ${c.max} requests per second with this token; retry after ${c.after}`),
    });
  }

  await app.register(healthRoutes(ctx));
  await app.register(eventTypeRoutes(ctx));
  await app.register(
    tenantScope(ctx, [tenantRoutes, tokenRoutes, endpointRoutes, endpointSecretRoutes, endpointFilterRoutes, endpointTransformationRoutes, eventRoutes, deliveryRoutes, deliveryReplayRoutes, auditRoutes, statsRoutes, portalLinkRoutes, listenSessionRoutes]),
  );
  await app.register(operatorRoutes(ctx));
  await app.register(listenRelayRoutes(ctx));
  await app.register(apiReference);
  // The web UI at `/` (packages/web/dist), after every API route so it never shadows one.
  await app.register(staticUi());
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

/**
 * Any error a route or Fastify throws, as an entry of the error catalogue
 * (errors.ts): deliberate ApiErrors as they are, Fastify's validation and
 * client errors, PostgreSQL's refusals of client values, an unreachable
 * database; anything else is `internal` (logged, answered generically).
 */
function asApiError(err: FastifyError, maxBodyBytes: number): ApiError {
  if (err instanceof ApiError) return err;
  if (err.validation) {
    const validation = err.validation;
    const details = validation.map((v) => {
      const missing = (v.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
      const path = [v.instancePath.replace(/^\//, '').replaceAll('/', '.'), missing.missingProperty ?? missing.additionalProperty]
        .filter(Boolean)
        .join('.');
      const message = missing.additionalProperty ? 'is not a known field' : (v.message ?? 'is invalid');
      return { field: path || err.validationContext || 'body', message };
    });
    const first = details[0]!;
    return new ApiError('validation_error', `${err.validationContext ?? 'body'}.${first.field}: ${first.message}`, details);
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return errors.payloadTooLarge(`request body exceeds ${maxBodyBytes} bytes`);
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return errors.unsupportedMediaType('send JSON with content-type: application/json');
  // Fastify's own client errors: malformed JSON, empty body, bad header...
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return errors.badRequest(err.message);
  // Values the schemas let through but PostgreSQL refuses (lone surrogates in jsonb, numbers
  // out of range) and id collisions are the client's doing.
  const sqlState = typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) ? err.code : '';
  if (sqlState === '23505') return errors.conflict('a resource with this id already exists');
  if (sqlState.startsWith('22')) return new ApiError('validation_error', `a value in the request cannot be stored: ${err.message}`);
  if (isDatabaseUnavailable(err)) return errors.unavailable();
  return errors.internal();
}

/** Connection-level failures mean the database is down or restarting: 503, not 500. */
function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08003', '08006', '53300'].includes(code) ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message ?? '')
  );
}
