import type { Command } from 'commander';
import { apiCommand, defined, str } from '../action.js';
import { seg } from '../api-client.js';
import { usageError } from '../exit-codes.js';
import { show, table } from '../output.js';
import { Progress } from '../progress.js';
import type { EndpointRow } from './types.js';

/** `herald recover`: re-queue the failed deliveries of one endpoint, several, or all of a tenant's. */
export function recoverCommand(program: Command): void {
  apiCommand(
    program,
    {
      name: 'recover [endpointIds...]',
      description: 'send again every delivery that failed since a time, for the endpoints given or --all',
      example: 'herald recover --all --since 2026-12-01T00:00:00Z --tenant acme',
    },
    async (ctx, ids, flags) => {
      const since = str(flags.since);
      if (!since) throw usageError('--since is required (ISO 8601, e.g. 2026-12-01T00:00:00Z)');
      if (ids.length > 0 === (flags.all === true)) throw usageError('give endpoint ids or --all, not both nor neither');
      const base = `/v1/tenants/${seg(await ctx.tenant())}/endpoints`;
      const targets = [...ids];
      if (flags.all === true) for await (const e of ctx.api.all<EndpointRow>(base)) targets.push(e.id);
      const progress = new Progress('recovering endpoints', targets.length);
      const results: { endpointId: string; recovered: number }[] = [];
      for (const endpointId of targets) {
        const r = await ctx.api.post<{ recovered: number }>(`${base}/${seg(endpointId)}/recover`, defined({ since, until: str(flags.until) }));
        results.push({ endpointId, recovered: r.recovered });
        progress.tick();
      }
      progress.finish();
      show(ctx.json, { data: results, recovered: results.reduce((n, r) => n + r.recovered, 0) }, (r) =>
        table(r.data, [
          { header: 'endpoint', value: (x) => x.endpointId },
          { header: 'recovered', value: (x) => x.recovered },
        ]) + `recovered ${r.recovered} deliver${r.recovered === 1 ? 'y' : 'ies'}\n`,
      );
    },
  )
    .option('--since <time>', 'failed at or after this time (ISO 8601; required)')
    .option('--until <time>', 'and before this time (default: now)')
    .option('--all', "every endpoint of the tenant");
}
