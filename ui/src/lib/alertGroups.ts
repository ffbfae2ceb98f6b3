// Alerts as the Alerts screen lists them: repeats of one kind for one subject in one group (the
// newest first), where each leads (a worker's page, the denials behind a deny-rate spike), which
// can be acknowledged, and the state each is in (open, acknowledged by whom, resolved when).

import type { Alert, Severity } from './types';
import { href } from './router';

export interface AlertGroup {
  key: string;
  /** Newest first. */
  alerts: Alert[];
  latest: Alert;
  /** The most severe of its alerts. */
  severity: Severity;
  open: number;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function groupAlerts(alerts: Alert[]): AlertGroup[] {
  const groups = new Map<string, Alert[]>();
  for (const a of alerts) {
    const key = `${a.kind}\u0000${a.subject}`;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  return [...groups]
    .map(([key, list]) => {
      const sorted = list.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id);
      const latest = sorted[0]!;
      return {
        key,
        alerts: sorted,
        latest,
        severity: sorted.reduce<Severity>((s, a) => (SEVERITY_RANK[a.severity] > SEVERITY_RANK[s] ? a.severity : s), 'info'),
        open: sorted.filter((a) => a.open).length,
      };
    })
    .sort((a, b) => Date.parse(b.latest.created_at) - Date.parse(a.latest.created_at));
}

/**
 * Whether a person can acknowledge it: open (a resolved alert is over), and not `ledger_unwritable`,
 * which clears itself when the ledger writes again.
 */
export const ackable = (a: Alert) => a.open && a.kind !== 'ledger_unwritable';

/** How the count of open alerts changes when `before` (absent: a new alert) becomes `after`. */
export const openDelta = (before: Alert | undefined, after: Alert) => Number(after.open) - Number(before?.open ?? false);

/** What became of an alert, in words: open, acknowledged (by whom, with the note), resolved (when). */
export type AlertState =
  | { kind: 'open' }
  | { kind: 'acknowledged'; by: string | null; at: string | null; note: string | null }
  | { kind: 'resolved'; at: string; ackedBy: string | null; note: string | null };

export function alertState(a: Alert): AlertState {
  if (a.resolved_at) return { kind: 'resolved', at: a.resolved_at, ackedBy: a.acked ? (a.acked_by ?? 'someone') : null, note: a.ack_note };
  if (a.acked) return { kind: 'acknowledged', by: a.acked_by, at: a.acked_at, note: a.ack_note };
  return { kind: 'open' };
}

/**
 * Where an alert leads: an enrolled worker's page for an alert about it; for a deny-rate spike, the
 * denied decisions of the window it measured (its message names the window, "over the last N s").
 */
export function alertLink(alert: Alert, workerIds: ReadonlySet<string>): { href: string; label: string } | null {
  if (workerIds.has(alert.subject)) return { href: href('workers', alert.subject), label: 'worker' };
  if (alert.kind === 'deny_rate_spike') {
    const end = Date.parse(alert.created_at);
    const seconds = Number(/over the last (\d+) s/.exec(alert.message)?.[1]);
    const params = new URLSearchParams({ outcome: 'denied' });
    if (seconds > 0) params.set('since', new Date(end - seconds * 1000).toISOString());
    params.set('until', new Date(end + 1000).toISOString());
    return { href: href('decisions', '', params), label: 'denied decisions' };
  }
  return null;
}
