import { describe, expect, it } from 'vitest';
import { ago, seconds } from '../src/format.js';

/** The dashboard's relative times and durations at the edges of their units. */
describe('relative times', () => {
  const now = Date.parse('2026-12-04T12:00:00Z');
  const inSeconds = (s: number) => ago(new Date(now + s * 1000).toISOString(), now);

  it('reads a time just under the next unit in that unit, never "60 min" or "24 h"', () => {
    expect(inSeconds(3_599)).toBe('in 1 h');
    expect(inSeconds(3_570)).toBe('in 1 h');
    expect(inSeconds(3_569)).toBe('in 59 min');
    expect(inSeconds(86_399)).toBe('in 1 d');
    expect(inSeconds(-3_590)).toBe('1 h ago');
    expect(inSeconds(-59)).toBe('59 s ago');
    expect(inSeconds(-90)).toBe('2 min ago');
  });

  it('says "just now" within five seconds either way', () => {
    expect(inSeconds(4)).toBe('just now');
    expect(inSeconds(-4)).toBe('just now');
    expect(inSeconds(6)).toBe('in 6 s');
  });
});

describe('short durations', () => {
  it('rounds before it picks the unit', () => {
    expect(seconds(59)).toBe('59s');
    expect(seconds(90)).toBe('1.5m');
    expect(seconds(3_599)).toBe('1h');
    expect(seconds(3_600)).toBe('1h');
    expect(seconds(86_390)).toBe('1d');
    expect(seconds(129_600)).toBe('1.5d');
  });
});
