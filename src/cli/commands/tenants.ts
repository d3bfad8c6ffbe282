import type { Command } from 'commander';
import { apiCommand, defined, str } from '../action.js';
import { seg } from '../api-client.js';
import { usageError } from '../exit-codes.js';
import { details, show, table } from '../output.js';
import type { TenantRow } from './types.js';

const columns = [
  { header: 'id', value: (t: TenantRow) => t.id },
  { header: 'name', value: (t: TenantRow) => t.name },
  { header: 'created', value: (t: TenantRow) => t.createdAt },
];
const one = (t: TenantRow) => details([['id', t.id], ['name', t.name], ['created', t.createdAt]]);

/** `herald tenants list|create|show|update|delete` */
export function tenantCommands(program: Command): void {
  const group = program.command('tenants').description('list, create, rename and delete tenants (admin token)');

  apiCommand(group, { name: 'list', description: 'list every tenant', example: 'herald tenants list --json', tenant: false }, async (ctx) => {
    const tenants: TenantRow[] = [];
    for await (const t of ctx.api.all<TenantRow>('/v1/tenants')) tenants.push(t);
    show(ctx.json, tenants, (rows) => table(rows, columns));
  });

  apiCommand(
    group,
    { name: 'create <name>', description: 'create a tenant; prints its id', example: 'herald tenants create "Acme Inc" --id acme', tenant: false },
    async (ctx, [name], flags) => {
      const t = await ctx.api.post<TenantRow>('/v1/tenants', defined({ name, id: str(flags.id) }));
      show(ctx.json, t, (x) => x.id);
    },
  ).option('--id <id>', 'choose the tenant id (default: generated)');

  apiCommand(group, { name: 'show', description: 'show the tenant of --tenant', example: 'herald tenants show --tenant acme' }, async (ctx) => {
    const t = await ctx.api.get<TenantRow>(`/v1/tenants/${seg(await ctx.tenant())}`);
    show(ctx.json, t, one);
  });

  apiCommand(group, { name: 'update', description: 'rename the tenant of --tenant', example: 'herald tenants update --tenant acme --name "Acme Corp"' }, async (ctx, _args, flags) => {
    const name = str(flags.name);
    if (name === undefined) throw usageError('nothing to change: give --name');
    const t = await ctx.api.request<TenantRow>('PATCH', `/v1/tenants/${seg(await ctx.tenant())}`, { name });
    show(ctx.json, t, one);
  }).option('--name <name>', 'new name');

  apiCommand(
    group,
    { name: 'delete', description: 'delete the tenant of --tenant with all its endpoints, events and deliveries', example: 'herald tenants delete --tenant acme' },
    async (ctx) => {
      const id = await ctx.tenant();
      await ctx.api.request('DELETE', `/v1/tenants/${seg(id)}`);
      show(ctx.json, { deleted: id }, () => `deleted tenant ${id}`);
    },
  );
}
