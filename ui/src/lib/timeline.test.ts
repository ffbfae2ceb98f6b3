import { describe, expect, it } from 'vitest';
import { record } from '../test/fixtures';
import { buildTimeline } from './timeline';
import type { Alert, HealthTransitionEvent, LinkedRecord, Worker } from './types';

const worker = (id: string, species: string, beats: string[]): Worker => ({
  worker_id: id, worker_species_id: species, capabilities: [], risk_tier: 'low', source_file: `${id}.json`, record: {},
  conformance: { level: 'WCP-Basic', next_level: 'WCP-Standard', missing: [] },
  attestation: null,
  health: { state: 'healthy', reported_status: 'ok', last_heartbeat_at: beats.at(-1) ?? null, last_latency_ms: 1, decisions_routed: 0, species_decisions_routed: 0, species_workers: 1, series: beats.map((at) => ({ at, latency_ms: 5, decisions: 0 })) },
});
const alert = (id: number, subject: string, at: string): Alert => ({ id, created_at: at, kind: 'worker_stale', severity: 'warning', subject, message: 'm', acked: false, acked_at: null, acked_by: null, ack_note: null, resolved_at: null, open: true });
const transition = (worker_id: string, at: string): HealthTransitionEvent => ({
  id: 1, at, kind: 'health_transition', worker_id, correlation_id: null, details: { from: 'healthy', to: 'stale', reported_status: 'ok' },
});

describe('incident timeline', () => {
  it('merges decisions with heartbeats and alerts of the workers involved, in time order', () => {
    const decisions = [record(1, {}, '2026-01-01T12:00:00Z'), record(2, { denied: true }, '2026-01-01T12:01:00Z')];
    const workers = [
      worker('org.a.sum.1', 'wrk.doc.summarizer', ['2026-01-01T11:59:30Z', '2026-01-01T12:00:30Z', '2026-01-01T13:00:00Z']),
      worker('org.a.other', 'wrk.other', ['2026-01-01T12:00:10Z']),
    ];
    const alerts = [alert(1, 'org.a.sum.1', '2026-01-01T12:00:45Z'), alert(2, 'org.a.other', '2026-01-01T12:00:50Z'), alert(3, 'org.a.sum.1', '2026-01-02T00:00:00Z')];
    const health_transitions = [transition('org.a.sum.1', '2026-01-01T12:00:40Z')];
    const t = buildTimeline({ correlation_id: 'corr-1', decisions, health_transitions, linked: [] }, workers, alerts);
    expect(t.map((e) => e.kind)).toEqual(['heartbeat', 'decision', 'heartbeat', 'health', 'alert', 'decision']);
  });

  it('places the MCP call and approval linked to a decision after it', () => {
    const linked = (seq: number, kind: LinkedRecord['kind'], at: string): LinkedRecord => ({
      seq, hash: `l${seq}`, decision_seq: 1, decision_hash: 'h1', at, kind, decision_id: 'd-1', correlation_id: 'corr-1', server: 'org.fx', tool: 'echo', body: {},
    });
    const decisions = [record(1, { denied: true }, '2026-01-01T12:00:00Z')];
    const trace = {
      correlation_id: 'corr-1', decisions, health_transitions: [],
      linked: [linked(2, 'approval', '2026-01-01T12:00:20Z'), linked(3, 'mcp_call', '2026-01-01T12:00:21Z')],
    };
    const t = buildTimeline(trace, [], []);
    expect(t.map((e) => e.kind)).toEqual(['decision', 'approval', 'mcp_call']);
    expect(t[2]).toMatchObject({ kind: 'mcp_call', linked: { seq: 3, tool: 'echo' } });
  });

  it('is empty for an unknown correlation id', () => {
    const trace = { correlation_id: 'corr-1', decisions: [], health_transitions: [], linked: [] };
    expect(buildTimeline(trace, [], [alert(1, 'corr-1', '2026-01-01T00:00:00Z')])).toEqual([]);
  });
});
