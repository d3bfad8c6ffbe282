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
