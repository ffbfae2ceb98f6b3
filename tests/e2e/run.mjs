// Browser end-to-end tests of the web UI against a real `proctor serve`, seeded through its HTTP API.
// Run: node tests/e2e/run.mjs   (needs target/debug/proctor and ui/dist; ./test builds both)
// Prints one line per test and a final `N passed, N failed`; exits non-zero on any failure.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hall, MCP_FIXTURE, ROOT, RULES, axeProblems as axeProblemsOn, browser, eventually, requireUi, runTests, screenshot, signIn, worker, writePackage } from './harness.mjs';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const only = process.argv[2];

// A declarative policy gate that always wants a person, for the MCP approval tests: the hall reads
// `policy_gate_file` at start only. Rules without `escalation.policy_gate` never ask it.
const hall = await Hall.start({
  files: {
    'config.toml': 'policy_gate_file = "gate.json"\n',
    'gate.json': JSON.stringify({
      rules: [{ when: { tenant_id: ['tenant.gate-deny'] }, result: ['DENY', 'gate.e2e', 'this tenant is blocked'] }],
      default: ['REQUIRE_HUMAN', 'gate.e2e', 'a person must approve'],
    }),
  },
});
const b = await browser();
const { page } = b;
const corr = (n) => `e2e-corr-${n}`;
const hasText = (selector, text) => page.locator(selector, { hasText: text });

// ------------------------------------------------------------------ seed
// Short health thresholds so a silent worker goes stale within the test.
await hall.api('PUT', '/v1/settings/thresholds', {
  health: { stale_after_s: 3, offline_after_s: 600, degraded_latency_ms: 1000 },
  alerts: { deny_rate_threshold: 0.99, deny_rate_window_s: 60, deny_rate_min_decisions: 1000 },
});
await hall.enroll(worker('org.acme.summarizer.i-1', 'wrk.doc.summarizer', ['cap.doc.summarize']));
await hall.enroll(worker('org.acme.ocr.i-1', 'wrk.doc.ocr', ['cap.doc.ocr']));
await hall.enroll(worker('org.acme.generic.i-1', 'wrk.generic', ['cap.misc']));
await hall.heartbeat('org.acme.summarizer.i-1', { status: 'ok', latency_ms: 12 });
await hall.heartbeat('org.acme.ocr.i-1', { status: 'degraded', latency_ms: 40 });
// org.acme.generic.i-1 never reports: offline.
for (let i = 0; i < 5; i++) await hall.route({ capability_id: 'cap.doc.summarize', tenant_id: 'tenant.alpha', correlation_id: corr(1) });
await hall.route({ capability_id: 'cap.none', env: 'prod', tenant_id: 'tenant.alpha', correlation_id: corr(1) }); // NO_MATCH: denied
for (let i = 0; i < 3; i++) await hall.route({ capability_id: 'cap.doc.ocr', tenant_id: 'tenant.beta', correlation_id: corr(2) });

// ------------------------------------------------------------------ tests
test('settings: entering the token connects the UI to the hall', async () => {
  await page.goto(`${hall.url}/#/settings`);
  await page.getByTestId('token-input').fill(hall.token);
  await page.getByRole('button', { name: 'Save and connect' }).click();
  await page.getByText('Connected.').waitFor();
  await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();
  // Theme: forced dark, kept after reload, back to following the system. The palette (app.css,
  // light-dark()) must follow the OS under `system` and ignore it under a forced theme.
  const colors = () => page.evaluate(() => { const s = getComputedStyle(document.body); return `${s.backgroundColor} ${s.color}`; });
  const LIGHT = 'rgb(246, 247, 249) rgb(27, 31, 36)';
  const DARK = 'rgb(15, 18, 22) rgb(230, 233, 238)';
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('radio', { name: 'dark' }).check();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.equal(await colors(), DARK, 'forced dark on a light system');
  await page.reload();
  await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.equal(await colors(), DARK, 'forced dark after reload');
  await screenshot(page, 'settings-dark');
  await page.getByRole('radio', { name: 'system' }).check();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), undefined);
  assert.equal(await colors(), LIGHT, 'system theme on a light system');
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.equal(await colors(), DARK, 'system theme on a dark system');
  await page.getByRole('radio', { name: 'light' }).check();
  assert.equal(await colors(), LIGHT, 'forced light on a dark system');
  await page.getByRole('radio', { name: 'system' }).check();
  await page.emulateMedia({ colorScheme: null });
  await screenshot(page, 'settings');
});

test('overview shows the seeded workers with their health', async () => {
  await page.goto(`${hall.url}/#/overview`);
  await page.getByTestId('health-healthy').filter({ hasText: '1' }).waitFor();
  const count = async (state) => (await page.getByTestId(`health-${state}`).locator('.big').textContent()).trim();
  assert.equal(await count('healthy'), '1');
  assert.equal(await count('degraded'), '1');
  assert.equal(await count('offline'), '1');
  assert.equal(await count('stale'), '0');
  assert.equal((await page.getByTestId('decisions-total').textContent()).trim(), '9');
  await hasText('a', 'DENY_NO_MATCHING_RULE').or(hasText('a', 'DENY_')).first().waitFor();
  await screenshot(page, 'overview');
});

test('a route posted during the test appears live in Decisions without reload', async () => {
  await page.goto(`${hall.url}/#/decisions`);
  await page.locator('.drow').first().waitFor();
  const before = await page.locator('.drow').count();
  const marker = await page.evaluate(() => (window.__marker = Math.random()));
  const routed = await hall.route({ capability_id: 'cap.doc.summarize', tenant_id: 'tenant.live', correlation_id: corr(3) });
  await page.locator(`[data-decision-id="${routed.decision_id}"]`).waitFor({ timeout: 5000 });
  assert.equal(await page.evaluate(() => window.__marker), marker, 'the page was reloaded');
  assert.equal(await page.locator('.drow').count(), before + 1);
  // The detail pane shows the whole decision with its evidence receipt.
  await page.locator(`[data-decision-id="${routed.decision_id}"]`).click();
  await page.getByTestId('detail-seq').filter({ hasText: String(routed.evidence_receipt.ledger_seq) }).waitFor();
  await page.getByText(routed.evidence_receipt.ledger_hash).waitFor();
  await screenshot(page, 'decisions');
});

test('filters return the right rows', async () => {
  await page.goto(`${hall.url}/#/decisions?tenant_id=tenant.beta`);
  await page.locator('.drow').first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.drow').length === 3);
  const tenants = await page.locator('.drow [data-col="tenant"]').allTextContents();
  assert.deepEqual(tenants, ['tenant.beta', 'tenant.beta', 'tenant.beta']);

  await page.goto(`${hall.url}/#/decisions?outcome=denied`);
  await page.waitForFunction(() => document.querySelectorAll('.drow').length === 1);
  assert.match(await page.locator('.drow').first().textContent(), /denied.*DENY_/);

  // Through the form: capability + env.
  await page.goto(`${hall.url}/#/decisions`);
  await page.locator('input[name="capability_id"]').fill('cap.doc.ocr');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForFunction(() => location.hash.includes('capability_id=cap.doc.ocr'));
  await page.waitForFunction(() => document.querySelectorAll('.drow').length === 3);
});

test('decisions: date and env and correlation columns, time presets, and a permalink that opens the decision', async () => {
  await page.goto(`${hall.url}/#/decisions`);
  const row = page.locator('.drow').first();
  await row.waitFor();
  const top = (await hall.api('GET', '/v1/decisions?limit=1')).decisions[0].decision;
  // A decision recorded just now reaches the list live, within the list's 500 ms batching.
  await page.waitForFunction((id) => document.querySelector('.drow')?.getAttribute('data-decision-id') === id, top.decision_id, { timeout: 5000 });
  assert.equal(await row.locator('[data-col="env"]').textContent(), top.env);
  assert.equal(await row.locator('[data-col="correlation"]').textContent(), top.correlation_id);
  const shownDate = await page.evaluate((iso) => new Intl.DateTimeFormat(undefined, { month: '2-digit', day: '2-digit' }).format(new Date(iso)), top.timestamp);
  assert.ok((await row.locator('.when').textContent()).startsWith(shownDate), 'the row shows the date');
  // "Last 1 h": since an hour ago, open-ended, kept in the URL.
  await page.locator('button[data-preset="60"]').click();
  await page.waitForFunction(() => location.hash.includes('since='));
  const since = Date.parse(await page.evaluate(() => new URLSearchParams(location.hash.split('?')[1]).get('since')));
  assert.ok(Math.abs(Date.now() - 3_600_000 - since) < 60_000, 'since is an hour ago');
  assert.doesNotMatch(await page.evaluate(() => location.hash), /until=/);
  await page.getByTestId('time-range').waitFor();
  await page.locator(`.drow[data-decision-id="${top.decision_id}"]`).waitFor();
  // The permalink of the ledger's first decision opens it in a fresh page, whatever the list holds.
  const first = (await hall.api('GET', `/v1/decisions?correlation_id=${corr(1)}`)).decisions.at(-1);
  await page.goto(`${hall.url}/#/decisions/${first.decision.decision_id}`);
  await page.getByTestId('detail-seq').filter({ hasText: String(first.seq) }).waitFor();
  const link = await page.getByTestId('permalink').getAttribute('href');
  assert.equal(link, `#/decisions/${first.decision.decision_id}`);
  await page.goto('about:blank');
  await page.goto(`${hall.url}/${link}`);
  await page.getByTestId('detail-seq').filter({ hasText: String(first.seq) }).waitFor();
});

test('full-text search finds decisions by deny code and id', async () => {
  await page.goto(`${hall.url}/#/decisions`);
  await page.locator('.drow').first().waitFor();
  await page.keyboard.press('/');
  // Focus may land a frame later (the shortcut handler focuses after the screen settles).
  await page.waitForFunction(() => document.activeElement?.id === 'decision-search', null, { timeout: 5000 });
  // Ids and codes are whole words in the ledger's index; a trailing * searches by prefix
  // (docs/ledger.md).
  await page.keyboard.type('DENY_NO*');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash.includes('q=DENY_NO'));
  const error = page.getByRole('alert');
  await page.getByTestId('row-count').filter({ hasText: /^1 shown/ }).or(error).first().waitFor();
  if (await error.count()) assert.fail(`the hall refused the search: ${await error.first().textContent()}`);
  const rows = await page.locator('.drow').allTextContents();
  assert.equal(rows.length, 1, `expected one row, got ${rows.length}`);
  assert.match(rows[0], /DENY_NO_MATCHING_RULE/);
});

