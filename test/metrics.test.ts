import { describe, expect, it } from 'vitest';
import { Metrics } from '../src/metrics.js';

/** The value of one sample line of the exposition text, or null when absent. */
function sample(text: string, line: string): number | null {
  const hit = text.split('\n').find((l) => l.startsWith(`${line} `));
  return hit ? Number(hit.slice(line.length + 1)) : null;
}

describe('counts kept per delivery (TalliedCounter)', () => {
  it('shows every count at each scrape, once, summed with the counts made before it', async () => {
    const m = new Metrics({ processMetrics: false });
    m.attempts.inc('success');
    m.attempts.inc('success');
    m.attempts.inc('timeout');
    m.finished.inc('succeeded', 2);
    let text = await m.render();
    expect(sample(text, 'herald_delivery_attempts_total{outcome="success"}')).toBe(2);
    expect(sample(text, 'herald_delivery_attempts_total{outcome="timeout"}')).toBe(1);
    expect(sample(text, 'herald_deliveries_finished_total{status="succeeded"}')).toBe(2);

    // a scrape with nothing new counts nothing twice
    text = await m.render();
    expect(sample(text, 'herald_delivery_attempts_total{outcome="success"}')).toBe(2);

    m.attempts.inc('success');
    text = await m.render();
    expect(sample(text, 'herald_delivery_attempts_total{outcome="success"}')).toBe(3);
    expect(sample(text, 'herald_delivery_attempts_total{outcome="timeout"}')).toBe(1);

    // the JSON form (what a worker thread sends to its process) carries them too
    m.attempts.inc('reset');
    const json = await m.registry.getMetricsAsJSON();
    const attempts = json.find((x) => x.name === 'herald_delivery_attempts_total')!;
    expect(attempts.values.find((v) => v.labels.outcome === 'reset')?.value).toBe(1);
  });
});

describe('a histogram observed per delivery (BatchedHistogram)', () => {
  it('shows every value at each scrape, once, in the right bucket, with the exact sum', async () => {
    const m = new Metrics({ processMetrics: false });
    m.attemptDuration.observe(0.003);
    m.attemptDuration.observe(0.02);
    m.attemptDuration.observe(40);
    let text = await m.render();
    expect(sample(text, 'herald_delivery_attempt_duration_seconds_bucket{le="0.005"}')).toBe(1);
    expect(sample(text, 'herald_delivery_attempt_duration_seconds_bucket{le="0.025"}')).toBe(2);
    expect(sample(text, 'herald_delivery_attempt_duration_seconds_bucket{le="30"}')).toBe(2);
    expect(sample(text, 'herald_delivery_attempt_duration_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(sample(text, 'herald_delivery_attempt_duration_seconds_count')).toBe(3);
    expect(sample(text, 'herald_delivery_attempt_duration_seconds_sum')).toBeCloseTo(40.023, 9);

    // nothing new: nothing counted twice
    text = await m.render();
    expect(sample(text, 'herald_delivery_attempt_duration_seconds_count')).toBe(3);

    // more values than the buffer holds between two scrapes: none lost
    for (let i = 0; i < 10_000; i++) m.attemptDuration.observe(0.001);
    text = await m.render();
    expect(sample(text, 'herald_delivery_attempt_duration_seconds_count')).toBe(10_003);
    expect(sample(text, 'herald_delivery_attempt_duration_seconds_bucket{le="0.005"}')).toBe(10_001);
    expect(sample(text, 'herald_delivery_attempt_duration_seconds_sum')).toBeCloseTo(50.023, 6);
  });

  it('reads the deliveries in flight when collected', async () => {
    const m = new Metrics({ processMetrics: false });
    expect(sample(await m.render(), 'herald_deliveries_in_flight')).toBe(0);
    let n = 7;
    m.watchInFlight(() => n);
    expect(sample(await m.render(), 'herald_deliveries_in_flight')).toBe(7);
    n = 2;
    const json = await m.registry.getMetricsAsJSON();
    expect(json.find((x) => x.name === 'herald_deliveries_in_flight')?.values[0]?.value).toBe(2);
  });
});
