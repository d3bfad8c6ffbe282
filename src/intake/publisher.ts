import type { Db } from '../db/db.js';
import type { WakeSignal } from '../db/wake.js';
import { renderEnvelope, type Template } from '../delivery/envelope.js';
import { newId } from '../ids.js';
import type { HandoffTenant } from '../delivery/worker.js';
import { eventBatch, publishAndHandOff, publishEvent, publishMatched, type EventBatch, type HandedOff, type HandoffLease, type NewEvent, type PublishResult } from '../store/events.js';
import { getTenant, type TenantSettings } from '../store/tenants.js';
import { BatchWriter, ItemFailure } from '../delivery/batch-writer.js';
import { errors } from '../errors.js';
import { LookupCache } from '../store/lookup-cache.js';
import { FanoutCache } from './fanout-cache.js';
import { compactJson } from './lossless-payload.js';
import type { PayloadValidator } from './payload-validator.js';

export interface PublishInput {
  tenantId: string;
  id?: string;
  type: string;
  payload: Record<string, unknown>;
  /** Send to this endpoint alone, whatever it subscribes to (test events). */
  onlyEndpointId?: string;
  /** Check the payload against the event type's schema. (Default: true) */
  validate?: boolean;
  /** Deliveries with the same key reach each endpoint one at a time, in publish order. */
  orderingKey?: string;
  /** The payload as parsed without losing big integers, when it has any (see lossless-payload.ts). */
  losslessPayload?: unknown;
  /** The publish span's trace context, stored with the event (telemetry/; null when off). */
  traceContext?: string | null;
}

/**
 * The publishing path shared by the events route and "send test event":
 * tenant check, schema check, envelope, one-statement insert. Tenant
 * settings are cached for a few seconds so publishing costs one statement.
 */
interface IntakeItem {
  tenantId: string;
  envelope: Template | null;
  event: NewEvent;
}

/**
 * The worker of this process (`herald serve`), to which a publish hands
 * its deliveries directly: inserted already leased to it, and given to it
 * once committed, instead of NOTIFY → claim → read back.
 */
export interface LocalWorker {
  reserve(): HandoffLease | null;
  accept(lease: HandoffLease, tenant: HandoffTenant, handed: HandedOff): void;
  /** The publish under this lease failed, but may have committed: give back whatever it leased. */
  abandon(lease: HandoffLease): void;
  /** The publish under this lease committed and handed nothing over (no delivery, or none new). */
  noneHanded(lease: HandoffLease): void;
  notify(): void;
}

/** What prepare needs of a publish. */
type PreparedInput = { id?: string; type: string; payload: Record<string, unknown>; orderingKey?: string; losslessPayload?: unknown; traceContext?: string | null };

export class Publisher {
  /** Tenant settings by id (a missing tenant is not kept: it may be created any moment). */
  private readonly tenants: LookupCache<TenantSettings>;
  /**
   * Single-event publishes made at the same moment share one statement and
   * one commit (group commit), each caller still answered only once its
   * event is durable. Measured: with a commit per publish, intake stopped at
   * the disk's fsync rate (publishes waiting on WALWrite/WALSync).
   */
  private readonly intake = new BatchWriter<IntakeItem, PublishResult>((items) => this.writeIntake(items), 500, 1);
  /** Each tenant's subscriptions, so a publish sends its delivery rows ready made (see fanout-cache.ts). */
  private readonly fanouts = new FanoutCache();

  constructor(
    private readonly db: Db,
    private readonly payloads: PayloadValidator,
    private readonly wake: WakeSignal,
    /** Wakes the workers to write out a batch's deferred deliveries (migration 0033). */
    private readonly fanoutWake: WakeSignal,
    private readonly local: LocalWorker | null = null,
    ttlMs = 5_000,
    /** Largest delivered body (payload, or envelope applied), in bytes; larger publishes get 413. (Default: no limit) */
    private readonly maxDeliveryBodyBytes = Infinity,
    /**
     * Where the publish statements run: connections of their own (see
     * api/server.ts, intakeDatabase), which the tenant lookups stay off so
     * that a lookup never makes the pool open a connection the next publish
     * statement lands on cold. (Default: `db`)
     */
    private readonly intakeDb: Db = db,
  ) {
    this.tenants = new LookupCache(ttlMs);
  }

  /** A tenant's settings; 404 when the tenant does not exist. */
  settingsOf(tenantId: string): Promise<TenantSettings> {
    return this.tenants.get(tenantId, async () => {
      const t = await getTenant(this.db, tenantId);
      if (!t) throw errors.notFound('tenant');
      return t.settings;
    });
  }

  forget(tenantId: string): void {
    this.tenants.forget(tenantId);
  }