test('j/k move through decisions and the trace link opens the incident', async () => {
  await page.goto(`${hall.url}/#/decisions?correlation_id=${corr(1)}`);
  await page.waitForFunction(() => document.querySelectorAll('.drow').length === 6);
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('j');
  await page.waitForFunction(() => /#\/decisions\/[^?]+/.test(location.hash));
  const first = await page.evaluate(() => location.hash);
  await page.keyboard.press('j');
  await page.waitForFunction((h) => location.hash !== h, first);
  await page.keyboard.press('k');
  await page.waitForFunction((h) => location.hash === h, first);
  await page.getByTestId('trace-link').click();
  await page.getByTestId('trace-summary').waitFor();
  assert.match(await page.getByTestId('trace-summary').textContent(), /6 decisions \(1 denied\)/);
  assert.equal(await page.locator('.timeline [data-kind="decision"]').count(), 6);
  await screenshot(page, 'traces');
});

test('an incident: a summary of the correlation id, a time axis, heartbeats behind a toggle', async () => {
  await page.goto(`${hall.url}/#/traces/${corr(1)}`);
  const summary = page.getByTestId('incident-summary');
  await summary.waitFor();
  const decisions = (await hall.api('GET', `/v1/traces/${corr(1)}`)).decisions.map((r) => r.decision);
  assert.equal(await summary.getByTestId('summary-tenants').textContent(), 'tenant.alpha');
  assert.equal(await summary.getByTestId('summary-capabilities').textContent(), 'cap.doc.summarize, cap.none');
  assert.equal(await summary.getByTestId('summary-deny-codes').textContent(), `${decisions.find((d) => d.denied).deny_reason_if_denied.code} × 1`);
  assert.match(await summary.getByTestId('summary-workers').textContent(), /wrk\.doc\.summarizer/);
  // From the first decision to the last, with the duration.
  const span = await summary.getByTestId('summary-span').textContent();
  const decisionTimes = await page.locator('.timeline [data-kind="decision"] time').allTextContents();
  assert.match(span, new RegExp(`^${decisionTimes[0].trim()} – ${decisionTimes.at(-1).trim()} \\(\\d+ (s|min)`));
  // The axis marks every decision; heartbeats are neither on it nor in the list until asked for.
  const axis = page.getByTestId('time-axis');
  assert.equal(await axis.locator('[data-kind="decision"] rect').count(), 6);
  assert.equal(await axis.locator('[data-kind="heartbeat"]').count(), 0);
  assert.equal(await page.locator('.timeline [data-kind="heartbeat"]').count(), 0);
  const beats = Number((await page.locator('label', { has: page.getByTestId('show-heartbeats') }).textContent()).match(/\((\d+)\)/)[1]);
  assert.ok(beats > 0, 'the summarizer heartbeated around the incident');
  await page.getByTestId('show-heartbeats').check();
  await page.waitForFunction(() => location.hash.includes('heartbeats=shown'));
  assert.equal(await page.locator('.timeline [data-kind="heartbeat"]').count(), beats);
  assert.equal(await axis.locator('[data-kind="heartbeat"] rect').count(), beats);
  await page.reload();
  await page.locator('.timeline [data-kind="heartbeat"]').first().waitFor();
  await page.getByTestId('show-heartbeats').uncheck();
  await page.waitForFunction(() => document.querySelectorAll('.timeline [data-kind="heartbeat"]').length === 0);
  await screenshot(page, 'incident');
});

test('issues: similar denials grouped from the ledger with count, first/last seen and trend, each opening its decisions', async () => {
  const denials = [];
  for (let i = 0; i < 4; i++) denials.push(await hall.route({ capability_id: 'cap.issue.e2e', env: 'prod', tenant_id: 'tenant.issues', correlation_id: corr(40 + i) }));
  assert.ok(denials.every((d) => d.denied));
  await page.goto(`${hall.url}/#/issues?range=1h`);
  const row = page.getByTestId('issue').filter({ hasText: 'cap.issue.e2e' });
  await row.waitFor();
  assert.equal(await row.getByTestId('issue-count').textContent(), '4');
  assert.match(await row.textContent(), new RegExp(denials[0].deny_reason_if_denied.code));
  const trend = await row.locator('svg[role="img"]').getAttribute('aria-label');
  assert.equal(trend.split(': ')[1].split(', ').map(Number).reduce((a, b) => a + b, 0), 4, trend);
  assert.equal(await row.locator('polyline').count(), 1);
  await screenshot(page, 'issues');
  await row.getByTestId('issue-decisions').click();
  await page.waitForFunction(() => location.hash.startsWith('#/decisions?'));
  const params = new URLSearchParams(await page.evaluate(() => location.hash.split('?')[1]));
  assert.equal(params.get('capability_id'), 'cap.issue.e2e');
  assert.equal(params.get('deny_code'), denials[0].deny_reason_if_denied.code);
  assert.equal(params.get('outcome'), 'denied');
  await page.waitForFunction(() => document.querySelectorAll('.drow').length === 4);
  // A later denial of the same kind counts into the issue on the next load.
  await hall.route({ capability_id: 'cap.issue.e2e', env: 'prod', tenant_id: 'tenant.issues', correlation_id: corr(44) });
  await page.goto(`${hall.url}/#/issues?range=24h`);
  await page.getByTestId('issue').filter({ hasText: 'cap.issue.e2e' }).getByTestId('issue-count').filter({ hasText: /^5$/ }).waitFor();
});

test('a worker that stops heartbeating turns stale, live, and raises an alert', async () => {
  await page.goto(`${hall.url}/#/workers`);
  const row = page.locator('tr[data-worker-id="org.acme.summarizer.i-1"]');
  await row.waitFor();
  // No more heartbeats; stale_after_s is 3.
  await row.locator('[data-health="stale"]').waitFor({ timeout: 15_000 });
  await screenshot(page, 'workers');
  await page.getByTestId('alert-badge').waitFor();
  // The hall's conformance score (wcp): the seeded record declares the Standard controls only.
  assert.match(await row.textContent(), /WCP-Standard\s*for WCP-Full: 4 missing/);
  // The incident the worker served now shows its health transition on the timeline.
  await page.goto(`${hall.url}/#/traces/${corr(1)}`);
  await page.locator('.timeline [data-kind="health"]', { hasText: 'org.acme.summarizer.i-1 went stale' }).waitFor({ timeout: 10_000 });
});

test("a worker's own page: why it is degraded, latency over time, transitions, attestation, recent decisions; the list sorts problems first", async () => {
  const id = 'org.acme.slow.i-1';
  await hall.enroll(worker(id, 'wrk.doc.ocr', ['cap.doc.ocr']));
  // Keep it fresh (stale_after_s is 3): first it says it is degraded, then it is only slow.
  let beat = { status: 'degraded', latency_ms: 40 };
  await hall.heartbeat(id, beat);
  const keepAlive = setInterval(() => hall.heartbeat(id, beat).catch(() => {}), 700);
  try {
    await page.goto(`${hall.url}/#/workers`);
    await page.locator(`tr[data-worker-id="${id}"]`).waitFor();
    // Problems first: not routed, offline, stale, degraded, then healthy.
    const RANK = { 'not routed': 0, offline: 1, stale: 2, degraded: 3, healthy: 4 };
    const states = await page.locator('tr[data-worker-id]').evaluateAll((rows) =>
      rows.map((r) => (r.querySelector('[data-testid="not-routed"]') ? 'not routed' : r.querySelector('[data-health]')?.getAttribute('data-health'))),
    );
    const ranks = states.map((s) => RANK[s]);
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), `problems first: ${states}`);
    // The re-verify control says what it does.
    const check = page.locator(`tr[data-worker-id="${id}"]`).getByRole('button', { name: 'Check package now' });
    assert.match(await check.getAttribute('title'), /Hashes the worker's package folder now/);
    await page.locator(`tr[data-worker-id="${id}"]`).getByTestId('worker-link').click();
    await page.waitForFunction((w) => location.hash === `#/workers/${encodeURIComponent(w)}`, id);
    await page.getByRole('heading', { name: id }).waitFor();
    await page.getByTestId('degraded-reason').filter({ hasText: 'reported itself degraded' }).waitFor();
    beat = { status: 'ok', latency_ms: 1500 };
    await page.getByTestId('degraded-reason').filter({ hasText: "latency (1500 ms) is above the hall's threshold of 1000 ms" }).waitFor({ timeout: 10_000 });
    await page.getByTestId('worker-transitions').locator('li', { hasText: '→ degraded' }).first().waitFor();
    assert.match(await page.getByTestId('worker-attestation').textContent(), /Not checked/);
    await page.locator('figure.chart[aria-label="Latency reported by heartbeats, ms"] canvas').waitFor();
    // Decisions routed to its species, newest first, each a link to the decision.
    await hall.route({ capability_id: 'cap.doc.ocr', tenant_id: 'tenant.slow', correlation_id: corr(50) });
    await page.reload();
    const decisions = page.getByTestId('worker-decisions').locator('li');
    await decisions.first().waitFor();
    assert.match(await decisions.first().textContent(), /cap\.doc\.ocr for tenant\.slow/);
    await screenshot(page, 'worker-page');
  } finally {
    clearInterval(keepAlive);
  }
  await page.goto(`${hall.url}/#/workers/org.nobody`);
  await page.getByTestId('worker-missing').waitFor();
});

