import { describe, expect, it } from 'vitest';
import { record } from '../test/fixtures';
import { axisPosition, formatDuration, issueFilterParams, issueRange, sparkPoints, summarize } from './incident';
import type { TimelineEntry } from './timeline';
import type { Issue } from './types';

const deny = (code: string) => ({ code: code as never, message: 'm' });

describe('incident summary', () => {
  it('spans the decisions and lists tenants, capabilities, deny codes with counts, workers and counts per kind', () => {
    const timeline: TimelineEntry[] = [
      { kind: 'heartbeat', at: '2026-01-01T11:59:00Z', worker_id: 'w', latency_ms: 3 },
      { kind: 'decision', at: '2026-01-01T12:00:00Z', record: record(1, { tenant_id: 't.b' }, '2026-01-01T12:00:00Z') },
      { kind: 'decision', at: '2026-01-01T12:03:05Z', record: record(2, { tenant_id: 't.a', denied: true, deny_reason_if_denied: deny('DENY_X'), selected_worker_species_id: null }, '2026-01-01T12:03:05Z') },
      { kind: 'decision', at: '2026-01-01T12:01:00Z', record: record(3, { capability_id: 'cap.z', denied: true, deny_reason_if_denied: deny('DENY_X'), selected_worker_species_id: null, candidate_workers_ranked: [] }, '2026-01-01T12:01:00Z') },
    ];
    const s = summarize(timeline)!;
    expect(s.first).toBe('2026-01-01T12:00:00Z');
    expect(s.last).toBe('2026-01-01T12:03:05Z');
    expect(formatDuration(s.durationMs)).toBe('3 min 5 s');
    expect(s.tenants).toEqual(['t.a', 't.b', 'tenant.a']);
    expect(s.capabilities).toEqual(['cap.doc.summarize', 'cap.z']);
    expect(s.denyCodes).toEqual([{ key: 'DENY_X', count: 2 }]);
    expect(s.workers).toEqual(['wrk.doc.summarizer']);
    expect(s.counts.decision).toBe(3);
    expect(s.counts.heartbeat).toBe(1);
    expect(s.counts.alert).toBe(0);
  });

  it('has nothing to summarize without decisions', () => {
    expect(summarize([{ kind: 'heartbeat', at: '2026-01-01T11:59:00Z', worker_id: 'w', latency_ms: 3 }])).toBeNull();
  });

  it('places times on the axis, clamped, and an empty span in the middle', () => {
    expect(axisPosition('2026-01-01T12:00:30Z', '2026-01-01T12:00:00Z', '2026-01-01T12:01:00Z')).toBe(0.5);
    expect(axisPosition('2026-01-01T13:00:00Z', '2026-01-01T12:00:00Z', '2026-01-01T12:01:00Z')).toBe(1);
    expect(axisPosition('2026-01-01T12:00:00Z', '2026-01-01T12:00:00Z', '2026-01-01T12:00:00Z')).toBe(0.5);
  });
});

describe('issues', () => {
  const issue: Issue = {
    deny_code: 'DENY_NO_AVAILABLE_WORKER', capability_id: 'cap.doc.summarize', worker: 'wrk.doc.summarizer', count: 3,
    first_seen: '2026-01-01T12:00:00.123456Z', last_seen: '2026-01-01T12:05:00.000500Z', trend: [0, 1, 2],
  };

  it('opens the denials of its code and capability from first seen to just after last seen', () => {
    const p = issueFilterParams(issue);
    expect(p.get('outcome')).toBe('denied');
    expect(p.get('deny_code')).toBe('DENY_NO_AVAILABLE_WORKER');
    expect(p.get('capability_id')).toBe('cap.doc.summarize');
    expect(p.get('since')).toBe(issue.first_seen);
    expect(Date.parse(p.get('until')!)).toBeGreaterThan(Date.parse(issue.last_seen));
    expect(p.get('until')).toBe('2026-01-01T12:05:00.001Z');
  });

  it('reads the range from the URL, 24 h when unknown', () => {
    expect(issueRange('7d')).toBe('7d');
    expect(issueRange('1y')).toBe('24h');
    expect(issueRange(null)).toBe('24h');
  });

  it('scales a trend into the sparkline box, the highest point at the top', () => {
    expect(sparkPoints([0, 2, 1], 100, 20)).toBe('0,20 50,0 100,10');
    expect(sparkPoints([0, 0], 10, 20)).toBe('0,20 10,20');
    expect(sparkPoints([], 10, 20)).toBe('');
  });
});
