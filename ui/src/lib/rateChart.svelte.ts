// The Overview's decision-rate chart: a window (a preset range that follows the present, or a
// dragged zoom), its buckets loaded from the ledger (`GET /v1/stats`), and pushed decisions added
// on top. Redrawn at most once a second: the buckets are minutes or wider, so redrawing for every
// pushed decision (up to thousands a second) would only burn CPU in the webview.

import type { ApiError, HallApi } from './api';
import { asApiError } from './hall.svelte';
import { RateSeries, rangeWindow, type Bucketed, type ChartWindow } from './series';
import type { DecisionEvent } from './types';

export type ChartStatus = { state: 'loading' } | { state: 'ready' } | { state: 'error'; error: ApiError };

export class RateChart {
  status: ChartStatus = $state({ state: 'loading' });
  snapshot: Bucketed = $state.raw({ times: [], total: [], denied: [] });
  window: ChartWindow = $state.raw(rangeWindow('1h', Date.now()));
  private series: RateSeries | null = null;
  private generation = 0;
  /** Decisions pushed while the buckets load: counted once the load says where it stopped. */
  private arrived: DecisionEvent[] | null = null;
  private changed = false;

  /** Loads `window`'s buckets; an older load's answer is dropped when a newer one started. */
  async load(api: HallApi, window: ChartWindow): Promise<void> {
    const gen = ++this.generation;
    this.window = window;
    this.status = { state: 'loading' };
    this.arrived = [];
    // A live window is loaded up to now; what is decided from now on arrives as events.
    const untilMs = window.live ? Date.now() : window.to * 1000;
    try {
      const stats = await api.getStats({
        since: new Date(window.from * 1000).toISOString(),
        until: new Date(untilMs).toISOString(),
        bucket_s: window.bucketSeconds,
      });
      if (gen !== this.generation) return;
      const series = new RateSeries(window);
      series.seed(stats.buckets, untilMs);
      for (const e of this.arrived) series.add(eventTime(e), e.denied);
      this.series = series;
      this.status = { state: 'ready' };
      this.snapshot = series.snapshot(Date.now());
      this.changed = false;
    } catch (err) {
      if (gen === this.generation) this.status = { state: 'error', error: asApiError(err) };
    } finally {
      if (gen === this.generation) this.arrived = null;
    }
  }

  add(e: DecisionEvent): void {
    if (this.arrived) this.arrived.push(e);
    else if (this.series?.add(eventTime(e), e.denied)) this.changed = true;
  }

  /** Called once a second: redraws when something was added, and once a bucket anyway so a live window slides. */
  tick(nowMs: number): void {
    if (!this.series || this.status.state !== 'ready') return;
    const slid = this.window.live && (this.snapshot.times.at(-1) ?? 0) < Math.floor(nowMs / 1000 / this.window.bucketSeconds) * this.window.bucketSeconds;
    if (!this.changed && !slid) return;
    this.changed = false;
    this.snapshot = this.series.snapshot(nowMs);
  }
}

function eventTime(e: DecisionEvent): number {
  return Date.parse(e.recorded_at) || Date.now();
}