test('a worker whose package is not signed is never shown healthy: not routed on Workers, Overview and its page', async () => {
  const id = 'org.acme.unsigned.i-1';
  // A long folder name: the verdict's message names it, and it must wrap, not widen the table.
  const pkg = mkdtempSync(join(tmpdir(), `proctor-e2e-unsigned-${'x'.repeat(160)}-`));
  writePackage(pkg, { 'main.py': "print('hi')\n" });
  await hall.enroll({ ...worker(id, 'wrk.unsigned', ['cap.unsigned']), attestation: { package_dir: pkg } });
  await hall.heartbeat(id, { status: 'ok', latency_ms: 5 });
  const listed = (await hall.api('GET', '/v1/workers')).workers.find((w) => w.worker_id === id);
  assert.equal(listed.attestation?.valid, false, JSON.stringify(listed.attestation));
  assert.equal(listed.health.state, 'healthy', 'the hall itself calls its heartbeat healthy');
  await page.goto(`${hall.url}/#/overview`);
  await page.getByTestId('health-not-routed').filter({ hasText: '1' }).waitFor();
  const healthy = Number(await page.getByTestId('health-healthy').locator('.big').textContent());
  const healthyInHall = (await hall.api('GET', '/v1/workers')).workers.filter((w) => w.health?.state === 'healthy' && w.attestation?.valid !== false).length;
  assert.equal(healthy, healthyInHall, 'the unsigned worker is not counted healthy');
  await page.goto(`${hall.url}/#/workers`);
  const row = page.locator(`tr[data-worker-id="${id}"]`);
  await row.getByTestId('not-routed').waitFor();
  assert.equal(await row.locator('[data-health="healthy"]').count(), 0);
  // Problems first: it leads the list.
  assert.equal(await page.locator('tr[data-worker-id]').first().getAttribute('data-worker-id'), id);
  await row.getByRole('button', { name: 'Check package now' }).click();
  assert.match(await row.getByTestId('verify-message').textContent(), /x{160}/);
  const fits = await page.locator('table[aria-label="Workers"]').evaluate((t) => t.scrollWidth <= t.parentElement.clientWidth + 1);
  assert.ok(fits, 'a long verdict widens the Workers table');
  await page.goto(`${hall.url}/#/workers/${id}`);
  assert.match(await page.getByTestId('worker-state').textContent(), /not routed/);
  assert.equal(await page.getByTestId('worker-state').locator('[data-health="healthy"]').count(), 0);
  assert.match(await page.getByTestId('worker-attestation').textContent(), /unsigned/);
  rmSync(pkg, { recursive: true, force: true });
});

