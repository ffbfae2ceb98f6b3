// Rows of the Decisions list. A row is the summary both sources share: a page of ledger records
// from `GET /v1/decisions` and a pushed `decision` event. The full record is fetched on selection,
// so streaming 1,000 decisions/s costs no request per decision.

import { recordTime, type DecisionEvent, type LedgerRecord } from './types';

export interface DecisionRow {
  seq: number;
  recorded_at: string;
  decision_id: string;
  correlation_id: string;
  tenant_id: string;
  capability_id: string;
  env: string;
  denied: boolean;
  deny_code: string | null;
  matched_rule_id: string;
  worker: string | null;
  dry_run: boolean;
}

export function rowFromRecord(r: LedgerRecord): DecisionRow {
  const d = r.decision;
  return {
    seq: r.seq,
    recorded_at: recordTime(r),
    decision_id: d.decision_id,
    correlation_id: d.correlation_id,
    tenant_id: d.tenant_id,
    capability_id: d.capability_id,
    env: d.env,
    denied: d.denied,
    deny_code: d.deny_reason_if_denied?.code ?? null,
    matched_rule_id: d.matched_rule_id,
    worker: d.selected_worker_species_id,
    dry_run: d.dry_run,
  };
}

export function rowFromEvent(e: DecisionEvent): DecisionRow {
  return {
    seq: e.seq,
    recorded_at: e.recorded_at,
    decision_id: e.decision_id,
    correlation_id: e.correlation_id,
    tenant_id: e.tenant_id,
    capability_id: e.capability_id,
    env: e.env,
    denied: e.denied,
    deny_code: e.deny_code,
    matched_rule_id: e.matched_rule_id,
    worker: e.selected_worker_species_id,
    dry_run: e.dry_run,
  };
}

/**
 * Puts newly pushed rows (any order) in front of the newest-first list, skipping any already
 * present (a page load and the stream can overlap), and keeps at most `cap` rows.
 * Returns the new list and how many rows were dropped from the tail.
 */
export function prependLive(rows: DecisionRow[], incoming: DecisionRow[], cap: number): { rows: DecisionRow[]; dropped: number } {
  const newest = rows[0]?.seq ?? -Infinity;
  const fresh = incoming.filter((r) => r.seq > newest).sort((a, b) => b.seq - a.seq);
  const seen = new Set<number>();
  const unique = fresh.filter((r) => (seen.has(r.seq) ? false : (seen.add(r.seq), true)));
  const merged = unique.length === 0 ? rows : unique.concat(rows);
  const dropped = Math.max(0, merged.length - cap);
  return { rows: dropped > 0 ? merged.slice(0, cap) : merged, dropped };
}

/** Appends an older page under the list, skipping rows already shown. */
export function appendPage(rows: DecisionRow[], page: DecisionRow[]): DecisionRow[] {
  const oldest = rows[rows.length - 1]?.seq ?? Infinity;
  return rows.concat(page.filter((r) => r.seq < oldest));
}

export const SKIP_REASONS: Record<string, string> = {
  unavailable: 'no enrolled worker provides this species',
  already_selected: 'an earlier candidate was already selected',
};

export function explainSkip(reason: string | null): string {
  if (reason === null) return 'selected';
  return SKIP_REASONS[reason] ?? reason;
}
