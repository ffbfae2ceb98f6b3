// Browser end-to-end tests of the Decisions explorer (issue 17) against a real `proctor serve`:
// count (and the exact count past the summary's 10,000), facets, the query in the URL and its
// errors, saved views, columns, histogram drag, the detail pane's resize and its overlay. Run: node tests/e2e/explorer.mjs [name filter]   (needs target/debug/proctor
// and ui/dist, as run.mjs). Prints one line per test and `N passed, N failed`.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hall, PROCTOR_BIN, axeProblems, browser, eventually, runTests, screenshot, signIn } from './harness.mjs';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const only = process.argv[2];

const hall = await Hall.start();
const b = await browser();
const { page } = b;

// Two tenants: tenant.one's six in dev (two of them RESTRICTED), tenant.two's four in prod (no
// rule matches prod: denied).
for (let i = 0; i < 6; i++) {
  await hall.route({ capability_id: 'cap.doc.summarize', tenant_id: 'tenant.one', data_label: i < 2 ? 'RESTRICTED' : 'PUBLIC', correlation_id: `x-${i}` });
}
for (let i = 0; i < 4; i++) await hall.route({ capability_id: 'cap.none', env: 'prod', tenant_id: 'tenant.two', correlation_id: `y-${i}` });

/** Retries an assertion until it holds (10 s). */
const holds = (fn) => eventually(async () => (await fn(), true), 'the assertion');
const total = () => page.getByTestId('match-count').getAttribute('data-total').then(Number);
const rows = () => page.locator('[data-decision-id]').count();
const hashParams = () => new URLSearchParams(new URL(page.url()).hash.split('?')[1] ?? '');
async function open(params = '', ready = 'match-count') {
  await page.goto(`${hall.url}/#/decisions${params ? `?${params}` : ''}`);
  await page.getByTestId(ready).waitFor();
}

test('the count matches what the list holds, for the whole ledger and a filter', async () => {
  await open();
  await holds(async () => assert.equal(await total(), 10));
  await holds(async () => assert.equal(await rows(), 10));
  await open('tenant_id=tenant.one');
  await holds(async () => assert.equal(await total(), 6));
  assert.equal(await rows(), 6);
});

test('a facet value filters the list, and clicking it again clears the filter', async () => {
  await open();
  const two = page.locator('[data-facet="tenant_id"] [data-value="tenant.two"]');
  assert.match(await two.innerText(), /tenant\.two\s*4/);
  await two.click();
  await holds(async () => assert.equal(hashParams().get('tenant_id'), 'tenant.two'));
  await holds(async () => assert.equal(await total(), 4));
  assert.equal(await two.getAttribute('aria-pressed'), 'true');
  await two.click();
  await holds(async () => assert.equal(hashParams().get('tenant_id'), null));
  await holds(async () => assert.equal(await total(), 10));
});

test('a query is sent as q, kept in the URL and survives a reload', async () => {
  await open();
  await page.locator('#decision-search').fill('env:prod denied');
  await page.getByRole('button', { name: 'Apply' }).click();
  await holds(async () => assert.equal(hashParams().get('q'), 'env:prod denied'));
  await holds(async () => assert.equal(await total(), 4));
  await page.reload();
  await page.getByTestId('match-count').waitFor();
  assert.equal(await page.locator('#decision-search').inputValue(), 'env:prod denied');
  await holds(async () => assert.equal(await total(), 4));
  assert.equal(await rows(), 4);
});

test('a bad query shows the hall error at the field, naming the token', async () => {
  await open('q=' + encodeURIComponent('tenant:tenant.one envv:prod'), 'query-error');
  const error = page.getByTestId('query-error');
  assert.match(await error.innerText(), /envv:prod.*column 19.*unknown field/);
  assert.equal(await page.locator('#decision-search').getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'decisions-query-error');
});

test('a saved view keeps the filter under a name, opens it and is deleted', async () => {
  await open('q=' + encodeURIComponent('tenant:tenant.one label:RESTRICTED'));
  await holds(async () => assert.equal(await total(), 2));
  await page.getByLabel('View name').fill('restricted of one');
  await page.getByRole('button', { name: 'Save view' }).click();
  await open();
  await page.reload();
  const view = page.locator('[data-view="restricted of one"] .open');
  await view.click();
  await holds(async () => assert.equal(hashParams().get('q'), 'tenant:tenant.one label:RESTRICTED'));
  await holds(async () => assert.equal(await total(), 2));
  await page.getByRole('button', { name: 'Delete view restricted of one' }).click();
  await page.reload();
  await page.getByTestId('match-count').waitFor();
  assert.equal(await page.locator('[data-view]').count(), 0);
});

