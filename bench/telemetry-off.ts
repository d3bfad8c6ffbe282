/**
 * OpenTelemetry off must cost nothing measurable. The worker's hook runs
 * once per attempt: this times the worker's real `process` step (on an
 * endpoint that is disabled, so no request is made and the hook is most of
 * what is left to measure) in this build and in another one, e.g. the
 * revision before OpenTelemetry, alternating rounds and comparing medians;
 * and the publish routes' wrapper with telemetry off against calling the
 * handler body directly.
 *
 *   npm run build:bench && node dist-bench/bench/telemetry-off.js [root of another built checkout]
 */
import { pathToFileURL } from 'node:url';
import { tracePublish } from '../src/telemetry/telemetry.js';

const ROUNDS = 21;
const CALLS = 100_000;

interface Arm {
  name: string;
  process: () => Promise<unknown>;
}

async function workerArm(name: string, root: URL): Promise<Arm> {
  const { Worker } = (await import(new URL('dist/delivery/worker.js', root).href)) as typeof import('../src/delivery/worker.js');
  const { SecretBox } = (await import(new URL('dist/security/secret-box.js', root).href)) as typeof import('../src/security/secret-box.js');
  const { Metrics } = (await import(new URL('dist/metrics.js', root).href)) as typeof import('../src/metrics.js');
  const { createLogger } = (await import(new URL('dist/logger.js', root).href)) as typeof import('../src/logger.js');
  const w = new Worker({
    db: null as never, // never reached: nothing is claimed or written here
    dispatcher: null as never,
    logger: createLogger('warn'),
    metrics: new Metrics(),
    concurrency: 256,
    endpointConcurrency: 32,
    claimBatchSize: 256,
    leaseSeconds: 60,
    pollIntervalMs: 2000,
    responseBodyCapBytes: 65536,
    retryAfterMaxSeconds: 3600,
    shutdownTimeoutMs: 1000,
    userAgent: 'bench',
    health: { circuitBreakerFailures: 0, circuitBreakerCooldownSeconds: 30, disableAfterFailures: 0, disableAfterSeconds: 0 },
    secrets: new SecretBox([Buffer.alloc(32, 1).toString('base64')]),
    // never reached either: the measured delivery goes over HTTP, untransformed
    addressPolicy: null as never,
    transforms: null as never,
  });
  const d = {
    id: 'dlv_1', tenantId: 't', eventId: 'evt_1', eventType: 'a.b', endpointId: 'ep_1', attempts: 0, manual: false, payload: '{}',
    tenantEnvelope: null, wantsDelivered: false, wantsFailed: false, endpointDisabled: true, endpointUnhealthy: false, rateLimitPerSecond: null,
    leaseToken: 'x', url: 'https://example.com/', headers: {}, signature: { scheme: 'standard' }, retry: { schedule: [1] }, timeoutMs: 1000,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', oldSecrets: [], sendTraceContext: false,
  };
  const process = (w as unknown as { process(d: unknown): Promise<unknown> }).process.bind(w);
  return { name, process: () => process(d) };
}

async function nsPerCall(f: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) await f();
  return Number(process.hrtime.bigint() - t0) / CALLS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function compare(arms: Arm[]): Promise<void> {
  const times = new Map<string, number[]>(arms.map((a) => [a.name, []]));
  for (const a of arms) await nsPerCall(a.process); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const a of r % 2 === 0 ? arms : [...arms].reverse()) times.get(a.name)!.push(await nsPerCall(a.process));
  }
  for (const [name, t] of times) {
    console.log(`  ${name.padEnd(44)} median ${median(t).toFixed(1)} ns/call (min ${Math.min(...t).toFixed(1)}, max ${Math.max(...t).toFixed(1)}; ${ROUNDS} rounds of ${CALLS.toLocaleString()})`);
  }
}

const here = new URL('../../', import.meta.url);
const other = process.argv[2];
console.log('worker: process() of one delivery (disabled endpoint: no request)');
const arms = [await workerArm('this build, OpenTelemetry off', here)];
if (other) arms.push(await workerArm(`other build (${other})`, pathToFileURL(other.endsWith('/') ? other : `${other}/`)));
await compare(arms);

console.log('publish route: the body run through tracePublish(null) or called directly');
const span = { headers: {}, route: '/v1/tenants/:tenantId/events', tenantId: 't' };
const body = async (_traceContext: string | null) => ({ reply: 1, published: { events: [], deliveries: 0 } });
await compare([
  { name: 'tracePublish(null, …)', process: () => tracePublish(null, span, body) },
  { name: 'direct', process: async () => (await body(null)).reply },
]);
