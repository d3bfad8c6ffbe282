import { Option, type Command } from 'commander';
import type { ServeFlags } from '../server-run.js';

/**
 * Loaded only when a server command runs: it pulls in Fastify, the database
 * drivers and PGlite, which would add most of a second to every management
 * command (`herald tenants list` needs none of them).
 */
const runner = () => import('../server-run.js');

/** Which server options a command takes: only those that mean something for it. */
interface OptionSet {
  /** --port and --host: it serves the API. */
  listen: boolean;
  /** --dev / --no-dev: it accepts or sends deliveries. */
  dev: boolean;
}

function serverOptions(cmd: Command, set: OptionSet, example: string): Command {
  if (set.listen) {
    cmd.addOption(new Option('-p, --port <port>', 'API port (PORT; default 8080)'));
    cmd.addOption(new Option('--host <host>', 'API interface (HERALD_HOST; default 127.0.0.1)'));
  }
  cmd.addOption(new Option('--database-url <url>', 'PostgreSQL URL (DATABASE_URL); embedded PGlite when absent'));
  cmd.addOption(new Option('--data-dir <dir>', 'embedded database directory (HERALD_DATA_DIR; default ./.herald/data)'));
  if (set.dev) {
    cmd.addOption(new Option('--dev', 'allow http:// and private addresses (HERALD_DEV=1)'));
    cmd.addOption(new Option('--no-dev', 'refuse http:// and private addresses even on the embedded database'));
  }
  cmd.addHelpText('after', `\nExample:\n  $ ${example}\n`);
  return cmd;
}

/** `herald serve|api|worker|migrate|rotate-secrets-key`: the commands that run Herald itself. */
export function serverCommands(program: Command): void {
  serverOptions(program.command('serve').description('run the API and a worker in one process (default for npm start)'), { listen: true, dev: true }, 'herald serve --port 8080').action(
    async (flags: ServeFlags) => (await runner()).run({ api: true, worker: true }, flags),
  );
  serverOptions(program.command('api').description('run the API only'), { listen: true, dev: true }, 'DATABASE_URL=postgres://... herald api').action(async (flags: ServeFlags) =>
    (await runner()).run({ api: true, worker: false }, flags),
  );
  serverOptions(program.command('worker').description('run a delivery worker only'), { listen: false, dev: true }, 'DATABASE_URL=postgres://... herald worker').action(
    async (flags: ServeFlags) => (await runner()).run({ api: false, worker: true }, flags),
  );
  serverOptions(program.command('migrate').description('apply database migrations and exit'), { listen: false, dev: false }, 'DATABASE_URL=postgres://... herald migrate').action(
    async (flags: ServeFlags) => (await runner()).migrateCommand(flags),
  );

  serverOptions(
    program
      .command('rotate-secrets-key')
      .description('re-encrypt every endpoint secret with the first key of HERALD_SECRET_KEYS (after adding a new key in front)'),
    { listen: false, dev: false },
    'HERALD_SECRET_KEYS=new,old herald rotate-secrets-key',
  ).action(async (flags: ServeFlags) => (await runner()).rotateSecretsKeyCommand(flags));
}
