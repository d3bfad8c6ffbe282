import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { herald, heraldInTerminal, refused, type CliRun } from './helpers/cli.js';
import { ADMIN_TOKEN, startHerald, type TestHerald } from './helpers/herald.js';
import { freePort } from './helpers/process.js';
import { Receiver } from './helpers/receiver.js';

/**
 * The management CLI against a live Herald: the compiled binary in a child
 * process, every subcommand in table and --json form, exit codes, errors as
 * one line, a progress bar in a pseudo-terminal.
 */
let h: TestHerald;
let receiver: Receiver;
let env: Record<string, string>;
let work: string;

beforeAll(async () => {
  h = await startHerald();
  receiver = await new Receiver().listen();
  receiver.respond = (r, res) => {
    res.writeHead(r.path === '/fail' ? 500 : 200).end(r.path === '/fail' ? 'no' : 'ok');
  };
  env = { HERALD_URL: h.url, HERALD_TOKEN: ADMIN_TOKEN };
  work = await mkdtemp(join(tmpdir(), 'herald-cli-'));
});
afterAll(async () => {
  await h?.stop();
  await receiver?.close();
  await rm(work, { recursive: true, force: true });
});

/** Exit 0 and nothing on stderr, or a failure that shows what the CLI said. */
function ok(r: CliRun): CliRun {
  expect(r, `stderr: ${r.stderr}`).toMatchObject({ code: 0, stderr: '' });
  return r;
}

const run = (...args: string[]) => herald(args, { env });
const json = async <T = any>(...args: string[]): Promise<T> => JSON.parse(ok(await run(...args, '--json')).stdout) as T;

