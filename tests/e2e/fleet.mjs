// The fleet view in Chromium: `proctor serve --fleet` over a real PostgreSQL filled with decisions
// of three halls (crates/fleet/examples/central_fixture.rs: the same fixture as the Rust tests).
// Run: node tests/e2e/fleet.mjs   (needs target/debug/proctor, target/debug/examples/central_fixture
// and ui/dist; ./test builds them). Prints one line per test and `N passed, N failed`.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { listeningUrl } from '../poll.mjs';
import { PROCTOR_BIN, ROOT, browser, runTests, screenshot } from './harness.mjs';

const FIXTURE = process.env.CENTRAL_FIXTURE ?? join(ROOT, 'target/debug/examples/central_fixture');

/** The central store: a child that prints its URL, then obeys `stop` / `start` on stdin. */
async function centralStore() {
  const child = spawn(FIXTURE, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const url = (await lines.next()).value;
  assert.match(url ?? '', /^postgresql:\/\//, 'central_fixture printed no URL');
  return {
    url,
    async command(cmd) {
      child.stdin.write(`${cmd}\n`);
      assert.equal((await lines.next()).value, 'ok');
    },
    async stop() {
      child.stdin.end();
      await new Promise((r) => child.once('exit', r));
    },
  };
}

const central = await centralStore();
const dataDir = mkdtempSync(join(tmpdir(), 'proctor-e2e-fleet-'));
const view = spawn(PROCTOR_BIN, ['serve', '--fleet', '--database-url', central.url, '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
  env: { ...process.env, PROCTOR_UI_DIR: process.env.PROCTOR_UI_DIR ?? join(ROOT, 'ui/dist'), RUST_LOG: 'warn' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let stderr = '';
view.stderr.on('data', (d) => (stderr += d));
const url = await listeningUrl(view, () => stderr, 20_000);
const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
const b = await browser();
const { page } = b;

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('signing in to a fleet view: the fleet screens only, the halls with health, backlog and last contact', async () => {
  await page.goto(`${url}/#/settings`);
  await page.getByTestId('fleet-mode').waitFor();
  await page.getByTestId('token-input').fill(token);
  await page.getByRole('button', { name: 'Save and connect' }).click();
  await page.getByText('Connected.').waitFor();
  // A hall's own screens and everything that changes a hall are gone; thresholds too.
  const nav = await page.locator('a[data-nav]').evaluateAll((links) => links.map((a) => a.dataset.nav));
  assert.deepEqual(nav, ['fleet', 'decisions', 'traces', 'settings']);
  assert.equal(await page.getByRole('form', { name: 'Thresholds' }).count(), 0);
  await page.goto(`${url}/#/overview`);
  const rows = page.locator('[data-testid="fleet-halls"] tbody tr');
  await rows.first().waitFor();
  assert.deepEqual(await rows.evaluateAll((r) => r.map((tr) => tr.dataset.hallId)), ['hall-b', 'hall-a', 'hall-c']);
  const cell = (hall, id) => page.locator(`tr[data-hall-id="${hall}"] [data-testid="${id}"]`).textContent();
  assert.equal(await cell('hall-a', 'hall-health'), 'live');
  assert.equal(await cell('hall-b', 'hall-health'), 'silent');
  assert.equal(await cell('hall-c', 'hall-health'), 'never shipped');
  assert.equal(await cell('hall-b', 'hall-backlog'), '42 unshipped');
  assert.match(await page.locator('tr[data-hall-id="hall-b"]').textContent(), /20 min/);
  assert.equal((await page.getByTestId('fleet-decisions').textContent()).trim(), '50');
  await screenshot(page, 'fleet-halls');
});

test('decisions across halls: a hall column, the hall filter from the halls list, the detail names its hall', async () => {
  await page.goto(`${url}/#/decisions`);
  await page.locator('.drow').first().waitFor();
  const halls = await page.locator('.drow [data-col="hall"]').allTextContents();
  assert.ok(halls.includes('hall-a') && halls.includes('hall-b'), `both halls: ${halls}`);
  assert.equal(await page.getByTestId('live-toggle').count(), 0, 'no live mode in the fleet view');
  // From the Fleet screen: one hall's decisions.
  await page.goto(`${url}/#/fleet`);
  await page.locator('tr[data-hall-id="hall-b"] a').click();
  await page.waitForFunction(() => location.hash.includes('hall_id=hall-b'));
  await page.locator('.drow').first().waitFor();
  await page.getByTestId('row-count').filter({ hasText: '20 shown' }).waitFor();
  assert.deepEqual([...new Set(await page.locator('.drow [data-col="hall"]').allTextContents())], ['hall-b']);
  // The filter form: hall and outcome together.
  await page.locator('select[name="outcome"]').selectOption('denied');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByTestId('row-count').filter({ hasText: '5 shown' }).waitFor();
  await page.locator('.drow').first().click();
  await page.getByTestId('detail-hall').filter({ hasText: 'hall hall-b' }).waitFor();
  await screenshot(page, 'fleet-decisions');
});

test('a trace whose correlation id spans two halls', async () => {
  await page.goto(`${url}/#/traces/corr-span`);
  await page.locator('[data-kind="decision"]').first().waitFor();
  assert.deepEqual(await page.getByTestId('trace-hall').allTextContents(), ['hall-a', 'hall-b', 'hall-b']);
  // The MCP call that followed hall B's decision: on the timeline (and its row on the time axis).
  assert.equal(await page.locator('li[data-kind="mcp_call"]').count(), 1);
  await screenshot(page, 'fleet-trace');
});

test('PostgreSQL away: the screens say the central store is unavailable, then recover', async () => {
  await central.command('stop');
  await page.goto(`${url}/#/decisions?tenant_id=tenant-x`);
  await page.getByText(/central store is unavailable/).first().waitFor();
  await central.command('start');
  await page.getByRole('button', { name: 'Try again' }).first().click();
  await page.locator('.drow').first().waitFor();
});

test('the page ran under the strict CSP without violations or errors', async () => {
  // The 503s of the outage test are expected console errors (failed fetches); nothing else is.
  const bad = b.problems.filter((p) => /Content Security Policy|page error/i.test(p));
  assert.deepEqual(bad, []);
});

const failed = await runTests(tests, page, { prefix: 'fleet-' });
await b.close();
view.kill('SIGTERM');
await new Promise((r) => view.once('exit', r));
await central.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);
