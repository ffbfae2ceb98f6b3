// The fleet view (`proctor serve --fleet`) over a fake one: the UI learns the mode from `/health`,
// opens no event stream and loads the halls instead of a hall's workers; the Fleet screen lists them
// with health, backlog and last contact; Decisions shows and filters by hall, and rows of two halls
// with the same seq are both kept.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HallState } from '../lib/hall.svelte';
import { nav } from '../lib/nav.svelte';
import { appendPage, rowFromRecord, rowKey } from '../lib/rows';
import { shownScreen } from '../lib/router';
import { filterFromParams, filterToQuery } from '../lib/filters';
import type { FleetHall, LedgerRecord } from '../lib/types';
import { FakeTransport, render, settle } from '../test/hall';
import { record } from '../test/fixtures';
import Decisions from './Decisions.svelte';

// Decisions' histogram (uPlot) needs a canvas: a stand-in.
vi.mock('uplot', () => import('../test/uplot'));
import Fleet from './Fleet.svelte';

const HALLS: FleetHall[] = [
  { hall_id: 'hall-b', name: 'ci-runner-b', public_key: 'k', version: '0.1.0', registered_at: '2026-01-01T00:00:00Z',
    last_contact: new Date(Date.now() - 20 * 60_000).toISOString(), backlog: 42, head_seq: 20, health: 'silent' },
  { hall_id: 'hall-a', name: 'laptop-a', public_key: 'k', version: '0.1.0', registered_at: '2026-01-01T00:00:00Z',
    last_contact: new Date().toISOString(), backlog: 0, head_seq: 30, health: 'live' },
];
const inHall = (r: LedgerRecord, hall_id: string): LedgerRecord => ({ ...r, hall_id });

/** A fleet view: `/health` says so, and it answers stats and halls (a hall's own operations are 404s). */
function fleetTransport(): FakeTransport {
  return new FakeTransport()
    .on('health', () => ({ status: 'ok', timestamp: new Date().toISOString(), token_file: '/d/api-token', mode: 'fleet' }))
    .on('list_fleet_halls', () => ({ halls: HALLS, count: HALLS.length }))
    .on('list_workers', () => {
      throw new Error('a fleet view has no workers');
    });
}

async function fleetHall(transport: FakeTransport): Promise<HallState> {
  const hall = new HallState();
  hall.fleet = true;
  let subscribed = false;
  const subscribe = transport.subscribe.bind(transport);
  transport.subscribe = (h) => ((subscribed = true), subscribe(h));
  await hall.attach(transport);
  expect(subscribed, 'no event stream in the fleet view').toBe(false);
  return hall;
}

let destroy: (() => void) | undefined;
afterEach(() => {
  destroy?.();
  destroy = undefined;
});

describe('fleet view', () => {
  it('loads the halls instead of workers and lists them with health, backlog and last contact', async () => {
    const transport = fleetTransport();
    const hall = await fleetHall(transport);
    expect(hall.connection.state).toBe('ready');
    expect(transport.callsOf('list_workers')).toHaveLength(0);
    expect(transport.callsOf('list_approvals')).toHaveLength(0);
    // Totals over the last day, not the whole central store.
    expect(Date.now() - Date.parse(String(transport.callsOf('get_stats')[0]?.query?.since))).toBeGreaterThan(86_000_000);
    const view = await render(Fleet, hall);
    destroy = view.destroy;
    const rows = [...view.target.querySelectorAll<HTMLElement>('[data-hall-id]')];
    expect(rows.map((r) => r.dataset.hallId)).toEqual(['hall-b', 'hall-a']);
    expect(rows[0]!.querySelector('[data-testid="hall-health"]')!.textContent).toBe('silent');
    expect(rows[0]!.querySelector('[data-testid="hall-backlog"]')!.textContent).toBe('42 unshipped');
    expect(rows[0]!.textContent).toMatch(/20 min/);
    expect(rows[1]!.querySelector('[data-testid="hall-health"]')!.textContent).toBe('live');
    expect(rows[0]!.querySelector('a')!.getAttribute('href')).toBe('#/decisions?hall_id=hall-b');
    // Nothing on it changes anything.
    expect([...view.target.querySelectorAll('button')].map((b) => b.textContent)).toEqual(['Refresh']);
  });

  it('shows the hall of each decision, filters by hall, and keeps same-seq rows of two halls', async () => {
    const transport = fleetTransport().on('list_decisions', () => ({
      decisions: [inHall(record(7, { decision_id: 'd-b7' }), 'hall-b'), inHall(record(7, { decision_id: 'd-a7' }), 'hall-a')],
      next_cursor: null,
    }));
    const hall = await fleetHall(transport);
    nav.go('decisions', '', new URLSearchParams({ hall_id: 'hall-b' }), true);
    const view = await render(Decisions, hall);
    destroy = view.destroy;
    expect(transport.callsOf('list_decisions')[0]!.query?.hall_id).toBe('hall-b');
    const shown = [...view.target.querySelectorAll<HTMLElement>('[data-decision-id]')];
    expect(shown.map((r) => r.dataset.decisionId)).toEqual(['d-b7', 'd-a7']);
    expect(shown.map((r) => r.querySelector('[data-col="hall"]')!.textContent)).toEqual(['hall-b', 'hall-a']);
    expect(view.target.querySelector<HTMLInputElement>('input[name="hall_id"]')!.value).toBe('hall-b');
    // No live mode to pause: the view reads the store when asked.
    expect(view.target.querySelector('[data-testid="live-toggle"]')).toBeNull();
    await settle();
  });
});

describe('fleet rows and routes', () => {
  it('a row is its hall and seq; older pages keep every row not shown yet', () => {
    const a = rowFromRecord(inHall(record(9), 'hall-a'));
    const b = rowFromRecord(inHall(record(9), 'hall-b'));
    expect(rowKey(a)).toBe('hall-a/9');
    expect(rowKey(rowFromRecord(record(9)))).toBe('9');
    const older = rowFromRecord(inHall(record(12, { decision_id: 'd-old' }), 'hall-c'));
    expect(appendPage([a], [b, a, older]).map(rowKey)).toEqual(['hall-a/9', 'hall-b/9', 'hall-c/12']);
  });

  it("a hall's own screens are the fleet's home in the fleet view; the hall filter goes into the query", () => {
    expect(shownScreen('workers', true)).toBe('fleet');
    expect(shownScreen('overview', true)).toBe('fleet');
    expect(shownScreen('decisions', true)).toBe('decisions');
    expect(shownScreen('workers', false)).toBe('workers');
    expect(shownScreen('fleet', false)).toBe('overview');
    expect(filterToQuery(filterFromParams(new URLSearchParams({ hall_id: ' hall-a ' }))).hall_id).toBe('hall-a');
  });
});
