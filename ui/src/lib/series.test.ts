import { describe, expect, it } from 'vitest';
import { RateSeries, denyRatePercent, topCounts } from './series';

describe('rate series', () => {
  it('counts decisions and denies per bucket, zero-filled, oldest first', () => {
    const s = new RateSeries(60, 3);
    const t0 = Date.parse('2026-01-01T12:00:10Z');
    s.add(t0, false);
    s.add(t0 + 5_000, true);
    s.add(t0 + 120_000, false);
    const snap = s.snapshot(t0 + 125_000);
    expect(snap.times).toEqual([t0, t0 + 60_000, t0 + 120_000].map((t) => Math.floor(t / 60_000) * 60));
    expect(snap.total).toEqual([2, 0, 1]);
    expect(snap.denied).toEqual([1, 0, 0]);
    expect(denyRatePercent(snap)).toEqual([50, null, 0]);
  });

  it('forgets buckets that slid out of the window', () => {
    const s = new RateSeries(60, 2);
    s.add(0, true);
    expect(s.snapshot(10 * 60_000).total).toEqual([0, 0]);
    expect(s.snapshot(0).total).toEqual([0, 0]);
  });

  it('ranks the top counts, ties by name', () => {
    expect(topCounts({ B: 2, A: 2, C: 5, D: 1 }, 3)).toEqual([['C', 5], ['A', 2], ['B', 2]]);
  });
});
