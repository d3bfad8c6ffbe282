import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedPass } from './helpers/db.js';
import { herald } from './helpers/cli.js';
import { freePort, HeraldProcess, killAll } from './helpers/process.js';

/**
 * What `npm pack` makes installs and runs outside the repository: the
 * server's tarball installed globally (into a temporary prefix) serves from
 * an empty directory with its data in ./.herald there, and the packages'
 * tarballs install into a fresh project and work against it. Uses the
 * build in dist/ (`npm run build` first, as `npm test` does) and npm's
 * cache (--prefer-offline).
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 64 * 1024 * 1024 });

let tmp: string;
let procs: HeraldProcess[] = [];

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/cli/main.js')) || !existsSync(join(ROOT, 'packages/web/dist/index.html'))) throw new Error('run `npm run build` first');
  tmp = await mkdtemp(join(tmpdir(), 'herald-install-'));
});
afterAll(async () => {
  await killAll(procs);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe.runIf(embeddedPass)('npm pack → install → run', () => {
  let url = '';
  let work = '';
  let bin = '';

  it('installs the server globally and serves from an empty directory, data in ./.herald there', async () => {
    await npm(['pack', '--ignore-scripts', '--pack-destination', tmp], ROOT);
    const tarball = (await readdir(tmp)).find((f) => /^herald-\d+\.\d+\.\d+\.tgz$/.test(f));
    expect(tarball).toBeDefined();
    const prefix = join(tmp, 'global');
    await npm(['install', '-g', '--prefix', prefix, join(tmp, tarball!)], tmp);
    bin = join(prefix, 'bin', 'herald');
    expect(existsSync(bin)).toBe(true);

    work = join(tmp, 'empty');
    await mkdir(work);
    const port = await freePort();
    const p = await HeraldProcess.launch({ bin, cwd: work, args: ['serve', '--port', String(port)], timeoutMs: 60_000 });
    procs.push(p);
    url = `http://127.0.0.1:${port}`;
    expect(p.output).toContain('embedded (PGlite) in ./.herald/data');
    expect(p.output).toContain(`api docs:  ${url}/docs`);
    expect(existsSync(join(work, '.herald/data/admin-token'))).toBe(true);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${url}/`)).text()).toMatch(/<div id="root">/);
    expect((await fetch(`${url}/docs/`)).status).toBe(200);

    // the installed CLI finds that server's admin token in ./.herald/data
    const created = await herald(['tenants', 'create', 'Acme', '--id', 'acme'], { env: { HERALD_URL: url }, cwd: work, bin });
    expect(created).toMatchObject({ code: 0, stdout: 'acme\n' });
  }, 300_000);

  it('installs @herald/client and @herald/verify from their tarballs into a new project', async () => {
    await npm(['pack', '--ignore-scripts', '-w', 'packages/client', '-w', 'packages/verify', '--pack-destination', tmp], ROOT);
    const project = join(tmp, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'producer', private: true, type: 'module' }));
    await npm(['install', join(tmp, 'herald-client-0.1.0.tgz'), join(tmp, 'herald-verify-0.1.0.tgz')], project);
    const token = (await herald(['tokens', 'create', '--tenant', 'acme'], { env: { HERALD_URL: url }, cwd: work, bin })).stdout.trim();
    await writeFile(
      join(project, 'main.js'),
      `import { HeraldClient } from '@herald/client';
import { signStandardHeaders, verify } from '@herald/verify';

const c = new HeraldClient({ url: process.argv[2], token: process.argv[3] });
const r = await c.publish('acme', { type: 'installed.check', payload: { ok: true } });
const body = JSON.stringify({ ok: true });
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const v = await verify(body, await signStandardHeaders(secret, 'msg_1', new Date(), body), secret);
console.log(r.id.slice(0, 4), v.id);
`,
    );
    const { stdout } = await run(process.execPath, ['main.js', url, token], { cwd: project });
    expect(stdout).toBe('evt_ msg_1\n');
  }, 300_000);
});
