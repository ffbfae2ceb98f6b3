// Shared pieces of the browser end-to-end tests: a real `proctor serve` on a free loopback port
// with a throwaway data dir, an HTTP client for seeding it, and Debian's Chromium driven by
// playwright-core (never a downloaded browser).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { listeningUrl } from '../poll.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Loads the test tools installed with the UI (ui/package.json devDependencies). */
export const requireUi = createRequire(join(ROOT, 'ui/package.json'));
const { chromium } = requireUi('playwright-core');

export const PROCTOR_BIN = process.env.PROCTOR_BIN ?? join(ROOT, 'target/debug/proctor');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test-artifacts');
/** The MCP server the gateway tests run behind the hall (`cargo build -p hall --example mcp_fixture`). */
export const MCP_FIXTURE = process.env.MCP_FIXTURE ?? join(ROOT, 'target/debug/examples/mcp_fixture');

/** Rules for the seeded hall: one capability per worker species, plus nothing for `cap.none`. */
export const RULES = {
  rules: [
    {
      rule_id: 'rr_doc',
      match: { capability_id: 'cap.doc.summarize' },
      decision: { candidate_workers_ranked: [{ worker_species_id: 'wrk.doc.summarizer', score_hint: 1.0 }] },
    },
    {
      rule_id: 'rr_ocr',
      match: { capability_id: 'cap.doc.ocr' },
      decision: { candidate_workers_ranked: [{ worker_species_id: 'wrk.doc.ocr' }, { worker_species_id: 'wrk.doc.ocr.backup' }] },
    },
    {
      rule_id: 'rr_any',
      match: { capability_id: { any: true }, env: 'dev' },
      decision: { candidate_workers_ranked: [{ worker_species_id: 'wrk.generic' }] },
    },
  ],
};

export class Hall {
  /**
   * Starts `proctor serve` on 127.0.0.1:0 with the built UI and returns once it listens. `files`
   * are written into the data dir first (e.g. a `config.toml`, read only at start). `home`, when
   * given, is the hall's `HOME`, with `XDG_CONFIG_HOME` = `<home>/.config`: where it looks for the
   * MCP clients' configuration (`GET /v1/mcp/import`) instead of the user's own files.
   */
  static async start({ files = {}, home = null } = {}) {
    const dataDir = mkdtempSync(join(tmpdir(), 'proctor-e2e-'));
    writeFileSync(join(dataDir, 'rules.json'), JSON.stringify(RULES, null, 2));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dataDir, name), content);
    const env = home ? { HOME: home, XDG_CONFIG_HOME: join(home, '.config') } : {};
    const { child, url } = await serve(dataDir, '127.0.0.1:0', env);
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    return new Hall(child, url, token, dataDir, env);
  }

  constructor(child, url, token, dataDir, env) {
    this.child = child;
    this.url = url;
    this.token = token;
    this.dataDir = dataDir;
    this.env = env;
  }

  /** Stops the hall process and keeps its data dir (see `restart`). */
  async kill() {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await new Promise((r) => this.child.once('exit', r));
    }
  }

  /** Starts the hall again on the same data dir and address. */
  async restart() {
    await this.kill();
    this.child = (await serve(this.dataDir, new URL(this.url).host, this.env)).child;
  }

  async api(method, path, body) {
    const res = await fetch(this.url + path, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
    return json;
  }

  /** Runs the `proctor` CLI against this hall's key/config dir; throws with its stderr on failure. */
  cli(...args) {
    const r = spawnSync(PROCTOR_BIN, args, { env: { ...process.env, PROCTOR_CONFIG_DIR: join(this.dataDir, 'config') }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`proctor ${args.join(' ')} -> ${r.status}: ${r.stderr}`);
    return r.stdout;
  }

  enroll(record) {
    return this.api('POST', '/v1/workers', record);
  }

  heartbeat(workerId, body = {}) {
    return this.api('POST', `/v1/workers/${encodeURIComponent(workerId)}/heartbeat`, body);
  }

  route(input) {
    return this.api('POST', '/v1/route', {
      env: 'dev', data_label: 'PUBLIC', tenant_risk: 'low', qos_class: 'P2', request: {}, ...input,
    });
  }

  async stop() {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Spawns `proctor serve` on `dataDir` and resolves once it listens. */
async function serve(dataDir, listen, env) {
  const child = spawn(PROCTOR_BIN, ['serve', '--data-dir', dataDir, '--listen', listen], {
    env: {
      ...process.env,
      ...env,
      PROCTOR_UI_DIR: process.env.PROCTOR_UI_DIR ?? join(ROOT, 'ui/dist'),
      PROCTOR_CONFIG_DIR: join(dataDir, 'config'),
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = await listeningUrl(child, () => stderr, 20_000);
  return { child, url };
}

export function worker(id, species, capabilities) {
  return {
    worker_id: id,
    worker_species_id: species,
    capabilities,
    risk_tier: 'low',
    required_controls: ['ctrl.obs.audit-log-append-only'],
    currently_implements: ['ctrl.pol.default-deny'],
    allowed_environments: ['dev'],
  };
}

/** A browser with a fresh profile (`viewport`: its window size); every console error and CSP violation is collected. */
export async function browser({ viewport = { width: 1400, height: 900 } } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'proctor-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Stores the hall's token in the UI's settings, as a person signing in would. */
export async function signIn(page, hall) {
  await page.goto(`${hall.url}/#/settings`);
  await page.evaluate((token) => localStorage.setItem('proctor.prefs.v1', JSON.stringify({ hallUrl: '', token, theme: 'system', notifications: false })), hall.token);
  await page.reload();
}

/**
 * Runs `tests` ({name, fn}) in order, those whose name contains `only` if it is given: a line
 * each, and a screenshot named `FAILED-<prefix><name>` of a failure. Returns how many failed.
 */
export async function runTests(tests, page, { only, prefix = '' } = {}) {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    if (only && !t.name.includes(only)) continue;
    const started = Date.now();
    try {
      await t.fn();
      passed++;
      console.log(`ok   ${t.name} (${Date.now() - started} ms)`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${t.name}\n     ${String(err?.stack ?? err).split('\n').slice(0, 40).join('\n     ')}`);
      await screenshot(page, `FAILED-${prefix}${t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => {});
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}

// axe-core (a devDependency of ui/, like the other test tools) is evaluated in the page through
// the DevTools protocol: the page's CSP forbids injected <script> tags, and stays on.
const AXE_SOURCE = readFileSync(requireUi.resolve('axe-core/axe.min.js'), 'utf8');

/** Serious and critical axe violations on the page as it is, one line each. */
export async function axeProblems(page) {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

/** Polls hall-side state (not the UI: use Playwright's own waits there). */
export { eventually } from '../poll.mjs';

export function writePackage(root, files) {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}
