import type { Command } from 'commander';
import { apiCommand, defined, intFlag, jsonInput, str } from '../action.js';
import { queryString, seg, type Page } from '../api-client.js';
import { details, show, table } from '../output.js';
import type { DeliveryRow, EventRow } from './types.js';

/** `herald events publish|list|show` */
export function eventCommands(program: Command): void {
  const group = program.command('events').description("publish and look up a tenant's events");
  const base = async (ctx: { tenant(): Promise<string> }) => `/v1/tenants/${seg(await ctx.tenant())}/events`;

  apiCommand(
    group,
    {
      name: 'publish <type> [payload]',
      description: 'publish an event; payload as JSON, @file.json or - (stdin); prints the event id',
      example: `herald events publish invoice.paid '{"invoiceId":"in_1","amount":4200}' --tenant acme`,
    },
    async (ctx, [type, source], flags) => {
      const payload = source === undefined ? {} : await jsonInput(source, 'payload');
      const r = await ctx.api.post<{ id: string; deliveries: number }>(
        await base(ctx),
        defined({ type, payload, id: str(flags.id), orderingKey: str(flags.orderingKey) }),
      );
      show(ctx.json, r, (x) => x.id);
    },
  )
    .option('--id <id>', 'event id: publishing the same id again is a no-op (idempotency)')
    .option('--ordering-key <key>', 'events with the same key reach each endpoint in order');

  apiCommand(
    group,
    { name: 'list', description: 'list recent events, newest first', example: "herald events list --tenant acme --type 'invoice.paid' --limit 10" },
    async (ctx, _args, flags) => {
      const q = queryString({
        limit: String(intFlag(flags.limit, '--limit') ?? 50),
        cursor: str(flags.cursor),
        type: str(flags.type),
        since: str(flags.since),
        until: str(flags.until),
      });
      const page = await ctx.api.get<Page<EventRow>>((await base(ctx)) + q);
      show(ctx.json, page, (p) =>
        table(p.data, [
          { header: 'id', value: (e) => e.id },
          { header: 'type', value: (e) => e.type },
          { header: 'created', value: (e) => e.createdAt },
        ]) + (p.nextCursor ? `more: --cursor ${p.nextCursor}\n` : ''),
      );
    },
  )
    .option('--type <type>', 'only events of this type')
    .option('--since <time>', 'only events created at or after (ISO 8601)')
    .option('--until <time>', 'only events created before (ISO 8601)')
    .option('--limit <n>', 'how many (1-250, default 50)')
    .option('--cursor <cursor>', 'the next page, as printed by the previous one');

  apiCommand(group, { name: 'show <eventId>', description: 'one event, its payload and its deliveries', example: 'herald events show evt_123 --tenant acme' }, async (ctx, [id]) => {
    const path = `${await base(ctx)}/${seg(id!)}`;
    const event = await ctx.api.get<EventRow & { payload: unknown }>(path);
    const deliveries = (await ctx.api.get<{ data: DeliveryRow[] }>(`${path}/deliveries`)).data;
    show(ctx.json, { ...event, deliveries }, (e) =>
      details([['id', e.id], ['type', e.type], ['created', e.createdAt], ['payload', e.payload]]) +
      '\n' +
      table(e.deliveries, [
        { header: 'delivery', value: (d) => d.id },
        { header: 'endpoint', value: (d) => d.endpointId },
        { header: 'status', value: (d) => d.status },
        { header: 'attempts', value: (d) => d.attempts },
      ]),
    );
  });
}
