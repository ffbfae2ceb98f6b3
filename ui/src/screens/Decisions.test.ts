// The Decisions screen over a fake hall: paging by generation, the live queue, selection, export.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nav } from '../lib/nav.svelte';
import type { DecisionPage, DecisionSummary, LedgerRecord } from '../lib/types';
import { decisionEvent, deferred, fakeHall, render, settle, type FakeTransport } from '../test/hall';
import { record } from '../test/fixtures';
import Decisions from './Decisions.svelte';

const page = (records: LedgerRecord[], next_cursor: string | null = null): DecisionPage => ({ decisions: records, next_cursor });
const ids = (target: HTMLElement) => [...target.querySelectorAll<HTMLElement>('[data-decision-id]')].map((e) => e.dataset.decisionId);
const button = (target: HTMLElement, text: string | RegExp) => {
  const found = [...target.querySelectorAll('button')].find((b) => (typeof text === 'string' ? b.textContent?.trim() === text : text.test(b.textContent ?? '')));
  if (!found) throw new Error(`no button ${text}`);
  return found;
};
/** jsdom's Blob has no `text()`. */
const readText = (blob: Blob) =>
  new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error);
    reader.readAsText(blob);
  });
/** Calls of `list_decisions` for the first page (no cursor). */
const firstPages = (t: FakeTransport) => t.callsOf('list_decisions').filter((a) => !a.query?.cursor);

// The histogram's uPlot needs a canvas: a stand-in (the histogram is tested in the browser, e2e).
vi.mock('uplot', () => import('../test/uplot'));

const SUMMARY: DecisionSummary = {
  total: 1234,
  total_exact: false,
  scanned: 50000,
  bucket_seconds: 60,
  buckets: [{ start: '2026-01-01T00:00:00Z', decisions: 3, denied: 1 }],
  facets: [{ field: 'tenant_id', values: [{ value: 'tenant.a', count: 3 }] }],
};

// Live rows are batched on animation frames: the test runs the frames.
let frames: FrameRequestCallback[] = [];
// The list takes live rows at most every 500 ms: each run of the frames is a second later.
let now = 0;
const runFrames = (laterMs = 1000) => {
  now += laterMs;
  const run = frames;
  frames = [];
  for (const f of run) f(0);
};

