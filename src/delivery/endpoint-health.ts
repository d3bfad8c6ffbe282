import type { Db } from '../db/db.js';
import { newId } from '../ids.js';
import { recordAudit } from '../store/audit.js';
import { NOTIFY_CHANNEL, publishEvent } from '../store/events.js';
import { getTenant } from '../store/tenants.js';
import { renderEnvelope } from './envelope.js';

/**
 * Tells the tenant that Herald disabled one of its endpoints (410 Gone, or
 * nothing but failures for too long): an audit entry, and an
 * `endpoint.disabled` event for the endpoints that subscribe to it by name.
 * Runs after the batch that disabled the endpoint was written (rarely: once
 * per disabled endpoint), in one transaction of its own.
 */
export async function announceDisabled(db: Db, e: { endpointId: string; tenantId: string; reason: string }): Promise<void> {
  await db.transaction(async (tx) => {
    await recordAudit(tx, {
      tenantId: e.tenantId,
      actor: 'system',
      action: 'endpoint.disabled',
      targetType: 'endpoint',
      targetId: e.endpointId,
      details: { reason: e.reason },
    });
    const tenant = await getTenant(tx, e.tenantId);
    if (!tenant) return;
    const id = newId('evt');
    const createdAt = new Date();
    const type = 'endpoint.disabled';
    const payload = { type, timestamp: createdAt.toISOString(), data: { endpointId: e.endpointId, reason: e.reason } };
    const envelope = tenant.settings.envelope;
    await publishEvent(tx, {
      tenantId: e.tenantId,
      id,
      type,
      payloadJson: JSON.stringify(payload),
      body: envelope ? renderEnvelope(envelope, { payload, eventId: id, eventType: type, createdAt, tenantId: e.tenantId }) : null,
      createdAt,
    });
  });
  await db.query(`select pg_notify('${NOTIFY_CHANNEL}', '')`);
}
