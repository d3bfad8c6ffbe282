import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { deliveryCommands } from './commands/deliveries.js';
import { endpointCommands } from './commands/endpoints.js';
import { eventTypeCommands } from './commands/event-types.js';
import { eventCommands } from './commands/events.js';
import { listenCommand } from './commands/listen.js';
import { portalLinkCommand } from './commands/portal-link.js';
import { recoverCommand } from './commands/recover.js';
import { serverCommands } from './commands/server.js';
import { tenantCommands } from './commands/tenants.js';
import { tokenCommands } from './commands/tokens.js';
import { CliError, EXIT } from './exit-codes.js';

const program = new Command('herald')
  .version(VERSION)
  .description('Herald: self-hostable webhook delivery. Runs the server, and manages a running one through its REST API.')
  // Set before the subcommands are added, so they inherit it: commander throws instead of
  // exiting, and the catch below picks the exit code (2 for a wrong command line).
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`herald: ${text.replace(/^error: /, '')}`) });

serverCommands(program);
tenantCommands(program);
endpointCommands(program);
eventTypeCommands(program);
eventCommands(program);
deliveryCommands(program);
recoverCommand(program);
tokenCommands(program);
portalLinkCommand(program);
listenCommand(program);

program.addHelpText(
  'after',
  `
Management commands talk to a running Herald: --url (HERALD_URL, default http://127.0.0.1:8080),
--token (HERALD_TOKEN, default the admin token in ./.herald/data), --tenant (HERALD_TENANT), --json.
Exit codes: 0 ok, 1 failure, 2 usage, 3 unreachable, 4 token refused, 5 not found, 6 input refused.`,
);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and --version end this way too, with exit code 0; commander has printed its message.
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  if (err instanceof CliError) return fail(err.message, err.exitCode);
  // Never a stack trace unless asked for: HERALD_DEBUG=1 shows it.
  const e = err as Error;
  fail(process.env.HERALD_DEBUG ? (e.stack ?? String(err)) : (e.message ?? String(err)), EXIT.failure);
});

function fail(message: string, code: number): void {
  process.stderr.write(`herald: ${message}\n`);
  process.exit(code);
}
