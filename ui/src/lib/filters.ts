// Decision filter state: what the Decisions screen shows, kept in the URL hash so a filtered view
// can be bookmarked, shared and restored after reload, and turned into the hall's query parameters.

import type { Query } from './api';
import type { DecisionEvent } from './types';

export interface DecisionFilter {
  q: string; // a query (docs/API.md "Query syntax"): field:value filters and free text
  tenant_id: string;
  capability_id: string;
  worker: string;
  correlation_id: string;
  outcome: '' | 'allowed' | 'denied';
  deny_code: string;
  env: string;
  data_label: string;
  since: string; // RFC 3339
  until: string;
  /** The hall that recorded it: the fleet view's filter (a hall refuses it; the UI shows it only there). */
  hall_id: string;
}

export const EMPTY_FILTER: Readonly<DecisionFilter> = Object.freeze({
  q: '',
  tenant_id: '',
  capability_id: '',
  worker: '',
  correlation_id: '',
  outcome: '',
  deny_code: '',
  env: '',
  data_label: '',
  since: '',
  until: '',
  hall_id: '',
});

const KEYS = Object.keys(EMPTY_FILTER) as (keyof DecisionFilter)[];

export function filterFromParams(params: URLSearchParams): DecisionFilter {
  const filter: DecisionFilter = { ...EMPTY_FILTER };
  for (const key of KEYS) {
    const value = params.get(key)?.trim() ?? '';
    if (key === 'outcome') filter.outcome = value === 'allowed' || value === 'denied' ? value : '';
    else filter[key] = value;
  }
  return filter;
}

export function filterToParams(filter: DecisionFilter): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    const value = filter[key].trim();
    if (value) params.set(key, value);
  }
  return params;
}

export function isEmptyFilter(filter: DecisionFilter): boolean {
  return KEYS.every((key) => filter[key].trim() === '');
}

/** The hall's `GET /v1/decisions/summary` query for a filter: the list's filter, without paging. */
export function filterToSummaryQuery(filter: DecisionFilter): Query {
  return {
    q: filter.q.trim(),
    tenant_id: filter.tenant_id.trim(),
    capability_id: filter.capability_id.trim(),
    worker: filter.worker.trim(),
    correlation_id: filter.correlation_id.trim(),
    denied: filter.outcome === '' ? undefined : filter.outcome === 'denied',
    deny_code: filter.deny_code.trim(),
    env: filter.env,
    data_label: filter.data_label,
    since: filter.since,
    until: filter.until,
    hall_id: filter.hall_id.trim(),
  };
}

/** The hall's `GET /v1/decisions` query for a filter (docs/API.md "History"). */
export function filterToQuery(filter: DecisionFilter, cursor?: string | null, limit = 100): Query {
  return { ...filterToSummaryQuery(filter), cursor: cursor ?? undefined, limit };
}

/**
 * Whether a live decision event belongs in the current filtered view. Events carry a summary only
 * (no messages), and the query is the hall's to read, so with one this cannot be decided here:
 * the caller then shows a "new decisions — refresh" hint instead of inserting rows.
 */
export function liveMatch(filter: DecisionFilter, event: DecisionEvent): boolean | 'unknown' {
  if (filter.q.trim()) return 'unknown';
  const eq = (want: string, got: string | null) => want.trim() === '' || want.trim() === got;
  if (!eq(filter.tenant_id, event.tenant_id)) return false;
  if (!eq(filter.capability_id, event.capability_id)) return false;
  if (!eq(filter.worker, event.selected_worker_species_id)) return false;
  if (!eq(filter.correlation_id, event.correlation_id)) return false;
  if (!eq(filter.deny_code, event.deny_code)) return false;
  if (!eq(filter.env, event.env)) return false;
  if (!eq(filter.data_label, event.data_label)) return false;
  if (filter.outcome === 'denied' && !event.denied) return false;
  if (filter.outcome === 'allowed' && event.denied) return false;
  const at = Date.parse(event.recorded_at);
  if (filter.since && at < Date.parse(filter.since)) return false;
  if (filter.until && at > Date.parse(filter.until)) return false;
  return true;
}
