// The Overview over a fake hall: the rate chart comes from the ledger's buckets (GET /v1/stats),
// shows a loading state rather than zeros, adds live decisions after its load, and the hall's
// state is marked stale while the stream is down.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nav } from '../lib/nav.svelte';
import type { Stats } from '../lib/types';
import { EMPTY_STATS, decisionEvent, deferred, fakeHall, render, settle } from '../test/hall';
import Overview from './Overview.svelte';

// uPlot draws on a canvas, which jsdom lacks: the chart's numbers are checked through its table.
vi.mock('uplot', () => ({
  default: class {
    over = document.createElement('div');
    setData() {}
    setSize() {}
    destroy() {}
  },
}));

let destroy: (() => void) | undefined;
afterEach(() => {
  destroy?.();
  vi.useRealTimers();
});

const minuteStart = () => Math.floor(Date.now() / 60_000) * 60;
const tableCounts = (target: HTMLElement) =>
  new Map([...target.querySelectorAll<HTMLElement>('[data-testid="rate-table"] tbody tr')].map((r) => [Number(r.dataset.start), Number(r.dataset.decisions)]));

describe('Overview', () => {
  it('fills the chart from the ledger buckets, with a loading state first, then adds live decisions', async () => {
    nav.go('overview', '', new URLSearchParams({ range: '1h' }), true);
    // The chart redraws on a one-second interval: the test runs it.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { hall, transport } = await fakeHall();
    const answer = deferred<Stats>();
    transport.on('get_stats', () => answer.promise);
    const view = await render(Overview, hall);
    destroy = view.destroy;
    const [query] = transport.callsOf('get_stats').map((a) => a.query);
    expect(query?.bucket_s).toBe(60);
    expect(Date.parse(String(query?.until)) - Date.parse(String(query?.since))).toBeGreaterThan(59 * 60_000);
    expect(view.target.querySelector('[data-testid="chart-loading"]')).not.toBeNull();

    const start = minuteStart();
    answer.resolve({ ...EMPTY_STATS, buckets: [{ start: new Date(start * 1000).toISOString(), decisions: 2308, denied: 3 }] });
    await settle();
    expect(view.target.querySelector('[data-testid="chart-loading"]')).toBeNull();
    view.target.querySelector('details')!.open = true;
    view.target.querySelector('details')!.dispatchEvent(new Event('toggle'));
    await settle();
    expect(tableCounts(view.target).get(start)).toBe(2308);
    expect(tableCounts(view.target).size).toBe(60);

    transport.emit(decisionEvent(9000, { recorded_at: new Date(Date.now() + 10).toISOString() }));
    await new Promise((r) => setTimeout(r, 20));
    vi.advanceTimersByTime(1000);
    await settle();
    expect(tableCounts(view.target).get(minuteStart())).toBe(minuteStart() === start ? 2309 : 1);
  });

  it('a stream that drops marks the state stale; when it opens again the hall is reloaded and it is fresh', async () => {
    const { hall, transport } = await fakeHall();
    transport.status({ state: 'down', message: 'gone', retryInMs: 1000, unreachable: true });
    expect(hall.unreachableSince).not.toBeNull();
    transport.status({ state: 'connecting' });
    expect(hall.unreachableSince).not.toBeNull();
    transport.status({ state: 'open' });
    await settle();
    expect(transport.callsOf('list_workers')).toHaveLength(1);
    expect(hall.unreachableSince).toBeNull();
    expect(hall.resyncs).toBe(1);
    // A stream that only fell behind reconnects without calling the hall unreachable, and reloads.
    transport.status({ state: 'down', message: 'behind', retryInMs: 1000, unreachable: false });
    expect(hall.unreachableSince).toBeNull();
    transport.status({ state: 'connecting' });
    transport.status({ state: 'open' });
    await settle();
    expect(transport.callsOf('list_workers')).toHaveLength(2);
    expect(hall.resyncs).toBe(2);
  });
});
