import { describe, expect, it } from 'vitest';
import { postgresUsedMs } from '../bench/cpu.js';

// PostgreSQL's CPU over a window, from two readings: per backend pid, and the postmaster (negated pid) with the
// CPU of its children that exited. The 10-minute row's CPU per minute goes by it.
describe("the bench's PostgreSQL CPU over a window", () => {
  const postmaster = -100;

  it('counts what each process used in the window, a process that connected meanwhile from zero', () => {
    const a = new Map([[postmaster, 5_000], [201, 1_000], [202, 300]]);
    const b = new Map([[postmaster, 5_000], [201, 1_400], [202, 350], [203, 80]]);
    expect(postgresUsedMs(a, b)).toBe(400 + 50 + 80);
  });

  it('counts a backend that exits in the window by what it used in the window, not by its whole life', () => {
    // backend 201 had used 60 s before the window, 0.2 s more in it, then exited: the postmaster reaped 60.2 s
    const a = new Map([[postmaster, 5_000], [201, 60_000], [202, 300]]);
    const b = new Map([[postmaster, 5_000 + 60_200], [202, 350]]);
    expect(postgresUsedMs(a, b)).toBe(200 + 50);
  });

  it('counts a short-lived process (a parallel worker) that came and went within the window in full', () => {
    const a = new Map([[postmaster, 5_000], [202, 300]]);
    const b = new Map([[postmaster, 5_000 + 90], [202, 350]]);
    expect(postgresUsedMs(a, b)).toBe(90 + 50);
  });
});
