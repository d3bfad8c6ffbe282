import type { FastifyRequest } from 'fastify';
import type { Publisher } from '../intake/publisher.js';

/**
 * A list under a tenant that does not exist is 404, as any other route of
 * a missing tenant (the admin token got 200 with an empty list). Checked
 * only when the list is empty, so listing costs no extra query; a tenant
 * token's own tenant exists (its tokens go with it), so only the admin
 * needs it. The tenant lookup is the publisher's cached one.
 */
export async function emptyListOfMissingTenant(req: FastifyRequest, publisher: Publisher, tenantId: string, rows: unknown[]): Promise<void> {
  if (rows.length === 0 && req.principal.kind === 'admin') await publisher.settingsOf(tenantId);
}
