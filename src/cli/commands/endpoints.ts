import type { Command } from 'commander';
import { apiCommand, defined, intFlag, jsonInput, listFlag, numberFlag, str, type Flags } from '../action.js';
import { seg } from '../api-client.js';
import { usageError } from '../exit-codes.js';
import { details, show, table } from '../output.js';
import type { EndpointRow } from './types.js';

const columns = [
  { header: 'id', value: (e: EndpointRow) => e.id },
  { header: 'url', value: (e: EndpointRow) => e.url },
  { header: 'event types', value: (e: EndpointRow) => (e.eventTypes ? e.eventTypes.join(',') : '*') },
  { header: 'state', value: (e: EndpointRow) => (e.disabled ? `disabled (${e.disabledReason ?? 'by user'})` : 'enabled') },
  { header: 'description', value: (e: EndpointRow) => e.description },
];
const one = (e: EndpointRow & { secret?: string }) =>
  details([
    ['id', e.id],
    ['url', e.url],
    ['event types', e.eventTypes ? e.eventTypes.join(',') : '*'],
    ['state', e.disabled ? `disabled (${e.disabledReason ?? 'by user'})` : 'enabled'],
    ['description', e.description],
    ...(e.secret ? ([['secret', e.secret]] as [string, string][]) : []),
  ]);

/** The endpoint fields create and update share, from their flags. */
async function endpointFields(flags: Flags) {
  const eventTypes = str(flags.eventTypes);
  return defined({
    description: str(flags.description),
    eventTypes: eventTypes === undefined ? undefined : eventTypes === '*' ? null : listFlag(eventTypes),
    timeoutMs: intFlag(flags.timeoutMs, '--timeout-ms'),
    ordered: flags.ordered === true ? true : undefined,
    rateLimitPerSecond: flags.rateLimit === 'none' ? null : numberFlag(flags.rateLimit, '--rate-limit'),
    headers: headerFlags(flags.header),
    retry: str(flags.retry) === undefined ? undefined : await jsonInput(str(flags.retry)!, '--retry'),
  });
}

function headerFlags(value: Flags[string]): Record<string, string> | undefined {
  if (!Array.isArray(value)) return undefined;
  return Object.fromEntries(
    value.map((h) => {
      const i = h.indexOf(':');
      if (i <= 0) throw usageError(`--header: expected "Name: value", got "${h}"`);
      return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
    }),
  );
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function fieldOptions(cmd: Command): Command {
  return cmd
    .option('--description <text>', 'what the endpoint is for')
    .option('--event-types <patterns>', 'comma-separated types or patterns (campaign.*); * for all')
    .option('--header <header>', 'static header "Name: value" (repeatable)', collect)
    .option('--timeout-ms <ms>', 'request timeout in milliseconds')
    .option('--rate-limit <n>', 'most deliveries per second, or "none"')
    .option('--retry <json>', 'retry policy as JSON, @file.json or - (see /docs)')
    .option('--ordered', 'deliver one at a time, in publish order');
}

/** `herald endpoints list|create|update|delete|test|rotate-secret` */
export function endpointCommands(program: Command): void {
  const group = program.command('endpoints').description("a tenant's webhook endpoints");
  const base = async (ctx: { tenant(): Promise<string> }) => `/v1/tenants/${seg(await ctx.tenant())}/endpoints`;

  apiCommand(group, { name: 'list', description: "list the tenant's endpoints", example: 'herald endpoints list --tenant acme' }, async (ctx) => {
    const rows: EndpointRow[] = [];
    for await (const e of ctx.api.all<EndpointRow>(await base(ctx))) rows.push(e);
    show(ctx.json, rows, (r) => table(r, columns));
  });

  fieldOptions(
    apiCommand(
      group,
      {
        name: 'create <url>',
        description: 'create an endpoint; prints its id and signing secret',
        example: "herald endpoints create https://example.com/webhooks --tenant acme --event-types 'campaign.*'",
      },
      async (ctx, [url], flags) => {
        const body = { url, ...(await endpointFields(flags)), ...defined({ secret: str(flags.secret) }) };
        const e = await ctx.api.post<EndpointRow & { secret: string }>(await base(ctx), body);
        show(ctx.json, e, one);
      },
    ),
  ).option('--secret <secret>', 'signing secret (default: generated, whsec_...)');

  fieldOptions(
    apiCommand(
      group,
      { name: 'update <endpointId>', description: 'change an endpoint', example: 'herald endpoints update ep_123 --tenant acme --disable' },
      async (ctx, [id], flags) => {
        const body = {
          ...(await endpointFields(flags)),
          ...defined({ url: str(flags.setUrl), disabled: flags.disable === true ? true : flags.enable === true ? false : undefined }),
        };
        if (Object.keys(body).length === 0) throw usageError('nothing to change: give at least one option (see --help)');
        const e = await ctx.api.request<EndpointRow>('PATCH', `${await base(ctx)}/${seg(id!)}`, body);
        show(ctx.json, e, one);
      },
    ),
  )
    .option('--set-url <url>', 'new URL (--url is where Herald is)')
    .option('--disable', 'stop deliveries to it')
    .option('--enable', 'resume deliveries to it');

  apiCommand(group, { name: 'delete <endpointId>', description: 'delete an endpoint', example: 'herald endpoints delete ep_123 --tenant acme' }, async (ctx, [id]) => {
    await ctx.api.request('DELETE', `${await base(ctx)}/${seg(id!)}`);
    show(ctx.json, { deleted: id }, () => `deleted endpoint ${id}`);
  });

  apiCommand(
    group,
    { name: 'test <endpointId>', description: 'send a test event to one endpoint; prints the delivery id', example: 'herald endpoints test ep_123 --tenant acme' },
    async (ctx, [id], flags) => {
      const payload = str(flags.payload) === undefined ? undefined : await jsonInput(str(flags.payload)!, 'payload');
      const r = await ctx.api.post<{ eventId: string; deliveryId: string; eventType: string }>(
        `${await base(ctx)}/${seg(id!)}/test`,
        defined({ eventType: str(flags.eventType), payload }),
      );
      show(ctx.json, r, (x) => details([['event', x.eventId], ['delivery', x.deliveryId], ['type', x.eventType]]));
    },
  )
    .option('--event-type <type>', 'event type to send (default: herald.test)')
    .option('--payload <json>', 'payload as JSON, @file.json or -');

  apiCommand(
    group,
    {
      name: 'rotate-secret <endpointId>',
      description: 'new signing secret; the old one keeps signing during the grace period; prints the new secret',
      example: 'herald endpoints rotate-secret ep_123 --tenant acme --grace-seconds 3600',
    },
    async (ctx, [id], flags) => {
      const r = await ctx.api.post<{ secret: string }>(
        `${await base(ctx)}/${seg(id!)}/secret/rotate`,
        defined({ secret: str(flags.secret), graceSeconds: intFlag(flags.graceSeconds, '--grace-seconds') }),
      );
      show(ctx.json, r, (x) => x.secret);
    },
  )
    .option('--secret <secret>', 'the new secret (default: generated)')
    .option('--grace-seconds <s>', 'how long the old secret keeps signing (default: 86400)');
}
