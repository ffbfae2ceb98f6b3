import { describe, expect, it } from 'vitest';
import { clampPane, DEFAULT_COLUMNS, gridTemplate, histogramData, loadColumns, loadPaneMode, loadPaneWidth, loadViews, paneMode, saveColumns, savePaneMode, savePaneWidth, saveViews, toggleColumn, toggleFacet, totalText, withoutView, withView } from './explorer';
import { EMPTY_FILTER } from './filters';

/** A Storage over a Map (both halves the prefs helpers use). */
const memory = (init: Record<string, string> = {}) => {
  const m = new Map(Object.entries(init));
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
};

describe('explorer columns', () => {
  it('toggles optional columns in list order and never hides time or outcome', () => {
    const cols = toggleColumn(DEFAULT_COLUMNS, 'label');
    expect(cols).toEqual(['time', 'outcome', 'tenant', 'capability', 'env', 'label', 'result', 'correlation']);
    expect(toggleColumn(cols, 'label')).toEqual([...DEFAULT_COLUMNS]);
    expect(toggleColumn(cols, 'time')).toContain('time');
  });

  it('persists, and ignores stored junk', () => {
    const s = memory();
    saveColumns(['time', 'outcome', 'label'], s);
    expect(loadColumns(s)).toEqual(['time', 'outcome', 'label']);
    expect(loadColumns(memory({ 'proctor.decisions.columns.v1': '["nope", 3]' }))).toEqual(['time', 'outcome']);
    expect(loadColumns(memory({ 'proctor.decisions.columns.v1': '{' }))).toEqual([...DEFAULT_COLUMNS]);
  });

  it('builds the grid template of the shown columns', () => {
    expect(gridTemplate(['time', 'outcome', 'env'], false)).toBe('10.2rem 4.2rem 3rem');
    expect(gridTemplate(['time', 'outcome'], true)).toBe('7rem 10.2rem 4.2rem');
  });
});

describe('saved views', () => {
  it('adds, replaces by name, sorts, deletes and round-trips storage', () => {
    let views = withView([], 'b', 'q=x');
    views = withView(views, ' a ', 'q=y');
    views = withView(views, 'b', 'q=z');
    expect(views).toEqual([{ name: 'a', params: 'q=y' }, { name: 'b', params: 'q=z' }]);
    const s = memory();
    saveViews(withoutView(views, 'a'), s);
    expect(loadViews(s)).toEqual([{ name: 'b', params: 'q=z' }]);
    expect(loadViews(memory({ 'proctor.decisions.views.v1': '[{"name":""},{"name":"ok","params":"a=1"},7]' }))).toEqual([{ name: 'ok', params: 'a=1' }]);
  });
});

describe('facets and summary', () => {
  it('a facet click sets the field, a second click clears it', () => {
    const f = toggleFacet(EMPTY_FILTER, 'tenant_id', 'hooli');
    expect(f.tenant_id).toBe('hooli');
    expect(toggleFacet(f, 'tenant_id', 'hooli').tenant_id).toBe('');
    expect(toggleFacet(f, 'tenant_id', 'acme').tenant_id).toBe('acme');
  });

  it('says when the total is a lower bound, and turns buckets into chart series', () => {
    expect(totalText({ total: 1234, total_exact: true })).toBe('1,234 matching');
    expect(totalText({ total: 50000, total_exact: false })).toBe('50,000+ matching');
    // The exact count replaces a lower bound, never an exact total, and never lowers it.
    expect(totalText({ total: 10000, total_exact: false }, { total: 123456, exact: true })).toBe('123,456 matching');
    expect(totalText({ total: 10000, total_exact: false }, { total: 80000, exact: false })).toBe('80,000+ matching');
    expect(totalText({ total: 10000, total_exact: false }, { total: 9000, exact: false })).toBe('10,000+ matching');
    expect(totalText({ total: 12, total_exact: true }, { total: 11, exact: true })).toBe('12 matching');
    expect(histogramData({ buckets: [{ start: '2026-01-01T00:00:00Z', decisions: 3, denied: 1 }] })).toEqual([[1767225600], [3], [1]]);
  });
});

describe('detail pane width', () => {
  it('stays between the minimum and what leaves the list its minimum, and persists', () => {
    expect(clampPane(100, 1200)).toBe(280);
    expect(clampPane(1100, 1200)).toBe(920);
    expect(clampPane(500.4, 1200)).toBe(500);
    const s = memory();
    expect(loadPaneWidth(s)).toBeNull();
    savePaneWidth(512, s);
    expect(loadPaneWidth(s)).toBe(512);
    expect(loadPaneWidth(memory({ 'proctor.decisions.pane.v1': '12' }))).toBeNull();
  });
});

describe('detail pane mode', () => {
  it('follows the width until one is chosen, and persists the choice', () => {
    expect(paneMode(null, 1200, 420)).toBe('side');
    expect(paneMode(null, 800, 300)).toBe('overlay');
    expect(paneMode(null, 0, 300)).toBe('side');
    expect(paneMode('side', 800, 300)).toBe('side');
    expect(paneMode('overlay', 1600, 300)).toBe('overlay');
    const s = memory();
    expect(loadPaneMode(s)).toBeNull();
    savePaneMode('overlay', s);
    expect(loadPaneMode(s)).toBe('overlay');
    expect(loadPaneMode(memory({ 'proctor.decisions.pane-mode.v1': '"sideways"' }))).toBeNull();
  });
});
