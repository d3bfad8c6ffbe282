import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac, createPrivateKey, randomBytes, sign as signWith } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { freePort } from './helpers/process.js';

/*
 * Every receiver in examples/receivers — the very code docs/verifying.md
 * shows — runs as a real process in its own language and verifies real
 * Herald deliveries: a good one (204, "ok <id>"), a redelivery (204, "dup
 * <id>"), an endpoint with the wrong secret (Herald records the 400), a
 * secret rotation, and replays of a captured delivery with a tampered body,
 * a stale or future timestamp and no signature (400, "bad <reason>").
 *
 * A language is skipped (with a visible `it.skip`) only when its toolchain
 * binary is missing; HERALD_SNIPPETS_REQUIRE_TOOLCHAINS=1 (CI) turns that
 * into a failure.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = join(ROOT, 'examples/receivers');
const GUIDE = join(ROOT, 'docs/verifying.md');
const REQUIRE_TOOLCHAINS = process.env.HERALD_SNIPPETS_REQUIRE_TOOLCHAINS === '1';

type Scheme = 'standard' | 'ed25519' | 'hmac-sha256';
interface Config {
  label: string;
  scheme: Scheme;
  header?: string;
  encoding?: 'hex' | 'base64';
  /** A fresh secret of the kind the configuration uses. */
  secret(): string;
  /** Environment the receiver verifies with, when not the secret itself (ed25519: the public key). */
  receiverEnv?(secret: string): Record<string, string>;
  /** Standard Webhooks schemes: the `webhook-signature` value of a message under `secret`. */
  sign?(secret: string, id: string, timestamp: string, body: string): string;
}

const whsec = () => 'whsec_' + randomBytes(32).toString('base64');
const STANDARD: Config = { label: 'standard', scheme: 'standard', secret: whsec, sign: (...a) => signStandard(...a) };
/** ed25519 keys as Herald takes them: `whsk_` + base64(seed ‖ public key); receivers get `whpk_` + base64(public key). */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const ed25519Key = (whsk: string) => createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, Buffer.from(whsk.slice(5), 'base64').subarray(0, 32)]), format: 'der', type: 'pkcs8' });
const ED25519: Config = {
  label: 'ed25519',
  scheme: 'ed25519',
  secret() {
    const seed = randomBytes(32);
    const x = ed25519Key('whsk_' + seed.toString('base64')).export({ format: 'jwk' }).x!;
    return 'whsk_' + Buffer.concat([seed, Buffer.from(x, 'base64url')]).toString('base64');
  },
  receiverEnv: (whsk) => ({ PUBLIC_KEY: 'whpk_' + Buffer.from(whsk.slice(5), 'base64').subarray(32).toString('base64') }),
  sign: (whsk, id, ts, body) => 'v1a,' + signWith(null, Buffer.from(`${id}.${ts}.${body}`), ed25519Key(whsk)).toString('base64'),
};
const HMAC_HEX: Config = {
  label: 'hmac-sha256 hex',
  scheme: 'hmac-sha256',
  header: 'X-AdFlow-Signature',
  encoding: 'hex',
  secret: () => 'adflow_' + randomBytes(24).toString('hex'),
};
// A whsec_ secret on the header-HMAC scheme is used as its UTF-8 string, not base64-decoded.
const HMAC_B64: Config = { label: 'hmac-sha256 base64', scheme: 'hmac-sha256', header: 'Signature', encoding: 'base64', secret: whsec };

interface Snippet {
  name: string;
  /** The example file, relative to examples/receivers. */
  file: string;
  /** The toolchain binary and the arguments that print its version. */
  tool: [string, ...string[]];
  /** The Debian package that provides it. */
  apt?: string;
  configs: Config[];
  /** Once before the snippet's receivers start (compile, copy). */
  prepare?(work: string): Promise<void>;
  /** The receiver's command line. */
  command(port: number, work: string): { cmd: string; args: string[]; cwd: string };
}

