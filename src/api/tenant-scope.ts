import { requireTenant } from './auth.js';
import type { AppContext, RoutePlugin } from './server.js';

/**
 * Every route under `/v1/tenants/:tenantId` in one scope, whose hook checks
 * once, before any of them runs, that the caller may see that tenant (a
 * token of another tenant gets 404, as for a tenant that does not exist).
 * It used to be a `requireTenant` call at the top of each handler, which a
 * new route could forget. The hook runs after authentication and the
 * read-only check (the root's onRequest hook), so a read-only token of
 * another tenant still gets 403 for writes, as for a missing tenant.
 */
export const tenantScope =
  (ctx: AppContext, plugins: ((ctx: AppContext) => RoutePlugin)[]): RoutePlugin =>
  async (scope) => {
    scope.addHook('onRequest', async (req) => {
      const tenantId = (req.params as { tenantId?: unknown }).tenantId;
      if (typeof tenantId === 'string') requireTenant(req, tenantId);
    });
    for (const plugin of plugins) await scope.register(plugin(ctx));
  };
