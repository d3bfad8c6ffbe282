import type { Command } from 'commander';
import { apiCommand, intFlag, str } from '../action.js';
import { queryString, seg, type Page } from '../api-client.js';
import { CliError, usageError } from '../exit-codes.js';
import { details, show, table } from '../output.js';
import { Progress } from '../progress.js';
import type { DeliveryRow } from './types.js';

interface AttemptRow {
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  response: { status: number } | null;
  error: { code: string; message: string } | null;
}

const columns = [
  { header: 'id', value: (d: DeliveryRow) => d.id },
  { header: 'event type', value: (d: DeliveryRow) => d.eventType },
  { header: 'endpoint', value: (d: DeliveryRow) => d.endpointId },
  { header: 'status', value: (d: DeliveryRow) => d.status },
  { header: 'attempts', value: (d: DeliveryRow) => d.attempts },
  { header: 'last', value: (d: DeliveryRow) => d.lastStatus ?? d.lastError },
  { header: 'created', value: (d: DeliveryRow) => d.createdAt },
];

/** `herald deliveries list|show|retry` */
export function deliveryCommands(program: Command): void {
  const group = program.command('deliveries').description('deliveries of events to endpoints, their attempts, manual retries');
  const base = async (ctx: { tenant(): Promise<string> }) => `/v1/tenants/${seg(await ctx.tenant())}/deliveries`;

  apiCommand(
    group,
    { name: 'list', description: 'list deliveries, newest first', example: 'herald deliveries list --tenant acme --status failed' },
    async (ctx, _args, flags) => {
      const q = queryString({ limit: String(intFlag(flags.limit, '--limit') ?? 50), cursor: str(flags.cursor), status: str(flags.status), endpointId: str(flags.endpoint) });
      const page = await ctx.api.get<Page<DeliveryRow>>((await base(ctx)) + q);
      show(ctx.json, page, (p) => table(p.data, columns) + (p.nextCursor ? `more: --cursor ${p.nextCursor}\n` : ''));
    },
  )
    .option('--status <status>', 'pending, succeeded or failed')
    .option('--endpoint <endpointId>', 'only deliveries to this endpoint')
    .option('--limit <n>', 'how many (1-250, default 50)')
    .option('--cursor <cursor>', 'the next page, as printed by the previous one');

  apiCommand(group, { name: 'show <deliveryId>', description: 'one delivery and every attempt', example: 'herald deliveries show dlv_123 --tenant acme' }, async (ctx, [id]) => {
    const d = await ctx.api.get<DeliveryRow & { attemptLog: AttemptRow[] }>(`${await base(ctx)}/${seg(id!)}`);
    show(ctx.json, d, (x) =>
      details([
        ['id', x.id],
        ['event', `${x.eventId} (${x.eventType})`],
        ['endpoint', x.endpointId],
        ['status', x.status],
        ['attempts', x.attempts],
        ['next attempt', x.nextAttemptAt],
      ]) +
      '\n' +
      table(x.attemptLog, [
        { header: '#', value: (a) => a.attemptNumber },
        { header: 'started', value: (a) => a.startedAt },
        { header: 'ms', value: (a) => a.durationMs },
        { header: 'result', value: (a) => (a.response ? `HTTP ${a.response.status}` : `${a.error?.code}: ${a.error?.message}`) },
      ]),
    );
  });

  apiCommand(
    group,
    {
      name: 'retry [deliveryIds...]',
      description: 'send deliveries again now: the ids given, or every one matching --status/--endpoint',
      example: 'herald deliveries retry --status failed --endpoint ep_123 --tenant acme',
    },
    async (ctx, ids, flags) => {
      const path = await base(ctx);
      const status = str(flags.status);
      if (ids.length > 0 && (status || flags.endpoint)) throw usageError('give delivery ids or --status/--endpoint, not both');
      if (ids.length === 0 && !status) throw usageError('give delivery ids, or --status failed to retry every failed delivery');
      const progress = new Progress('retrying', ids.length || null);
      const targets: string[] = [...ids];
      if (targets.length === 0) {
        // Listed first, then retried: a retried delivery turns pending and would shift the pages under a cursor.
        for await (const d of ctx.api.all<DeliveryRow>(path, { status, endpointId: str(flags.endpoint) })) targets.push(d.id);
        progress.setTotal(targets.length);
      }
      const retried: DeliveryRow[] = [];
      const failures: string[] = [];
      for (const id of targets) {
        try {
          retried.push(await ctx.api.post<DeliveryRow>(`${path}/${seg(id)}/retry`));
        } catch (err) {
          if (!(err instanceof CliError) || targets.length === 1) throw err;
          failures.push(`${id}: ${err.message}`);
        }
        progress.tick();
      }
      progress.finish();
      for (const f of failures) process.stderr.write(`herald: ${f}\n`);
      show(ctx.json, { retried: retried.map((d) => d.id), failed: failures.length }, (r) => `retried ${r.retried.length} deliver${r.retried.length === 1 ? 'y' : 'ies'}`);
      if (failures.length > 0) process.exitCode = 1;
    },
  )
    .option('--status <status>', 'retry every delivery in this state (usually failed)')
    .option('--endpoint <endpointId>', 'with --status: only deliveries to this endpoint');
}
