import type { Command } from 'commander';
import { apiCommand, defined, intFlag, str } from '../action.js';
import { seg } from '../api-client.js';
import { show } from '../output.js';

/** `herald portal-link`: a customer portal URL for one tenant (admin token). */
export function portalLinkCommand(program: Command): void {
  apiCommand(
    program,
    {
      name: 'portal-link',
      description: "print a link to the tenant's customer portal, or revoke every link issued so far",
      example: 'herald portal-link --tenant acme --expires-in 86400 --platform-name "Acme Mail"',
    },
    async (ctx, _args, flags) => {
      const path = `/v1/tenants/${seg(await ctx.tenant())}/portal-links`;
      if (flags.revokeAll === true) {
        await ctx.api.request('DELETE', path);
        show(ctx.json, { revoked: true }, () => 'every portal link issued so far is revoked');
        return;
      }
      const link = await ctx.api.post<{ url: string; expiresAt: string; role: string }>(
        path,
        defined({
          expiresInSeconds: intFlag(flags.expiresIn, '--expires-in'),
          platformName: str(flags.platformName),
          color: str(flags.color),
          role: str(flags.role),
          baseUrl: str(flags.baseUrl),
        }),
      );
      show(ctx.json, link, (l) => l.url);
    },
  )
    .option('--expires-in <seconds>', 'lifetime of the link (default: 3600)')
    .option('--role <role>', 'manage (default) or read')
    .option('--platform-name <name>', 'shown in the portal header')
    .option('--color <#rrggbb>', 'accent colour')
    .option('--base-url <url>', "public address of Herald's UI (default: --url)")
    .option('--revoke-all', 'revoke every link of the tenant instead');
}
