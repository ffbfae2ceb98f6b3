// Rolling per-bucket counters for the Overview charts: decisions per minute and deny rate,
// fed by pushed decision events (and seeded from history), never by polling.

export interface Bucketed {
  /** Bucket start times, unix seconds (uPlot's x axis). */
  times: number[];
  total: number[];
  denied: number[];
}

export class RateSeries {
  private readonly counts = new Map<number, { total: number; denied: number }>();

  constructor(
    readonly bucketSeconds = 60,
    readonly buckets = 30,
  ) {}

  clear(): void {
    this.counts.clear();
  }

  add(atMs: number, denied: boolean): void {
    const key = Math.floor(atMs / 1000 / this.bucketSeconds) * this.bucketSeconds;
    const c = this.counts.get(key) ?? { total: 0, denied: 0 };
    c.total += 1;
    if (denied) c.denied += 1;
    this.counts.set(key, c);
  }

  /** The last `buckets` buckets ending at `nowMs`, zero-filled; older buckets are forgotten. */
  snapshot(nowMs: number): Bucketed {
    const last = Math.floor(nowMs / 1000 / this.bucketSeconds) * this.bucketSeconds;
    const first = last - (this.buckets - 1) * this.bucketSeconds;
    for (const key of this.counts.keys()) if (key < first) this.counts.delete(key);
    const out: Bucketed = { times: [], total: [], denied: [] };
    for (let t = first; t <= last; t += this.bucketSeconds) {
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

/** Top-n entries of a count map, largest first, ties by name. */
export function topCounts(counts: Record<string, number>, n = 5): [string, number][] {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n);
}
