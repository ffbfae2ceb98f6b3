// Bench: the desktop app's first paint after launch, and its memory over a run at a steady
// decision rate (default 100/s for 120 s). Memory = RSS of the app process plus its WebKit child
// processes (the webview renders in a separate process), sampled every 5 s; the slope is a
// least-squares fit over the samples after a 20 s warm-up.
// Usage (needs an X server): xvfb-run -a node benches/ui/desktop.mjs [rate=100] [seconds=120]
// Binary: PROCTOR_DESKTOP_BIN (default target/release/proctor-desktop).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launch, sleep, until } from '../../tests/desktop/webdriver.mjs';
import { startLoad } from './load.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const APP = resolve(process.env.PROCTOR_DESKTOP_BIN ?? join(ROOT, 'target/release/proctor-desktop'));
const rate = Number(process.argv[2] ?? 100);
const seconds = Number(process.argv[3] ?? 120);

function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
}
function tree(pid) {
  let kids = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {}
  return [pid, ...kids.flatMap(tree)];
}
const appPid = () => Number(execFileSync('pgrep', ['-n', '-f', `^${APP}`], { encoding: 'utf8' }).trim());
const memoryMiB = (pid) => tree(pid).reduce((sum, p) => sum + (() => { try { return rssKiB(p); } catch { return 0; } })(), 0) / 1024;

function slopePerMinute(points) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.mib, 0) / n;
  const num = points.reduce((s, p) => s + (p.t - mx) * (p.mib - my), 0);
  const den = points.reduce((s, p) => s + (p.t - mx) ** 2, 0);
  return (num / den) * 60;
}

const dataDir = mkdtempSync(join(tmpdir(), 'proctor-desktop-bench-'));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const app = await launch(APP, { PROCTOR_DATA_DIR: dataDir, PROCTOR_LISTEN: `127.0.0.1:${port}`, RUST_LOG: 'warn' });
try {
  await until(() => app.run('return !!document.querySelector("[data-testid=health-healthy]")'), 'the overview', 30_000);
  const overviewMs = Date.now() - app.requested;
  const fcp = await app.run('const p = performance.getEntriesByType("paint").find((e) => e.name === "first-contentful-paint"); return p ? Math.round(p.startTime) : null');
  const pid = appPid();
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  // Watch a screen during the run (default Decisions in live mode, the heaviest under a stream).
  await app.run(`location.hash = "#/${process.env.SCREEN ?? 'decisions'}"`);

  const load = startLoad({ url, token, perSecond: rate });
  const samples = [];
  const t0 = Date.now();
  while (Date.now() - t0 < seconds * 1000) {
    samples.push({ t: (Date.now() - t0) / 1000, mib: memoryMiB(pid), appMib: rssKiB(pid) / 1024 });
    await sleep(5000);
  }
  const sent = await load.stop();
  const steady = samples.filter((s) => s.t >= 20);
  console.log(JSON.stringify({
    binary: APP,
    first_contentful_paint_ms_after_navigation: fcp,
    overview_visible_ms_after_launch_incl_webdriver: overviewMs,
    rate_target: rate,
    rate_achieved: sent.achievedPerSecond,
    decisions: sent.ok,
    seconds: Math.round(sent.seconds),
    rss_mib_start: Number(samples[0].mib.toFixed(1)),
    rss_mib_after_warmup: Number(steady[0].mib.toFixed(1)),
    rss_mib_end: Number(samples.at(-1).mib.toFixed(1)),
    rss_slope_mib_per_min_after_warmup: Number(slopePerMinute(steady).toFixed(2)),
    app_process_only_slope_mib_per_min: Number(slopePerMinute(steady.map((s) => ({ t: s.t, mib: s.appMib }))).toFixed(2)),
    app_process_only_mib_end: Number(samples.at(-1).appMib.toFixed(1)),
    samples: samples.map((s) => Math.round(s.mib)),
  }, null, 1));
} finally {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