// Each test runs the CLI process 5-15 times; on a loaded 2-core machine that passes 30 s.
describe('herald management commands', { timeout: 120_000 }, () => {
  let endpointId = '';
  let failingId = '';
  let secret = '';

  it('tenants: create prints the id, list shows a table and JSON', async () => {
    expect(ok(await run('tenants', 'create', 'Acme Inc', '--id', 'acme')).stdout).toBe('acme\n');
    const table = ok(await run('tenants', 'list')).stdout;
    expect(table.split('\n')[0]).toMatch(/^ID\s+NAME\s+CREATED$/);
    expect(table).toMatch(/^acme\s+Acme Inc\s+\d{4}-/m);
    expect((await json<{ id: string }[]>('tenants', 'list')).map((t) => t.id)).toEqual(['acme']);
    expect(ok(await run('tenants', 'update', '--tenant', 'acme', '--name', 'Acme Corp')).stdout).toMatch(/name:\s+Acme Corp/);
    expect(await json('tenants', 'show', '--tenant', 'acme')).toMatchObject({ id: 'acme', name: 'Acme Corp' });
  });

  it('event-types: create with a schema from a file, list', async () => {
    const file = join(work, 'schema.json');
    await writeFile(file, JSON.stringify({ type: 'object', required: ['amount'], properties: { amount: { type: 'integer' } } }));
    ok(await run('event-types', 'create', 'invoice.paid', '--schema', `@${file}`, '--description', 'An invoice was paid'));
    expect(ok(await run('event-types', 'list')).stdout).toMatch(/^invoice\.paid\s+yes\s+An invoice was paid$/m);
    expect(await json('event-types', 'update', 'invoice.paid', '--description', 'paid')).toMatchObject({ name: 'invoice.paid', description: 'paid' });
  });

  it('endpoints: create, list, update, test, rotate-secret', async () => {
    const created = await json<{ id: string; secret: string }>('endpoints', 'create', receiver.url('/ok'), '--tenant', 'acme', '--event-types', 'invoice.*');
    endpointId = created.id;
    secret = created.secret;
    expect(secret).toMatch(/^whsec_/);
    const failing = await json<{ id: string }>('endpoints', 'create', receiver.url('/fail'), '--tenant', 'acme', '--retry', '{"schedule":[]}');
    failingId = failing.id;

    const list = ok(await run('endpoints', 'list', '--tenant', 'acme')).stdout;
    expect(list).toContain(receiver.url('/ok'));
    expect(list).toMatch(new RegExp(`^${endpointId}\\s+\\S+\\s+invoice\\.\\*\\s+enabled`, 'm'));

    expect(ok(await run('endpoints', 'update', endpointId, '--tenant', 'acme', '--disable')).stdout).toMatch(/state:\s+disabled \(disabled by user\)/);
    // a disabled endpoint takes no test event: the API's message, exit 6
    refused(await run('endpoints', 'test', endpointId, '--tenant', 'acme'), 6, /endpoint is disabled/);
    ok(await run('endpoints', 'update', endpointId, '--tenant', 'acme', '--enable', '--description', 'main'));
    const test = await json<{ deliveryId: string }>('endpoints', 'test', endpointId, '--tenant', 'acme');
    await h.api.waitDelivery('acme', test.deliveryId, (d) => d.status === 'succeeded');

    const rotated = ok(await run('endpoints', 'rotate-secret', endpointId, '--tenant', 'acme', '--grace-seconds', '0')).stdout.trim();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
  });

  it('events publish: payload as an argument, a file and stdin; prints the event id', async () => {
    const fromArg = ok(await run('events', 'publish', 'invoice.paid', '{"amount":1}', '--tenant', 'acme')).stdout.trim();
    const file = join(work, 'payload.json');
    await writeFile(file, '{"amount":2}');
    const fromFile = ok(await run('events', 'publish', 'invoice.paid', `@${file}`, '--tenant', 'acme')).stdout.trim();
    const fromStdin = ok(await herald(['events', 'publish', 'invoice.paid', '-', '--tenant', 'acme'], { env, stdin: '{"amount":3}' })).stdout.trim();
    for (const id of [fromArg, fromFile, fromStdin]) expect(id).toMatch(/^evt_/);
    const stored = await Promise.all([fromArg, fromFile, fromStdin].map((id) => h.api.get(`/v1/tenants/acme/events/${id}`)));
    expect(stored.map((r) => r.body.payload.amount)).toEqual([1, 2, 3]);

    // --json: the API's answer; the same id again is an idempotent no-op
    const first = await json('events', 'publish', 'invoice.paid', '{"amount":4}', '--tenant', 'acme', '--id', 'inv-4');
    expect(first).toMatchObject({ id: 'inv-4', type: 'invoice.paid', deliveries: 2 });
    expect(await json('events', 'publish', 'invoice.paid', '{"amount":4}', '--tenant', 'acme', '--id', 'inv-4')).toEqual(first);

    const list = ok(await run('events', 'list', '--tenant', 'acme', '--type', 'invoice.paid')).stdout;
    for (const id of [fromArg, fromFile, fromStdin, 'inv-4']) expect(list).toContain(id);
    const page = await json<{ data: unknown[]; nextCursor: string | null }>('events', 'list', '--tenant', 'acme', '--limit', '2');
    expect(page.data).toHaveLength(2);
    expect(page.nextCursor).toEqual(expect.any(String));
    expect(ok(await run('events', 'show', 'inv-4', '--tenant', 'acme')).stdout).toMatch(/payload:\s+\{"amount":4\}/);
  });

  it('bad input: the field is named, the exit code says what kind', async () => {
    refused(await run('events', 'publish', 'invoice.paid', '{"amount":', '--tenant', 'acme'), 2, /payload: not valid JSON/);
    refused(await run('events', 'publish', 'invoice.paid', '@/nonexistent.json', '--tenant', 'acme'), 2, /payload: cannot read \/nonexistent\.json \(ENOENT\)/);
    refused(await run('events', 'publish', 'invoice.paid', '{"amount":"x"}', '--tenant', 'acme'), 6, /amount/);
    refused(await run('events', 'list', '--tenant', 'acme', '--limit', 'many'), 2, /--limit: must be a whole number/);
    refused(await run('endpoints', 'create', 'ftp://x', '--tenant', 'acme'), 6, /^herald: url: /);
    refused(await run('endpoints', 'list'), 2, /--tenant \(HERALD_TENANT\) is required/);
    refused(await run('deliveries', 'show', 'dlv_nope', '--tenant', 'acme'), 5, /not found/);
    refused(await run('endpoints', 'frobnicate'), 2, /unknown command 'frobnicate'/);
    refused(await run('tenants', 'list', '--bogus'), 2, /unknown option '--bogus'/);
    refused(await herald(['tenants', 'list'], { env: { ...env, HERALD_TOKEN: 'wrong-token-0123456789abcdef' } }), 4, /token/i);
    const nobody = `http://127.0.0.1:${await freePort()}`;
    refused(await herald(['tenants', 'list'], { env: { ...env, HERALD_URL: nobody } }), 3, new RegExp(`cannot reach Herald at ${nobody} \\(ECONNREFUSED\\)`));
  });

  it('deliveries: list, show with attempts, bulk retry with a progress bar only on a terminal', async () => {
    let failed: { id: string }[] = [];
    for (const deadline = Date.now() + 15_000; failed.length < 4 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      failed = (await json<{ data: { id: string }[] }>('deliveries', 'list', '--tenant', 'acme', '--status', 'failed', '--endpoint', failingId)).data;
    }
    expect(failed).toHaveLength(4); // the 4 invoice.paid events (a replayed id adds none); the test event went to the other endpoint
    expect(ok(await run('deliveries', 'list', '--tenant', 'acme', '--status', 'failed')).stdout).toMatch(/^ID\s+EVENT TYPE\s+ENDPOINT\s+STATUS\s+ATTEMPTS\s+LAST\s+CREATED$/m);
    const shown = ok(await run('deliveries', 'show', failed[0]!.id, '--tenant', 'acme')).stdout;
    expect(shown).toMatch(/status:\s+failed/);
    expect(shown).toMatch(/^1\s+\d{4}-\S+\s+\d+\s+HTTP 500$/m);

    // not a terminal: the result only
    const quiet = ok(await run('deliveries', 'retry', '--tenant', 'acme', '--status', 'failed', '--endpoint', failingId));
    expect(quiet.stdout).toBe('retried 4 deliveries\n');
    for (const d of failed) await h.api.waitDelivery('acme', d.id, (x) => x.status === 'failed' && x.attempts === 2);

    const tty = await heraldInTerminal(['deliveries', 'retry', '--tenant', 'acme', '--status', 'failed', '--endpoint', failingId], env);
    expect(tty.code, tty.output).toBe(0);
    expect(tty.output).toMatch(/retrying {2}\[#{20}\] {2}4\/4 {2}\d+\.\d\/s/);
    expect(tty.output).toContain('retried 4 deliveries');
    for (const d of failed) await h.api.waitDelivery('acme', d.id, (x) => x.status === 'failed' && x.attempts === 3);

    expect(await json('deliveries', 'retry', failed[0]!.id, '--tenant', 'acme')).toEqual({ retried: [failed[0]!.id], failed: 0 });
    await h.api.waitDelivery('acme', failed[0]!.id, (x) => x.status === 'failed' && x.attempts === 4);
    refused(await run('deliveries', 'retry', '--tenant', 'acme'), 2, /give delivery ids, or --status failed/);
  });

  it('recover: every endpoint of the tenant, with a bar on a terminal', async () => {
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const tty = await heraldInTerminal(['recover', '--all', '--since', since, '--tenant', 'acme'], env);
    expect(tty.code, tty.output).toBe(0);
    expect(tty.output).toMatch(/recovering endpoints {2}\[#{20}\] {2}2\/2/);
    expect(tty.output).toMatch(new RegExp(`^${endpointId}\\s+0\\s*$`, 'm'));
    expect(tty.output).toMatch(new RegExp(`^${failingId}\\s+4\\s*$`, 'm'));
    expect(tty.output).toContain('recovered 4 deliveries');
    const r = await json<{ data: { endpointId: string; recovered: number }[]; recovered: number }>('recover', failingId, '--since', since, '--tenant', 'acme');
    expect(r.data).toEqual([{ endpointId: failingId, recovered: expect.any(Number) }]);
    refused(await run('recover', '--all', '--tenant', 'acme'), 2, /--since is required/);
  });

  it('tokens and portal-link; a tenant token finds its own tenant, and is refused what it may not do', async () => {
    const token = ok(await run('tokens', 'create', '--tenant', 'acme', '--name', 'ci', '--role', 'read')).stdout.trim();
    const listed = ok(await run('tokens', 'list', '--tenant', 'acme')).stdout;
    expect(listed).toMatch(/^tok_\S+\s+ci\s+read\s+/m);
    const readOnly = { ...env, HERALD_TOKEN: token };
    // no --tenant: the token's own
    expect(ok(await herald(['endpoints', 'list'], { env: readOnly })).stdout).toContain(endpointId);
    refused(await herald(['endpoints', 'delete', endpointId], { env: readOnly }), 4, /read/);

    const link = ok(await run('portal-link', '--tenant', 'acme', '--expires-in', '600')).stdout.trim();
    expect(link).toMatch(new RegExp(`^${h.url}/portal#token=\\S+$`));
    ok(await run('portal-link', '--tenant', 'acme', '--revoke-all'));

    const tokenId = (await json<{ id: string; name: string }[]>('tokens', 'list', '--tenant', 'acme')).find((t) => t.name === 'ci')!.id;
    expect(ok(await run('tokens', 'revoke', tokenId, '--tenant', 'acme')).stdout).toBe(`revoked token ${tokenId}\n`);
    refused(await herald(['endpoints', 'list'], { env: readOnly }), 4, /token/i);
  });

  it('without --token: the admin token of the embedded server in ./.herald/data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-cli-cwd-'));
    try {
      refused(await herald(['tenants', 'list'], { env: { HERALD_URL: h.url }, cwd: dir }), 4, /no token: pass --token or set HERALD_TOKEN/);
      await mkdir(join(dir, '.herald', 'data'), { recursive: true });
      await writeFile(join(dir, '.herald', 'data', 'admin-token'), ADMIN_TOKEN + '\n');
      expect(ok(await herald(['tenants', 'list'], { env: { HERALD_URL: h.url }, cwd: dir })).stdout).toContain('acme');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('endpoints delete, tenants delete', async () => {
    expect(ok(await run('endpoints', 'delete', endpointId, '--tenant', 'acme')).stdout).toBe(`deleted endpoint ${endpointId}\n`);
    refused(await run('endpoints', 'delete', endpointId, '--tenant', 'acme'), 5, /not found/);
    ok(await run('tenants', 'delete', '--tenant', 'acme'));
    expect(await json('tenants', 'list')).toEqual([]);
  });
});

describe('server commands on a terminal', { timeout: 120_000 }, () => {
  it('migrate and rotate-secrets-key draw a progress bar with counts and rate, and print only the result otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-cli-migrate-'));
    try {
      const data = { HERALD_DATA_DIR: join(dir, 'data'), HERALD_LOG_LEVEL: 'warn' };
      const migrations = (await readdir(new URL('../migrations/', import.meta.url))).filter((f) => f.endsWith('.sql')).length;
      const tty = await heraldInTerminal(['migrate'], data);
      expect(tty.code, tty.output).toBe(0);
      expect(tty.output).toMatch(new RegExp(`migrating {2}\\[#{20}\\] {2}${migrations}/${migrations} {2}\\d+\\.\\d/s`));
      expect(tty.output).toContain('applied: 0001_core.sql');
      const again = ok(await herald(['migrate'], { env: data }));
      expect(again.stdout).toBe('database is up to date\n');
      const rotate = await heraldInTerminal(['rotate-secrets-key'], data);
      expect(rotate.code, rotate.output).toBe(0);
      expect(rotate.output).toMatch(/endpoints looked at {2}0 {2}\d+\.\d\/s/);
      expect(rotate.output).toMatch(/done: 0 endpoint\(s\) now use key [0-9a-f]{8}/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('herald --help', () => {
  it('each subcommand lists its own options and an example', async () => {
    const publish = ok(await herald(['events', 'publish', '--help'])).stdout;
    expect(publish).toContain('Usage: herald events publish [options] <type> [payload]');
    for (const flag of ['--url', '--token', '--tenant', '--json', '--id', '--ordering-key']) expect(publish).toContain(flag);
    expect(publish).not.toMatch(/--port|--dev|--status/);
    expect(publish).toMatch(/Example:\n {2}\$ herald events publish invoice\.paid/);
    expect(ok(await herald(['event-types', 'list', '--help'])).stdout).not.toContain('--tenant');
    const listen = ok(await herald(['listen', '--help'])).stdout;
    for (const flag of ['--forward-to <url>', '--events <patterns>', '--url', '--token', '--tenant']) expect(listen).toContain(flag);
    expect(listen).toMatch(/Example:\n {2}\$ herald listen --forward-to http:\/\/localhost:3000\/webhooks --events 'campaign\.\*,offer\.removed'/);
    expect(ok(await herald(['--help'])).stdout).toMatch(/^ {2}listen \[options\] +forward a tenant's deliveries to a local\b/m);
  });

  it('server commands list only the options that mean something for them', async () => {
    const help = async (cmd: string) => ok(await herald([cmd, '--help'])).stdout;
    expect(await help('serve')).toMatch(/--port[\s\S]*--host[\s\S]*--dev/);
    const worker = await help('worker');
    expect(worker).toContain('--dev');
    expect(worker).not.toMatch(/--port|--host/);
    for (const cmd of ['migrate', 'rotate-secrets-key']) {
      const text = await help(cmd);
      expect(text).toContain('--database-url');
      expect(text).not.toMatch(/--port|--host|--dev/);
    }
  });
});