  async publish(input: PublishInput): Promise<PublishResult> {
    const settings = await this.settingsOf(input.tenantId);
    if (input.validate !== false) await this.payloads.check(input.type, input.payload);
    const e = await this.prepare(input.tenantId, settings, input);
    const result = await (input.onlyEndpointId
      ? publishEvent(this.intakeDb, { tenantId: input.tenantId, ...e, onlyEndpointId: input.onlyEndpointId })
      : this.intake.add({ tenantId: input.tenantId, envelope: settings.envelope ?? null, event: e })
    ).catch((err: unknown) => this.unlessTenantGone(input.tenantId, err));
    if (input.onlyEndpointId && result.deliveries > 0 && !result.replayed) this.wakeWorkers();
    return result;
  }

  /**
   * Writes the single publishes gathered while the previous write ran: one
   * statement per tenant among them. If a statement fails, its events are
   * written one by one, so each caller gets its own outcome and nobody's
   * event fails for another's.
   */
  private async writeIntake(items: IntakeItem[]): Promise<(PublishResult | ItemFailure)[]> {
    const out: (PublishResult | ItemFailure)[] = new Array(items.length);
    const byTenant = new Map<string, number[]>();
    items.forEach((it, i) => {
      const idx = byTenant.get(it.tenantId);
      if (idx) idx.push(i);
      else byTenant.set(it.tenantId, [i]);
    });
    for (const [tenantId, idx] of byTenant) {
      try {
        const events = idx.map((i) => items[i]!.event);
        const results = await this.write(tenantId, items[idx[0]!]!.envelope, events);
        idx.forEach((i, k) => (out[i] = results[k]!));
      } catch (err) {
        if (idx.length === 1) {
          out[idx[0]!] = new ItemFailure(err);
          continue;
        }
        for (const i of idx) {
          out[i] = await publishEvent(this.intakeDb, { tenantId, ...items[i]!.event }).then(
            (r) => {
              if (r.deliveries > 0 && !r.replayed) this.wakeWorkers();
              return r;
            },
            (e: unknown) => new ItemFailure(e),
          );
        }
      }
    }
    return out;
  }

  /**
   * One publish statement; with a worker in this process that has room, the new deliveries go to it directly.
   * Empties `events` once the statement's batch is made from it (see EventBatch): a suspended async
   * function keeps its locals, so the callers' arrays kept every payload text alive through the statement
   * (measured: clearing it cut the batch route's API CPU per event from 31.9-32.4 µs to 25.7-27.1).
   * What a hand-off to this process's worker needs of the events is taken first.
   */
  private async write(tenantId: string, envelope: Template | null, events: NewEvent[], route: { batch: boolean } = { batch: false }): Promise<PublishResult[]> {
    const lease = this.local?.reserve() ?? null;
    const bodies = lease ? new Map(events.map((e) => [e.id, { type: e.type, payload: e.body ?? e.payloadJson }])) : null;
    // the batch route's batch is all or nothing (an id used by another event refuses it)
    const batch = eventBatch(events, route.batch);
    events.length = 0;
    // a worker of this process with room takes the deliveries as they are written (cheaper than a list
    // written out and claimed); otherwise a batch leaves them to the workers (migration 0033)
    const { results, handedOff, deferred } = await this.insert(tenantId, batch, lease, route.batch && lease === null).catch((err: unknown) => {
      if (lease) this.local?.abandon(lease);
      throw err;
    });
    if (deferred > 0) this.fanoutWake.poke();
    const created = results.reduce((n, r) => n + (r.replayed ? 0 : r.deliveries), 0) - deferred;
    if (lease && handedOff && bodies && this.local) this.local.accept(lease, { id: tenantId, envelope, events: bodies }, handedOff);
    else if (lease) this.local?.noneHanded(lease);
    // What was not handed over (no worker here or no room, ordered
    // deliveries) waits in the queue: wake the workers to claim it. A
    // NOTIFY after deliveries that were all handed over would only set
    // every worker claiming for nothing.
    if (created > (handedOff?.deliveries.length ?? 0)) this.wakeWorkers();
    return results;
  }

  /**
   * The publish statement: with the deliveries matched here against the
   * tenant's cached subscriptions, or, for a tenant with payload filters
   * (evaluated by PostgreSQL) or whose endpoints changed since they were
   * read, matched in SQL.
   */
  private async insert(
    tenantId: string,
    batch: EventBatch,
    lease: HandoffLease | null,
    defer: boolean,
  ): Promise<{ results: PublishResult[]; handedOff: HandedOff | null; deferred: number }> {
    // read like the other lookups, off the publish connections (see intakeDb)
    const fanout = await this.fanouts.get(this.db, tenantId);
    if (!fanout.filtered) {
      const done = await publishMatched(this.intakeDb, tenantId, batch, fanout, lease, defer);
      if (done) return done;
      this.fanouts.forget(tenantId);
    }
    return { ...(await publishAndHandOff(this.intakeDb, tenantId, batch, lease)), deferred: 0 };
  }