test('enrolling from a record file: problems are listed first, a valid record is enrolled', async () => {
  await page.goto(`${hall.url}/#/workers`);
  const input = page.locator('input[type="file"]');
  await input.setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"worker_id": "../x", "capabilities": []}') });
  const problems = page.getByTestId('enroll-problems');
  await problems.waitFor();
  assert.match(await problems.textContent(), /must not contain.*worker_species_id.*capabilities/s);
  assert.equal((await hall.api('GET', '/v1/workers')).workers.some((w) => w.worker_id === '../x'), false);
  const good = worker('org.acme.filed.i-1', 'wrk.doc.filed', ['cap.doc.filed']);
  await input.setInputFiles({ name: 'good.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(good)) });
  await page.getByRole('button', { name: 'Enroll', exact: true }).click();
  await page.getByText('org.acme.filed.i-1 enrolled').waitFor();
  await page.locator('tr[data-worker-id="org.acme.filed.i-1"]').waitFor();
});

test('an acknowledged alert stays acknowledged after reload', async () => {
  await page.goto(`${hall.url}/#/alerts`);
  const alertRow = page.locator('tr[data-alert-id]', { hasText: 'org.acme.summarizer.i-1' }).first();
  await alertRow.waitFor();
  const id = await alertRow.getAttribute('data-alert-id');
  await alertRow.getByRole('button', { name: /Acknowledge/ }).click();
  await page.locator(`tr[data-alert-id="${id}"] [data-testid="acked"]`).waitFor();
  await page.reload();
  await page.locator(`tr[data-alert-id="${id}"] [data-testid="acked"]`).waitFor();
  const alerts = await hall.api('GET', '/v1/alerts');
  assert.equal(alerts.alerts.find((a) => String(a.id) === id).acked, true);
  await screenshot(page, 'alerts');
});

test('alerts: repeats for one subject grouped, links to the worker and to the denials behind a spike, bulk acknowledge', async () => {
  const id = 'org.acme.flappy.i-1';
  const settings = await hall.api('GET', '/v1/settings');
  const alertsAbout = async (kind, subject) => (await hall.api('GET', '/v1/alerts?limit=500')).alerts.filter((a) => a.kind === kind && a.subject === subject);
  await hall.enroll(worker(id, 'wrk.flappy', ['cap.flappy']));
  // Stale twice (stale_after_s is 3): two alerts about one worker; reporting again resolved the first.
  for (const n of [1, 2]) {
    await hall.heartbeat(id, { status: 'ok', latency_ms: 5 });
    await eventually(async () => (await alertsAbout('worker_stale', id)).length === n, `stale alert ${n} about ${id}`, 15_000);
  }
  // A deny-rate spike: a low bar while this test runs (back to the usual bar, the spike ends by itself).
  await hall.api('PUT', '/v1/settings/thresholds', { health: settings.health, alerts: { deny_rate_threshold: 0.5, deny_rate_window_s: 60, deny_rate_min_decisions: 3 } });
  try {
    // Denials until they outweigh whatever else the last minute held.
    await eventually(async () => {
      for (let i = 0; i < 10; i++) await hall.route({ capability_id: 'cap.spike', env: 'prod', tenant_id: 'tenant.spike', correlation_id: corr(60) });
      return (await alertsAbout('deny_rate_spike', 'hall')).length >= 1;
    }, 'a deny-rate spike alert', 30_000);
    await groupedAndAcked(id, alertsAbout);
  } finally {
    await hall.api('PUT', '/v1/settings/thresholds', { health: settings.health, alerts: settings.alerts });
  }
});

/** The Alerts screen's part of the test above, while the spike lasts. */
async function groupedAndAcked(id, alertsAbout) {
  await page.goto(`${hall.url}/#/alerts`);
  const flappy = page.getByTestId('alert-group').filter({ hasText: id });
  await flappy.waitFor();
  assert.equal(await flappy.count(), 1, 'one row for the repeats');
  assert.equal((await flappy.getByTestId('alert-repeats').locator('summary').textContent()).trim(), '2 times, 1 open');
  assert.equal(await flappy.getByTestId('alert-link').getAttribute('href'), `#/workers/${id}`);
  const spike = page.getByTestId('alert-group').filter({ hasText: 'deny_rate_spike' });
  await spike.getByTestId('alert-link').click();
  await page.waitForFunction(() => location.hash.startsWith('#/decisions?') && location.hash.includes('outcome=denied'));
  await page.locator('.drow', { hasText: 'cap.spike' }).first().waitFor();
  // Bulk: both groups at once.
  await page.goto(`${hall.url}/#/alerts`);
  await flappy.getByRole('checkbox').check();
  await spike.getByRole('checkbox').check();
  const open = (await alertsAbout('worker_stale', id)).filter((a) => a.open).length + (await alertsAbout('deny_rate_spike', 'hall')).filter((a) => a.open).length;
  assert.equal((await page.getByTestId('ack-selected').textContent()).trim(), `Acknowledge selected (${open})`);
  await screenshot(page, 'alerts-grouped');
  await page.getByTestId('ack-selected').click();
  await flappy.getByTestId('acked').waitFor();
  await spike.getByTestId('acked').waitFor();
  assert.ok([...(await alertsAbout('worker_stale', id)), ...(await alertsAbout('deny_rate_spike', 'hall'))].every((a) => !a.open));
}

test('the tab title names the screen and the open alerts; / focuses the decision search from any screen', async () => {
  await page.goto(`${hall.url}/#/workers`);
  await page.locator('tr[data-worker-id]').first().waitFor();
  const open = (await hall.api('GET', '/v1/alerts?open=true')).alerts.length;
  const alerts = open === 0 ? '' : ` · ${open} open alert${open === 1 ? '' : 's'}`;
  await page.waitForFunction((t) => document.title === t, `Workers${alerts} — Proctor`);
  for (const screen of ['workers', 'alerts', 'settings', 'ledger']) {
    await page.goto(`${hall.url}/#/${screen}`);
    await page.locator('main h2').first().waitFor();
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('/');
    await page.waitForFunction(() => document.activeElement?.id === 'decision-search', null, { timeout: 3000 });
    assert.match(await page.title(), /^Decisions/, screen);
  }
});

test('settings: a refused threshold is shown at its field and never as saved', async () => {
  await page.goto(`${hall.url}/#/settings`);
  const offline = page.getByTestId('threshold-offline_after_s');
  await offline.waitFor();
  const before = await offline.inputValue();
  const save = page.getByRole('button', { name: 'Save thresholds' });
  // Blank: caught before sending.
  await offline.fill('');
  await save.click();
  await page.getByTestId('field-error-offline_after_s').filter({ hasText: 'A number is required.' }).waitFor();
  assert.equal(await offline.getAttribute('aria-invalid'), 'true');
  // Refused by the hall (offline before stale): at both fields it names, and no "saved".
  await offline.fill('1');
  await save.click();
  await page.getByTestId('field-error-offline_after_s').filter({ hasText: /stale_after_s < offline_after_s/ }).waitFor();
  await page.getByTestId('field-error-stale_after_s').waitFor();
  assert.equal(await page.getByText(/saved/i).count(), 0, 'a failed save shows "saved"');
  // A good value saves, and the errors go.
  await offline.fill(before);
  await save.click();
  await page.getByText('Thresholds saved to the hall config.').waitFor();
  assert.equal(await page.locator('[data-testid^="field-error-"]').count(), 0);
  // And a failed save after a good one takes the "saved" away.
  await offline.fill('1');
  await save.click();
  await page.getByTestId('field-error-offline_after_s').waitFor();
  assert.equal(await page.getByText(/saved/i).count(), 0);
  await offline.fill(before);
  await save.click();
  await page.getByText('Thresholds saved to the hall config.').waitFor();
});

test('a 1024×700 window keeps Decisions usable: the list, the filters and the detail all fit', async () => {
  await page.setViewportSize({ width: 1024, height: 700 });
  try {
    await page.goto(`${hall.url}/#/decisions`);
    await page.locator('.drow').first().waitFor();
    const id = await page.locator('.drow').first().getAttribute('data-decision-id');
    await page.locator('.drow').first().click();
    await page.getByTestId('decision-detail').waitFor();
    const list = await page.getByRole('listbox', { name: 'Decisions' }).boundingBox();
    assert.ok(list.height >= 8 * 30, `the list shows ${Math.floor(list.height / 30)} rows`);
    assert.ok(list.y + list.height <= 700, 'the list runs below the window');
    const pane = await page.locator('aside.pane').boundingBox();
    assert.ok(pane.y < 700 && pane.width >= 300, `detail pane at ${JSON.stringify(pane)}`);
    const tenant = await page.locator(`.drow[data-decision-id="${id}"] [data-col="tenant"]`).boundingBox();
    assert.ok(tenant.width >= 70, `the tenant column is ${tenant.width} px wide`);
    assert.equal(await page.locator('main').evaluate((m) => m.scrollWidth <= m.clientWidth), true, 'the screen scrolls sideways');
    await screenshot(page, 'decisions-1024x700');
  } finally {
    await page.setViewportSize({ width: 1400, height: 900 });
  }
});

test('attest: a package is hashed and verified by hand; a tampered one shows the tamper verdict', async () => {
  const pkg = mkdtempSync(join(tmpdir(), 'proctor-pkg-'));
  try {
    writePackage(pkg, { 'code/worker.py': 'print("hi")\n', 'requirements.lock': 'x==1\n' });
    const expected = await hall.api('POST', '/v1/attest/hash', { path: pkg });
    hall.cli('keys', 'new', '--namespace', 'org.acme');
    await page.goto(`${hall.url}/#/attest`);
    await page.getByTestId('attest-path').fill(pkg);
    await page.getByRole('button', { name: 'Compute hash' }).click();
    await page.getByTestId('attest-hash').getByText(expected.package_hash).waitFor();
    // Sign with a fresh namespace key, then verify: valid.
    await page.getByTestId('attest-worker-id').fill('org.acme.pkg.i-1');
    await page.getByTestId('attest-species-id').fill('wrk.doc.pkg');
    await page.getByRole('button', { name: /^Sign/ }).click();
    await page.getByTestId('attest-signed').waitFor();
    await page.getByRole('button', { name: 'Verify against trust store' }).click();
    await page.getByTestId('attest-verdict').getByRole('heading', { name: 'Verified' }).waitFor();
    // Tamper with a file: the verdict names ATTEST_HASH_MISMATCH and says so in words.
    writeFileSync(join(pkg, 'code/worker.py'), 'print("pwned")\n');
    await page.getByRole('button', { name: 'Verify against trust store' }).click();
    await page.getByTestId('attest-verdict').getByRole('heading', { name: 'Tampered' }).waitFor();
    assert.equal(await page.getByTestId('attest-code').textContent(), 'ATTEST_HASH_MISMATCH');
    await screenshot(page, 'attest');
  } finally {
    rmSync(pkg, { recursive: true, force: true });
  }
});

test('ledger integrity is shown and a full verification runs', async () => {
  await page.goto(`${hall.url}/#/ledger`);
  await page.getByTestId('ledger-status').getByText('Chain intact', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Run full verification' }).click();
  await page.getByText('every record re-hashed').waitFor();
  await screenshot(page, 'ledger');
});

test('an XSS payload in tenant and capability ids renders as text', async () => {
  const tenant = '<img src=x onerror="window.__xss=1">';
  const capability = '<script>window.__xss=2</script>';
  const routed = await hall.route({ capability_id: capability, tenant_id: tenant, correlation_id: corr(4) });
  await page.goto(`${hall.url}/#/decisions/${routed.decision_id}`);
  await page.locator(`[data-decision-id="${routed.decision_id}"]`).waitFor();
  assert.equal(await page.locator(`[data-decision-id="${routed.decision_id}"] [data-col="tenant"]`).textContent(), tenant);
  assert.equal(await page.getByTestId('detail-tenant').textContent(), tenant);
  assert.equal(await page.getByTestId('detail-capability').textContent(), capability);
  assert.equal(await page.locator('main img').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
});

// ------------------------------------------------------------------ MCP gateway
// The fixture MCP server (crates/hall/examples/mcp_fixture.rs) enrolled as a worker, with a rules
// file written while the hall runs (hot reload); calls come from the official TypeScript SDK's
// client over Streamable HTTP on /mcp, as an agent's would.
const MCP_WORKER = 'org.e2e.mcp';
const MCP_RULES = [
  { rule_id: 'rr_e2e_tools', match: { capability_id: 'cap.e2e.tools' }, decision: { candidate_workers_ranked: [{ worker_species_id: 'wrk.e2e.mcp' }] } },
  {
    rule_id: 'rr_e2e_gated', match: { capability_id: 'cap.e2e.gated' },
    decision: { candidate_workers_ranked: [{ worker_species_id: 'wrk.e2e.mcp' }], escalation: { policy_gate: true, rationale: 'a person looks first' } },
  },
];
let mcpReady = null;
let mcpClient = null;
/** Enrolls the MCP worker, routes its capabilities and connects a client (once). */
function mcpSetup() {
  mcpReady ??= (async () => {
    await hall.enroll({
      ...worker(MCP_WORKER, 'wrk.e2e.mcp', ['cap.e2e.tools', 'cap.e2e.gated']),
      mcp: { command: MCP_FIXTURE, tools: { echo: 'cap.e2e.tools', add: 'cap.e2e.tools', delete_everything: 'cap.e2e.gated' } },
    });
    // Before the catch-all rr_any, which would otherwise shadow them.
    writeFileSync(join(hall.dataDir, 'rules.json'), JSON.stringify({ rules: [...MCP_RULES, ...RULES.rules] }, null, 2));
    await eventually(async () => {
      const probe = await hall.route({ capability_id: 'cap.e2e.tools', tenant_id: 'tenant.probe', correlation_id: 'e2e-rules-probe', dry_run: true });
      return probe.matched_rule_id === 'rr_e2e_tools';
    }, 'the hall to load the MCP rules');
    const { Client } = requireUi('@modelcontextprotocol/sdk/client/index.js');
    const { StreamableHTTPClientTransport } = requireUi('@modelcontextprotocol/sdk/client/streamableHttp.js');
    mcpClient = new Client({ name: 'proctor-e2e', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${hall.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${hall.token}` } },
    });
    await mcpClient.connect(transport);
    return mcpClient;
  })();
  return mcpReady;
}
const textOf = (result) => result.content.filter((c) => c.type === 'text').map((c) => c.text).join('');

test('MCP: the enrolled server is ready with its tools, and a call shows in recent calls', async () => {
  await page.goto(`${hall.url}/#/mcp`);
  const client = await mcpSetup();
  const server = page.locator(`article[data-server-id="${MCP_WORKER}"]`);
  await server.waitFor();
  // Listing tools starts the server; the client sees the mapped tools only.
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), ['add', 'delete_everything', 'echo']);
  await server.locator('[data-testid="server-state"][data-state="ready"]').waitFor({ timeout: 15_000 });
  for (const [tool, cap] of [['echo', 'cap.e2e.tools'], ['add', 'cap.e2e.tools'], ['delete_everything', 'cap.e2e.gated']]) {
    assert.match(await server.locator(`tr[data-tool="${tool}"]`).textContent(), new RegExp(cap.replaceAll('.', '\\.')));
  }
  const hidden = await server.getByTestId('unmapped-tools').locator('code').allTextContents();
  assert.deepEqual(hidden.sort(), ['crash', 'fail', 'flood', 'reject', 'sleep']);
  assert.match(await server.getByTestId('server-command').textContent(), /mcp_fixture/);

  // An allowed call, answered by the server and shown live with its outcome.
  const result = await client.callTool({ name: 'echo', arguments: { text: 'hello from e2e' } });
  assert.notEqual(result.isError, true, textOf(result));
  assert.equal(textOf(result), 'hello from e2e');
  const decisionId = result._meta?.proctor?.decision_id;
  assert.ok(decisionId, 'the result carries its decision id');
  const row = page.locator('[data-testid="call-row"][data-tool="echo"]').first();
  await row.waitFor();
  assert.equal(await row.getByTestId('call-outcome').textContent(), 'ok');
  assert.match(await row.textContent(), new RegExp(`${MCP_WORKER}.*\\d+(\\.\\d+)? (ms|s)`));
  assert.match(await row.getByTestId('call-decision').getAttribute('href'), new RegExp(decisionId));
  // The session, with its call counted (the overview refreshes on the call's event).
  const session = page.locator('tr[data-session-id]', { hasText: 'proctor-e2e' });
  await session.getByTestId('session-calls').filter({ hasText: /^1$/ }).waitFor();

  // Filtering by tool asks the hall's audit trail.
  await page.getByTestId('calls-tool-filter').selectOption('add');
  await page.getByTestId('calls-empty').filter({ hasText: 'No call matches this filter.' }).waitFor();
  await page.getByTestId('calls-tool-filter').selectOption('echo');
  await page.locator('[data-testid="call-row"][data-tool="echo"]').first().waitFor();
  assert.equal(await page.locator('[data-testid="call-row"]:not([data-tool="echo"])').count(), 0);
  await page.getByTestId('calls-tool-filter').selectOption('');

  // Client configuration: the data dir, this hall's /mcp URL, the token's file but never the token.
  const settings = await hall.api('GET', '/v1/settings');
  const claude = JSON.parse(await page.getByTestId('snippet-claude').locator('pre').textContent());
  assert.deepEqual(claude, { mcpServers: { proctor: { command: 'proctor', args: ['mcp', '--data-dir', settings.data_dir] } } });
  const vscode = JSON.parse(await page.getByTestId('snippet-vscode').locator('pre').textContent());
  assert.equal(vscode.servers.proctor.type, 'stdio');
  assert.equal(await page.getByTestId('snippet-url').locator('pre').textContent(), `${hall.url}/mcp`);
  assert.match(await page.getByTestId('snippet-header').locator('pre').textContent(), /^Authorization: Bearer <the token in .*api-token>$/);
  assert.ok(!(await page.content()).includes(hall.token), 'the API token is on the page');
  await screenshot(page, 'mcp');

  // The MCP server's own page charts the latency of its calls.
  await page.goto(`${hall.url}/#/workers/${MCP_WORKER}`);
  await page.locator('figure.chart[aria-label="Latency of its MCP calls, ms"] canvas').waitFor();
});

test('MCP: a held call waits on the Approvals screen; Approve runs it and the decision shows the verdict and outcome', async () => {
  const client = await mcpSetup();
  await page.goto(`${hall.url}/#/overview`);
  await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();
  let settled = null;
  const held = client
    .callTool({ name: 'delete_everything', arguments: { really: true, path: '/srv/e2e' } }, undefined, { timeout: 120_000 })
    .then((r) => (settled = { result: r }), (e) => (settled = { error: e }));
  // The badge counts it, live, from any screen.
  await page.getByTestId('approval-badge').filter({ hasText: /^1$/ }).waitFor();
  assert.match(await page.title(), /^\(1\) Overview( · \d+ open alerts?)? — Proctor$/);
  await page.locator('a[data-nav="approvals"]').click();
  const card = page.locator('article[data-approval-id]');
  await card.waitFor();
  assert.equal(await card.count(), 1);
  assert.equal(await card.getByTestId('approval-tool').textContent(), 'delete_everything');
  assert.equal(await card.getByTestId('approval-server').textContent(), MCP_WORKER);
  assert.equal(await card.getByTestId('approval-code').textContent(), 'DENY_REQUIRES_HUMAN_APPROVAL');
  assert.deepEqual(JSON.parse(await card.getByTestId('approval-arguments').textContent()), { really: true, path: '/srv/e2e' });
  assert.match(await card.getByTestId('approval-countdown').textContent(), /expires in \d+:\d\d/);
  assert.match(await card.textContent(), /proctor-e2e/);
  const decisionHref = await card.getByTestId('approval-decision').getAttribute('href');
  const traceHref = await card.getByTestId('approval-trace').getAttribute('href');
  assert.equal(settled, null, 'the call was answered before a verdict');
  await screenshot(page, 'approvals');

  await card.getByTestId('approval-note').fill('looks fine (e2e)');
  await card.getByRole('button', { name: 'Approve the delete_everything call' }).click();
  await held;
  assert.ok(settled.result, `the held call failed: ${settled.error}`);
  assert.notEqual(settled.result.isError, true, textOf(settled.result));
  assert.equal(textOf(settled.result), 'everything deleted');
  await page.getByTestId('approval-notice').filter({ hasText: 'Approved: delete_everything' }).waitFor();
  await page.getByTestId('approvals-empty').waitFor();
  await page.getByTestId('approval-badge').waitFor({ state: 'detached' });
  const endedRow = page.locator('table[aria-label="Ended approvals"] tr[data-approval-id]').first();
  assert.equal(await endedRow.getByTestId('approval-state').textContent(), 'approved');
  assert.equal(await endedRow.getByTestId('approval-by').textContent(), 'web UI');
  assert.equal(await endedRow.getByTestId('approval-verdict-note').textContent(), 'looks fine (e2e)');
  assert.match(await page.title(), /^Approvals( · \d+ open alerts?)? — Proctor$/);

  // The decision (denied, as the reference makes it) with the verdict and the call's outcome.
  await page.goto(`${hall.url}/${decisionHref}`);
  const detail = page.getByTestId('decision-detail');
  await detail.getByTestId('linked-call-outcome').filter({ hasText: 'ok' }).waitFor();
  assert.equal(await detail.getByTestId('linked-approval-state').textContent(), 'approved');
  assert.equal(await detail.getByTestId('linked-approval-by').textContent(), 'web UI');
  assert.equal(await detail.getByTestId('linked-approval-note').textContent(), 'looks fine (e2e)');
  assert.equal(await detail.getByTestId('linked-call-tool').textContent(), 'delete_everything');
  assert.equal(await detail.getByTestId('linked-call-server').textContent(), MCP_WORKER);
  assert.deepEqual(JSON.parse(await detail.getByTestId('linked-call-arguments').textContent()), { really: true, path: '/srv/e2e' });
  assert.match(await detail.textContent(), /DENY_REQUIRES_HUMAN_APPROVAL/);
  await screenshot(page, 'decision-mcp');

  // The trace of the session: the decision, the approval and the call.
  await page.goto(`${hall.url}/${traceHref}`);
  await page.locator('.timeline [data-kind="approval"]', { hasText: 'approved' }).waitFor();
  await page.locator('.timeline [data-kind="mcp_call"]', { hasText: 'delete_everything' }).waitFor();
  assert.match(await page.getByTestId('trace-summary').textContent(), /MCP calls?, 1 approval/);
  await screenshot(page, 'traces-mcp');
});

test('MCP: a verdict that comes second says the call was already decided', async () => {
  const client = await mcpSetup();
  await page.goto(`${hall.url}/#/approvals`);
  let settled = null;
  const held = client
    .callTool({ name: 'delete_everything', arguments: { second: true } }, undefined, { timeout: 120_000 })
    .then((r) => (settled = { result: r }), (e) => (settled = { error: e }));
  const card = page.locator('article[data-approval-id]');
  await card.waitFor();
  const id = await card.getAttribute('data-approval-id');
  // Someone else (the CLI, another window) denies it just before this page's verdict arrives.
  await page.route('**/v1/approvals/*', async (route) => {
    await hall.api('POST', `/v1/approvals/${encodeURIComponent(id)}`, { verdict: 'deny', note: 'not today', by: 'someone else' });
    await route.continue();
  });
  try {
    await card.getByRole('button', { name: 'Approve the delete_everything call' }).click();
    await page.getByTestId('approval-notice').filter({ hasText: /already decided or ended.*already ended: denied/ }).waitFor();
  } finally {
    await page.unroute('**/v1/approvals/*');
  }
  await held;
  assert.equal(settled.result?.isError, true);
  assert.match(textOf(settled.result), /^DENY_REQUIRES_HUMAN_APPROVAL: denied by someone else: not today/);
  const row = page.locator(`table[aria-label="Ended approvals"] tr[data-approval-id="${id}"]`);
  await row.getByTestId('approval-state').filter({ hasText: 'denied' }).waitFor();
  assert.equal(await row.getByTestId('approval-by').textContent(), 'someone else');
  await page.getByTestId('approvals-empty').waitFor();
});

// ------------------------------------------------------------------ MCP onboarding (import)
// A second hall whose HOME holds a Cursor configuration with three servers: one on stdio with a
// secret in its env, one over HTTP, one legacy SSE entry the import skips. The screen plans the
// import, one server is chosen and put behind the hall: its record, its rule, the rewritten client
// file and its backup, and the secret nowhere in the hall's data dir.
const IMPORT_SECRET = 'ghp_xE2eImportSecret0123456789';

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir, needle) {
  const hits = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) hits.push(...filesContaining(path, needle));
    else if (st.isFile() && readFileSync(path).includes(needle)) hits.push(path);
  }
  return hits;
}

test('a policy-gate denial after its rule matched is explained as such, not as "before a rule matched"', async () => {
  await mcpSetup();
  const routed = await hall.route({ capability_id: 'cap.e2e.gated', tenant_id: 'tenant.gate-deny', correlation_id: corr(9) });
  assert.equal(routed.deny_reason_if_denied?.code, 'DENY_POLICY_GATE');
  assert.equal(routed.matched_rule_id, 'rr_e2e_gated');
  await page.goto(`${hall.url}/#/decisions/${routed.decision_id}`);
  const why = page.getByTestId('decision-detail').getByTestId('candidates-explained');
  await why.waitFor();
  assert.equal(await why.textContent(), 'No candidates were considered: rule rr_e2e_gated matched, then the policy gate denied it (DENY_POLICY_GATE) before a worker was chosen.');
  // And a request no rule matches still says so.
  const unmatched = await hall.route({ capability_id: 'cap.none', env: 'prod', tenant_id: 'tenant.alpha', correlation_id: corr(9) });
  await page.goto(`${hall.url}/#/decisions/${unmatched.decision_id}`);
  await page.getByTestId('candidates-explained').filter({ hasText: 'denied before any rule matched (DENY_NO_MATCHING_RULE)' }).waitFor();
});

test('MCP import: the servers Cursor already runs are planned, one is put behind the hall, the secret stays out', async () => {
  const home = mkdtempSync(join(tmpdir(), 'proctor-e2e-home-'));
  mkdirSync(join(home, '.cursor'));
  const cursorFile = join(home, '.cursor', 'mcp.json');
  writeFileSync(cursorFile, JSON.stringify({
    mcpServers: {
      github: { command: MCP_FIXTURE, args: ['--stdio'], env: { GITHUB_TOKEN: IMPORT_SECRET, LOG_LEVEL: 'info' } },
      remote: { url: 'https://tools.example/mcp', headers: { Authorization: 'Bearer e2e-remote-secret' } },
      legacy: { type: 'sse', url: 'https://old.example/sse' },
    },
  }, null, 2));
  const other = await Hall.start({ home });
  try {
    // This hall is another origin: its UI stores its own token.
    await page.goto(`${other.url}/#/settings`);
    await page.evaluate((token) => localStorage.setItem('proctor.prefs.v1', JSON.stringify({ hallUrl: '', token, theme: 'system', notifications: false })), other.token);
    await page.goto(`${other.url}/#/mcp`);
    await page.reload();
    // No MCP worker yet: the empty state leads to the import.
    await page.getByTestId('mcp-empty').waitFor();
    await page.getByTestId('mcp-empty-import').click();
    await page.waitForFunction(() => location.hash === '#/mcp/import');
    await page.getByRole('heading', { name: 'Bring your MCP servers' }).waitFor();

    const file = page.locator(`[data-import-file="${cursorFile}"]`);
    await file.waitFor();
    assert.match(await file.getByRole('heading').textContent(), /Cursor/);
    const github = file.locator('[data-import-server="github"]');
    const remote = file.locator('[data-import-server="remote"]');
    const legacy = file.locator('[data-import-server="legacy"]');
    // Both servers can be chosen; the SSE one is skipped with its reason.
    const chooseGithub = page.getByRole('checkbox', { name: 'Put github behind Proctor' });
    const chooseRemote = page.getByRole('checkbox', { name: 'Put remote behind Proctor' });
    assert.equal(await chooseGithub.isChecked(), false);
    assert.equal(await chooseRemote.isChecked(), false);
    assert.equal(await legacy.getByRole('checkbox').count(), 0);
    assert.equal(await legacy.getByTestId('import-status').textContent(), 'skipped');
    assert.match(await legacy.getByTestId('import-reason').textContent(), /SSE/);
    // What each would become: record, capability, the tool map to review, the secret as a reference.
    assert.equal(await github.getByTestId('import-worker-id').textContent(), 'mcp.github');
    assert.equal(await github.getByTestId('import-capability').textContent(), 'cap.mcp.github');
    assert.deepEqual(JSON.parse(await github.getByTestId('import-tools').textContent()), { '*': 'cap.mcp.github' });
    assert.match(await github.getByTestId('import-command').textContent(), /mcp_fixture --stdio$/);
    assert.match(await github.getByTestId('import-references').textContent(), /mcp\.env\.GITHUB_TOKEN becomes \$GITHUB_TOKEN/);
    assert.equal(await remote.getByTestId('import-worker-id').textContent(), 'mcp.remote');
    assert.match(await remote.getByTestId('import-references').textContent(), /mcp\.headers\.Authorization becomes \$REMOTE_AUTHORIZATION/);
    const dataDir = realpathSync(other.dataDir);
    assert.match(await page.getByTestId('import-bridge').textContent(), new RegExp(`proctor mcp --data-dir ${dataDir.replaceAll('.', '\\.')}$`));

    // Choose one: the summary follows the choice.
    const apply = page.getByRole('button', { name: 'Put behind Proctor' });
    assert.equal(await apply.isDisabled(), true);
    await chooseGithub.check();
    const summary = page.getByTestId('import-summary');
    assert.match(await summary.getByTestId('import-env-needed').textContent(), /\$GITHUB_TOKEN.*mcp\.github/);
    assert.doesNotMatch(await summary.textContent(), /REMOTE_AUTHORIZATION|mcp\.remote/);
    const content = await page.content();
    assert.ok(!content.includes(IMPORT_SECRET) && !content.includes('e2e-remote-secret'), 'a secret value is on the page');
    await screenshot(page, 'mcp-import');

    // A file that changed between the plan and the import (409) is reported at that file.
    await page.route('**/v1/mcp/import', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify({ error: { code: 'CONFLICT', message: `${cursorFile}: changed since the import was planned; plan it again` } }) })
        : route.continue());
    try {
      await apply.click();
      const conflict = file.getByTestId('import-file-error');
      await conflict.waitFor();
      assert.match(await conflict.textContent(), /changed since the import was planned/);
      assert.equal(await page.getByTestId('import-apply-error').count(), 0);
    } finally {
      await page.unroute('**/v1/mcp/import');
    }
    await file.getByRole('button', { name: 'Plan again' }).click();
    await file.getByTestId('import-file-error').waitFor({ state: 'detached' });
    assert.equal(await chooseGithub.isChecked(), true, 'the choice survives planning again');

    // Put it behind Proctor: what was written, and the reminder to restart the client.
    await apply.click();
    const done = page.getByTestId('import-result');
    await done.waitFor();
    const record = join(dataDir, 'registry', 'mcp.github.json');
    assert.equal((await done.getByTestId('import-records-written').textContent()).trim(), record);
    assert.match(await done.getByTestId('import-rules-added').textContent(), /mcp\.github/);
    const backup = (await done.getByTestId('import-backup').textContent()).trim();
    assert.ok(backup.startsWith(`${cursorFile}.proctor-backup-`), backup);
    assert.match(await done.getByTestId('import-restart').textContent(), /Restart Cursor so it launches proctor mcp/);
    // The fresh plan: github is gone from the file, the proctor entry is there, remote still waits.
    await file.locator('[data-import-server="proctor"][data-status="already_proctor"]').waitFor();
    assert.equal(await file.locator('[data-import-server="github"]').count(), 0);
    assert.equal(await chooseRemote.isChecked(), false);
    await screenshot(page, 'mcp-import-done');

    // The hall runs the new MCP worker (hot reload), and the MCP screen shows it.
    await eventually(async () => (await other.api('GET', '/v1/mcp')).servers.some((s) => s.worker_id === 'mcp.github'), 'the hall to list mcp.github');
    const mcp = await other.api('GET', '/v1/mcp');
    const listed = mcp.servers.find((s) => s.worker_id === 'mcp.github');
    assert.equal(listed.env.GITHUB_TOKEN, '$GITHUB_TOKEN');
    await page.goto(`${other.url}/#/mcp`);
    await page.locator('article[data-server-id="mcp.github"]').waitFor();
    const rules = JSON.parse(readFileSync(join(other.dataDir, 'rules.json'), 'utf8')).rules;
    assert.ok(rules.some((r) => r.rule_id === 'mcp.github' && r.match.capability_id === 'cap.mcp.github'), 'the routing rule was added');

    // The client file: github replaced by one proctor entry launching `proctor mcp --data-dir D`.
    const rewritten = JSON.parse(readFileSync(cursorFile, 'utf8')).mcpServers;
    assert.deepEqual(Object.keys(rewritten), ['proctor', 'remote', 'legacy']);
    assert.deepEqual(rewritten.proctor.args, ['mcp', '--data-dir', dataDir]);
    assert.match(rewritten.proctor.command, /\/proctor$/);
    assert.ok(existsSync(backup), `no backup at ${backup}`);
    assert.ok(readFileSync(backup, 'utf8').includes(IMPORT_SECRET), 'the backup keeps the original file');

    // The record holds a reference, and the secret is in no file of the hall's data dir.
    assert.equal(JSON.parse(readFileSync(record, 'utf8')).mcp.env.GITHUB_TOKEN, '$GITHUB_TOKEN');
    assert.deepEqual(filesContaining(other.dataDir, IMPORT_SECRET), []);
  } finally {
    await other.stop();
    rmSync(home, { recursive: true, force: true });
  }
});

