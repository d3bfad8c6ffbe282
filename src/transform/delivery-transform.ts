import type { ClaimedDelivery } from '../delivery/queue/types.js';
import type { TransformPool } from './pool.js';
import { requestFrom, webhookInput, type Original, type Transformed } from './webhook-request.js';

/** The request of a delivery as it is before any transformation. */
export const originalOf = (d: Pick<ClaimedDelivery, 'url' | 'eventId' | 'eventType' | 'headers' | 'payload'>): Original => ({
  url: d.url,
  eventId: d.eventId,
  eventType: d.eventType,
  headers: d.headers,
  body: d.payload,
});

/** The endpoint's own signature header (header-HMAC endpoints), which a transformation may not set. */
export const signatureHeaderOf = (d: Pick<ClaimedDelivery, 'signature'>): string | null =>
  d.signature.scheme === 'hmac-sha256' ? d.signature.header.toLowerCase() : null;

/** Runs `source` on a delivery's request in the pool and checks what it returns. */
export async function transformRequest(pool: TransformPool, key: string, source: string, o: Original, signatureHeader: string | null): Promise<Transformed> {
  const r = await pool.run(key, source, webhookInput(o));
  return r.ok ? requestFrom(o, r.output, signatureHeader) : r;
}

/** The worker's transformation step: one delivery, its endpoint's transformation, queued under the endpoint. */
export function transformDelivery(pool: TransformPool, d: ClaimedDelivery, source: string): Promise<Transformed> {
  return transformRequest(pool, d.endpointId, source, originalOf(d), signatureHeaderOf(d));
}
