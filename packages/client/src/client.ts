import type { Routes } from './openapi-types.js';
import { Transport, type TransportOptions } from './transport.js';

export type Route = keyof Routes;
/** What a route takes: path parameters, query and body, each only when the route has one. */
export type Input<R extends Route> = ([Routes[R]['params']] extends [never] ? { params?: undefined } : { params: Routes[R]['params'] }) &
  ([Routes[R]['query']] extends [never] ? { query?: undefined } : { query?: Routes[R]['query'] }) &
  ([Routes[R]['body']] extends [never] ? { body?: undefined } : { body: Routes[R]['body'] });
export type Output<R extends Route> = Routes[R]['response'];

/** Routes that answer one page: `{data, nextCursor}`. */
export type ListRoute = { [R in Route]: Output<R> extends { data: unknown[]; nextCursor: string | null } ? R : never }[Route];
export type Item<R extends ListRoute> = Output<R>['data'][number];

export type Event = Output<'GET /v1/tenants/{tenantId}/events/{eventId}'>;
export type EventInput = Routes['POST /v1/tenants/{tenantId}/events']['body'];
export type Published = Output<'POST /v1/tenants/{tenantId}/events'>;
export type BatchPublished = Output<'POST /v1/tenants/{tenantId}/events/batch'>['data'][number];
export type Endpoint = Output<'GET /v1/tenants/{tenantId}/endpoints/{endpointId}'>;
export type EndpointInput = Routes['POST /v1/tenants/{tenantId}/endpoints']['body'];
export type Tenant = Output<'GET /v1/tenants/{tenantId}'>;
export type Delivery = Item<'GET /v1/tenants/{tenantId}/deliveries'>;

/** The most events one batch request may carry (the API's limit). */
export const MAX_BATCH = 1000;

/** A new event id: publishing with it again is a no-op, so a publish may be retried safely. */
export const newEventId = (): string => `evt_${globalThis.crypto.randomUUID().replaceAll('-', '')}`;

/**
 * Herald's REST API, typed from its OpenAPI document: `call` reaches any
 * route by its name (`'POST /v1/tenants/{tenantId}/events'`), the methods
 * below cover what producers do most. Requests answered 429 or 503 are
 * retried as `Retry-After` says (transport.ts).
 */
export class HeraldClient {
  private readonly http: Transport;

  constructor(opts: TransportOptions) {
    this.http = new Transport(opts);
  }

  /** Any route, typed by its name. */
  call<R extends Route>(route: R, input: Input<R>, opts: { idempotent?: boolean } = {}): Promise<Output<R>> {
    const [method, template] = route.split(' ') as [string, string];
    const params = (input.params ?? {}) as Record<string, string>;
    const path = template.replace(/\{(\w+)\}/g, (_m, name: string) => {
      const value = params[name];
      if (value === undefined) throw new TypeError(`${route}: params.${name} is required`);
      return encodeURIComponent(value);
    });
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries((input.query ?? {}) as Record<string, unknown>)) if (v !== undefined) query.set(k, String(v));
    const qs = query.toString();
    return this.http.send<Output<R>>({
      method,
      path: qs ? `${path}?${qs}` : path,
      body: input.body ?? (method === 'POST' ? {} : undefined),
      idempotent: opts.idempotent ?? (method === 'GET' || method === 'DELETE'),
    });
  }

  /** Every item of a list route, page after page (`limit` per request, default 250). */
  async *paginate<R extends ListRoute>(route: R, input: Input<R>): AsyncGenerator<Item<R>> {
    let cursor: string | undefined;
    do {
      const query = { limit: 250, ...(input.query as object | undefined), ...(cursor ? { cursor } : {}) };
      const page = (await this.call(route, { ...input, query } as Input<R>)) as { data: Item<R>[]; nextCursor: string | null };
      yield* page.data;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /**
   * Publishes one event. Without an `id` one is generated first, so the
   * retries after a timeout or a 503 can never publish it twice.
   */
  publish(tenantId: string, event: EventInput): Promise<Published> {
    return this.call('POST /v1/tenants/{tenantId}/events', { params: { tenantId }, body: { ...event, id: event.id ?? newEventId() } }, { idempotent: true });
  }

  /**
   * Publishes many events, up to 1,000 per request (each request all or
   * nothing), ids generated where missing. Results come in input order.
   */
  async publishBatch(tenantId: string, events: EventInput[], opts: { batchSize?: number } = {}): Promise<BatchPublished[]> {
    const size = Math.min(Math.max(1, opts.batchSize ?? MAX_BATCH), MAX_BATCH);
    const withIds = events.map((e) => ({ ...e, id: e.id ?? newEventId() }));
    const out: BatchPublished[] = [];
    for (let i = 0; i < withIds.length; i += size) {
      const r = await this.call('POST /v1/tenants/{tenantId}/events/batch', { params: { tenantId }, body: { events: withIds.slice(i, i + size) } }, { idempotent: true });
      out.push(...r.data);
    }
    return out;
  }

  /** Events of a tenant, newest first, every page. */
  events(tenantId: string, query: Routes['GET /v1/tenants/{tenantId}/events']['query'] = {}): AsyncGenerator<Event> {
    return this.paginate('GET /v1/tenants/{tenantId}/events', { params: { tenantId }, query });
  }

  /** Deliveries of a tenant, newest first, every page. */
  deliveries(tenantId: string, query: Routes['GET /v1/tenants/{tenantId}/deliveries']['query'] = {}): AsyncGenerator<Delivery> {
    return this.paginate('GET /v1/tenants/{tenantId}/deliveries', { params: { tenantId }, query });
  }

  createTenant(body: Routes['POST /v1/tenants']['body']): Promise<Tenant> {
    return this.call('POST /v1/tenants', { body });
  }

  /** Creates an endpoint; the answer carries its signing `secret`. */
  createEndpoint(tenantId: string, body: EndpointInput): Promise<Output<'POST /v1/tenants/{tenantId}/endpoints'>> {
    return this.call('POST /v1/tenants/{tenantId}/endpoints', { params: { tenantId }, body });
  }
}