// The live list's memory bound, end to end: LIVE_ROW_CAP (ui/src/lib/rows.ts, read from the source
// so the test follows the constant) is reached by decisions routed while the screen is open.
const LIVE_ROW_CAP = Number(readFileSync(join(ROOT, 'ui/src/lib/rows.ts'), 'utf8').match(/LIVE_ROW_CAP = ([\d_]+);/)[1].replaceAll('_', ''));

/** Routes `n` decisions with `inFlight` requests at a time; returns the receipts' ledger seqs by decision id. */
async function routeMany(n, input, inFlight = 24) {
  const routed = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, async () => {
    while (next < n) {
      next++;
      const r = await hall.route(input);
      routed.push({ id: r.decision_id, seq: r.evidence_receipt.ledger_seq });
    }
  }));
  return routed;
}

test('live mode keeps the newest LIVE_ROW_CAP rows, says so, and pages back through the whole ledger', async () => {
  await page.goto(`${hall.url}/#/decisions`);
  await page.locator('.drow').first().waitFor();
  const rowCount = page.getByTestId('row-count');
  const shownNow = async () => Number((await rowCount.textContent()).match(/^(\d+) shown/)[1]);
  const topRow = async () => page.locator('.drow').first().getAttribute('data-decision-id');
  const before = await shownNow();
  assert.ok(before < LIVE_ROW_CAP, `the list starts with ${before} rows`);
  assert.equal(await page.getByTestId('live-cap-note').count(), 0, 'the cap note shows before the cap is reached');

  // Seed past the cap in chunks, waiting for the screen to show each chunk: the hall's event
  // buffer is 1,024 and a subscriber further behind is cut off (lagged), which reloads the list.
  const total = LIVE_ROW_CAP - before + 50;
  const input = { capability_id: 'cap.doc.summarize', tenant_id: 'tenant.bulk', correlation_id: corr(6) };
  let newest = null;
  for (let sent = 0; sent < total; ) {
    const chunk = await routeMany(Math.min(500, total - sent), input);
    sent += chunk.length;
    for (const r of chunk) if (!newest || r.seq > newest.seq) newest = r;
    await page.locator(`.drow[data-decision-id="${newest.id}"]`).waitFor({ timeout: 10_000 });
    await rowCount.filter({ hasText: new RegExp(`^${Math.min(before + sent, LIVE_ROW_CAP)} shown`) }).waitFor({ timeout: 10_000 });
  }
  assert.equal(await page.getByTestId('missed-events').count(), 0, 'the stream lagged and the list reloaded');

  // At the cap: the note says so, the list holds exactly the cap, newest first, and no paging.
  const note = page.getByTestId('live-cap-note');
  await note.waitFor();
  const capText = await page.evaluate((n) => new Intl.NumberFormat().format(n), LIVE_ROW_CAP);
  assert.match(await note.textContent(), new RegExp(`Live mode shows the newest ${capText} decisions; older ones stay in the ledger\\.`));
  assert.equal((await rowCount.textContent()).trim(), `${LIVE_ROW_CAP} shown`);
  assert.equal(await topRow(), newest.id);
  await screenshot(page, 'decisions-live-cap');

  // The note's button pauses live mode and reloads from the newest page, with a cursor again ...
  await note.getByRole('button', { name: 'Pause and page back through history' }).click();
  await note.waitFor({ state: 'hidden' });
  await page.getByTestId('live-toggle').filter({ hasText: 'Resume live' }).waitFor();
  await rowCount.filter({ hasText: /^\d+ shown, more on scroll$/ }).waitFor();
  assert.ok((await shownNow()) < LIVE_ROW_CAP);
  assert.equal(await topRow(), newest.id);

  // ... so scrolling pages back past the cap to the first decision of the ledger.
  const ledgerTotal = (await hall.api('GET', '/v1/stats')).decisions_total;
  assert.ok(ledgerTotal > LIVE_ROW_CAP);
  const first = (await hall.api('GET', `/v1/decisions?correlation_id=${corr(1)}`)).decisions.at(-1);
  assert.equal(first.seq, 1, 'the seed routed the ledger\'s first decision under corr(1)');
  const list = page.getByRole('listbox', { name: 'Decisions' });
  while (/more on scroll/.test(await rowCount.textContent())) {
    const n = await shownNow();
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForFunction(
      (n) => { const t = document.querySelector('[data-testid="row-count"]').textContent; return !t.startsWith(`${n} shown`); },
      n, { timeout: 5000 },
    );
  }
  assert.equal(await shownNow(), ledgerTotal);
  await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await page.locator(`.drow[data-decision-id="${first.decision.decision_id}"]`).waitFor();
  assert.equal(await page.locator('.drow').last().getAttribute('data-decision-id'), first.decision.decision_id);

  // Resume: the decision routed while paused goes on top, and the list is bounded by the cap again.
  const late = await hall.route({ ...input, tenant_id: 'tenant.late' });
  await page.getByTestId('live-toggle').filter({ hasText: 'Resume live (1 new)' }).click();
  await page.getByTestId('live-toggle').filter({ hasText: 'Pause live' }).waitFor();
  await rowCount.filter({ hasText: new RegExp(`^${LIVE_ROW_CAP} shown$`) }).waitFor();
  await note.waitFor();
  await list.evaluate((el) => (el.scrollTop = 0));
  await page.locator(`.drow[data-decision-id="${late.decision_id}"]`).waitFor();
  assert.equal(await topRow(), late.decision_id);
});

