// Browser end-to-end tests of the operator's tools (issue 17): the single-use sign-in link that
// `proctor serve` prints, alerts that resolve by themselves, acknowledgements with a note and an
// author, and the Attest screen's worker picker, manifest version and re-signing question,
// against a real `proctor serve`.
// Run: node tests/e2e/operator.mjs [filter]   (needs target/debug/proctor and ui/dist)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hall, PROCTOR_BIN, ROOT, RULES, axeProblems, browser, runTests, screenshot, signIn, worker, writePackage } from './harness.mjs';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const only = process.argv[2];

/** `proctor serve` with its stdout read: the URL and the sign-in link it prints. */
async function serveWithLink() {
  const dataDir = mkdtempSync(join(tmpdir(), 'proctor-e2e-op-'));
  writeFileSync(join(dataDir, 'rules.json'), JSON.stringify(RULES, null, 2));
  const child = spawn(PROCTOR_BIN, ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    env: { ...process.env, PROCTOR_UI_DIR: process.env.PROCTOR_UI_DIR ?? join(ROOT, 'ui/dist'), PROCTOR_CONFIG_DIR: join(dataDir, 'config'), RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const { url, link } = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`proctor serve did not print its sign-in link:\n${out}\n${err}`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const url = out.match(/listening on (http:\/\/\S+)/)?.[1];
      const link = out.match(/sign in: (http:\/\/\S+)/)?.[1];
      if (url && link) {
        clearTimeout(timer);
        ok({ url, link });
      }
    });
    child.once('exit', (code) => fail(new Error(`proctor serve exited with ${code}:\n${err}`)));
  });
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  return { hall: new Hall(child, url, token, dataDir, {}), link };
}

const { hall, link } = await serveWithLink();
const b = await browser();
const { page } = b;

// Stale after 1 s of silence (offline much later), and no deny-rate alerts in the way.
await hall.api('PUT', '/v1/settings/thresholds', {
  health: { stale_after_s: 1, offline_after_s: 3600, degraded_latency_ms: 1000 },
  alerts: { deny_rate_threshold: 0.99, deny_rate_window_s: 60, deny_rate_min_decisions: 1000 },
});

test('the printed sign-in link signs a browser in once and leaves the address bar', async () => {
  assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/#signin=[A-Za-z0-9_-]{43}$/);
  assert.ok(!link.includes(hall.token), 'the token is never in the link');
  await page.goto(link);
  await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();
  assert.ok(!page.url().includes('signin'), `fragment cleared: ${page.url()}`);
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('proctor.prefs.v1') ?? '{}').token);
  assert.equal(stored, hall.token, 'kept as a typed token is');
  await page.reload();
  await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();

  // A second browser with the same link: refused by name, on the sign-in card.
  const other = await browser();
  try {
    await other.page.goto(link);
    const card = other.page.getByTestId('signin');
    await card.getByText('The sign-in link was refused').waitFor();
    await card.getByText('already used').waitFor();
    assert.ok(!other.page.url().includes('signin'));
    await screenshot(other.page, 'ui-signin-link-used');
  } finally {
    await other.close();
  }
  const again = await fetch(`${hall.url}/v1/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: link.split('#signin=')[1] }) });
  assert.equal(again.status, 401);
  assert.equal((await again.json()).error.code, 'SIGN_IN_CODE_USED');
});

test('an alert resolves by itself when the worker reports again', async () => {
  await hall.enroll(worker('org.acme.flaky.i-1', 'wrk.doc.summarizer', ['cap.doc.summarize']));
  await hall.heartbeat('org.acme.flaky.i-1', { status: 'ok' });
  await page.goto(`${hall.url}/#/alerts`);
  const row = page.locator('tr[data-testid="alert-group"]', { hasText: 'org.acme.flaky.i-1' });
  await row.getByRole('button', { name: /Acknowledge/ }).waitFor();
  // It reports again, and keeps reporting (else it would go stale again a second later).
  await hall.heartbeat('org.acme.flaky.i-1', { status: 'ok' });
  const alive = setInterval(() => void hall.heartbeat('org.acme.flaky.i-1', { status: 'ok' }).catch(() => {}), 300);
  try {
    // Live (the alert event), then after a reload (stored).
    await row.locator('[data-state="resolved"]').getByText('resolved').waitFor();
    await page.reload();
    await row.first().locator('[data-state="resolved"]').waitFor();
  } finally {
    clearInterval(alive);
  }
});

test('an acknowledgement shows its note and author after a reload', async () => {
  await hall.enroll(worker('org.acme.quiet.i-1', 'wrk.doc.summarizer', ['cap.doc.summarize']));
  await hall.heartbeat('org.acme.quiet.i-1', { status: 'ok' });
  await page.goto(`${hall.url}/#/alerts`);
  const row = page.locator('tr[data-testid="alert-group"]', { hasText: 'org.acme.quiet.i-1' }).first();
  await row.getByRole('button', { name: /Acknowledge/ }).waitFor();
  await page.getByTestId('ack-note').fill('restarting its host');
  await page.getByTestId('ack-by').fill('ana');
  await row.getByRole('button', { name: /Acknowledge/ }).click();
  await row.locator('[data-state="acknowledged"]').getByText('acknowledged by ana').waitFor();
  await page.reload();
  const state = page.locator('tr[data-testid="alert-group"]', { hasText: 'org.acme.quiet.i-1' }).first().locator('[data-state="acknowledged"]');
  await state.getByText('acknowledged by ana').waitFor();
  assert.equal(await state.getByTestId('ack-note-shown').textContent(), 'restarting its host');
  const stored = (await hall.api('GET', '/v1/alerts')).alerts.find((a) => a.subject === 'org.acme.quiet.i-1' && a.acked);
  assert.equal(stored.acked_by, 'ana');
  await screenshot(page, 'ui-alerts');
});

