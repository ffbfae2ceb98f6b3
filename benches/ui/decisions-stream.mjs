// Bench: is the Decisions screen responsive while 1,000 decisions/s stream in (live mode on)?
// Real `proctor serve` + Debian's Chromium; measures long tasks (PerformanceObserver 'longtask',
// > 50 ms on the main thread) and frame intervals (requestAnimationFrame) over the run.
// Usage: node benches/ui/decisions-stream.mjs [rate=1000] [seconds=20]
import { Hall, browser } from '../../tests/e2e/harness.mjs';
import { percentile, startLoad } from './load.mjs';

const rate = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 20);

const hall = await Hall.start();
const b = await browser();
const { page } = b;
await page.goto(`${hall.url}/#/decisions`);
await page.evaluate((token) => localStorage.setItem('proctor.prefs.v1', JSON.stringify({ hallUrl: '', token, theme: 'system', notifications: false })), hall.token);
await page.reload();
await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();

await page.evaluate(() => {
  window.__long = [];
  window.__frames = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__long.push(e.duration);
  }).observe({ type: 'longtask', buffered: false });
  let last = performance.now();
  const frame = (t) => {
    window.__frames.push(t - last);
    last = t;
    window.__raf = requestAnimationFrame(frame);
  };
  window.__raf = requestAnimationFrame(frame);
});

const load = startLoad({ url: hall.url, token: hall.token, perSecond: rate });
await new Promise((r) => setTimeout(r, seconds * 1000));
const sent = await load.stop();
await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();
await new Promise((r) => setTimeout(r, 1000));
const newest = (await hall.api('GET', '/v1/decisions?limit=1')).decisions[0].decision.decision_id;
const topRow = await page.locator('.drow').first().getAttribute('data-decision-id');

const result = await page.evaluate(() => {
  cancelAnimationFrame(window.__raf);
  return { long: window.__long, frames: window.__frames.slice(1), missed: document.querySelector('[data-testid=missed-events]')?.textContent ?? 'none', shown: document.querySelector('[data-testid=row-count]')?.textContent };
});
// A keypress must still be handled promptly under load: time j -> selection change.
const t0 = Date.now();
await page.keyboard.press('j');
await page.waitForFunction(() => /#\/decisions\/[^?]+/.test(location.hash));
const keyMs = Date.now() - t0;

await b.close();
await hall.stop();

const frames = [...result.frames].sort((a, b) => a - b);
const longTotal = result.long.reduce((a, b) => a + b, 0);
console.log(JSON.stringify({
  target_rate: rate,
  achieved_rate: sent.achievedPerSecond,
  routed_ok: sent.ok,
  failed: sent.failed,
  seconds: Math.round(sent.seconds),
  rows_in_view_model: result.shown,
  stream_missed: result.missed,
  top_row_is_newest_decision: topRow === newest,
  long_tasks: result.long.length,
  long_task_ms_total: Math.round(longTotal),
  long_task_ms_max: Math.round(Math.max(0, ...result.long)),
  busy_share_pct: Number(((100 * longTotal) / (sent.seconds * 1000)).toFixed(1)),
  frame_ms_p50: Number(percentile(frames, 50)?.toFixed(1)),
  frame_ms_p95: Number(percentile(frames, 95)?.toFixed(1)),
  frame_ms_max: Number(Math.max(...frames).toFixed(1)),
  keypress_to_selection_ms: keyMs,
}, null, 1));