const SNIPPETS: Snippet[] = [
  {
    name: 'Node.js (node:crypto), standard',
    file: 'node/standard.mjs',
    tool: [process.execPath, '--version'],
    configs: [STANDARD],
    command: () => ({ cmd: process.execPath, args: ['standard.mjs'], cwd: join(EXAMPLES, 'node') }),
  },
  {
    name: 'Node.js (node:crypto), ed25519',
    file: 'node/ed25519.mjs',
    tool: [process.execPath, '--version'],
    configs: [ED25519],
    command: () => ({ cmd: process.execPath, args: ['ed25519.mjs'], cwd: join(EXAMPLES, 'node') }),
  },
  {
    name: 'Node.js (node:crypto), header-HMAC',
    file: 'node/hmac.mjs',
    tool: [process.execPath, '--version'],
    configs: [HMAC_HEX, HMAC_B64],
    command: () => ({ cmd: process.execPath, args: ['hmac.mjs'], cwd: join(EXAMPLES, 'node') }),
  },
  {
    name: 'Node.js (@herald/verify)',
    file: 'node/verify.mjs',
    tool: [process.execPath, '--version'],
    configs: [STANDARD, ED25519, HMAC_HEX, HMAC_B64],
    // The file imports `@herald/verify` as an application would: run a
    // byte-identical copy next to a node_modules that links the workspace
    // package (its built dist), so it works before and after `npm ci`.
    async prepare(work) {
      const pkg = join(ROOT, 'packages/verify');
      if (!existsSync(join(pkg, 'dist/index.js'))) throw new Error('packages/verify/dist is missing: run `npm run build` first');
      mkdirSync(join(work, 'node_modules/@herald'), { recursive: true });
      symlinkSync(pkg, join(work, 'node_modules/@herald/verify'), 'dir');
      copyFileSync(join(EXAMPLES, 'node/verify.mjs'), join(work, 'verify.mjs'));
    },
    command: (_port, work) => ({ cmd: process.execPath, args: ['verify.mjs'], cwd: work }),
  },
  {
    name: 'Python',
    file: 'python/receiver.py',
    tool: ['python3', '--version'],
    apt: 'python3',
    configs: [STANDARD, HMAC_HEX, HMAC_B64],
    command: () => ({ cmd: 'python3', args: ['receiver.py'], cwd: join(EXAMPLES, 'python') }),
  },
  {
    name: 'Go',
    file: 'go/receiver.go',
    tool: ['go', 'version'],
    apt: 'golang-go',
    configs: [STANDARD, ED25519, HMAC_HEX, HMAC_B64],
    // Compiled once (stdlib only: nothing is fetched), then each receiver is the binary.
    async prepare(work) {
      const r = await run('go', ['build', '-o', join(work, 'receiver'), 'receiver.go'], {
        cwd: join(EXAMPLES, 'go'),
        env: {
          GOCACHE: process.env.GOCACHE ?? join(tmpdir(), 'herald-snippets-gocache'),
          GOPATH: join(work, 'gopath'),
          GOFLAGS: '-mod=mod',
          GOPROXY: 'off',
          GOTOOLCHAIN: 'local',
        },
        timeoutMs: 170_000,
      });
      if (r.code !== 0) throw new Error(`go build failed (${r.code}): ${r.output}`);
    },
    command: (_port, work) => ({ cmd: join(work, 'receiver'), args: [], cwd: join(EXAMPLES, 'go') }),
  },
  {
    name: 'Ruby',
    file: 'ruby/receiver.rb',
    tool: ['ruby', '--version'],
    apt: 'ruby',
    configs: [STANDARD, HMAC_HEX, HMAC_B64],
    command: () => ({ cmd: 'ruby', args: ['receiver.rb'], cwd: join(EXAMPLES, 'ruby') }),
  },
  {
    name: 'PHP',
    file: 'php/receiver.php',
    tool: ['php', '--version'],
    apt: 'php-cli',
    configs: [STANDARD, HMAC_HEX, HMAC_B64],
    command: (port) => ({ cmd: 'php', args: ['-S', `127.0.0.1:${port}`, 'receiver.php'], cwd: join(EXAMPLES, 'php') }),
  },
];

// ---------------------------------------------------------------- processes

