// The README's picture of the desktop app: the real Tauri window (its 1280×820 default size) under
// an X server, its embedded hall fed through its loopback API: three workers reporting, then 25 s of
// decisions at 40/s (the seeded e2e rules; about 10 % denied). Writes docs/screenshots/desktop-overview.png.
// Usage: xvfb-run -a node benches/ui/desktop-screenshot.mjs
// Binary: PROCTOR_DESKTOP_BIN (default target/debug/proctor-desktop).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launch, sleep, until } from '../../tests/desktop/webdriver.mjs';
import { RULES } from '../../tests/e2e/harness.mjs';
import { startLoad } from './load.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const APP = resolve(process.env.PROCTOR_DESKTOP_BIN ?? join(ROOT, 'target/debug/proctor-desktop'));
const dataDir = mkdtempSync(join(tmpdir(), 'proctor-desktop-shot-'));
writeFileSync(join(dataDir, 'rules.json'), JSON.stringify(RULES, null, 2));
const apiPort = await freePort();
const api = `http://127.0.0.1:${apiPort}`;
const app = await launch(APP, { PROCTOR_DATA_DIR: dataDir, PROCTOR_LISTEN: `127.0.0.1:${apiPort}`, RUST_LOG: 'warn' });
try {
  await until(() => fetch(`${api}/health`).then((r) => r.ok), 'the app /health');
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  const call = async (method, path, body) => {
    const res = await fetch(api + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };
  const workers = [
    ['org.acme.summarizer.i-1', 'wrk.doc.summarizer', 4],
    ['org.acme.summarizer.i-2', 'wrk.doc.summarizer', 6],
    ['org.acme.ocr.i-1', 'wrk.doc.ocr', 1400],
  ];
  for (const [id, species, latency] of workers) {
    await call('POST', '/v1/workers', { worker_id: id, worker_species_id: species, capabilities: ['cap.doc.summarize'] });
  }
  const load = startLoad({ url: api, token, perSecond: 40 });
  for (let s = 0; s < 25; s += 5) {
    for (const [id, , latency] of workers) await call('POST', `/v1/workers/${id}/heartbeat`, { status: 'ok', latency_ms: latency });
    await sleep(5000);
  }
  const sent = await load.stop();
  console.log(`routed ${sent.ok} decisions (${sent.failed} failed)`);
  await until(() => app.run('return !!document.querySelector("[data-testid=health-healthy]")'), 'the overview');
  // The last 15 minutes: the minute buckets of this run fill the chart.
  await app.run('[...document.querySelectorAll("button")].find((b) => b.textContent.trim() === "15 min")?.click()');
  await sleep(2000);
  const png = await app.wd('GET', `/session/${app.session}/screenshot`);
  writeFileSync(join(ROOT, 'docs/screenshots/desktop-overview.png'), Buffer.from(png, 'base64'));
  console.log('wrote docs/screenshots/desktop-overview.png');
} finally {
  await app.quit().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}
