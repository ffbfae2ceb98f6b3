import { describe, expect, it } from 'vitest';
import { RateSeries, bucketLabel, denyRatePercent, rangeWindow, topCounts, zoomWindow } from './series';

const T0 = Date.parse('2026-01-01T12:00:10Z');
const minute = (ms: number) => Math.floor(ms / 60_000) * 60;

describe('rate series', () => {
  it('a preset range ends with the current bucket and spans the range', () => {
    const w = rangeWindow('15m', T0);
    expect(w).toEqual({ from: minute(T0) + 60 - 900, to: minute(T0) + 60, bucketSeconds: 60, live: true });
    expect(rangeWindow('7d', T0).bucketSeconds).toBe(3600);
  });

  it('is seeded from the ledger buckets and adds only decisions recorded after the seed', () => {
    const s = new RateSeries(rangeWindow('15m', T0 + 125_000));
    s.seed(
      [
        { start: new Date(minute(T0) * 1000).toISOString(), decisions: 2308, denied: 8 },
        { start: new Date((minute(T0) + 60) * 1000).toISOString(), decisions: 1, denied: 1 },
      ],
      T0 + 100_000,
    );
    expect(s.add(T0 + 90_000, false)).toBe(false); // already in the seed
    expect(s.add(T0 + 120_000, true)).toBe(true);
    const snap = s.snapshot(T0 + 125_000);
    expect(snap.times).toHaveLength(15);
    expect(snap.times.slice(-3)).toEqual([minute(T0), minute(T0) + 60, minute(T0) + 120]);
    expect(snap.total.slice(-3)).toEqual([2308, 1, 1]);
    expect(snap.denied.slice(-3)).toEqual([8, 1, 1]);
    expect(snap.total.slice(0, -3).every((n) => n === 0)).toBe(true);
    expect(denyRatePercent(snap).slice(-3)).toEqual([(100 * 8) / 2308, 100, 100]);
    expect(denyRatePercent(snap)[0]).toBeNull();
  });

  it('a live window slides and forgets what fell out of it', () => {
    const s = new RateSeries(rangeWindow('15m', T0));
    s.seed([], T0);
    s.add(T0, true);
    expect(s.snapshot(T0 + 20 * 60_000).total.every((n) => n === 0)).toBe(true);
  });

  it('a zoomed window is fixed, takes no live decisions and picks a bucket width for its span', () => {
    const from = minute(T0);
    const z = zoomWindow(from + 10, from + 600);
    expect(z).toEqual({ from, to: from + 600, bucketSeconds: 60, live: false });
    expect(zoomWindow(from, from + 24 * 3600).bucketSeconds).toBe(900);
    const s = new RateSeries(z);
    s.seed([{ start: new Date(from * 1000).toISOString(), decisions: 4, denied: 0 }], z.to * 1000);
    expect(s.add(Date.now(), false)).toBe(false);
    const snap = s.snapshot(Date.now());
    expect(snap.times).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => from + 60 * i));
    expect(snap.total[0]).toBe(4);
  });

  it('names bucket widths', () => {
    expect([60, 300, 900, 3600].map(bucketLabel)).toEqual(['minute', '5 min', '15 min', 'hour']);
  });

  it('ranks the top counts, ties by name', () => {
    expect(topCounts({ B: 2, A: 2, C: 5, D: 1 }, 3)).toEqual([['C', 5], ['A', 2], ['B', 2]]);
  });
});
