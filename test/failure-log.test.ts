import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FailureLog } from '../src/delivery/failure-log.js';
import type { AttemptResult, ClaimedDelivery } from '../src/delivery/queue/types.js';

/** A logger whose lines land in `lines`, parsed. */
function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, out), lines };
}

function attempt(i: number, over: Partial<AttemptResult> = {}): AttemptResult {
  const delivery = { id: `dlv_${i}`, tenantId: 'acme', eventId: `evt_${i}`, eventType: 'campaign.paused', endpointId: 'ep_1', attempts: 2 } as ClaimedDelivery;
  return {
    delivery,
    attemptId: `att_${i}`,
    status: 'pending',
    retryInMs: 30_000,
    startedAt: new Date(),
    durationMs: 3,
    requestHeaders: {},
    responseStatus: null,
    responseHeaders: null,
    responseBody: null,
    responseBodyTruncated: false,
    errorCode: 'connect_refused',
    errorMessage: 'connection refused',
    skipped: false,
    counted: true,
    ...over,
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('failed attempts in the log', () => {
  it('names tenant, endpoint, event, delivery, the error and what happens next, at info', async () => {
    const { logger, lines } = capture();
    const log = new FailureLog(logger);
    log.note(attempt(1));
    log.note(attempt(2, { status: 'failed', retryInMs: null, errorCode: null, responseStatus: 500 }));
    log.note(attempt(3, { status: 'succeeded', errorCode: null, responseStatus: 200 }));
    log.note(attempt(4, { skipped: true }));
    await settle();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'delivery attempt failed',
      tenantId: 'acme',
      endpointId: 'ep_1',
      eventId: 'evt_1',
      eventType: 'campaign.paused',
      deliveryId: 'dlv_1',
      attempt: 3,
      error: 'connect_refused',
      next: 'retry in 30 s',
    });
    expect(lines[1]).toMatchObject({ deliveryId: 'dlv_2', status: 500, error: 'http_500', next: 'failed for good' });
  });

  it('writes at most its lines per second and then says how many more failed', async () => {
    const { logger, lines } = capture();
    const log = new FailureLog(logger, 5);
    for (let i = 0; i < 12; i++) log.note(attempt(i));
    log.flush();
    await settle();
    expect(lines.filter((l) => l.msg === 'delivery attempt failed')).toHaveLength(5);
    expect(lines.at(-1)).toMatchObject({ msg: 'more delivery attempts failed than are logged per second', notLogged: 7, perSecond: 5 });
  });

  it('stays quiet above info', async () => {
    const { logger, lines } = capture('warn');
    new FailureLog(logger).note(attempt(1));
    await settle();
    expect(lines).toHaveLength(0);
  });
});