/** Routes decisions until the ledger holds at least `n` (the tests below need a deep ledger when run alone). */
async function ledgerAtLeast(n) {
  const total = (await hall.api('GET', '/v1/stats?bucket_s=86400')).decisions_total;
  if (total < n) await routeMany(n - total, { capability_id: 'cap.doc.summarize', tenant_id: 'tenant.bulk', correlation_id: corr(7) });
}

/** The Overview chart's buckets as its table shows them, once loaded: `[{start, decisions, denied}]`. */
async function chartTable(rows = null) {
  await page.locator('[data-testid="rate-charts"]:not(.loading)').waitFor();
  const table = page.getByTestId('rate-table');
  if (!(await table.isVisible())) await page.getByText('Show the numbers').click();
  await table.locator('tbody tr').first().waitFor();
  if (rows !== null) await page.waitForFunction((n) => document.querySelectorAll('[data-testid="rate-table"] tbody tr').length === n, rows);
  return table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => ({
    start: Number(r.dataset.start), decisions: Number(r.dataset.decisions), denied: Number(r.dataset.denied),
  })));
}

test('overview charts count every decision of the ledger, per range, zoom and a click opens that minute', async () => {
  await page.goto(`${hall.url}/#/decisions`);
  await ledgerAtLeast(2_400);
  // A fresh load: the chart comes from the ledger's buckets (more than the 2,000 newest decisions).
  await page.goto(`${hall.url}/#/overview?range=1h`);
  await page.reload();
  await page.getByTestId('rate-charts').and(page.locator('[data-bucket-s="60"]')).waitFor();
  await page.getByTestId('chart-loading').waitFor({ state: 'detached' });
  const shown = await chartTable(60);
  const from = shown[0].start;
  const until = shown.at(-1).start + 60;
  const stats = await hall.api('GET', `/v1/stats?since=${new Date(from * 1000).toISOString()}&until=${new Date(until * 1000).toISOString()}`);
  const sum = (rows) => rows.reduce((n, b) => n + b.decisions, 0);
  assert.ok(stats.decisions_total > 2_000, `the last hour holds ${stats.decisions_total} decisions`);
  assert.equal(sum(shown), stats.decisions_total);
  for (const b of stats.buckets) {
    const row = shown.find((r) => r.start === Date.parse(b.start) / 1000);
    assert.deepEqual(row && [row.decisions, row.denied], [b.decisions, b.denied], `the minute ${b.start}`);
  }
  await page.getByText('Show the numbers').click();
  await page.getByTestId('rate-table').waitFor({ state: 'detached' });
  await screenshot(page, 'overview-charts');

  // Ranges: each has its bucket width and is kept in the URL.
  for (const [key, width, count] of [['15m', 60, 15], ['6h', 300, 72], ['7d', 3600, 168]]) {
    await page.locator(`button[data-range="${key}"]`).click();
    await page.waitForFunction((k) => location.hash.includes(`range=${k}`), key);
    await page.locator(`[data-testid="rate-charts"][data-bucket-s="${width}"]`).waitFor();
    const rows = await chartTable(count);
    assert.equal(sum(rows), (await hall.api('GET', `/v1/stats?since=${new Date(rows[0].start * 1000).toISOString()}&bucket_s=${width}`)).decisions_total, key);
  }

  // Drag across the chart: a fixed window, in the URL, with a way back.
  await page.locator('button[data-range="1h"]').click();
  await page.getByTestId('chart-loading').waitFor({ state: 'detached' });
  const over = page.locator('.u-over').first();
  await over.scrollIntoViewIfNeeded();
  const box = await over.boundingBox();
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => /from=\d+&to=\d+/.test(location.hash));
  await page.getByTestId('zoom-reset').waitFor();
  await page.getByTestId('chart-loading').waitFor({ state: 'detached' });
  const zoomed = await chartTable();
  assert.ok(zoomed.length >= 20 && zoomed.length <= 26, `a drag over 40% of an hour shows ${zoomed.length} minutes`);
  await page.getByTestId('zoom-reset').click();
  await page.waitForFunction(() => location.hash.includes('range=1h'));

  // A click on the busiest minute opens its decisions.
  await page.getByTestId('chart-loading').waitFor({ state: 'detached' });
  const rows = await chartTable();
  const i = rows.reduce((best, r, k) => (r.decisions > rows[best].decisions ? k : best), 0);
  await over.scrollIntoViewIfNeeded();
  const at = await over.boundingBox();
  await page.mouse.click(at.x + 1 + ((at.width - 2) * i) / (rows.length - 1), at.y + at.height / 2);
  await page.waitForFunction(() => location.hash.startsWith('#/decisions?'));
  const params = new URLSearchParams((await page.evaluate(() => location.hash)).split('?')[1]);
  assert.equal(Date.parse(params.get('since')) / 1000, rows[i].start);
  assert.equal(Date.parse(params.get('until')) / 1000, rows[i].start + 60);
  const expected = Math.min(rows[i].decisions, 200);
  await page.getByTestId('row-count').filter({ hasText: new RegExp(`^${expected} shown`) }).waitFor();
});

