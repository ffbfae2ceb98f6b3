// Desktop smoke test: the real Tauri app under Xvfb, driven over WebDriver (tauri-driver +
// Debian's WebKitWebDriver). It seeds the embedded hall through the app's own loopback HTTP API,
// then asserts that the window shows the overview with that data, takes a screenshot, and quits.
// Run through tests/desktop/smoke.sh (which builds the app and provides the X server).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launch, until } from './webdriver.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = process.env.PROCTOR_BIN ?? join(ROOT, 'target/debug/proctor');
const APP = process.env.PROCTOR_DESKTOP_BIN ?? join(ROOT, 'target/debug/proctor-desktop');
const ARTIFACTS = join(ROOT, 'test-artifacts');

const dataDir = mkdtempSync(join(tmpdir(), 'proctor-desktop-'));
const apiPort = await freePort();
const api = `http://127.0.0.1:${apiPort}`;
let app;
const results = [];
async function step(name, fn) {
  try {
    await fn();
    results.push(true);
    console.log(`ok   ${name}`);
  } catch (err) {
    results.push(false);
    console.log(`FAIL ${name}\n     ${String(err?.stack ?? err).split('\n').slice(0, 4).join('\n     ')}`);
  }
}

try {
  app = await launch(APP, { PROCTOR_DATA_DIR: dataDir, PROCTOR_LISTEN: `127.0.0.1:${apiPort}`, RUST_LOG: 'warn' });
  const launched = app.requested;
  const { run, runAsync, wd, session } = app;

  await step('the embedded hall answers /health on loopback', async () => {
    const health = await until(() => fetch(`${api}/health`).then((r) => r.ok && r.json()), 'the app /health');
    assert.equal(health.status, 'ok');
  });

  await step('the window renders the overview (first paint)', async () => {
    await until(() => run('return !!document.querySelector("[data-testid=health-healthy]")'), 'the overview in the window');
    console.log(`     first paint of the overview ${Date.now() - launched} ms after launch (incl. WebDriver session setup)`);
    const paint = await run('const p = performance.getEntriesByType("paint").find((e) => e.name === "first-contentful-paint"); return p ? Math.round(p.startTime) : null');
    console.log(`     first-contentful-paint ${paint} ms after navigation start`);
  });

  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  const call = async (method, path, body) => {
    const res = await fetch(api + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  await step('data from the embedded hall shows up live in the window', async () => {
    await call('POST', '/v1/workers', { worker_id: 'org.acme.desk.i-1', worker_species_id: 'wrk.doc.summarizer', capabilities: ['cap.doc.summarize'] });
    await call('POST', '/v1/workers/org.acme.desk.i-1/heartbeat', { status: 'ok', latency_ms: 3 });
    const routed = await call('POST', '/v1/route', {
      capability_id: 'cap.doc.summarize', env: 'dev', data_label: 'PUBLIC', tenant_risk: 'low', qos_class: 'P2', tenant_id: 'desk', correlation_id: 'desk-1',
    });
    assert.ok(routed.evidence_receipt, 'route answered with an evidence receipt');
    await until(
      () => run('return document.querySelector("[data-testid=health-healthy] .big")?.textContent.trim() === "1" && document.querySelector("[data-testid=decisions-total]")?.textContent.trim() === "1"'),
      'the overview to show 1 healthy worker and 1 decision (pushed through Tauri events)',
    );
    // The same decision through the app's one command (IPC), not HTTP.
    const viaIpc = await runAsync(
      'const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke("hall_call", { operation: "get_decision", params: { decision_id: arguments[0] } }).then((r) => done(r.decision.decision_id), (e) => done("error " + JSON.stringify(e)));',
      [routed.decision_id],
    );
    assert.equal(viaIpc, routed.decision_id);
  });

  await step('a command the capabilities do not grant is refused', async () => {
    const refused = await runAsync(
      'const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke("plugin:dialog|save", {}).then(() => done("allowed"), (e) => done(String(e)));',
    );
    assert.notEqual(refused, 'allowed');
  });

  await step('screenshot of the real window', async () => {
    const png = await wd('GET', `/session/${session}/screenshot`);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'desktop-overview.png'), Buffer.from(png, 'base64'));
    assert.ok(png.length > 10_000, 'screenshot is not empty');
  });

  await step('quitting closes the app cleanly and the ledger verifies', async () => {
    await app.quit();
    await until(() => fetch(`${api}/health`).then(() => false, () => true), 'the app to exit');
    const ledger = join(dataDir, 'ledger/decisions.sqlite');
    assert.ok(existsSync(ledger), `ledger at ${ledger}`);
    const verify = spawnSync(CLI, ['verify-log', '--db', ledger, '--json'], { encoding: 'utf8' });
    assert.equal(verify.status, 0, `proctor verify-log: ${verify.stdout}${verify.stderr}`);
    assert.equal(JSON.parse(verify.stdout).records_checked, 1, verify.stdout);
  });
} catch (err) {
  results.push(false);
  console.log(`FAIL setup\n     ${err?.stack ?? err}`);
} finally {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
}
const passed = results.filter(Boolean).length;
console.log(`${passed} passed, ${results.length - passed} failed`);
process.exit(results.every(Boolean) && results.length > 0 ? 0 : 1);
