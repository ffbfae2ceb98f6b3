// Export of decision records as CSV (one row per decision, the columns people filter on) or JSONL
// (the whole ledger record per line, lossless).

import type { LedgerRecord } from './types';

export const CSV_COLUMNS = [
  'seq',
  'recorded_at',
  'decision_id',
  'timestamp',
  'correlation_id',
  'tenant_id',
  'capability_id',
  'env',
  'data_label',
  'tenant_risk',
  'qos_class',
  'denied',
  'deny_code',
  'deny_message',
  'matched_rule_id',
  'selected_worker_species_id',
  'artifact_hash',
  'dry_run',
  'hash',
] as const;

/** RFC 4180 field quoting; a leading =, +, - or @ is prefixed with ' so spreadsheets don't run it as a formula. */
export function csvField(value: unknown): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(record: LedgerRecord): string {
  const d = record.decision;
  const values: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    seq: record.seq,
    recorded_at: record.decision.timestamp,
    decision_id: d.decision_id,
    timestamp: d.timestamp,
    correlation_id: d.correlation_id,
    tenant_id: d.tenant_id,
    capability_id: d.capability_id,
    env: d.env,
    data_label: d.data_label,
    tenant_risk: d.tenant_risk,
    qos_class: d.qos_class,
    denied: d.denied,
    deny_code: d.deny_reason_if_denied?.code ?? '',
    deny_message: d.deny_reason_if_denied?.message ?? '',
    matched_rule_id: d.matched_rule_id,
    selected_worker_species_id: d.selected_worker_species_id ?? '',
    artifact_hash: d.artifact_hash ?? '',
    dry_run: d.dry_run,
    hash: record.hash,
  };
  return CSV_COLUMNS.map((c) => csvField(values[c])).join(',');
}

export const csvHeader = (): string => CSV_COLUMNS.join(',');

export function jsonlLine(record: LedgerRecord): string {
  return JSON.stringify(record);
}

export type ExportFormat = 'csv' | 'jsonl';

/** Pages through every record matching the hall query and renders it; `onProgress` gets the count so far. */
export async function renderExport(
  fetchPage: (cursor: string | null) => Promise<{ decisions: LedgerRecord[]; next_cursor: string | null }>,
  format: ExportFormat,
  onProgress: (n: number) => void = () => {},
): Promise<string> {
  const lines: string[] = format === 'csv' ? [csvHeader()] : [];
  let cursor: string | null = null;
  let n = 0;
  do {
    const page = await fetchPage(cursor);
    for (const r of page.decisions) lines.push(format === 'csv' ? csvRow(r) : jsonlLine(r));
    n += page.decisions.length;
    onProgress(n);
    cursor = page.next_cursor;
  } while (cursor);
  return lines.join('\n') + '\n';
}