test('selecting deep in the list never reloads it: the row stays selected and j goes to the next one', async () => {
  await page.goto(`${hall.url}/#/overview`);
  await ledgerAtLeast(LIVE_ROW_CAP + 400);
  await page.goto(`${hall.url}/#/decisions`);
  await page.locator('.drow').first().waitFor();
  const firstPages = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname === '/v1/decisions' && !url.searchParams.has('cursor')) firstPages.push(url.href);
  });
  // Page back past the live cap.
  const list = page.getByRole('listbox', { name: 'Decisions' });
  const rowCount = page.getByTestId('row-count');
  const shownNow = async () => Number((await rowCount.textContent()).match(/^(\d+) shown/)[1]);
  while ((await shownNow()) < LIVE_ROW_CAP + 200) {
    const n = await shownNow();
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForFunction((n) => !document.querySelector('[data-testid="row-count"]').textContent.startsWith(`${n} shown`), n, { timeout: 5000 });
  }
  const deep = LIVE_ROW_CAP + 100;
  await list.evaluate((el, top) => (el.scrollTop = top), deep * 30 - 100);
  // The virtual list renders the rows of a new scroll position on its next frames: read them after.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.waitForTimeout(200);
  const ids = await page.locator('.drow').evaluateAll((rows) => rows.map((r) => r.dataset.decisionId));
  const target = ids[Math.floor(ids.length / 2)];
  const next = ids[Math.floor(ids.length / 2) + 1];
  await page.locator(`.drow[data-decision-id="${target}"]`).click();
  await page.waitForFunction((id) => location.hash.includes(id), target);
  await page.getByTestId('decision-detail').waitFor();
  // A decision routed now must not push the selection out of the list.
  const live = await hall.route({ capability_id: 'cap.doc.summarize', tenant_id: 'tenant.deep', correlation_id: corr(8) });
  await page.waitForTimeout(500);
  await page.locator(`.drow[data-decision-id="${target}"][aria-selected="true"]`).waitFor({ timeout: 2000 });
  await page.keyboard.press('j');
  await page.waitForFunction((id) => location.hash.includes(id), next, { timeout: 2000 });
  await page.locator(`.drow[data-decision-id="${next}"][aria-selected="true"]`).waitFor();
  await page.keyboard.press('k');
  await page.waitForFunction((id) => location.hash.includes(id), target, { timeout: 2000 });
  assert.deepEqual(firstPages, [], 'selecting reloaded the first page');
  // The held decision is there once the list is followed again.
  await page.getByRole('button', { name: /Show newest/ }).click();
  await page.locator(`.drow[data-decision-id="${live.decision_id}"]`).waitFor();
});

/** A second hall, for tests that need a fresh origin (no token stored) or stop the hall. */
async function withOtherHall(fn) {
  const other = await Hall.start();
  try {
    await other.route({ capability_id: 'cap.doc.summarize', tenant_id: 'tenant.other', correlation_id: corr(10) });
    await fn(other);
  } finally {
    await other.stop();
  }
}

test('first visit: a sign-in card with the token field and the real path of the token file', async () => {
  await withOtherHall(async (other) => {
    await page.goto(`${other.url}/`);
    const card = page.getByTestId('signin');
    await card.waitFor();
    const tokenFile = join(realpathSync(other.dataDir), 'api-token');
    assert.equal(await card.getByTestId('signin-token-file').textContent(), tokenFile);
    const text = await page.locator('main').textContent();
    assert.doesNotMatch(text, /Cannot load the hall|<data-dir>|UNAUTHORIZED/);
    assert.equal(await page.getByRole('heading', { name: 'Sign in to the hall' }).count(), 1);
    assert.equal((await page.getByTestId('stream-state').textContent()).trim(), 'not signed in');
    await screenshot(page, 'signin');
    assert.deepEqual(await axeProblems(), [], 'axe on the sign-in card');
    // A wrong token is refused at the field; the right one opens the Overview.
    await card.getByTestId('signin-token').fill('0'.repeat(64));
    await card.getByRole('button', { name: 'Sign in' }).click();
    await card.getByRole('alert').filter({ hasText: 'The hall refused this token' }).waitFor();
    assert.equal(await card.getByTestId('signin-token').getAttribute('aria-invalid'), 'true');
    await card.getByTestId('signin-token').fill(other.token);
    await card.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('decisions-total').filter({ hasText: /^1$/ }).waitFor();
    await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();
  });
});

