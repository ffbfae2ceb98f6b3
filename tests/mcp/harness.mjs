// Shared pieces of the MCP gateway tests (tests/mcp/run.mjs) and benchmark (benches/mcp/): a real
// `proctor serve` on a free loopback port with a data dir prepared before it starts, the official
// MCP SDK's client on both of the hall's faces (`proctor mcp` over stdio, `/mcp` over Streamable
// HTTP), and the `proctor` CLI.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listeningUrl } from '../poll.mjs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export { Client, StdioClientTransport, StreamableHTTPClientTransport };
export { McpError } from '@modelcontextprotocol/sdk/types.js';
export { eventually } from '../poll.mjs';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '../..');
export const PROCTOR_BIN = process.env.PROCTOR_BIN ?? join(ROOT, 'target/debug/proctor');
/** server-everything's entry point (its `mcp-server-everything` bin); `stdio` is its transport. */
export const SERVER_EVERYTHING = join(HERE, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
/** server-everything behind a tee that logs every message the hall sends it ($SPY_LOG). */
export const SPY = join(HERE, 'spy.mjs');

/** Rejects with a message naming `what` when `promise` has not settled within `ms`. */
export function deadline(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, fail) => {
      timer = setTimeout(() => fail(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A fresh data dir holding `files` ({relative path: string or JSON value}). */
export function prepareDataDir(files, prefix = 'proctor-mcp-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

/** The hall's environment: its own key dir, quiet logs. */
function hallEnv(dataDir, extra = {}) {
  return { ...process.env, PROCTOR_CONFIG_DIR: join(dataDir, 'config'), RUST_LOG: process.env.RUST_LOG ?? 'warn', ...extra };
}

export class Hall {
  /** Starts `proctor serve --data-dir DIR --listen 127.0.0.1:0` and returns once it listens. */
  static async start(dataDir, { bin = PROCTOR_BIN, env = {} } = {}) {
    const child = spawn(bin, ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
      env: hallEnv(dataDir, env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
    });
    const url = await listeningUrl(child, () => stderr, 30_000);
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    const hall = new Hall(child, url, token, dataDir, bin);
    hall.stderr = () => stderr;
    return hall;
  }

  constructor(child, url, token, dataDir, bin) {
    this.child = child;
    this.url = url;
    this.token = token;
    this.dataDir = dataDir;
    this.bin = bin;
  }

  /** An HTTP request to the hall (with the token unless `auth: false`): {status, json, text}. */
  async request(method, path, { body, auth = true, headers = {}, timeoutMs = 15_000 } = {}) {
    const res = await fetch(this.url + path, {
      method,
      headers: {
        ...(auth ? { Authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined && typeof body !== 'string' ? { 'Content-Type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: the caller looks at `text`
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  /** GET with the token; throws unless 2xx. */
  async get(path) {
    const r = await this.request('GET', path);
    if (r.status < 200 || r.status > 299) throw new Error(`GET ${path} -> ${r.status} ${r.text}`);
    return r.json;
  }

  /** Runs the `proctor` CLI (with a deadline): {status, stdout, stderr}. */
  cli(args, { timeoutMs = 30_000 } = {}) {
    const r = spawnSync(this.bin, args, { env: hallEnv(this.dataDir), encoding: 'utf8', timeout: timeoutMs });
    if (r.error) throw new Error(`proctor ${args.join(' ')}: ${r.error.message}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs the `proctor` CLI and throws with its stderr unless it exits 0; returns stdout. */
  cliOk(...args) {
    const r = this.cli(args);
    if (r.status !== 0) throw new Error(`proctor ${args.join(' ')} -> ${r.status}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** An MCP client on `/mcp` (Streamable HTTP) with the bearer token. */
  async httpClient(name = 'proctor-tests-http', { headers = {} } = {}) {
    const transport = new StreamableHTTPClientTransport(new URL(`${this.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${this.token}`, ...headers } },
    });
    const client = new Client({ name, version: '1.0.0' });
    await deadline(client.connect(transport), 20_000, 'connecting to /mcp');
    return { client, transport };
  }

  /** An MCP client on `proctor mcp --data-dir DIR` (stdio), launched by the SDK. */
  stdioClient(name = 'proctor-tests-stdio', extraArgs = []) {
    return stdioBridge(this.dataDir, name, extraArgs, this.bin);
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await deadline(exited, 15_000, 'proctor serve stopping').catch(() => this.child.kill('SIGKILL'));
    }
  }

  remove() {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** `proctor mcp --data-dir DIR` launched by the SDK's StdioClientTransport; its stderr is kept. */
export async function stdioBridge(dataDir, name = 'proctor-tests-stdio', extraArgs = [], bin = PROCTOR_BIN) {
  const transport = new StdioClientTransport({
    command: bin,
    args: ['mcp', '--data-dir', dataDir, ...extraArgs],
    env: hallEnv(dataDir),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d) => (stderr += d));
  const client = new Client({ name, version: '1.0.0' });
  await deadline(client.connect(transport), 20_000, 'connecting to proctor mcp');
  return { client, transport, stderr: () => stderr };
}

/** The text of a tool result's text blocks. */
export function textOf(result) {
  return (result.content ?? [])
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('');
}
