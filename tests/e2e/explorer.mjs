// Browser end-to-end tests of the Decisions explorer (issue 17) against a real `proctor serve`:
// count, facets, the query in the URL and its errors, saved views, columns, histogram drag, the
// detail pane's resize. Run: node tests/e2e/explorer.mjs [name filter]   (needs target/debug/proctor
// and ui/dist, as run.mjs). Prints one line per test and `N passed, N failed`.

import assert from 'node:assert/strict';
import { Hall, browser, eventually, runTests, screenshot, signIn } from './harness.mjs';

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

// ------------------------------------------------------------------ run
await signIn(page, hall);
const failed = await runTests(tests, page, { only, prefix: 'explorer-' });
await b.close();
await hall.stop();
process.exit(failed === 0 ? 0 : 1);