test('the column chooser shows the data label column and keeps the choice', async () => {
  await open('tenant_id=tenant.one');
  assert.equal(await page.locator('[data-testid="decision-columns"] [data-col="label"]').count(), 0);
  await page.getByText('Columns', { exact: true }).click();
  await page.locator('[data-column="label"]').check();
  await page.locator('[data-testid="decision-columns"] [data-col="label"]').waitFor();
  assert.deepEqual([...new Set(await page.locator('.drow [data-col="label"]').allInnerTexts())].sort(), ['PUBLIC', 'RESTRICTED']);
  await page.reload();
  await page.locator('[data-testid="decision-columns"] [data-col="label"]').waitFor();
  await page.locator('[data-column="label"]').uncheck({ force: true }).catch(() => {});
});

test('dragging across the histogram narrows the time range', async () => {
  await open();
  const over = page.locator('[data-testid="histogram"] .u-over');
  await over.waitFor();
  const box = await over.boundingBox();
  await page.mouse.move(box.x + 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await holds(async () => assert.ok(hashParams().get('since') && hashParams().get('until'), page.url()));
  const since = Date.parse(hashParams().get('since'));
  const until = Date.parse(hashParams().get('until'));
  assert.ok(since < until);
  await page.getByTestId('time-range').waitFor();
  await holds(async () => assert.ok((await total()) <= 10));
  await screenshot(page, 'decisions-explorer');
});

test('the detail pane is resized by dragging its edge, and keeps its width', async () => {
  await open();
  await page.locator('[data-decision-id]').first().click();
  const pane = page.getByTestId('detail-pane');
  await pane.waitFor();
  const before = (await pane.boundingBox()).width;
  const handle = (await page.getByTestId('pane-handle').boundingBox());
  await page.mouse.move(handle.x + 3, handle.y + 40);
  await page.mouse.down();
  await page.mouse.move(handle.x - 97, handle.y + 40, { steps: 5 });
  await page.mouse.up();
  await holds(async () => assert.ok(Math.abs((await pane.boundingBox()).width - (before + 100)) < 12, `${before} → ${(await pane.boundingBox()).width}`));
  const wider = (await pane.boundingBox()).width;
  await page.reload();
  await pane.waitFor();
  assert.ok(Math.abs((await pane.boundingBox()).width - wider) < 4);
});

const MODE_KEY = 'proctor.decisions.pane-mode.v1';
const focusedDecision = () => page.evaluate(() => document.activeElement?.getAttribute('data-decision-id') ?? document.activeElement?.tagName);
const focusInPane = () => page.evaluate(() => !!document.activeElement?.closest('[data-testid="detail-pane"]'));

/** No mode chosen in this browser, read by a freshly loaded page. */
async function openWithoutChosenMode() {
  await page.evaluate((k) => localStorage.removeItem(k), MODE_KEY);
  await open();
  await page.reload();
  await page.getByTestId('match-count').waitFor();
}

test('the detail opens as an overlay: focus kept inside, Escape closes it, focus back on the row, choice kept', async () => {
  await openWithoutChosenMode();
  const row = page.locator('[data-decision-id]').nth(2);
  const id = await row.getAttribute('data-decision-id');
  await row.click();
  const pane = page.getByTestId('detail-pane');
  await page.getByTestId('decision-detail').waitFor();
  assert.equal(await pane.getAttribute('data-mode'), 'side', 'a wide window opens the side pane');
  await page.getByTestId('overlay-toggle').click();
  await holds(async () => assert.equal(await pane.getAttribute('role'), 'dialog'));
  assert.equal(await page.evaluate((k) => localStorage.getItem(k), MODE_KEY), '"overlay"');
  // It covers the list (which is inert under it).
  const [over, list] = [await pane.boundingBox(), await page.locator('.list').boundingBox()];
  assert.ok(over.x <= list.x + 1 && over.x + over.width >= list.x + list.width - 1, `${JSON.stringify(over)} over ${JSON.stringify(list)}`);
  assert.equal(await page.locator('.list').getAttribute('inert'), '');
  assert.deepEqual(await axeProblems(page), [], 'axe on the overlay');
  await screenshot(page, 'decisions-overlay');
  // Tab and Shift+Tab never leave it.
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    assert.ok(await focusInPane(), `Tab ${i + 1} left the overlay`);
  }
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press('Shift+Tab');
    assert.ok(await focusInPane(), `Shift+Tab ${i + 1} left the overlay`);
  }
  await page.keyboard.press('Escape');
  await pane.waitFor({ state: 'detached' });
  await holds(async () => assert.equal(await focusedDecision(), id));
  // Remembered: the next decision opens as an overlay too, even after a reload.
  await page.reload();
  await page.locator('[data-decision-id]').first().click();
  await holds(async () => assert.equal(await pane.getAttribute('data-mode'), 'overlay'));
  await page.getByTestId('overlay-toggle').click();
  await holds(async () => assert.equal(await pane.getAttribute('data-mode'), 'side'));
  assert.equal(await page.evaluate((k) => localStorage.getItem(k), MODE_KEY), '"side"');
  await page.getByTestId('detail-close').click();
  await pane.waitFor({ state: 'detached' });
});

