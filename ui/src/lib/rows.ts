// Rows of the Decisions list. A row is the summary both sources share: a page of ledger records
// from `GET /v1/decisions` and a pushed `decision` event. The full record is fetched on selection,
// so streaming 1,000 decisions/s costs no request per decision.

import type { DecisionEvent, LedgerRecord } from './types';

export interface DecisionRow {
  seq: number;
  recorded_at: string;
  decision_id: string;
  correlation_id: string;
  tenant_id: string;
  capability_id: string;
  env: string;
  data_label: string;
  denied: boolean;
  deny_code: string | null;
  matched_rule_id: string;
  worker: string | null;
  dry_run: boolean;
  /** The hall that recorded it, in the fleet view (many halls; seqs are per hall there). */
  hall_id?: string;
}

/** A row's identity in the list: its seq, and in the fleet view the hall whose seq it is. */
export function rowKey(r: DecisionRow): string {
  return r.hall_id === undefined ? String(r.seq) : `${r.hall_id}/${r.seq}`;
}

export function rowFromRecord(r: LedgerRecord): DecisionRow {
  const d = r.decision;
  return {
    seq: r.seq,
    recorded_at: r.decision.timestamp,
    decision_id: d.decision_id,
    correlation_id: d.correlation_id,
    tenant_id: d.tenant_id,
    capability_id: d.capability_id,
    env: d.env,
    data_label: d.data_label,
    denied: d.denied,
    deny_code: d.deny_reason_if_denied?.code ?? null,
    matched_rule_id: d.matched_rule_id,
    worker: d.selected_worker_species_id,
    dry_run: d.dry_run,
    ...(r.hall_id === undefined ? {} : { hall_id: r.hall_id }),
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
    data_label: e.data_label,
    denied: e.denied,
    deny_code: e.deny_code,
    matched_rule_id: e.matched_rule_id,
    worker: e.selected_worker_species_id,
    dry_run: e.dry_run,
  };
}

/**
 * The most rows the live list keeps (and the most it queues while paused). At 100 decisions/s this
 * fills in under a minute; older rows stay in the ledger and are reached by paging, so the webview's
 * memory stays flat however long live mode runs.
 */
export const LIVE_ROW_CAP = 5_000;

/**
 * Merges newly pushed rows into the newest-first list, keeping it sorted by seq and skipping rows
 * already shown (a page load and the stream can overlap). Events do not arrive in seq order: the
 * hall publishes each decision when its ledger batch commits, so a late event is inserted where it
 * belongs rather than dropped. Keeps at most `cap` rows; returns how many fell off the tail.
 */
export function prependLive(rows: DecisionRow[], incoming: DecisionRow[], cap: number): { rows: DecisionRow[]; dropped: number } {
  if (incoming.length === 0) return { rows, dropped: 0 };
  const fresh = [...incoming].sort((a, b) => b.seq - a.seq);
  const lowest = fresh[fresh.length - 1]!.seq;
  // Only the head of the list can interleave with the new rows.
  let k = 0;
  while (k < rows.length && rows[k]!.seq >= lowest) k++;
  const merged: DecisionRow[] = [];
  let i = 0;
  let j = 0;
  while (i < k || j < fresh.length) {
    const a = i < k ? rows[i]! : undefined;
    const b = j < fresh.length ? fresh[j]! : undefined;
    const next = b === undefined || (a !== undefined && a.seq >= b.seq) ? (i++, a!) : (j++, b);
    if (merged.length === 0 || merged[merged.length - 1]!.seq !== next.seq) merged.push(next);
  }
  const all = k === rows.length ? merged : merged.concat(rows.slice(k));
  const dropped = Math.max(0, all.length - cap);
  return { rows: dropped > 0 ? all.slice(0, cap) : all, dropped };
}

/**
 * Queues rows pushed while live mode is paused, keeping the newest `cap`. `overflowed` says rows
 * were dropped, so merging the queue on resume would leave a hole: reload the list instead.
 */
export function queueLive(queued: DecisionRow[], incoming: DecisionRow[], cap: number): { queued: DecisionRow[]; overflowed: boolean } {
  const all = queued.concat(incoming);
  return all.length > cap ? { queued: all.slice(-cap), overflowed: true } : { queued: all, overflowed: false };
}

/** Appends an older page under the list, skipping rows already shown. */
export function appendPage(rows: DecisionRow[], page: DecisionRow[]): DecisionRow[] {
  // Fleet pages interleave halls, whose seqs are unrelated: only a row's identity tells.
  if (page.some((r) => r.hall_id !== undefined)) {
    const shown = new Set(rows.map(rowKey));
    return rows.concat(page.filter((r) => !shown.has(rowKey(r))));
  }
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
