import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ADMIN_TOKEN_FILE } from '../security/key-file-names.js';
import { ApiClient } from './api-client.js';
import { CliError, EXIT, usageError } from './exit-codes.js';

/** Where `herald serve` listens by default (config.ts: port 8080 on 127.0.0.1). */
export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** The embedded server's data directory by default (config.ts `dataDir`). */
const DEFAULT_DATA_DIR = './.herald/data';

/** The options every API subcommand takes. */
export interface GlobalFlags {
  url?: string;
  token?: string;
  tenant?: string;
  json?: boolean;
}

/** Adds `--url`, `--token`, `--json` and (where a tenant is meant) `--tenant` to an API subcommand. */
export function apiOptions(cmd: Command, opts: { tenant: boolean }): Command {
  cmd.addOption(new Option('--url <url>', `Herald's base URL (HERALD_URL; default ${DEFAULT_URL})`));
  cmd.addOption(new Option('--token <token>', 'API token (HERALD_TOKEN; default: the admin token in ./.herald/data)'));
  if (opts.tenant) cmd.addOption(new Option('--tenant <id>', "tenant id (HERALD_TENANT; default: a tenant token's own tenant)"));
  cmd.addOption(new Option('--json', 'print the API answer as JSON'));
  return cmd;
}

/** What a command needs to talk to the API, resolved from flags, then environment, then the local defaults. */
export class CliContext {
  private constructor(
    readonly api: ApiClient,
    readonly json: boolean,
    private readonly tenantFlag: string | undefined,
  ) {}

  static async from(flags: GlobalFlags): Promise<CliContext> {
    const url = (flags.url ?? process.env.HERALD_URL ?? DEFAULT_URL).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]/.test(url)) throw usageError(`--url: ${url} is not an http(s) URL`);
    const token = flags.token ?? process.env.HERALD_TOKEN ?? (await localAdminToken());
    return new CliContext(new ApiClient({ url, token }), flags.json === true, flags.tenant ?? process.env.HERALD_TENANT);
  }

  /** The tenant to act on: --tenant, HERALD_TENANT, or the tenant a tenant token belongs to. */
  async tenant(): Promise<string> {
    if (this.tenantFlag) return this.tenantFlag;
    const session = await this.api.get<{ tenantId: string | null }>('/v1/session');
    if (session.tenantId) return session.tenantId;
    throw usageError('--tenant (HERALD_TENANT) is required with the admin token');
  }
}

/**
 * The admin token of the embedded server started in this directory
 * (`herald serve` writes it to <data dir>/admin-token on first start).
 * Only read, never created: a CLI call must not invent credentials.
 */
async function localAdminToken(): Promise<string> {
  if (process.env.HERALD_ADMIN_TOKEN) return process.env.HERALD_ADMIN_TOKEN;
  const file = join(resolve(process.env.HERALD_DATA_DIR ?? DEFAULT_DATA_DIR), ADMIN_TOKEN_FILE);
  try {
    const token = (await readFile(file, 'utf8')).trim();
    if (token) return token;
  } catch {
    // no local server here: say what to pass instead
  }
  throw new CliError(`no token: pass --token or set HERALD_TOKEN (no admin token found in ${file})`, EXIT.auth);
}