test('a stopped hall: a banner at once, stale figures greyed, "live" only while live, and recovery by itself', async () => {
  await withOtherHall(async (other) => {
    await page.goto(`${other.url}/#/overview`);
    await page.evaluate((token) => localStorage.setItem('proctor.prefs.v1', JSON.stringify({ hallUrl: '', token, theme: 'system', notifications: false })), other.token);
    await page.reload();
    await page.getByTestId('stream-state').filter({ hasText: /^live$/ }).waitFor();
    await page.getByTestId('decisions-total').filter({ hasText: /^1$/ }).waitFor();
    const stopped = Date.now();
    await other.kill();
    const banner = page.getByTestId('unreachable-banner');
    await banner.waitFor({ timeout: 3000 });
    assert.ok(Date.now() - stopped < 3000);
    assert.match(await banner.textContent(), /^\s*Hall unreachable since \d\d:\d\d( [AP]M)?; figures may be stale\./);
    assert.notEqual((await page.getByTestId('stream-state').textContent()).trim(), 'live');
    assert.equal(await page.locator('main.stale').count(), 1, 'what is stale is not greyed');
    // The figures stay (they were true when the hall last answered), greyed, and no "Cannot load".
    assert.equal((await page.getByTestId('decisions-total').textContent()).trim(), '1');
    assert.match(await page.locator('.panel').first().evaluate((el) => getComputedStyle(el).filter), /grayscale/);
    // Decisions: no green "live" while the stream is down.
    await page.locator('a[data-nav="decisions"]').click();
    await page.getByTestId('live-state').filter({ hasText: 'waiting for the hall' }).waitFor();
    await screenshot(page, 'hall-unreachable');

    await other.restart();
    await banner.waitFor({ state: 'detached', timeout: 10_000 });
    await page.getByTestId('stream-state').filter({ hasText: /^live$/ }).waitFor();
    await page.getByTestId('live-state').filter({ hasText: 'live' }).waitFor();
    assert.equal(await page.locator('main.stale').count(), 0);
    // Live again: a decision routed now shows up without a reload.
    const routed = await other.route({ capability_id: 'cap.doc.summarize', tenant_id: 'tenant.back', correlation_id: corr(10) });
    await page.locator(`.drow[data-decision-id="${routed.decision_id}"]`).waitFor();
  });
});

// Issue 17: "decisions routed" was a per-species count kept in memory: two workers of one species
// both showed the species total, and a restart reset it and forgot every last heartbeat.
test('a worker page keeps its last heartbeat and decisions routed across a restart; a shared species total is marked shared', async () => {
  await withOtherHall(async (other) => {
    await other.enroll(worker('org.e2e.keep.i-1', 'wrk.e2e.keep', ['cap.doc.summarize']));
    await other.enroll(worker('org.e2e.pair.i-1', 'wrk.e2e.pair', ['cap.e2e.pair']));
    await other.enroll(worker('org.e2e.pair.i-2', 'wrk.e2e.pair', ['cap.e2e.pair']));
    await other.heartbeat('org.e2e.keep.i-1', { status: 'degraded', latency_ms: 42 });
    await other.restart();
    await page.goto(`${other.url}/#/workers/org.e2e.keep.i-1`);
    await page.evaluate((token) => localStorage.setItem('proctor.prefs.v1', JSON.stringify({ hallUrl: '', token, theme: 'system', notifications: false })), other.token);
    await page.reload();
    await page.getByText('last heartbeat', { exact: false }).first().waitFor();
    assert.match(await page.locator('main').textContent(), /42 ms/);
    await page.getByTestId('routed').filter({ hasText: /^0 decisions routed$/ }).waitFor();
    await page.goto(`${other.url}/#/workers/org.e2e.pair.i-2`);
    await page.getByTestId('routed').filter({ hasText: 'shared by 2 workers' }).waitFor();
  });
});

/** Serious and critical axe violations on the current page (harness.mjs). */
const axeProblems = () => axeProblemsOn(page);

test('accessibility: axe finds no serious or critical violation on any screen', async () => {
  const problems = [];
  const screens = [
    ['overview', '[data-testid="rate-charts"]:not(.loading)'],
    ['decisions', '.drow'],
    [`traces/${corr(1)}`, '[data-testid="trace-summary"]'],
    ['issues', '[data-testid="issue"]'],
    ['workers', 'tr[data-worker-id]'],
    ['workers/org.acme.ocr.i-1', '[data-testid="worker-decisions"]'],
    ['mcp', 'main h2'],
    ['approvals', 'main h2'],
    ['attest', '[data-testid="attest-path"]'],
    ['alerts', 'tr[data-alert-id]'],
    ['ledger', '[data-testid="ledger-status"]'],
    ['settings', '[data-testid="threshold-stale_after_s"]'],
  ];
  for (const [screen, ready] of screens) {
    await page.goto(`${hall.url}/#/${screen}`);
    await page.locator(ready).first().waitFor();
    for (const p of await axeProblems()) problems.push(`${screen}: ${p}`);
  }
  // The decision detail, and both themes' colours.
  const first = await page.goto(`${hall.url}/#/decisions`).then(() => page.locator('.drow').first());
  await first.click();
  await page.getByTestId('decision-detail').waitFor();
  for (const p of await axeProblems()) problems.push(`decision detail: ${p}`);
  await page.emulateMedia({ colorScheme: 'dark' });
  try {
    for (const screen of ['overview', 'decisions']) {
      await page.goto(`${hall.url}/#/${screen}`);
      await page.locator('main h2').first().waitFor();
      await page.waitForTimeout(300);
      for (const p of await axeProblems()) problems.push(`${screen} (dark): ${p}`);
    }
  } finally {
    await page.emulateMedia({ colorScheme: null });
  }
  assert.equal(problems.length, 0, `\n${problems.join('\n')}`);
});

test("the served OpenAPI document is the one the UI's wire types were generated from", async () => {
  // ui/src/lib/wire.gen.ts (request and response types) is generated from this copy.
  const served = await hall.api('GET', '/v1/openapi.json');
  const copy = JSON.parse(readFileSync(join(ROOT, 'ui/src/lib/openapi.json'), 'utf8'));
  assert.deepEqual(served, copy, 'the hall API document changed: run `cargo run -q -p hall --example openapi > ui/src/lib/openapi.json && npm --prefix ui run gen:api`');
});

// Real responses of this hall have exactly the top-level keys the served document gives their
// schema (required keys present; no others where the schema is closed). The full validation of
// every endpoint against the document is crates/hall/tests/openapi.rs; this checks the seeded
// browser-suite hall too, without a second copy of any shape.
let openapi = null;
const hasShape = (name, value) => {
  const schema = openapi.components.schemas[name];
  assert.ok(schema, `no component schema ${name}`);
  const missing = (schema.required ?? []).filter((k) => !(k in value));
  assert.deepEqual(missing, [], `${name} lacks ${missing.join(', ')}`);
  if (schema.additionalProperties === false) {
    const extra = Object.keys(value).filter((k) => !(k in schema.properties));
    assert.deepEqual(extra, [], `${name} has undocumented ${extra.join(', ')}`);
  }
};

test('wire shapes: real responses carry every field the UI reads', async () => {
  openapi = await hall.api('GET', '/v1/openapi.json');
  const workers = await hall.api('GET', '/v1/workers');
  const seen = workers.workers.find((w) => w.health);
  hasShape('WorkerView', seen);
  hasShape('Health', seen.health);
  hasShape('WorkerConformance', seen.conformance);
  const routed = await hall.route({ capability_id: 'cap.doc.summarize', tenant_id: 'tenant.shape', correlation_id: corr(5) });
  hasShape('RoutedDecision', routed);
  hasShape('EvidenceReceipt', routed.evidence_receipt);
  const page1 = await hall.api('GET', '/v1/decisions?limit=2');
  assert.ok('next_cursor' in page1);
  hasShape('LedgerRecord', page1.decisions[0]);
  hasShape('RouteDecision', page1.decisions[0].decision);
  const one = await hall.api('GET', `/v1/decisions/${routed.decision_id}`);
  hasShape('DecisionDetail', one);
  hasShape('RouteDecision', one.decision);
  const trace = await hall.api('GET', `/v1/traces/${corr(5)}`);
  hasShape('Trace', trace);
  assert.equal(trace.decisions.length, 1);
  hasShape('Stats', await hall.api('GET', '/v1/stats'));
  const alerts = await hall.api('GET', '/v1/alerts');
  if (alerts.alerts.length) hasShape('Alert', alerts.alerts[0]);
  hasShape('LedgerVerification', await hall.api('GET', '/v1/ledger/verify'));
  hasShape('Settings', await hall.api('GET', '/v1/settings'));
  // The MCP gateway (seeded by the MCP tests when they ran).
  const mcp = await hall.api('GET', '/v1/mcp');
  hasShape('McpOverview', mcp);
  for (const s of mcp.servers) {
    hasShape('ServerView', s);
    hasShape('ServerStatusView', s.status);
  }
  for (const c of mcp.sessions) hasShape('SessionView', c);
  const calls = await hall.api('GET', '/v1/mcp/calls?limit=5');
  hasShape('McpCallList', calls);
  for (const r of calls.calls) hasShape('LinkedRecord', r);
  const approvals = await hall.api('GET', '/v1/approvals?state=all');
  hasShape('ApprovalList', approvals);
  for (const a of approvals.approvals) hasShape('Approval', a);
});

test('the page ran under the strict CSP without violations or errors', async () => {
  const csp = (await fetch(hall.url + '/')).headers.get('content-security-policy');
  assert.ok(csp && !csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'), `CSP: ${csp}`);
  const bad = b.problems.filter((p) => /Content Security Policy|page error/i.test(p));
  assert.deepEqual(bad, []);
});

// ------------------------------------------------------------------ run
if (only) await signIn(page, hall); // running a subset: skip the Settings test's job of storing the token
const failed = await runTests(tests, page, { only });
await mcpClient?.close().catch(() => {});
await b.close();
await hall.stop();
process.exit(failed === 0 ? 0 : 1);
