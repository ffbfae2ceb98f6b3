// The Overview charts' data: decisions and denies per bucket over a time window, seeded from the
// ledger's buckets (`GET /v1/stats`) and kept current by pushed decision events, never by polling.

export interface Bucketed {
  /** Bucket start times, unix seconds (uPlot's x axis). */
  times: number[];
  total: number[];
  denied: number[];
}

/** One bucket as `GET /v1/stats` answers it. */
export interface StatsBucket {
  start: string;
  decisions: number;
  denied: number;
}

/** The time ranges the Overview offers; each has a bucket width that keeps the chart readable. */
export const RANGES = [
  { key: '15m', label: '15 min', seconds: 15 * 60, bucketSeconds: 60 },
  { key: '1h', label: '1 h', seconds: 3600, bucketSeconds: 60 },
  { key: '6h', label: '6 h', seconds: 6 * 3600, bucketSeconds: 300 },
  { key: '24h', label: '24 h', seconds: 24 * 3600, bucketSeconds: 900 },
  { key: '7d', label: '7 d', seconds: 7 * 24 * 3600, bucketSeconds: 3600 },
] as const;
export type RangeKey = (typeof RANGES)[number]['key'];
export const DEFAULT_RANGE: RangeKey = '1h';

/** Bucket widths a zoomed window may use (the ledger aligns buckets to the epoch). */
const WIDTHS: readonly number[] = [60, 300, 900, 3600];
const MAX_BUCKETS = 180;

/**
 * What a chart shows: `[from, to)` in unix seconds and the bucket width. A window that follows the
 * present (a preset range) has `live`: pushed decisions are added and it slides with the clock.
 */
export interface ChartWindow {
  from: number;
  to: number;
  bucketSeconds: number;
  live: boolean;
}

const floorTo = (t: number, w: number) => Math.floor(t / w) * w;

export function rangeWindow(key: RangeKey, nowMs: number): ChartWindow {
  const range = RANGES.find((r) => r.key === key) ?? RANGES[1];
  const w = range.bucketSeconds;
  const to = floorTo(nowMs / 1000, w) + w;
  return { from: to - range.seconds, to, bucketSeconds: w, live: true };
}

/** A fixed window (a drag on the chart): the narrowest width that keeps at most MAX_BUCKETS buckets. */
export function zoomWindow(fromSec: number, toSec: number): ChartWindow {
  const span = Math.max(1, toSec - fromSec);
  const w = WIDTHS.find((width) => span / width <= MAX_BUCKETS) ?? 3600;
  const from = floorTo(fromSec, w);
  return { from, to: Math.max(from + w, Math.ceil(toSec / w) * w), bucketSeconds: w, live: false };
}

export class RateSeries {
  private readonly counts = new Map<number, { total: number; denied: number }>();
  /** Pushed decisions recorded before this time (ms) are already in the seeded buckets. */
  private countedUntilMs = Infinity;

  constructor(readonly window: ChartWindow) {}

  /** Fills the buckets from the ledger's answer for `[window.from, untilMs)`; later decisions come live. */
  seed(buckets: StatsBucket[], untilMs: number): void {
    for (const b of buckets) {
      const key = floorTo(Date.parse(b.start) / 1000, this.window.bucketSeconds);
      const c = this.counts.get(key) ?? { total: 0, denied: 0 };
      c.total += b.decisions;
      c.denied += b.denied;
      this.counts.set(key, c);
    }
    this.countedUntilMs = untilMs;
  }

  /** A pushed decision; ignored when the seed already holds it or the window does not follow the present. */
  add(atMs: number, denied: boolean): boolean {
    if (!this.window.live || atMs < this.countedUntilMs) return false;
    const key = floorTo(atMs / 1000, this.window.bucketSeconds);
    const c = this.counts.get(key) ?? { total: 0, denied: 0 };
    c.total += 1;
    if (denied) c.denied += 1;
    this.counts.set(key, c);
    return true;
  }

  /** The buckets of the window, zero-filled, oldest first; a live window ends at `nowMs`'s bucket. */
  snapshot(nowMs: number): Bucketed {
    const w = this.window.bucketSeconds;
    const span = this.window.to - this.window.from;
    const last = this.window.live ? floorTo(nowMs / 1000, w) : this.window.to - w;
    const first = this.window.live ? last - span + w : this.window.from;
    for (const key of this.counts.keys()) if (key < first) this.counts.delete(key);
    const out: Bucketed = { times: [], total: [], denied: [] };
    for (let t = first; t <= last; t += w) {
      const c = this.counts.get(t);
      out.times.push(t);
      out.total.push(c?.total ?? 0);
      out.denied.push(c?.denied ?? 0);
    }
    return out;
  }
}

/** Deny rate per bucket in percent; null (a gap in the chart) where nothing was decided. */
export function denyRatePercent(b: Bucketed): (number | null)[] {
  return b.total.map((t, i) => (t === 0 ? null : (100 * (b.denied[i] ?? 0)) / t));
}

/** "minute", "5 min", "hour": the width of one bucket in words. */
export function bucketLabel(seconds: number): string {
  if (seconds === 60) return 'minute';
  if (seconds === 3600) return 'hour';
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds / 60} min`;
}

/** Top-n entries of a count map, largest first, ties by name. */
export function topCounts(counts: Record<string, number>, n = 5): [string, number][] {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n);
}
