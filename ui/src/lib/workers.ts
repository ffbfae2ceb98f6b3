// A worker's state as the screens show it: a worker whose signed-package check fails is never
// routed to, so it is a problem before any health state and is never shown as healthy; the
// Workers list sorts problems first; a degraded worker says why.

import { HEALTH_STATES, type HealthState, type Worker } from './types';
import { formatCount } from './format';

export type ShownState = HealthState | 'not routed';
export const SHOWN_STATES: readonly ShownState[] = ['not routed', ...HEALTH_STATES];

/** The state to show: `not routed` for a failed attestation, else the hall's health (offline when unknown). */
export function shownState(w: Worker): ShownState {
  if (w.attestation && !w.attestation.valid) return 'not routed';
  return w.health?.state ?? 'offline';
}

const RANK: Record<ShownState, number> = { 'not routed': 0, offline: 1, stale: 2, degraded: 3, healthy: 4 };

/** Workers per shown state: a worker not routed to counts there, never under its health. */
export function countShown(workers: Worker[]): Record<ShownState, number> {
  const counts: Record<ShownState, number> = { 'not routed': 0, healthy: 0, degraded: 0, stale: 0, offline: 0 };
  for (const w of workers) counts[shownState(w)] += 1;
  return counts;
}

/** Problems first (not routed, offline, stale, degraded, then healthy), by worker id within each. */
export function byProblem(workers: Worker[]): Worker[] {
  return [...workers].sort((a, b) => RANK[shownState(a)] - RANK[shownState(b)] || a.worker_id.localeCompare(b.worker_id));
}

/**
 * Why a worker is degraded, in words: the worker said so in its heartbeat, or its reported latency
 * is above the hall's threshold (`degraded_latency_ms`), or both. `null` when it is not degraded.
 */
export function degradedReason(w: Worker, degradedLatencyMs: number | null): string | null {
  const h = w.health;
  if (!h || h.state !== 'degraded') return null;
  const reasons: string[] = [];
  if (h.reported_status === 'degraded') reasons.push('the worker reported itself degraded in its last heartbeat');
  if (degradedLatencyMs !== null && h.last_latency_ms !== null && h.last_latency_ms > degradedLatencyMs) {
    reasons.push(`its latency (${h.last_latency_ms} ms) is above the hall's threshold of ${degradedLatencyMs} ms`);
  }
  return reasons.length ? reasons.join('; ') : 'the hall marked it degraded';
}

/** A latency chart's data (uPlot: unix seconds, then ms; a gap where none was reported), oldest first. */
export function latencySeries(points: { at: string; latency_ms: number | null }[]): [number[], (number | null)[]] {
  const sorted = [...points].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return [sorted.map((p) => Date.parse(p.at) / 1000), sorted.map((p) => p.latency_ms)];
}

/** "Decisions routed" in words: a decision selects a species, so the hall counts one worker's own
 * only when it is its species' only worker; otherwise the species total is shown as shared,
 * never as each worker's own (issue 17). */
export function routedText(w: Worker): string {
  const h = w.health;
  if (!h) return 'no decisions routed';
  if (h.decisions_routed != null) return `${formatCount(h.decisions_routed)} decisions routed`;
  return `${formatCount(h.species_decisions_routed)} decisions routed to its species ${w.worker_species_id}, shared by ${h.species_workers} workers`;
}
