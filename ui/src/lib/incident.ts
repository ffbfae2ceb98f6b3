// What an incident review reads first: a summary of everything under one correlation id, where
// each entry sits on a time axis, and denials grouped into issues (from `GET /v1/issues`) with a
// trend line and the Decisions filter that lists an issue's decisions.

import type { TimelineEntry } from './timeline';
import type { Issue } from './types';

export type EntryKind = TimelineEntry['kind'];

export interface Count {
  key: string;
  count: number;
}

export interface TraceSummary {
  first: string;
  last: string;
  durationMs: number;
  tenants: string[];
  capabilities: string[];
  denyCodes: Count[];
  /** Selected and candidate worker species of the decisions. */
  workers: string[];
  counts: Record<EntryKind, number>;
}

const KINDS: EntryKind[] = ['decision', 'mcp_call', 'approval', 'alert', 'health', 'heartbeat'];

function counted(values: string[]): Count[] {
  const map = new Map<string, number>();
  for (const v of values) map.set(v, (map.get(v) ?? 0) + 1);
  return [...map].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

const unique = (values: (string | null | undefined)[]) => [...new Set(values.filter((v): v is string => !!v))].sort();

/** The summary of a timeline; `null` when it holds no decision (nothing to summarize). */
export function summarize(timeline: TimelineEntry[]): TraceSummary | null {
  const decisions = timeline.flatMap((e) => (e.kind === 'decision' ? [e.record.decision] : []));
  const times = decisions.map((d) => d.timestamp).sort((a, b) => Date.parse(a) - Date.parse(b));
  const [first, last] = [times[0], times.at(-1)];
  if (first === undefined || last === undefined) return null;
  const counts = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<EntryKind, number>;
  for (const e of timeline) counts[e.kind] += 1;
  return {
    first,
    last,
    durationMs: Date.parse(last) - Date.parse(first),
    tenants: unique(decisions.map((d) => d.tenant_id)),
    capabilities: unique(decisions.map((d) => d.capability_id)),
    denyCodes: counted(decisions.flatMap((d) => (d.deny_reason_if_denied ? [d.deny_reason_if_denied.code] : []))),
    workers: unique(decisions.flatMap((d) => [d.selected_worker_species_id, ...d.candidate_workers_ranked.map((c) => c.worker_species_id)])),
    counts,
  };
}

/** Where `at` falls between `from` and `to`, from 0 to 1 (the middle when the span is empty). */
export function axisPosition(at: string, from: string, to: string): number {
  const span = Date.parse(to) - Date.parse(from);
  if (!(span > 0)) return 0.5;
  return Math.min(1, Math.max(0, (Date.parse(at) - Date.parse(from)) / span));
}

/** A duration in words for the summary: "0 s", "42 s", "3 min 5 s", "2 h 10 min". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
}

/** The time windows of the Issues screen (`?range=`), in seconds; 24 h when absent or unknown. */
export const ISSUE_RANGES = { '1h': 3600, '24h': 86_400, '7d': 604_800 } as const;
export type IssueRange = keyof typeof ISSUE_RANGES;

export function issueRange(value: string | null): IssueRange {
  return value !== null && value in ISSUE_RANGES ? (value as IssueRange) : '24h';
}

/**
 * The Decisions filter of an issue's denials: its code and capability from its first to its last
 * denial (`until` is exclusive, hence one millisecond after). A denial selects no worker, so the
 * worker is not part of the filter: denials of the same code and capability for another worker
 * in that span are listed too.
 */
export function issueFilterParams(issue: Issue): URLSearchParams {
  const params = new URLSearchParams({ outcome: 'denied', capability_id: issue.capability_id });
  if (issue.deny_code) params.set('deny_code', issue.deny_code);
  params.set('since', issue.first_seen);
  params.set('until', new Date(Date.parse(issue.last_seen) + 1).toISOString());
  return params;
}

/** SVG polyline points of a trend scaled into `width` × `height` (its highest point at the top). */
export function sparkPoints(trend: number[], width: number, height: number): string {
  if (trend.length === 0) return '';
  const top = Math.max(1, ...trend);
  const step = trend.length > 1 ? width / (trend.length - 1) : 0;
  return trend.map((v, i) => `${+(i * step).toFixed(1)},${+(height - (v / top) * height).toFixed(1)}`).join(' ');
}
