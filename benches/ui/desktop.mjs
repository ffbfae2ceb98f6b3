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

function statusKiB(pid, field) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0);
}
const rssKiB = (pid) => statusKiB(pid, 'VmRSS');
const comm = (pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
function tree(pid) {
  let kids = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {}
  return [pid, ...kids.flatMap(tree)];
}
const appPid = () => Number(execFileSync('pgrep', ['-n', '-f', `^${APP}`], { encoding: 'utf8' }).trim());
const memoryMiB = (pid) => tree(pid).reduce((sum, p) => sum + (() => { try { return rssKiB(p); } catch { return 0; } })(), 0) / 1024;
/** RSS per process name in the app's tree (the app, WebKitWebProcess, WebKitNetworkProcess), MiB. */
function byProcess(pid) {
  const out = {};
  for (const p of tree(pid)) {
    try {
      const name = p === pid ? 'app' : comm(p);
      out[name] = (out[name] ?? 0) + rssKiB(p) / 1024;
    } catch {}
  }
  return out;
}

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
    const procs = byProcess(pid);
    // Anonymous (heap) vs file-backed RSS of the app process: a growing heap is real growth.
    const anon = statusKiB(pid, 'RssAnon') / 1024;
    const dom = await app.run('return document.getElementsByTagName("*").length').catch(() => null);
    samples.push({ t: (Date.now() - t0) / 1000, mib: memoryMiB(pid), appMib: procs.app, anon, procs, dom });
    if (process.env.TRACE) console.error(JSON.stringify({ t: Math.round(samples.at(-1).t), total: Math.round(samples.at(-1).mib), anon: Math.round(anon), dom, ...Object.fromEntries(Object.entries(procs).map(([k, v]) => [k, Math.round(v)])) }));
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
    // A bounded cache that filled early shows as a slope in the first half only.
    rss_slope_mib_per_min_last_half: Number(slopePerMinute(steady.slice(Math.floor(steady.length / 2))).toFixed(2)),
    app_process_only_slope_mib_per_min: Number(slopePerMinute(steady.map((s) => ({ t: s.t, mib: s.appMib }))).toFixed(2)),
    app_process_only_mib_end: Number(samples.at(-1).appMib.toFixed(1)),
    app_anon_slope_mib_per_min: Number(slopePerMinute(steady.map((s) => ({ t: s.t, mib: s.anon }))).toFixed(2)),
    per_process_slope_mib_per_min: Object.fromEntries(Object.keys(steady.at(-1).procs).map((k) => [k, Number(slopePerMinute(steady.map((s) => ({ t: s.t, mib: s.procs[k] ?? 0 }))).toFixed(2))])),
    dom_elements_start_end: [samples[0].dom, samples.at(-1).dom],
    samples: samples.map((s) => Math.round(s.mib)),
  }, null, 1));
} finally {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
