import { describe, expect, it } from 'vitest';
import { record } from '../test/fixtures';
import { LIVE_ROW_CAP, appendPage, explainSkip, prependLive, queueLive, rowFromEvent, rowFromRecord, type DecisionRow } from './rows';

const row = (seq: number): DecisionRow => rowFromRecord(record(seq));

describe('decision rows', () => {
  it('builds the same row from a record and from its event', () => {
    const r = record(5, { denied: true, deny_reason_if_denied: { code: 'DENY_NO_MATCHING_RULE', message: 'm' }, selected_worker_species_id: null });
    const fromEvent = rowFromEvent({
      seq: 5, hash: r.hash, recorded_at: r.decision.timestamp, decision_id: r.decision.decision_id, correlation_id: r.decision.correlation_id,
      tenant_id: r.decision.tenant_id, capability_id: r.decision.capability_id, env: r.decision.env, data_label: r.decision.data_label, denied: true, deny_code: 'DENY_NO_MATCHING_RULE',
      matched_rule_id: r.decision.matched_rule_id, selected_worker_species_id: null, dry_run: false,
    });
    expect(fromEvent).toEqual(rowFromRecord(r));
  });

  it('puts live rows on top newest first, skipping ones already shown', () => {
    const { rows, dropped } = prependLive([row(5), row(4)], [row(6), row(5), row(8), row(7), row(8)], 100);
    expect(rows.map((r) => r.seq)).toEqual([8, 7, 6, 5, 4]);
    expect(dropped).toBe(0);
  });

  it('inserts a late event where it belongs instead of dropping it', () => {
    let rows = prependLive([], [row(10), row(12)], 100).rows;
    rows = prependLive(rows, [row(11), row(9), row(13)], 100).rows;
    rows = prependLive(rows, [row(12), row(8)], 100).rows;
    expect(rows.map((r) => r.seq)).toEqual([13, 12, 11, 10, 9, 8]);
  });

  it('keeps a page loaded below the live head intact', () => {
    const { rows } = prependLive([row(20), row(5), row(4)], [row(21), row(6)], 100);
    expect(rows.map((r) => r.seq)).toEqual([21, 20, 6, 5, 4]);
  });

  it('caps the list and says how many rows fell off', () => {
    const { rows, dropped } = prependLive([row(2), row(1)], [row(3), row(4)], 3);
    expect(rows.map((r) => r.seq)).toEqual([4, 3, 2]);
    expect(dropped).toBe(1);
  });

  it('keeps the live list at LIVE_ROW_CAP rows however long the stream runs', () => {
    let rows: DecisionRow[] = [];
    let dropped = 0;
    for (let batch = 0; batch < 30; batch++) {
      const incoming = Array.from({ length: 500 }, (_, i) => row(batch * 500 + i + 1));
      const result = prependLive(rows, incoming, LIVE_ROW_CAP);
      rows = result.rows;
      dropped += result.dropped;
    }
    expect(LIVE_ROW_CAP).toBe(5_000);
    expect(rows).toHaveLength(LIVE_ROW_CAP);
    expect(rows[0]!.seq).toBe(15_000);
    expect(rows.at(-1)!.seq).toBe(10_001);
    expect(dropped).toBe(10_000);
  });

  it('queues rows while paused, keeping the newest and saying when some fell off', () => {
    let q = queueLive([], [row(1), row(2)], 3);
    expect(q).toEqual({ queued: [row(1), row(2)], overflowed: false });
    q = queueLive(q.queued, [row(3), row(4)], 3);
    expect(q.queued.map((r) => r.seq)).toEqual([2, 3, 4]);
    expect(q.overflowed).toBe(true);
  });

  it('appends older pages without duplicates', () => {
    expect(appendPage([row(9), row(8)], [row(8), row(7)]).map((r) => r.seq)).toEqual([9, 8, 7]);
  });

  it('explains candidate skip reasons in words', () => {
    expect(explainSkip(null)).toBe('selected');
    expect(explainSkip('unavailable')).toMatch(/no enrolled worker/);
    expect(explainSkip('something_new')).toBe('something_new');
  });
});