test('at 1024×700 the detail opens as an overlay unless the side pane was chosen', async () => {
  await page.setViewportSize({ width: 1024, height: 700 });
  try {
    await openWithoutChosenMode();
    await page.locator('[data-decision-id]').first().click();
    const pane = page.getByTestId('detail-pane');
    await page.getByTestId('decision-detail').waitFor();
    assert.equal(await pane.getAttribute('data-mode'), 'overlay');
    assert.equal(await pane.getAttribute('role'), 'dialog');
    await screenshot(page, 'decisions-overlay-1024');
    await page.getByTestId('overlay-toggle').click();
    await holds(async () => assert.equal(await pane.getAttribute('data-mode'), 'side'));
    await page.keyboard.press('Escape');
    await pane.waitFor({ state: 'detached' });
  } finally {
    await page.evaluate((k) => localStorage.removeItem(k), MODE_KEY);
    await page.setViewportSize({ width: 1400, height: 900 });
  }
});

// Last: it adds 10,050 decisions to the hall's ledger, which the counts above do not expect.
test('past 10,000 matches the summary says 10,000+ and the exact count follows', async () => {
  // Recorded by `proctor route --db` into the hall's own ledger while the hall is stopped (seconds,
  // where 10,050 POSTs to a debug hall take most of a minute), then the hall starts again on it.
  const bulk = 10_050;
  const input = join(hall.dataDir, 'bulk.jsonl');
  const line = (i) => JSON.stringify({ capability_id: 'cap.doc.summarize', env: 'dev', data_label: 'PUBLIC', tenant_risk: 'low', qos_class: 'P2', tenant_id: 'tenant.bulk', correlation_id: `bulk-${i}`, request: {} });
  writeFileSync(input, Array.from({ length: bulk }, (_, i) => line(i)).join('\n') + '\n');
  await hall.kill();
  const routed = spawnSync(PROCTOR_BIN, ['route', '--data-dir', hall.dataDir, '--db', join(hall.dataDir, 'ledger/decisions.sqlite'), '--input', input], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  assert.equal(routed.status, 0, routed.stderr);
  await hall.restart();
  // A tenant and a data label (no index counts that): the summary reads its newest 10,000 and
  // stops there.
  const filter = 'tenant_id=tenant.bulk&data_label=PUBLIC';
  const summary = await hall.api('GET', `/v1/decisions/summary?${filter}`);
  assert.deepEqual([summary.total, summary.total_exact], [10_000, false]);
  assert.deepEqual(await hall.api('GET', `/v1/decisions/count?${filter}`), { total: bulk, exact: true });
  // One tenant alone is counted on its index by the summary itself.
  const tenant = await hall.api('GET', '/v1/decisions/summary?tenant_id=tenant.bulk');
  assert.deepEqual([tenant.total, tenant.total_exact], [bulk, true]);
  await open(filter);
  const count = page.getByTestId('match-count');
  await holds(async () => assert.equal(await count.innerText(), '10,050 matching'));
  assert.equal(await total(), 10_000, 'the summary behind it counted only its scan');
  assert.equal(await page.getByText('counting…').count(), 0);
});

// ------------------------------------------------------------------ run
await signIn(page, hall);
const failed = await runTests(tests, page, { only, prefix: 'explorer-' });
await b.close();
await hall.stop();
process.exit(failed === 0 ? 0 : 1);
