// A minimal W3C WebDriver client for the Tauri app: tauri-driver (+ Debian's WebKitWebDriver)
// launches the real binary; `run` executes JavaScript in its webview. Shared by the desktop smoke
// test and the desktop benchmark.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually } from '../poll.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const freePort = () =>
  new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

/** The desktop app starts slower than a page: wait up to 20 s by default. */
export const until = (fn, what, timeoutMs = 20_000) => eventually(fn, what, timeoutMs);

/** Starts tauri-driver with `env` (inherited by the app) and opens a session on `app`. */
export async function launch(app, env) {
  const driverBin = process.env.TAURI_DRIVER ?? join(process.env.HOME ?? '/root', '.cargo/bin/tauri-driver');
  const port = await freePort();
  // A free native port too (WebKitWebDriver defaults to 4445), so two runs can share the machine.
  const nativePort = await freePort();
  const driver = spawn(driverBin, ['--port', String(port), '--native-port', String(nativePort)], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  const wd = async (method, path, body) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json.value;
  };
  await until(() => fetch(`http://127.0.0.1:${port}/status`).then((r) => r.ok), 'tauri-driver');
  const requested = Date.now();
  const session = (await wd('POST', '/session', { capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application: app } } } })).sessionId;
  let open = true;
  return {
    requested,
    wd,
    session,
    run: (script, args = []) => wd('POST', `/session/${session}/execute/sync`, { script, args }),
    runAsync: (script, args = []) => wd('POST', `/session/${session}/execute/async`, { script, args }),
    /** Ends the session (which closes the app). */
    async quit() {
      if (open) {
        open = false;
        await wd('DELETE', `/session/${session}`);
      }
    },
    async close() {
      await this.quit().catch(() => {});
      driver.kill('SIGTERM');
    },
  };
}
