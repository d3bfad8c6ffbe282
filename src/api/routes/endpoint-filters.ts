import { compileFilter } from '../../filters/compile-filter.js';
import { evaluateFilter, type FilterEvent } from '../../filters/evaluate-filter.js';
import { getEndpoint } from '../../store/endpoints.js';
import { errors } from '../../errors.js';
import { EndpointSettings } from '../endpoint-settings.js';
import { EndpointParams, FilterTest, FilterTestResult } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

/**
 * Trying an endpoint's payload filter (or one about to be saved) on a sample
 * event. `matches` comes from PostgreSQL evaluating the compiled filter
 * exactly as the publish statement does; `reason` from the TypeScript
 * evaluator, which has the same semantics (property-tested) and can say
 * which condition decided.
 */
export const endpointFilterRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  const rules = new EndpointSettings(ctx.config, ctx.addressPolicy);

  app.post(
    '/v1/tenants/:tenantId/endpoints/:endpointId/filter/test',
    { schema: { tags: ['endpoints'], params: EndpointParams, body: FilterTest, response: { 200: FilterTestResult } } },
    async (req) => {
      const ep = await getEndpoint(ctx.db, req.params.tenantId, req.params.endpointId, ctx.secrets);
      if (!ep) throw errors.notFound('endpoint');
      const tree = rules.filterTree(req.body.filter !== undefined ? req.body.filter : ep.filter);
      const e = req.body.event;
      const event: FilterEvent = {
        id: e.id ?? 'evt_sample',
        type: e.type ?? 'herald.test',
        createdAt: e.createdAt ? new Date(e.createdAt).toISOString() : new Date().toISOString(),
        payload: e.payload ?? {},
      };
      const verdict = evaluateFilter(tree, event);
      if (!tree) return verdict;
      const compiled = compileFilter(tree);
      const res = await ctx.db.query<{ matches: boolean | null }>(`select jsonb_path_match($1::jsonb, $2::jsonpath, $3::jsonb, true) as matches`, [
        JSON.stringify(event),
        compiled.path,
        JSON.stringify(compiled.vars),
      ]);
      const matches = res.rows[0]?.matches === true;
      return matches === verdict.matches ? verdict : { matches, reason: `the database says ${matches ? 'it matches' : 'no match'} (${verdict.reason})` };
    },
  );
};