let destroy: (() => void) | undefined;
beforeEach(() => {
  frames = [];
  vi.stubGlobal('requestAnimationFrame', (f: FrameRequestCallback) => frames.push(f));
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  nav.go('decisions', '', undefined, true);
});
afterEach(() => {
  destroy?.();
  destroy = undefined;
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** The screen over a first page of d-1, with live d-2 arrived on top. */
async function oneLiveRowOnTop() {
  const { hall, transport } = await fakeHall();
  transport.on('list_decisions', () => page([record(1)]));
  const view = await render(Decisions, hall);
  destroy = view.destroy;
  transport.emit(decisionEvent(2));
  runFrames();
  await settle();
  expect(ids(view.target)).toEqual(['d-2', 'd-1']);
  return { view, transport };
}

describe('Decisions', () => {
  it('shows the first page, and selecting a row fetches its detail without refetching the page', async () => {
    const { hall, transport } = await fakeHall();
    transport
      .on('list_decisions', () => page([record(3), record(2), record(1)]))
      .on('get_decision', (a) => ({ ...record(Number(String(a.params?.decision_id).slice(2))), linked: [] }));
    const view = await render(Decisions, hall);
    destroy = view.destroy;
    expect(ids(view.target)).toEqual(['d-3', 'd-2', 'd-1']);
    expect(firstPages(transport)).toHaveLength(1);

    view.target.querySelector<HTMLElement>('[data-decision-id="d-2"]')!.click();
    await settle();
    expect(nav.current.arg).toBe('d-2');
    expect(transport.callsOf('get_decision')).toEqual([{ params: { decision_id: 'd-2' } }]);
    expect(view.target.querySelector('[aria-selected="true"]')?.getAttribute('data-decision-id')).toBe('d-2');
    expect(firstPages(transport)).toHaveLength(1);
  });

  it('shows the summary, filters on a facet click, and refreshes it on a timer, not per live event', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { hall, transport } = await fakeHall();
    transport.on('list_decisions', () => page([record(1)])).on('decisions_summary', () => SUMMARY);
    const view = await render(Decisions, hall);
    destroy = view.destroy;
    expect(view.target.querySelector('[data-testid="match-count"]')?.textContent).toBe('1,234+ matching');
    expect(transport.callsOf('decisions_summary')).toHaveLength(1);
    expect(transport.callsOf('decisions_summary')[0]?.query).not.toHaveProperty('cursor');

    for (let i = 2; i < 40; i++) transport.emit(decisionEvent(i));
    runFrames();
    await settle();
    expect(transport.callsOf('decisions_summary')).toHaveLength(1);
    vi.advanceTimersByTime(5000);
    await settle();
    expect(transport.callsOf('decisions_summary')).toHaveLength(2);
    vi.advanceTimersByTime(5000);
    await settle();
    expect(transport.callsOf('decisions_summary')).toHaveLength(2); // nothing new arrived

    view.target.querySelector<HTMLElement>('[data-facet="tenant_id"] [data-value="tenant.a"]')!.click();
    await settle();
    expect(nav.current.params.get('tenant_id')).toBe('tenant.a');
    vi.useRealTimers();
  });

  it('asks for the exact count after a summary that stopped at its scan, and never shows another filter\'s', async () => {
    const { hall, transport } = await fakeHall();
    const counts = [deferred<{ total: number; exact: boolean }>(), deferred<{ total: number; exact: boolean }>()];
    const asked = [...counts];
    transport
      .on('list_decisions', () => page([record(1)]))
      .on('decisions_summary', () => ({ ...SUMMARY, total: 10000 }))
      .on('decisions_count', () => asked.shift()!.promise);
    const view = await render(Decisions, hall);
    destroy = view.destroy;
    const total = () => view.target.querySelector('[data-testid="match-count"]')?.textContent;
    expect(total()).toBe('10,000+ matching');
    expect(view.target.textContent).toContain('counting…');
    expect(transport.callsOf('decisions_count')[0]?.query).not.toHaveProperty('limit');

    // Another filter before the count came: the first count is not shown for it.
    nav.go('decisions', '', new URLSearchParams('tenant_id=tenant.b'));
    await settle();
    counts[0]!.resolve({ total: 123456, exact: true });
    await settle();
    expect(total()).toBe('10,000+ matching');
    counts[1]!.resolve({ total: 45678, exact: true });
    await settle();
    expect(total()).toBe('45,678 matching');
    expect(view.target.textContent).not.toContain('counting…');
    expect(transport.callsOf('decisions_count')[1]?.query).toMatchObject({ tenant_id: 'tenant.b' });
  });

  it('drops the answer of an older load when a newer one was started', async () => {
    const { hall, transport } = await fakeHall();
    const first = deferred<DecisionPage>();
    const second = deferred<DecisionPage>();
    const answers = [first, second];
    transport.on('list_decisions', () => answers.shift()!.promise);
    const view = await render(Decisions, hall);
    destroy = view.destroy;

    // A reconnect reloads while the first load is still in flight.
    hall.resyncs += 1;
    await settle();
    expect(firstPages(transport)).toHaveLength(2);
    first.resolve(page([record(10)]));
    await settle();
    expect(ids(view.target)).toEqual([]);
    second.resolve(page([record(20)]));
    await settle();
    expect(ids(view.target)).toEqual(['d-20']);
  });

  it('takes live rows at most every 500 ms, so a fast stream does not re-render the list every frame', async () => {
    const { view, transport } = await oneLiveRowOnTop();
    // 100 ms later: the next frames keep waiting.
    transport.emit(decisionEvent(3));
    runFrames(100);
    await settle();
    expect(ids(view.target)).toEqual(['d-2', 'd-1']);
    expect(frames).toHaveLength(1);
    runFrames();
    await settle();
    expect(ids(view.target)).toEqual(['d-3', 'd-2', 'd-1']);
  });

  it('puts live decisions on top, and queues them while paused until resumed', async () => {
    const { view, transport } = await oneLiveRowOnTop();

    button(view.target, 'Pause live').click();
    await settle();
    transport.emit(decisionEvent(3));
    transport.emit(decisionEvent(4));
    runFrames();
    await settle();
    expect(ids(view.target)).toEqual(['d-2', 'd-1']);
    expect(button(view.target, /^Resume live/).textContent).toBe('Resume live (2 new)');

    button(view.target, /^Resume live/).click();
    await settle();
    expect(ids(view.target)).toEqual(['d-4', 'd-3', 'd-2', 'd-1']);
    expect(firstPages(transport)).toHaveLength(1);
  });

  it('holds live decisions while the list is scrolled down, so the rows do not move under the reader', async () => {
    const { hall, transport } = await fakeHall();
    transport.on('list_decisions', () => page([record(2), record(1)]));
    const view = await render(Decisions, hall);
    destroy = view.destroy;
    const list = view.target.querySelector<HTMLElement>('[role="listbox"]')!;
    list.scrollTop = 40;
    list.dispatchEvent(new Event('scroll'));
    await settle();

    transport.emit(decisionEvent(3));
    runFrames();
    await settle();
    expect(ids(view.target)).toEqual(['d-2', 'd-1']);
    expect(view.target.querySelector('[data-testid="live-held"]')?.textContent).toBe('new decisions held while you browse (1)');

    button(view.target, 'Show newest').click();
    await settle();
    expect(ids(view.target)).toEqual(['d-3', 'd-2', 'd-1']);
    expect(firstPages(transport)).toHaveLength(1);
  });

  it('keeps live decisions that arrive while the first page loads', async () => {
    const { hall, transport } = await fakeHall();
    const answer = deferred<DecisionPage>();
    transport.on('list_decisions', () => answer.promise);
    const view = await render(Decisions, hall);
    destroy = view.destroy;

    transport.emit(decisionEvent(6));
    runFrames();
    answer.resolve(page([record(5)]));
    await settle();
    expect(ids(view.target)).toEqual(['d-6', 'd-5']);
  });

  it('leaves out live decisions the filter does not match, and counts those it cannot judge', async () => {
    const { hall, transport } = await fakeHall();
    nav.go('decisions', '', new URLSearchParams({ tenant_id: 'tenant.a' }), true);
    transport.on('list_decisions', () => page([]));
    const view = await render(Decisions, hall);
    destroy = view.destroy;
    expect(transport.callsOf('list_decisions')[0]?.query).toMatchObject({ tenant_id: 'tenant.a' });

    transport.emit(decisionEvent(7, { tenant_id: 'tenant.b' }));
    transport.emit(decisionEvent(8));
    runFrames();
    await settle();
    expect(ids(view.target)).toEqual(['d-8']);
  });

  it('exports the current filter, every page, as JSONL', async () => {
    const { hall, transport } = await fakeHall();
    nav.go('decisions', '', new URLSearchParams({ outcome: 'denied' }), true);
    transport.on('list_decisions', (a) =>
      a.query?.cursor === 'c2' ? page([record(1)]) : page([record(3), record(2)], 'c2'),
    );
    const view = await render(Decisions, hall);
    destroy = view.destroy;

    let blob: Blob | undefined;
    URL.createObjectURL = vi.fn((b: Blob) => ((blob = b), 'blob:fake'));
    URL.revokeObjectURL = vi.fn();
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    transport.calls.length = 0;

    button(view.target, 'Export JSONL').click();
    await settle();
    expect(click).toHaveBeenCalledTimes(1);
    const lines = (await readText(blob!)).trim().split('\n').map((l) => JSON.parse(l) as LedgerRecord);
    expect(lines.map((r) => r.seq)).toEqual([3, 2, 1]);
    const queries = transport.callsOf('list_decisions').map((a) => a.query);
    expect(queries).toHaveLength(2);
    for (const q of queries) expect(q).toMatchObject({ denied: true, limit: 500 });
    expect(queries[1]).toMatchObject({ cursor: 'c2' });
    expect(view.target.querySelector('[role="status"]')).toBeNull();
  });

  it('shows the hall error when the first page fails, and loads again on "Try again"', async () => {
    const { hall, transport } = await fakeHall();
    let fail = true;
    transport.on('list_decisions', () => {
      if (fail) throw new Error('boom');
      return page([record(1)]);
    });
    const view = await render(Decisions, hall);
    destroy = view.destroy;
    expect(view.target.textContent).toContain('Could not load decisions');
    fail = false;
    button(view.target, 'Try again').click();
    await settle();
    expect(ids(view.target)).toEqual(['d-1']);
  });
});
