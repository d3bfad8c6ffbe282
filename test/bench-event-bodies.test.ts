import { describe, expect, it } from 'vitest';
import { EventBodies } from '../bench/event-bodies.js';
import { decayCpuText, steadyDecay } from '../bench/targets.js';
import type { SteadyResult, WindowCpu } from '../bench/steady.js';

// The intake load writes its bodies from parts; Herald must get what JSON.stringify of the same events gives.
describe('the bench writes intake bodies as bytes', () => {
  const payload = { seq: 0, pad: 'x'.repeat(40), nested: { a: [1, 2.5, null], é: 'ü' } };
  const bodies = new EventBodies('bench.intake', JSON.stringify(payload));
  const event = (id: string) => ({ id, type: 'bench.intake', payload });

  it('writes one event as JSON.stringify does', () => {
    expect(bodies.one('evt_1').toString('utf8')).toBe(JSON.stringify(event('evt_1')));
  });

  it('writes a batch as JSON.stringify does, empty or not', () => {
    const ids = ['evt_a', 'evt_b', 'evt_c'];
    expect(bodies.batch(ids).toString('utf8')).toBe(JSON.stringify({ events: ids.map(event) }));
    expect(bodies.batch([]).toString('utf8')).toBe('{"events":[]}');
  });

  it('refuses an id it would have to escape', () => {
    expect(() => bodies.one('evt_"1')).toThrow(/not plain ASCII/);
    expect(() => bodies.batch(['evt_ok', 'evt_é'])).toThrow(/not plain ASCII/);
  });
});

// The 10-minute row compares two minutes; the CPU it reports beside them must be those minutes' own.
describe('the 10-minute row reports the CPU of the minutes it compares', () => {
  const cpu = (serve: number, pg: number, receiver: number): WindowCpu => ({ procs: { receiver, bench: 9, serve }, postgres: pg });
  const run = (lengths: number[]): SteadyResult =>
    ({
      windows: [100, 200, 190, 180],
      windowLengths: lengths,
      windowSeconds: 60,
      windowCpuUs: [cpu(1, 1, 1), cpu(100, 50, 40), cpu(2, 2, 2), cpu(120, 60, 44)],
    }) as unknown as SteadyResult;

  it('takes the second and the last full minute, Herald with PostgreSQL apart from the receiver', () => {
    const r = run([60, 60, 60, 60]);
    expect(steadyDecay(r)).toBeCloseTo(0.9);
    expect(decayCpuText(r)).toBe('; CPU a delivery in those two minutes: Herald and PostgreSQL 150 and 180 µs, the receiver (the same work for every delivery) 40 and 44 µs');
  });

  it('skips a short last window, as the decay does', () => {
    const r = run([60, 60, 60, 20]);
    expect(steadyDecay(r)).toBeCloseTo(0.95);
    expect(decayCpuText(r)).toContain('Herald and PostgreSQL 150 and 4 µs');
  });
});
