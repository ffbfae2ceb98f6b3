// The decision detail marks a decision that `proctor decisions import` recorded (docs/ledger.md).
import { afterEach, expect, it } from 'vitest';
import { flushSync, mount, unmount } from 'svelte';
import { record } from '../test/fixtures';
import type { LedgerRecord } from '../lib/types';
import DecisionDetail from './DecisionDetail.svelte';

let app: ReturnType<typeof mount> | undefined;
afterEach(() => {
  if (app) void unmount(app);
  app = undefined;
  document.body.innerHTML = '';
});

function show(r: LedgerRecord): HTMLElement {
  const target = document.createElement('div');
  document.body.append(target);
  app = mount(DecisionDetail, { target, props: { record: r } });
  flushSync();
  return target;
}

it('says an imported decision was not decided by this hall, with source, importer and time', () => {
  const imported = record(1);
  imported.decision.imported = { source: '/tmp/made-up.jsonl', importer: 'mallory (uid 1001)', imported_at: '2026-12-06T18:00:00Z' };
  const mark = show(imported).querySelector('[data-testid="imported-mark"]');
  expect(mark?.textContent).toContain('not decided by this hall');
  expect(mark?.textContent).toContain('/tmp/made-up.jsonl');
  expect(mark?.textContent).toContain('mallory (uid 1001)');
});

it('shows no mark on a decision the hall made', () => {
  expect(show(record(2)).querySelector('[data-testid="imported-mark"]')).toBeNull();
});