  /** Other processes' workers through NOTIFY (coalesced), this process's directly. */
  private wakeWorkers(): void {
    this.wake.poke();
    this.local?.notify();
  }

  /**
   * A foreign-key violation on insert: the tenant may have been deleted (by
   * another API process) since its settings were cached. Then 404, not 500.
   */
  private async unlessTenantGone(tenantId: string, err: unknown): Promise<never> {
    if ((err as { code?: string }).code === '23503') {
      this.forget(tenantId);
      await this.settingsOf(tenantId);
    }
    throw err;
  }

  /**
   * Publishes up to a thousand events of one tenant in one statement. Every
   * payload is checked first; one bad event refuses the whole batch (422
   * naming `events[i]`), so a batch is all or nothing. Unless a worker of
   * this process has room to take them, its deliveries that need no order
   * are written by a worker moments after the 202 (migration 0033): the
   * statement here writes the events and the list of deliveries they make,
   * a third of the rows it wrote before. An id that an event already holds
   * with another type or payload refuses the batch in the same statement:
   * it fails with the error refusedReplayAt (store/events.ts) reads.
   * Empties `events` once they are prepared, so that the parsed payloads
   * are not kept alive through the statement (see write).
   */
  async publishBatch(
    tenantId: string,
    events: { id?: string; type: string; payload: Record<string, unknown>; orderingKey?: string; losslessPayload?: unknown }[],
    /** The publish span's trace context, stored with every event of the batch (null when off). */
    traceContext: string | null = null,
  ): Promise<PublishResult[]> {
    const settings = await this.settingsOf(tenantId);
    await this.payloads.checkAll(events);
    // each type's envelope looked up once, then every event prepared without awaiting (not 1,000 async calls and their promises)
    const types = [...new Set(events.map((e) => e.type))];
    const envelopes = new Map(await Promise.all(types.map(async (t) => [t, await this.envelopeFor(t, settings)] as const)));
    // one instant for the whole batch: its deliveries, if left to the workers, are listed with it once (store/events.ts)
    const createdAt = new Date();
    const prepared = events.map((e, i) => this.prepareWith(tenantId, envelopes.get(e.type)!, traceContext === null ? e : { ...e, traceContext }, `events[${i}]`, createdAt));
    // the parsed payloads are not needed past here: emptied, they are not kept alive through the statement (see write)
    events.length = 0;
    const results = await this.write(tenantId, settings.envelope ?? null, prepared, { batch: true }).catch((err: unknown) => this.unlessTenantGone(tenantId, err));
    return results;
  }

  /** prepareWith for one publish, its envelope looked up. */
  private async prepare(tenantId: string, settings: TenantSettings, input: PreparedInput): Promise<NewEvent> {
    return this.prepareWith(tenantId, await this.envelopeFor(input.type, settings), input, 'the event');
  }

  /** The envelope of events of this type: the type's own, else the tenant's, else none. */
  private async envelopeFor(type: string, settings: TenantSettings): Promise<Template | null> {
    return (await this.payloads.envelopeOf(type)) ?? settings.envelope ?? null;
  }

  /** Id, time and the delivered body (envelope applied) of one event; 413 naming `label` when that body is over the limit. */
  private prepareWith(tenantId: string, envelope: Template | null, input: PreparedInput, label: string, createdAt = new Date()): NewEvent {
    const id = input.id ?? newId('evt');
    const lossless = input.losslessPayload !== undefined;
    const payload = lossless ? input.losslessPayload : input.payload;
    const serialize = lossless ? compactJson : JSON.stringify;
    const body = envelope ? renderEnvelope(envelope, { payload, eventId: id, eventType: input.type, createdAt, tenantId }, serialize) : null;
    const payloadJson = serialize(payload);
    this.checkDeliverySize(body ?? payloadJson, label, body !== null);
    return { id, type: input.type, payloadJson, body, createdAt, orderingKey: input.orderingKey ?? null, traceContext: input.traceContext ?? null, idMadeHere: input.id === undefined };
  }

  /** 413 when the body receivers would get is over the limit (an envelope can make it larger than the request). */
  private checkDeliverySize(body: string, label: string, enveloped: boolean): void {
    const limit = this.maxDeliveryBodyBytes;
    if (body.length * 3 <= limit) return; // UTF-8 needs at most 3 bytes per UTF-16 unit
    const bytes = Buffer.byteLength(body);
    if (bytes <= limit) return;
    throw errors.payloadTooLarge(
      `${label}: the delivered body${enveloped ? ' (envelope applied)' : ''} would be ${bytes} bytes, over the limit of ${limit} bytes (HERALD_MAX_BODY_BYTES)`,
    );
  }

}
