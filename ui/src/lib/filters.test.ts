import { describe, expect, it } from 'vitest';
import { EMPTY_FILTER, filterFromParams, filterToParams, filterToQuery, filterToSummaryQuery, isEmptyFilter, liveMatch } from './filters';
import type { DecisionEvent } from './types';

const event = (over: Partial<DecisionEvent> = {}): DecisionEvent => ({
  seq: 1, hash: 'h', recorded_at: '2026-01-01T12:00:00Z', decision_id: 'd', correlation_id: 'c', tenant_id: 't',
  capability_id: 'cap.a', env: 'dev', data_label: 'INTERNAL', denied: false, deny_code: null, matched_rule_id: 'r', selected_worker_species_id: 'wrk.a', dry_run: false,
  ...over,
});

describe('decision filter state', () => {
  it('round-trips through URL parameters, dropping empty fields', () => {
    const f = { ...EMPTY_FILTER, q: 'boom', tenant_id: 't1', outcome: 'denied' as const, since: '2026-01-01T00:00:00.000Z' };
    const params = filterToParams(f);
    expect(params.toString()).toBe('q=boom&tenant_id=t1&outcome=denied&since=2026-01-01T00%3A00%3A00.000Z');
    expect(filterFromParams(params)).toEqual(f);
  });

  it('ignores an unknown outcome and trims values from the URL', () => {
    const f = filterFromParams(new URLSearchParams('outcome=maybe&tenant_id=%20x%20'));
    expect(f.outcome).toBe('');
    expect(f.tenant_id).toBe('x');
    expect(isEmptyFilter(EMPTY_FILTER)).toBe(true);
    expect(isEmptyFilter(f)).toBe(false);
  });

  it('maps to the hall query: outcome becomes denied=true/false, cursor and limit pass through', () => {
    expect(filterToQuery({ ...EMPTY_FILTER, outcome: 'allowed' }, 'CUR', 10)).toMatchObject({ denied: false, cursor: 'CUR', limit: 10 });
    expect(filterToQuery({ ...EMPTY_FILTER, outcome: 'denied' }).denied).toBe(true);
    expect(filterToQuery(EMPTY_FILTER).denied).toBeUndefined();
  });

  it('decides which live events belong in the view', () => {
    expect(liveMatch(EMPTY_FILTER, event())).toBe(true);
    expect(liveMatch({ ...EMPTY_FILTER, tenant_id: 't' }, event())).toBe(true);
    expect(liveMatch({ ...EMPTY_FILTER, tenant_id: 'other' }, event())).toBe(false);
    expect(liveMatch({ ...EMPTY_FILTER, outcome: 'denied' }, event())).toBe(false);
    expect(liveMatch({ ...EMPTY_FILTER, outcome: 'denied', deny_code: 'DENY_X' }, event({ denied: true, deny_code: 'DENY_X' }))).toBe(true);
    expect(liveMatch({ ...EMPTY_FILTER, worker: 'wrk.b' }, event())).toBe(false);
    expect(liveMatch({ ...EMPTY_FILTER, since: '2026-01-02T00:00:00Z' }, event())).toBe(false);
    expect(liveMatch({ ...EMPTY_FILTER, until: '2025-12-31T00:00:00Z' }, event())).toBe(false);
  });

  it('cannot decide a query from an event summary, but decides its data label', () => {
    expect(liveMatch({ ...EMPTY_FILTER, q: 'x' }, event())).toBe('unknown');
    expect(liveMatch({ ...EMPTY_FILTER, data_label: 'PUBLIC' }, event())).toBe(false);
    expect(liveMatch({ ...EMPTY_FILTER, data_label: 'INTERNAL' }, event())).toBe(true);
  });

  it('asks for a summary of the same filter, without paging', () => {
    const f = { ...EMPTY_FILTER, q: 'env:prod denied', tenant_id: 't1' };
    const q = filterToSummaryQuery(f);
    expect(q).toMatchObject({ q: 'env:prod denied', tenant_id: 't1' });
    expect('cursor' in q || 'limit' in q).toBe(false);
    expect(filterToQuery(f, 'c1', 5)).toEqual({ ...q, cursor: 'c1', limit: 5 });
  });
});
