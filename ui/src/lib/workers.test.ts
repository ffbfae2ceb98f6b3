import { describe, expect, it } from 'vitest';
import type { Health, Worker } from './types';
import { byProblem, countShown, degradedReason, latencySeries, routedText, shownState } from './workers';

const health = (over: Partial<Health>): Health => ({
  state: 'healthy', reported_status: 'ok', last_heartbeat_at: '2026-01-01T12:00:00Z', last_latency_ms: 10, decisions_routed: 0, species_decisions_routed: 0, species_workers: 1, series: [], ...over,
});
const worker = (id: string, h: Partial<Health> | null, attestation: Worker['attestation'] = null): Worker => ({
  worker_id: id, worker_species_id: 'wrk.x', capabilities: [], risk_tier: 'low', source_file: `${id}.json`, record: {},
  conformance: { level: 'WCP-Basic', next_level: null, missing: [] }, attestation, health: h ? health(h) : null,
});
const tampered: Worker['attestation'] = {
  valid: false, reason: 'tampered', code: null, message: 'changed', key_id: null, namespace: null, worker_version: null, signed_at: null, changed_files: null,
};

describe('workers', () => {
  it('never shows a worker whose package check failed as healthy', () => {
    expect(shownState(worker('a', {}, tampered))).toBe('not routed');
    expect(shownState(worker('a', {}))).toBe('healthy');
    expect(shownState(worker('a', null))).toBe('offline');
    expect(countShown([worker('a', {}, tampered), worker('b', {}), worker('c', null)])).toEqual({ 'not routed': 1, healthy: 1, degraded: 0, stale: 0, offline: 1 });
  });

  it('sorts problems first: not routed, offline, stale, degraded, healthy', () => {
    const list = [worker('h', {}), worker('d', { state: 'degraded' }), worker('t', {}, tampered), worker('s', { state: 'stale' }), worker('o', null)];
    expect(byProblem(list).map((w) => w.worker_id)).toEqual(['t', 'o', 's', 'd', 'h']);
  });

  it('says why a worker is degraded: reported, slow, or both', () => {
    expect(degradedReason(worker('a', { state: 'degraded', reported_status: 'degraded', last_latency_ms: 5 }), 1000)).toBe(
      'the worker reported itself degraded in its last heartbeat',
    );
    expect(degradedReason(worker('a', { state: 'degraded', last_latency_ms: 1500 }), 1000)).toBe(
      "its latency (1500 ms) is above the hall's threshold of 1000 ms",
    );
    expect(degradedReason(worker('a', { state: 'degraded', reported_status: 'degraded', last_latency_ms: 1500 }), 1000)).toMatch(/degraded in its last heartbeat; its latency/);
    expect(degradedReason(worker('a', { state: 'healthy' }), 1000)).toBeNull();
  });

  it('turns samples into chart data, oldest first, with gaps', () => {
    expect(latencySeries([{ at: '2026-01-01T00:00:10Z', latency_ms: null }, { at: '2026-01-01T00:00:00Z', latency_ms: 4 }])).toEqual([
      [1767225600, 1767225610],
      [4, null],
    ]);
  });
});

describe('routedText', () => {
  it("shows a worker's own count, and a shared species total as shared, never as its own", () => {
    expect(routedText(worker('a', { decisions_routed: 1238, species_decisions_routed: 1238 }))).toBe('1,238 decisions routed');
    expect(routedText(worker('a', { decisions_routed: null, species_decisions_routed: 1238, species_workers: 2 })))
      .toBe('1,238 decisions routed to its species wrk.x, shared by 2 workers');
    expect(routedText(worker('a', null))).toBe('no decisions routed');
  });
});
