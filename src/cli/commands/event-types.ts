import type { Command } from 'commander';
import { apiCommand, defined, jsonInput, str } from '../action.js';
import { seg } from '../api-client.js';
import { usageError } from '../exit-codes.js';
import { details, show, table } from '../output.js';
import type { EventTypeRow } from './types.js';

const one = (t: EventTypeRow) => details([['name', t.name], ['description', t.description], ['schema', t.schema ? 'yes' : 'none']]);

/** `herald event-types list|create|update` */
export function eventTypeCommands(program: Command): void {
  const group = program.command('event-types').description('the catalogue of event types (changes need the admin token)');

  apiCommand(group, { name: 'list', description: 'list event types', example: 'herald event-types list', tenant: false }, async (ctx) => {
    const r = await ctx.api.get<{ data: EventTypeRow[] }>('/v1/event-types');
    show(ctx.json, r.data, (rows) =>
      table(rows, [
        { header: 'name', value: (t) => t.name },
        { header: 'schema', value: (t) => (t.schema ? 'yes' : 'no') },
        { header: 'description', value: (t) => t.description },
      ]),
    );
  });

  apiCommand(
    group,
    { name: 'create <name>', description: 'add an event type', example: "herald event-types create invoice.paid --schema @invoice.schema.json", tenant: false },
    async (ctx, [name], flags) => {
      const schema = str(flags.schema) === undefined ? undefined : await jsonInput(str(flags.schema)!, '--schema');
      const t = await ctx.api.post<EventTypeRow>('/v1/event-types', defined({ name, description: str(flags.description), schema }));
      show(ctx.json, t, one);
    },
  )
    .option('--description <text>', 'what the event means')
    .option('--schema <json>', 'JSON Schema payloads must match: JSON, @file.json or -');

  apiCommand(
    group,
    { name: 'update <name>', description: 'change an event type', example: 'herald event-types update invoice.paid --description "An invoice was paid"', tenant: false },
    async (ctx, [name], flags) => {
      const schema = flags.schema === 'none' ? null : str(flags.schema) === undefined ? undefined : await jsonInput(str(flags.schema)!, '--schema');
      const body = defined({ description: str(flags.description), schema });
      if (Object.keys(body).length === 0) throw usageError('nothing to change: give --description or --schema');
      const t = await ctx.api.request<EventTypeRow>('PATCH', `/v1/event-types/${seg(name!)}`, body);
      show(ctx.json, t, one);
    },
  )
    .option('--description <text>', 'what the event means')
    .option('--schema <json>', 'JSON Schema: JSON, @file.json, - or "none" to remove it');
}