/** Runs a command to completion, killed after `timeoutMs`. */
function run(
  cmd: string,
  args: string[],
  o: { cwd: string; env?: Record<string, string>; timeoutMs: number },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n(killed after ${o.timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, output: output + String(err) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function toolchainPresent([bin, ...args]: [string, ...string[]]): boolean {
  const r = spawnSync(bin, args, { stdio: 'ignore', timeout: 30_000 });
  return !(r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT');
}

const children = new Set<ChildProcess>();
const killAll = () => {
  for (const c of children) c.kill('SIGKILL');
};
process.once('exit', killAll); // a crashed run must not leave receivers behind

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
  }
  children.delete(child);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(500);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** A receiver process from examples/receivers, listening on loopback. */
class ReceiverProcess {
  output = '';

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly secret: string,
    readonly resultsFile: string,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static async start(snippet: Snippet, config: Config, work: string, timeoutMs = 20_000): Promise<ReceiverProcess> {
    const port = await freePort();
    const secret = config.secret();
    const dir = mkdtempSync(join(work, 'run-'));
    const resultsFile = join(dir, 'results.log');
    const { cmd, args, cwd } = snippet.command(port, work);
    const child = spawn(cmd, args, {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? dir,
        LANG: 'C.UTF-8',
        PORT: String(port),
        SECRET: secret,
        SCHEME: config.scheme,
        ...(config.receiverEnv?.(secret) ?? {}),
        ...(config.header ? { HEADER: config.header } : {}),
        ...(config.encoding ? { ENCODING: config.encoding } : {}),
        RESULTS_FILE: resultsFile,
        SEEN_DIR: join(dir, 'seen'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const p = new ReceiverProcess(child, port, secret, resultsFile);
    child.on('error', (err) => (p.output += `\n${String(err)}`));
    const until = Date.now() + timeoutMs;
    while (!(await canConnect(port))) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${snippet.file} exited (${child.exitCode ?? child.signalCode}) before listening: ${p.output}`);
      }
      if (Date.now() > until) {
        await stopProcess(child);
        throw new Error(`${snippet.file} did not listen on ${port} within ${timeoutMs} ms: ${p.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/webhooks`;
  }

  lines(): string[] {
    if (!existsSync(this.resultsFile)) return [];
    return readFileSync(this.resultsFile, 'utf8').split('\n').filter(Boolean);
  }

  /** The lines logged after the first `from`, once there are `n` of them (bounded wait). */
  async linesAfter(from: number, n: number, timeoutMs = 5_000): Promise<string[]> {
    const until = Date.now() + timeoutMs;
    while (this.lines().length < from + n && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    return this.lines().slice(from);
  }

  stop(): Promise<void> {
    return stopProcess(this.child);
  }
}

/** Expects exactly `expected` to be logged after the first `from` lines (waits a bounded time for them). */
async function expectLogged(r: ReceiverProcess, from: number, expected: string[]): Promise<void> {
  const got = await r.linesAfter(from, expected.length);
  expect(got, `receiver log; its output: ${r.output.slice(-2000) || '(none)'}`).toEqual(expected);
}

// ---------------------------------------------------------------- Herald

let herald: TestHerald;
const workDirs: string[] = [];

beforeAll(async () => {
  herald = await startHerald();
});
afterAll(async () => {
  await Promise.all([...children].map((c) => stopProcess(c)));
  await herald?.stop();
  for (const d of workDirs) rmSync(d, { recursive: true, force: true });
});

const PAYLOAD = {
  orderId: 'ord_1042',
  amount: 100,
  currency: 'EUR',
  note: 'Crème brûlée 🍮, "extra" \\ spoon',
  items: [{ sku: 'A-1', qty: 2, price: 12.5 }],
};
const BODY = JSON.stringify(PAYLOAD);

function endpointBody(config: Config, url: string, secret: string): Record<string, unknown> {
  return {
    url,
    secret,
    retry: { schedule: [] }, // one attempt: every request the receiver logs is accounted for
    ...(config.scheme === 'hmac-sha256' ? { signature: { scheme: 'hmac-sha256', header: config.header, encoding: config.encoding } } : {}),
    ...(config.scheme === 'ed25519' ? { signature: { scheme: 'ed25519' } } : {}),
  };
}

interface Delivered {
  tenant: string;
  eventId: string;
  deliveryId: string;
  delivery: any;
  /** The request Herald sent, to replay: its headers and body. */
  headers: Record<string, string>;
  body: string;
}

/** Publishes one event to a new endpoint on the receiver and waits until Herald has recorded the attempt. */
async function deliver(config: Config, url: string, secret: string, expectStatus: 'succeeded' | 'failed'): Promise<Delivered> {
  const tenant = await herald.api.tenant();
  await herald.api.endpoint(tenant, endpointBody(config, url, secret));
  const pub = await herald.api.publish(tenant, 'order.paid', PAYLOAD);
  expect(pub.status).toBe(202);
  const list = await herald.api.get(`/v1/tenants/${tenant}/events/${pub.body.id}/deliveries`);
  const deliveryId = list.body.data[0].id as string;
  const delivery = await herald.api.waitDelivery(tenant, deliveryId, (d) => d.status !== 'pending', 15_000);
  expect(delivery.status, JSON.stringify(delivery.attemptLog)).toBe(expectStatus);
  return { tenant, eventId: pub.body.id, deliveryId, delivery, headers: delivery.attemptLog[0].request.headers, body: BODY };
}

function replay(url: string, headers: Record<string, string>, body: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
}

function signStandard(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

// ---------------------------------------------------------------- the snippets

for (const snippet of SNIPPETS) {
  describe(`${snippet.name} (examples/receivers/${snippet.file})`, () => {
    if (!toolchainPresent(snippet.tool)) {
      const why = `${snippet.name} snippet NOT RUN: \`${snippet.tool[0]}\` is not on PATH (Debian: apt-get install -y ${snippet.apt})`;
      if (REQUIRE_TOOLCHAINS) {
        it(why, () => {
          throw new Error(`${why}; HERALD_SNIPPETS_REQUIRE_TOOLCHAINS=1 makes this a failure`);
        });
      } else {
        console.warn(why);
        it.skip(why, () => {});
      }
      return;
    }

    let work: string;
    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'herald-snippet-'));
      workDirs.push(work);
      await snippet.prepare?.(work);
    }, 180_000);

    for (const config of snippet.configs) {
      describe(config.label, () => {
        let r: ReceiverProcess;
        beforeAll(async () => {
          r = await ReceiverProcess.start(snippet, config, work);
        });
        afterAll(async () => {
          await r?.stop();
        });

        it('verifies a real delivery: 204, and logs ok <event id>', async () => {
          const from = r.lines().length;
          const d = await deliver(config, r.url, r.secret, 'succeeded');
          expect(d.delivery.attemptLog[0].response.status).toBe(204);
          await expectLogged(r, from, [`ok ${d.eventId}`]);
          // what was verified is what the guide says Herald sends
          expect(d.headers['content-type']).toBe('application/json');
          expect(d.headers['webhook-id']).toBe(d.eventId);
          if (config.scheme === 'standard') expect(d.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
          else if (config.scheme === 'ed25519') expect(d.headers['webhook-signature']).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
          else expect(d.headers[config.header!.toLowerCase()]).toBe(createHmac('sha256', r.secret).update(BODY).digest(config.encoding!));
        });

        it('answers a redelivery of the same event with 204 and processes it once (dup <event id>)', async () => {
          const from = r.lines().length;
          const d = await deliver(config, r.url, r.secret, 'succeeded');
          const again = await herald.api.post(`/v1/tenants/${d.tenant}/deliveries/${d.deliveryId}/retry`);
          expect(again.status).toBe(202);
          const after = await herald.api.waitDelivery(d.tenant, d.deliveryId, (x) => x.attempts === 2 && x.status !== 'pending', 15_000);
          expect(after.status).toBe('succeeded');
          expect(after.attemptLog.map((a: any) => a.response.status)).toEqual([204, 204]);
          await expectLogged(r, from, [`ok ${d.eventId}`, `dup ${d.eventId}`]);
        });

        it('rejects a delivery signed with another secret: 400, and Herald records the failed attempt', async () => {
          const from = r.lines().length;
          const d = await deliver(config, r.url, config.secret(), 'failed');
          expect(d.delivery.attemptLog).toHaveLength(1);
          expect(d.delivery.attemptLog[0].response.status).toBe(400);
          await expectLogged(r, from, ['bad no_matching_signature']);
        });

        it("accepts the previous secret's signature while Herald rotates the endpoint's secret", async () => {
          const from = r.lines().length;
          const tenant = await herald.api.tenant();
          const ep = await herald.api.endpoint(tenant, endpointBody(config, r.url, r.secret));
          const rotated = await herald.api.post(`/v1/tenants/${tenant}/endpoints/${ep.id}/secret/rotate`, {
            secret: config.secret(),
            graceSeconds: 3600,
          });
          expect(rotated.status).toBe(200);
          const pub = await herald.api.publish(tenant, 'order.paid', PAYLOAD);
          const list = await herald.api.get(`/v1/tenants/${tenant}/events/${pub.body.id}/deliveries`);
          const d = await herald.api.waitDelivery(tenant, list.body.data[0].id, (x) => x.status !== 'pending', 15_000);
          expect(d.status).toBe('succeeded');
          const sent = d.attemptLog[0].request.headers;
          // the receiver's (old) secret signed second: it is not the first signature it sees
          if (config.scheme !== 'hmac-sha256') expect(sent['webhook-signature'].split(' ')).toHaveLength(2);
          else expect(sent[`${config.header!.toLowerCase()}-previous`]).toBeTruthy();
          await expectLogged(r, from, [`ok ${pub.body.id}`]);
        });

        it('rejects a replay of a real delivery whose body differs by one byte: 400', async () => {
          const d = await deliver(config, r.url, r.secret, 'succeeded');
          const from = r.lines().length;
          // the captured request replayed as it was is authentic (a duplicate)...
          expect((await replay(r.url, d.headers, d.body)).status).toBe(204);
          // ...and one changed byte is not
          const tampered = d.body.replace('"amount":100', '"amount":900');
          expect(tampered).not.toBe(d.body);
          expect(tampered.length).toBe(d.body.length);
          expect((await replay(r.url, d.headers, tampered)).status).toBe(400);
          await expectLogged(r, from, [`dup ${d.eventId}`, 'bad no_matching_signature']);
        });

        it('rejects a request without signature headers: 400', async () => {
          const from = r.lines().length;
          const res = await replay(r.url, { 'content-type': 'application/json' }, BODY);
          expect(res.status).toBe(400);
          await expectLogged(r, from, ['bad missing_header']);
        });

        if (config.sign) {
          const sign = config.sign;
          it('rejects a stale (6 min old), future or malformed timestamp even with a correctly recomputed signature: 400', async () => {
            const d = await deliver(config, r.url, r.secret, 'succeeded');
            const id = d.eventId;
            const now = Math.floor(Date.now() / 1000);
            const signed = (msgId: string, ts: string) => ({
              ...d.headers,
              'webhook-id': msgId,
              'webhook-timestamp': ts,
              'webhook-signature': sign(r.secret, msgId, ts, d.body),
            });
            const from = r.lines().length;
            expect((await replay(r.url, signed(id, String(now - 360)), d.body)).status).toBe(400);
            expect((await replay(r.url, signed(id, String(now + 360)), d.body)).status).toBe(400);
            expect((await replay(r.url, signed(id, '1.7e9'), d.body)).status).toBe(400);
            // control: the same recomputation with a current timestamp (and a new id) is accepted
            expect((await replay(r.url, signed('msg_control_' + id, String(now)), d.body)).status).toBe(204);
            await expectLogged(r, from, [
              'bad timestamp_too_old',
              'bad timestamp_too_new',
              'bad invalid_timestamp',
              `ok msg_control_${id}`,
            ]);
          });
        }
      });
    }
  });
}

// ---------------------------------------------------------------- the guide

/** The guide's `<!-- snippet: file -->` markers, each followed by a fenced block holding that file. */
const SNIPPET_BLOCK = /^<!-- snippet: (examples\/receivers\/\S+) -->\n+(```[^\n]*\n)[\s\S]*?^```$/gm;

// HERALD_UPDATE_GUIDE=1 rewrites the guide's blocks from the files (then review the diff).
if (process.env.HERALD_UPDATE_GUIDE === '1') {
  const text = readFileSync(GUIDE, 'utf8');
  writeFileSync(GUIDE, text.replace(SNIPPET_BLOCK, (_m, file: string, fence: string) => `<!-- snippet: ${file} -->\n\n${fence}${readFileSync(join(ROOT, file), 'utf8')}\`\`\``));
}

describe('docs/verifying.md', () => {
  const guide = readFileSync(GUIDE, 'utf8');
  const blocks = [...guide.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)].map((m) => ({ at: m.index, body: m[1]! }));

  it('embeds every receiver byte for byte, each block marked with its file, and has no other code blocks', () => {
    const embedded: string[] = [];
    for (const b of blocks) {
      const before = guide.slice(0, b.at).trimEnd().split('\n').at(-1) ?? '';
      const marker = /^<!-- snippet: (examples\/receivers\/\S+) -->$/.exec(before);
      expect(marker, `code block at offset ${b.at} has no <!-- snippet: file --> marker on the line before it`).not.toBeNull();
      const file = marker![1]!;
      expect(b.body, `${file} in docs/verifying.md differs from the file`).toBe(readFileSync(join(ROOT, file), 'utf8'));
      embedded.push(file);
    }
    const files = (readdirSync(EXAMPLES, { recursive: true }) as string[])
      .filter((f) => /\.(mjs|js|ts|py|go|rb|php)$/.test(f))
      .map((f) => relative(ROOT, join(EXAMPLES, f)))
      .sort();
    expect([...embedded].sort()).toEqual(files);
  });

  it('covers every receiver the tests run', () => {
    for (const s of SNIPPETS) expect(guide).toContain(`<!-- snippet: examples/receivers/${s.file} -->`);
  });
});
