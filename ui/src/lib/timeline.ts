// Builds an incident timeline for one correlation id: its decisions, the MCP calls and approvals
// linked to them and the health transitions of the workers involved (all from the hall's trace),
// plus heartbeats from those workers' health series and alerts about them. Entries are sorted
// oldest first.

import type { Alert, HealthTransitionEvent, LedgerRecord, LinkedRecord, Trace, Worker } from './types';

export type TimelineEntry =
  | { kind: 'decision'; at: string; record: LedgerRecord }
  | { kind: 'heartbeat'; at: string; worker_id: string; latency_ms: number | null }
  | { kind: 'health'; at: string; event: HealthTransitionEvent }
  | { kind: 'mcp_call'; at: string; linked: LinkedRecord }
  | { kind: 'approval'; at: string; linked: LinkedRecord }
  | { kind: 'alert'; at: string; alert: Alert };

/** How far around the decisions heartbeats and alerts are considered part of the incident. */
export const CONTEXT_MS = 5 * 60 * 1000;

export function buildTimeline(trace: Trace, workers: Worker[], alerts: Alert[]): TimelineEntry[] {
  const { decisions, correlation_id: correlationId } = trace;
  const entries: TimelineEntry[] = [
    ...decisions.map((record): TimelineEntry => ({ kind: 'decision', at: record.decision.timestamp, record })),
    // The hall already picked the involved workers and the time window for these.
    ...trace.health_transitions.map((event): TimelineEntry => ({ kind: 'health', at: event.at, event })),
    ...(trace.linked ?? []).map((linked): TimelineEntry =>
      linked.kind === 'approval' ? { kind: 'approval', at: linked.at, linked } : { kind: 'mcp_call', at: linked.at, linked },
    ),
  ];
  if (decisions.length > 0) {
    const times = decisions.map((r) => Date.parse(r.decision.timestamp)).filter(Number.isFinite);
    const from = Math.min(...times) - CONTEXT_MS;
    const to = Math.max(...times) + CONTEXT_MS;
    const inWindow = (iso: string) => {
      const t = Date.parse(iso);
      return t >= from && t <= to;
    };
    const species = new Set(
      decisions.flatMap((r) => r.decision.candidate_workers_ranked.map((c) => c.worker_species_id)),
    );
    const involved = workers.filter((w) => species.has(w.worker_species_id));
    const ids = new Set(involved.map((w) => w.worker_id));
    for (const w of involved) {
      for (const p of w.health?.series ?? []) {
        if (inWindow(p.at)) entries.push({ kind: 'heartbeat', at: p.at, worker_id: w.worker_id, latency_ms: p.latency_ms });
      }
    }
    for (const alert of alerts) {
      const about = alert.subject !== null && (ids.has(alert.subject) || species.has(alert.subject) || alert.subject === correlationId);
      if (about && inWindow(alert.created_at)) entries.push({ kind: 'alert', at: alert.created_at, alert });
    }
  }
  // Stable: a decision stays before the records linked to it when they share a timestamp.
  return entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}