/** A screenshot at the docs' size (1280×800: docs/screenshots/ is refreshed from these). */
async function docsScreenshot(name) {
  await page.setViewportSize({ width: 1280, height: 800 });
  await screenshot(page, name);
  await page.setViewportSize({ width: 1400, height: 900 });
}

test('attest: pick an enrolled worker, the version comes from the manifest, a changed package asks before signing', async () => {
  const pkg = mkdtempSync(join(tmpdir(), 'proctor-op-pkg-'));
  try {
    writePackage(pkg, { 'code/worker.py': 'print("hi")\n', 'requirements.lock': 'x==1\n' });
    hall.cli('keys', 'new', '--namespace', 'org.acme');
    const id = 'org.acme.pkg.i-1';
    await hall.api('POST', '/v1/attest/sign', { path: pkg, worker_id: id, worker_species_id: 'wrk.doc.pkg', worker_version: '1.4.2' });
    await hall.enroll({ ...worker(id, 'wrk.doc.pkg', ['cap.doc.pkg']), attestation: { package_dir: pkg } });
    await page.goto(`${hall.url}/#/attest`);
    await page.getByTestId('attest-worker-pick').selectOption(id);
    assert.equal(await page.getByTestId('attest-path').inputValue(), pkg);
    assert.equal(await page.getByTestId('attest-species-id').inputValue(), 'wrk.doc.pkg');
    await page.getByRole('button', { name: 'Compute hash' }).click();
    await page.getByTestId('attest-manifest').getByText('Matches its manifest').waitFor();
    assert.equal(await page.getByTestId('attest-version').inputValue(), '1.4.2');
    await page.getByRole('button', { name: 'Verify against trust store' }).click();
    const facts = page.getByTestId('attest-facts');
    await facts.waitFor();
    const text = await facts.textContent();
    for (const want of ['Signer key', 'org.acme', '1.4.2', 'Signed at']) assert.ok(text.includes(want), `${want} in ${text}`);
    await docsScreenshot('attest-verified');

    // Files change on disk (one edited, one added, one removed): signing asks first and lists
    // them against the file list signed with the manifest.
    writeFileSync(join(pkg, 'code/worker.py'), 'print("v2")\n');
    writeFileSync(join(pkg, 'code/extra.py'), 'import os\n');
    rmSync(join(pkg, 'requirements.lock'));
    await page.getByRole('button', { name: /^Sign/ }).click();
    const ask = page.getByTestId('attest-confirm');
    await ask.getByText('The package changed since it was signed').waitFor();
    const listed = async (kind) => ask.locator(`[data-change="${kind}"]`).allInnerTexts();
    assert.deepEqual(await listed('changed'), ['code/worker.py']);
    assert.deepEqual(await listed('added'), ['code/extra.py']);
    assert.deepEqual(await listed('removed'), ['requirements.lock']);
    assert.deepEqual(await axeProblems(page), [], 'axe on the confirmation');
    assert.equal(await page.getByTestId('attest-signed').count(), 0, 'nothing signed before the answer');
    assert.equal(await page.getByTestId('attest-verdict').count(), 0, 'the verdict on the old files is gone');
    await docsScreenshot('attest-confirm');
    await ask.getByRole('button', { name: 'Sign the changed package as 1.4.2' }).click();
    await page.getByTestId('attest-signed').waitFor();
    const manifest = JSON.parse(readFileSync(join(pkg, 'manifest.json'), 'utf8'));
    assert.equal(manifest.worker_version, '1.4.2');

    // A signature without a file list (signed by a tool that leaves it out): no diff is made up.
    const sig = JSON.parse(readFileSync(join(pkg, 'manifest.sig'), 'utf8'));
    delete sig.files;
    writeFileSync(join(pkg, 'manifest.sig'), JSON.stringify(sig));
    writeFileSync(join(pkg, 'code/worker.py'), 'print("v3")\n');
    await page.getByRole('button', { name: /^Sign/ }).click();
    await ask.getByTestId('attest-changes-unknown').getByText('The signature does not list the package\'s files').waitFor();
    assert.equal(await ask.locator('[data-change]').count(), 0);
    await ask.getByRole('button', { name: 'Cancel' }).click();
  } finally {
    rmSync(pkg, { recursive: true, force: true });
  }
});

test('the page ran under the strict CSP without violations or errors', async () => {
  const bad = b.problems.filter((p) => /Content Security Policy|page error/i.test(p));
  assert.deepEqual(bad, []);
});

if (only) await signIn(page, hall); // running a subset: sign in as the first test would have
const failed = await runTests(tests, page, { only, prefix: 'op-' });
await b.close();
await hall.stop();
process.exit(failed === 0 ? 0 : 1);
