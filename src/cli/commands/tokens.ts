import type { Command } from 'commander';
import { apiCommand, defined, str } from '../action.js';
import { seg } from '../api-client.js';
import { show, table } from '../output.js';
import type { TokenRow } from './types.js';

/** `herald tokens list|create|revoke`: a tenant's API tokens (admin token). */
export function tokenCommands(program: Command): void {
  const group = program.command('tokens').description("a tenant's API tokens (admin token)");
  const base = async (ctx: { tenant(): Promise<string> }) => `/v1/tenants/${seg(await ctx.tenant())}/tokens`;

  apiCommand(group, { name: 'list', description: "list the tenant's tokens (never their values)", example: 'herald tokens list --tenant acme' }, async (ctx) => {
    const r = await ctx.api.get<{ data: TokenRow[] }>(await base(ctx));
    show(ctx.json, r.data, (rows) =>
      table(rows, [
        { header: 'id', value: (t) => t.id },
        { header: 'name', value: (t) => t.name },
        { header: 'role', value: (t) => t.role },
        { header: 'created', value: (t) => t.createdAt },
        { header: 'revoked', value: (t) => t.revokedAt },
      ]),
    );
  });

  apiCommand(
    group,
    { name: 'create', description: 'create a token; prints its value (shown only once)', example: 'herald tokens create --tenant acme --name ci --role read' },
    async (ctx, _args, flags) => {
      const t = await ctx.api.post<TokenRow & { token: string }>(await base(ctx), defined({ name: str(flags.name), role: str(flags.role) }));
      show(ctx.json, t, (x) => x.token);
    },
  )
    .option('--name <name>', 'a label for the token')
    .option('--role <role>', 'manage (default) or read');

  apiCommand(group, { name: 'revoke <tokenId>', description: 'revoke a token', example: 'herald tokens revoke tok_123 --tenant acme' }, async (ctx, [id]) => {
    await ctx.api.request('DELETE', `${await base(ctx)}/${seg(id!)}`);
    show(ctx.json, { revoked: id }, () => `revoked token ${id}`);
  });
}
