// The Decisions explorer's pure parts: the list's columns and their chooser, saved views, facet
// values as filter toggles, and the summary's histogram. The query text itself is the hall's to
// read (`q`, docs/API.md "Query syntax"): nothing here parses it.

import type uPlot from 'uplot';
import type { DecisionFilter } from './filters';
import { loadStored, saveStored } from './prefs';
import type { DecisionCount, DecisionSummary } from './types';

export const COLUMNS = [
  { id: 'time', label: 'time', width: '10.2rem', fixed: true },
  { id: 'outcome', label: 'outcome', width: '4.2rem', fixed: true },
  { id: 'tenant', label: 'tenant', width: '1fr', fixed: false },
  { id: 'capability', label: 'capability', width: '1fr', fixed: false },
  { id: 'env', label: 'env', width: '3rem', fixed: false },
  { id: 'label', label: 'data label', width: '6.5rem', fixed: false },
  { id: 'result', label: 'worker / deny code', width: '1fr', fixed: false },
  { id: 'correlation', label: 'correlation id', width: '1fr', fixed: false },
] as const;

export type ColumnId = (typeof COLUMNS)[number]['id'];

export const DEFAULT_COLUMNS: readonly ColumnId[] = ['time', 'outcome', 'tenant', 'capability', 'env', 'result', 'correlation'];

const COLUMNS_KEY = 'proctor.decisions.columns.v1';
const isColumn = (id: unknown): id is ColumnId => COLUMNS.some((c) => c.id === id);

/** The shown columns, in the list's order; the fixed ones always. */
function normalised(ids: readonly ColumnId[]): ColumnId[] {
  return COLUMNS.filter((c) => c.fixed || ids.includes(c.id)).map((c) => c.id);
}

export function loadColumns(storage?: Pick<Storage, 'getItem'>): ColumnId[] {
  const parse = (raw: unknown) => (Array.isArray(raw) ? normalised(raw.filter(isColumn)) : null);
  return loadStored(COLUMNS_KEY, parse, normalised(DEFAULT_COLUMNS), storage);
}

export function saveColumns(ids: readonly ColumnId[], storage?: Pick<Storage, 'setItem'>): void {
  saveStored(COLUMNS_KEY, ids, storage);
}

export function toggleColumn(ids: readonly ColumnId[], id: ColumnId): ColumnId[] {
  return normalised(ids.includes(id) ? ids.filter((c) => c !== id) : [...ids, id]);
}

/** The list's CSS grid columns for the shown ones (the fleet view's hall column first). */
export function gridTemplate(ids: readonly ColumnId[], fleet: boolean): string {
  const widths = COLUMNS.filter((c) => ids.includes(c.id)).map((c) => c.width);
  return (fleet ? ['7rem', ...widths] : widths).join(' ');
}

/** A named query: the filter's URL parameters, as the address bar holds them. */
export interface SavedView {
  name: string;
  params: string;
}

const VIEWS_KEY = 'proctor.decisions.views.v1';

export function loadViews(storage?: Pick<Storage, 'getItem'>): SavedView[] {
  const parse = (raw: unknown) =>
    Array.isArray(raw) ? raw.filter((v): v is SavedView => typeof v?.name === 'string' && typeof v?.params === 'string' && v.name.trim() !== '') : null;
  return loadStored(VIEWS_KEY, parse, [], storage);
}

export function saveViews(views: readonly SavedView[], storage?: Pick<Storage, 'setItem'>): void {
  saveStored(VIEWS_KEY, views, storage);
}

/** Adds a view (or replaces the one with that name), sorted by name. */
export function withView(views: readonly SavedView[], name: string, params: string): SavedView[] {
  const trimmed = name.trim();
  return [...views.filter((v) => v.name !== trimmed), { name: trimmed, params }].sort((a, b) => a.name.localeCompare(b.name));
}

export function withoutView(views: readonly SavedView[], name: string): SavedView[] {
  return views.filter((v) => v.name !== name);
}

/** The summary's facet fields (the API's parameter names) and the filter fields they set. */
export const FACETS = {
  tenant_id: 'Tenant',
  env: 'Env',
  capability_id: 'Capability',
  deny_code: 'Deny code',
  worker: 'Worker',
  data_label: 'Data label',
} as const satisfies Partial<Record<keyof DecisionFilter, string>>;

export type FacetField = keyof typeof FACETS;

export const isFacetField = (field: string): field is FacetField => field in FACETS;

/** Clicking a facet value: filters on it, or clears the filter when it is the one set. */
export function toggleFacet(filter: DecisionFilter, field: FacetField, value: string): DecisionFilter {
  return { ...filter, [field]: filter[field] === value ? '' : value };
}

/**
 * "1,234 matching", or "10,000+ matching" when the summary counted only that far; a count fetched
 * after such a summary replaces it ("123,456 matching", or a larger lower bound if the count ran out
 * of time). A count never lowers what the summary already saw.
 */
export function totalText(summary: Pick<DecisionSummary, 'total' | 'total_exact'>, count: DecisionCount | null = null): string {
  const best = count && !summary.total_exact && count.total >= summary.total ? count : { total: summary.total, exact: summary.total_exact };
  return `${best.total.toLocaleString('en-US')}${best.exact ? '' : '+'} matching`;
}

/** The histogram's series: bucket starts (unix s), decisions, denied. */
export function histogramData(summary: Pick<DecisionSummary, 'buckets'>): uPlot.AlignedData {
  const b = summary.buckets;
  return [b.map((x) => Date.parse(x.start) / 1000), b.map((x) => x.decisions), b.map((x) => x.denied)];
}

const PANE_KEY = 'proctor.decisions.pane.v1';
export const PANE_MIN = 280;

/** The detail pane's width in px: at least PANE_MIN, leaving the list at least as much. */
export function clampPane(width: number, total: number): number {
  return Math.round(Math.max(PANE_MIN, Math.min(width, total - PANE_MIN)));
}

export function loadPaneWidth(storage?: Pick<Storage, 'getItem'>): number | null {
  return loadStored<number | null>(PANE_KEY, (raw) => (typeof raw === 'number' && raw >= PANE_MIN ? raw : null), null, storage);
}

export function savePaneWidth(width: number, storage?: Pick<Storage, 'setItem'>): void {
  saveStored(PANE_KEY, width, storage);
}

/** How the detail opens: beside the list, or as an overlay over it. */
export type PaneMode = 'side' | 'overlay';
const MODE_KEY = 'proctor.decisions.pane-mode.v1';
/** The list keeps at least this many px beside the pane, else the detail opens as an overlay. */
export const LIST_MIN_BESIDE_PANE = 560;

/** The chosen mode, or null when none was chosen in this browser (then it follows the width). */
export function loadPaneMode(storage?: Pick<Storage, 'getItem'>): PaneMode | null {
  return loadStored<PaneMode | null>(MODE_KEY, (raw) => (raw === 'side' || raw === 'overlay' ? raw : null), null, storage);
}

export function savePaneMode(mode: PaneMode, storage?: Pick<Storage, 'setItem'>): void {
  saveStored(MODE_KEY, mode, storage);
}

/** The mode to use: the chosen one, else an overlay when a pane of `paneWidth` px would leave the list too narrow. */
export function paneMode(chosen: PaneMode | null, splitWidth: number, paneWidth: number): PaneMode {
  if (chosen) return chosen;
  return splitWidth > 0 && splitWidth - paneWidth < LIST_MIN_BESIDE_PANE ? 'overlay' : 'side';
}
