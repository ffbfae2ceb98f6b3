// Bench: is the Decisions screen responsive while 1,000 decisions/s stream in (live mode on)?
// Real `proctor serve` + Debian's Chromium; measures the renderer main thread's work per frame
// (a DevTools trace: frame-trace.mjs; it reads below 16 ms, where requestAnimationFrame intervals,
// paced at 60 Hz, cannot), long tasks (PerformanceObserver 'longtask', > 50 ms), long animation
// frames ('long-animation-frame', > 50 ms, with the scripts that took the time) and rAF intervals.
// The same screen with nothing arriving is traced first, in the same run: the floor.
// Usage: node benches/ui/decisions-stream.mjs [rate=1000] [seconds=20]
import { Hall, browser } from '../../tests/e2e/harness.mjs';
import { traceFrames } from './frame-trace.mjs';
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

/** Starts recording rAF intervals, long tasks and long animation frames. */
const record = () =>
  page.evaluate(() => {
    window.__long = [];
    window.__loaf = [];
    window.__frames = [];
    window.__observers?.forEach((o) => o.disconnect());
    const long = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__long.push(e.duration);
    });
    long.observe({ type: 'longtask', buffered: false });
    const loaf = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const scripts = e.scripts.map((s) => ({ ms: Math.round(s.duration), what: `${s.invokerType} ${s.invoker}`.slice(0, 80) }));
        window.__loaf.push({ ms: Math.round(e.duration), blocking: Math.round(e.blockingDuration), scripts });
      }
    });
    if (PerformanceObserver.supportedEntryTypes.includes('long-animation-frame')) loaf.observe({ type: 'long-animation-frame', buffered: false });
    window.__observers = [long, loaf];
    let last = performance.now();
    cancelAnimationFrame(window.__raf);
    const frame = (t) => {
      window.__frames.push(t - last);
      last = t;
      window.__raf = requestAnimationFrame(frame);
    };
    window.__raf = requestAnimationFrame(frame);
  });
const collect = () =>
  page.evaluate(() => {
    cancelAnimationFrame(window.__raf);
    return { long: window.__long, loaf: window.__loaf, frames: window.__frames.slice(1), missed: document.querySelector('[data-testid=missed-events]')?.textContent ?? 'none', shown: document.querySelector('[data-testid=row-count]')?.textContent };
  });
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const ms = (x) => Number((x ?? NaN).toFixed(1));

// The floor: the same screen with nothing arriving, for 5 s (the rAF loop keeps frames coming).
await record();
let trace = await traceFrames(b.context, page);
await new Promise((r) => setTimeout(r, 5000));
const idle = sorted(await trace.stop());

await record();
trace = await traceFrames(b.context, page);

const load = startLoad({ url: hall.url, token: hall.token, perSecond: rate });
await new Promise((r) => setTimeout(r, seconds * 1000));
const sent = await load.stop();
const work = sorted(await trace.stop());
await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();
await new Promise((r) => setTimeout(r, 1000));
const newest = (await hall.api('GET', '/v1/decisions?limit=1')).decisions[0].decision.decision_id;
const topRow = await page.locator('.drow').first().getAttribute('data-decision-id');

const result = await collect();
// A keypress must still be handled promptly under load: time j -> selection change.
const t0 = Date.now();
await page.keyboard.press('j');
await page.waitForFunction(() => /#\/decisions\/[^?]+/.test(location.hash));
const keyMs = Date.now() - t0;

await b.close();
await hall.stop();

const frames = sorted(result.frames);
const loafScripts = new Map();
for (const f of result.loaf) for (const sc of f.scripts) loafScripts.set(sc.what, (loafScripts.get(sc.what) ?? 0) + sc.ms);
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
  frames_traced: work.length,
  frame_work_ms_p50: ms(percentile(work, 50)),
  frame_work_ms_p95: ms(percentile(work, 95)),
  frame_work_ms_p99: ms(percentile(work, 99)),
  frame_work_ms_max: ms(Math.max(...work)),
  frames_over_16ms_pct: ms((100 * work.filter((w) => w > 16).length) / work.length),
  idle_frame_work_ms_p50: ms(percentile(idle, 50)),
  idle_frame_work_ms_p95: ms(percentile(idle, 95)),
  raf_interval_ms_p50: ms(percentile(frames, 50)),
  raf_interval_ms_p95: ms(percentile(frames, 95)),
  long_animation_frames: result.loaf.length,
  long_animation_frame_ms_max: Math.max(0, ...result.loaf.map((f) => f.ms)),
  long_animation_frame_scripts_ms: Object.fromEntries([...loafScripts].sort((a, b) => b[1] - a[1]).slice(0, 8)),
  keypress_to_selection_ms: keyMs,
}, null, 1));
