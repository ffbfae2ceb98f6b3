// The renderer main thread's work per frame, from a Chromium trace (DevTools protocol): every task
// the main thread ran (`ThreadControllerImpl::RunTask`, category `toplevel`) is added to the frame it began in, frames
// being delimited by `BeginMainThreadFrame`. A frame's work is what had to fit into its interval:
// the decision events' handlers, requestAnimationFrame callbacks, style, layout and paint. Unlike
// requestAnimationFrame intervals (paced at 60 Hz: never under 16.7 ms), it reads below 16 ms.

/** Starts tracing `page`; `stop()` resolves to the per-frame work (ms) of the main thread. */
export async function traceFrames(context, page) {
  const cdp = await context.newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    traceConfig: { includedCategories: ['__metadata', 'toplevel', 'disabled-by-default-devtools.timeline.frame'] },
  });
  return {
    async stop() {
      const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
      await cdp.send('Tracing.end');
      await complete;
      await cdp.detach();
      return frameWork(events);
    },
  };
}

/** Per-frame main-thread work in ms, from trace events (the busiest CrRendererMain thread). */
export function frameWork(events) {
  const mains = new Set(events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const byThread = new Map();
  for (const e of events) {
    const thread = `${e.pid}:${e.tid}`;
    if (!mains.has(thread)) continue;
    if (!byThread.has(thread)) byThread.set(thread, { tasks: [], frames: [] });
    const t = byThread.get(thread);
    if (e.ph === 'X' && (e.name === 'RunTask' || e.name.endsWith('::RunTask'))) t.tasks.push([e.ts, e.dur ?? 0]);
    else if (e.name === 'BeginMainThreadFrame') t.frames.push(e.ts);
  }
  const main = [...byThread.values()].sort((a, b) => b.tasks.length - a.tasks.length)[0];
  if (!main || main.frames.length < 2) return [];
  const tasks = main.tasks.sort((a, b) => a[0] - b[0]);
  // A frame begins with the task that runs it (the marker is inside that task).
  const containing = (m) => {
    let lo = 0;
    let hi = tasks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (tasks[mid][0] <= m) lo = mid;
      else hi = mid - 1;
    }
    const [ts, dur] = tasks[lo] ?? [m, 0];
    return ts <= m && m <= ts + dur ? ts : m;
  };
  const frames = [...new Set(main.frames.map(containing))].sort((a, b) => a - b);
  const work = new Array(frames.length - 1).fill(0);
  let f = 0;
  for (const [ts, dur] of tasks) {
    if (ts < frames[0]) continue;
    while (f < frames.length - 1 && ts >= frames[f + 1]) f++;
    if (f >= work.length) break;
    work[f] += dur / 1000;
  }
  return work;
}
