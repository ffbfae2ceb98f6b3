// Alerts as the Alerts screen lists them: repeats of one kind for one subject in one group (the
// newest first), where each leads (a worker's page, the denials behind a deny-rate spike), and
// which can be acknowledged.

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
        open: sorted.filter((a) => !a.acked).length,
      };
    })
    .sort((a, b) => Date.parse(b.latest.created_at) - Date.parse(a.latest.created_at));
}

/** Whether a person can acknowledge it: `ledger_unwritable` clears itself when the ledger writes again. */
export const ackable = (a: Alert) => !a.acked && a.kind !== 'ledger_unwritable';

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
