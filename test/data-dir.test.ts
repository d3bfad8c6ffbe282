import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { embeddedPass } from './helpers/db.js';
import { Api } from './helpers/herald.js';
import { HeraldProcess, freePort, killAll, runHerald } from './helpers/process.js';

/**
 * Issue 11, items 6 and 7, with the real CLI on the embedded database: one
 * process per data directory (a lock file naming its holder, stale locks
 * taken over), and the admin token and encryption key kept inside the data
 * directory, never regenerated while the database holds secrets they
 * encrypted.
 */
let root: string;
const procs: HeraldProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'herald-datadir-'));
});
afterEach(async () => {
  await killAll(procs.splice(0));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A new data directory (a copy of the migrated template when the suite made one). */
async function dataDir(name: string): Promise<string> {
  const dir = join(root, name);
  const template = process.env.HERALD_TEST_PGLITE_TEMPLATE;
  if (template) await cp(template, dir, { recursive: true });
  else await mkdir(dir, { recursive: true });
  return dir;
}

const envFor = (dir: string, port: number) => ({ HERALD_DATA_DIR: dir, PORT: String(port), HERALD_DEV: '1' });

async function serve(dir: string): Promise<{ proc: HeraldProcess; api: Api }> {
  const port = await freePort();
  const proc = await HeraldProcess.start('serve', envFor(dir, port), 60_000);
  procs.push(proc);
  const token = (await readFile(join(dir, 'admin-token'), 'utf8')).trim();
  return { proc, api: new Api(`http://127.0.0.1:${port}`, token) };
}

async function stop(p: HeraldProcess): Promise<void> {
  p.kill('SIGTERM');
  expect(await p.wait()).toBe(0);
}

const exists = (f: string) => stat(f).then(() => true, () => false);

describe.runIf(embeddedPass)('one process per data directory (item 6)', () => {
  it('refuses a second process on the same directory, naming the first, and frees the lock on exit', async () => {
    const dir = await dataDir('locked');
    const first = await serve(dir);
    const lock = JSON.parse(await readFile(join(dir, 'herald.lock'), 'utf8'));
    expect(lock).toMatchObject({ pid: first.proc.child.pid, hostname: hostname() });

    for (const cmd of ['serve', 'migrate', 'worker']) {
      const second = await runHerald([cmd], envFor(dir, await freePort()));
      expect(second.code, cmd).toBe(1);
      expect(second.output).toContain(`data directory ${dir} is in use by process ${first.proc.child.pid}`);
      expect(second.output).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }
    // the first one is unharmed and still the only writer
    expect((await first.api.post('/v1/tenants', { id: 'one', name: 'One' })).status).toBe(201);
    await stop(first.proc);
    expect(await exists(join(dir, 'herald.lock'))).toBe(false);

    // after it, the directory opens again with what the first one wrote
    const again = await serve(dir);
    expect((await again.api.get('/v1/tenants/one')).status).toBe(200);
    await stop(again.proc);
  }, 120_000);

  it('takes over a stale lock whose process is gone (crash, SIGKILL)', async () => {
    const dir = await dataDir('stale');
    const gone = spawn(process.execPath, ['-e', '0']);
    const deadPid = gone.pid!;
    await new Promise((r) => gone.on('exit', r));
    await writeFile(join(dir, 'herald.lock'), JSON.stringify({ pid: deadPid, hostname: hostname(), startedAt: '2026-01-01T00:00:00Z', command: 'serve' }));
    const { proc } = await serve(dir);
    expect(JSON.parse(await readFile(join(dir, 'herald.lock'), 'utf8')).pid).toBe(proc.child.pid);
    // SIGKILL leaves the file behind; the next start takes it over
    proc.kill('SIGKILL');
    await proc.wait();
    expect(await exists(join(dir, 'herald.lock'))).toBe(true);
    const next = await serve(dir);
    expect(JSON.parse(await readFile(join(dir, 'herald.lock'), 'utf8')).pid).toBe(next.proc.child.pid);
    await stop(next.proc);
  }, 120_000);
});

describe.runIf(embeddedPass)('keys live in the data directory and are never regenerated over secrets (item 7)', () => {
  it('keeps the admin token and the key inside each data directory, not in a shared parent', async () => {
    const a = await dataDir('a');
    const b = await dataDir('b');
    for (const dir of [a, b]) {
      const { proc } = await serve(dir);
      await stop(proc);
    }
    expect(await exists(join(root, 'secret-key'))).toBe(false);
    expect(await exists(join(root, 'admin-token'))).toBe(false);
    const keyA = await readFile(join(a, 'secret-key'), 'utf8');
    const keyB = await readFile(join(b, 'secret-key'), 'utf8');
    expect(keyA).not.toBe(keyB);
    expect((await stat(join(a, 'secret-key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(a, 'admin-token'), 'utf8')).not.toBe(await readFile(join(b, 'admin-token'), 'utf8'));
  }, 120_000);

  it('stops, without generating a key, when the key file is missing but secrets are encrypted', async () => {
    const dir = await dataDir('missing-key');
    const first = await serve(dir);
    const t = await first.api.tenant('Keyed');
    const ep = await first.api.endpoint(t, { url: 'http://127.0.0.1:9/hook' });
    await stop(first.proc);
    const key = await readFile(join(dir, 'secret-key'), 'utf8');
    await unlink(join(dir, 'secret-key'));

    const r = await runHerald(['serve'], envFor(dir, await freePort()));
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/secret-key does not exist, but the database holds endpoint secrets encrypted with key [0-9a-f]{8}/);
    expect(r.output).not.toMatch(/\n\s+at /);
    expect(await exists(join(dir, 'secret-key'))).toBe(false);
    expect(await exists(join(dir, 'herald.lock'))).toBe(false);

    // a key file that cannot be read stops the process too (here: a directory in its place)
    await mkdir(join(dir, 'secret-key'));
    const unreadable = await runHerald(['serve'], envFor(dir, await freePort()));
    expect(unreadable.code).toBe(1);
    expect(unreadable.output).toMatch(/cannot read .*secret-key/);
    await rm(join(dir, 'secret-key'), { recursive: true });

    // the right key restored: everything is readable again
    await writeFile(join(dir, 'secret-key'), key, { mode: 0o600 });
    const back = await serve(dir);
    expect((await back.api.get(`/v1/tenants/${t}/endpoints/${ep.id}/secret`)).body.secret).toBe(ep.secret);
    await stop(back.proc);
  }, 120_000);

  it('moves a key that an earlier version kept beside the data directory, when it is the one in use', async () => {
    const parent = join(root, 'legacy');
    await mkdir(parent);
    const dir = join(parent, 'data');
    const template = process.env.HERALD_TEST_PGLITE_TEMPLATE;
    if (template) await cp(template, dir, { recursive: true });
    const first = await serve(dir);
    const t = await first.api.tenant('Legacy');
    const ep = await first.api.endpoint(t, { url: 'http://127.0.0.1:9/hook' });
    await stop(first.proc);
    // as an earlier version left it: the key and token beside the data directory
    for (const f of ['secret-key', 'admin-token']) {
      await writeFile(join(parent, f), await readFile(join(dir, f)));
      await unlink(join(dir, f));
    }
    const again = await serve(dir);
    expect((await again.api.get(`/v1/tenants/${t}/endpoints/${ep.id}/secret`)).body.secret).toBe(ep.secret);
    expect(await readFile(join(dir, 'secret-key'), 'utf8')).toBe(await readFile(join(parent, 'secret-key'), 'utf8'));
    await stop(again.proc);
  }, 120_000);
});
