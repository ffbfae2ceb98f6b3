// The MCP gateway as the UI shows it (docs/mcp.md): client configuration snippets, the outcome
// records linked to decisions, and small display helpers. Pure functions, tested in mcp.test.ts.

import type { Approval, LinkedRecord, McpServerState } from './types';

// ---------------------------------------------------------------- client configuration

/** The command clients launch: `proctor` on the PATH (the packages install it there). */
export const PROCTOR_COMMAND = 'proctor';

/** `proctor mcp --data-dir D`: the stdio bridge to the hall that owns D. */
export function bridgeArgs(dataDir: string): string[] {
  return ['mcp', '--data-dir', dataDir];
}

/** Claude Desktop's `claude_desktop_config.json` (Cursor's `~/.cursor/mcp.json` takes the same). */
export function claudeDesktopConfig(dataDir: string, command = PROCTOR_COMMAND): string {
  return JSON.stringify({ mcpServers: { proctor: { command, args: bridgeArgs(dataDir) } } }, null, 2);
}

/** VS Code's `mcp.json`: `servers`, with the transport named. */
export function vscodeConfig(dataDir: string, command = PROCTOR_COMMAND): string {
  return JSON.stringify({ servers: { proctor: { type: 'stdio', command, args: bridgeArgs(dataDir) } } }, null, 2);
}

/** The API token file of a data dir, joined with the data dir's own separator. */
export function tokenFile(dataDir: string): string {
  const sep = dataDir.includes('\\') && !dataDir.includes('/') ? '\\' : '/';
  return dataDir.endsWith(sep) ? `${dataDir}api-token` : `${dataDir}${sep}api-token`;
}

/**
 * The header a Streamable HTTP client sends. The token itself is never shown: the line names the
 * file that holds it.
 */
export function authorizationHeader(dataDir: string): string {
  return `Authorization: Bearer <the token in ${tokenFile(dataDir)}>`;
}

/** An address a client on this machine can reach a listen address at (a wildcard becomes loopback). */
export function reachableOrigin(listen: string): string {
  const m = /^\[([^\]]*)\]:(\d+)$/.exec(listen) ?? /^([^:]*):(\d+)$/.exec(listen);
  if (!m) return `http://${listen}`;
  const [, host, port] = m;
  if (listen.startsWith('[')) return `http://[${host === '::' || host === '' ? '::1' : host}]:${port}`;
  return `http://${host === '0.0.0.0' || host === '' ? '127.0.0.1' : host}:${port}`;
}

/**
 * The `/mcp` URL: in the browser, the hall the UI talks to (its address in Settings, else the
 * page's own origin); in the desktop app, the hall's loopback listen address.
 */
export function mcpEndpoint(opts: { desktop: boolean; hallUrl: string; origin: string; listen: string }): string {
  const base = opts.desktop ? reachableOrigin(opts.listen) : opts.hallUrl.trim() || opts.origin;
  return `${base.replace(/\/+$/, '')}/mcp`;
}

// ---------------------------------------------------------------- linked records

export const OUTCOMES = ['ok', 'tool_error', 'protocol_error', 'timeout', 'unavailable', 'busy', 'too_large', 'denied', 'not_forwarded'] as const;
export type CallOutcome = (typeof OUTCOMES)[number];

/** The body of an `mcp_call` record (crates/hall/src/mcp/call.rs `finish`), read defensively. */
export interface McpCallBody {
  session_id: string | null;
  client: string | null;
  capability_id: string | null;
  tenant_id: string | null;
  /** `null` when only the hash was kept (`record_arguments = "hash"`). */
  arguments: unknown;
  arguments_sha256: string | null;
  outcome: string;
  latency_ms: number | null;
  result_bytes: number | null;
  result_sha256: string | null;
  error: string | null;
  approval_id: string | null;
  dispatch_decision: unknown;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function callBody(record: LinkedRecord): McpCallBody {
  const b = record.body ?? {};
  return {
    session_id: str(b.session_id),
    client: str(b.client),
    capability_id: str(b.capability_id),
    tenant_id: str(b.tenant_id),
    arguments: b.arguments ?? null,
    arguments_sha256: str(b.arguments_sha256),
    outcome: str(b.outcome) ?? 'unknown',
    latency_ms: num(b.latency_ms),
    result_bytes: num(b.result_bytes),
    result_sha256: str(b.result_sha256),
    error: str(b.error),
    approval_id: str(b.approval_id),
    dispatch_decision: b.dispatch_decision ?? null,
  };
}

/** The body of an `approval` record: the Approval as it ended (state and verdict). */
export function approvalBody(record: LinkedRecord): Approval | null {
  const b = record.body as Partial<Approval> | undefined;
  return b && typeof b.state === 'string' && typeof b.id === 'string' ? (b as Approval) : null;
}

/** Display class of an outcome: ok is green, a tool's own error amber, everything else red. */
export function outcomeClass(outcome: string): 'ok' | 'warning' | 'bad' {
  if (outcome === 'ok') return 'ok';
  if (outcome === 'tool_error') return 'warning';
  return 'bad';
}

export function outcomeLabel(outcome: string): string {
  return outcome.replaceAll('_', ' ');
}

/** Display class of an approval's state. */
export function approvalClass(state: string): 'ok' | 'warning' | 'bad' | 'info' {
  if (state === 'approved') return 'ok';
  if (state === 'pending') return 'warning';
  if (state === 'denied') return 'bad';
  return 'info';
}

/** Display class of a server's state. */
export function serverStateClass(state: McpServerState): 'ok' | 'info' | 'bad' | 'muted' {
  if (state === 'ready') return 'ok';
  if (state === 'starting') return 'info';
  if (state === 'failed') return 'bad';
  return 'muted';
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A command line for display: arguments with spaces or quotes are quoted. */
export function commandLine(command: string | null, args: string[]): string {
  const quote = (a: string) => (a === '' || /[\s"'\\$]/.test(a) ? JSON.stringify(a) : a);
  return [command ?? '', ...args].filter((p, i) => i > 0 || p !== '').map(quote).join(' ');
}

/** Whether a pushed `mcp_call` record belongs in a list filtered by server and tool. */
export function matchesCallFilter(record: LinkedRecord, filter: { server?: string; tool?: string }): boolean {
  if (record.kind !== 'mcp_call') return false;
  if (filter.server && record.server !== filter.server) return false;
  if (filter.tool && record.tool !== filter.tool) return false;
  return true;
}

/** Prepends pushed records to a newest-first list (no duplicates), keeping at most `cap`. */
export function prependCalls(list: LinkedRecord[], incoming: LinkedRecord[], cap: number): LinkedRecord[] {
  const seen = new Set(list.map((r) => r.seq));
  const fresh = incoming.filter((r) => !seen.has(r.seq)).sort((a, b) => b.seq - a.seq);
  return [...fresh, ...list].slice(0, cap);
}

// ---------------------------------------------------------------- throttling

export interface Timers {
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  now: () => number;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/**
 * Runs `fn` at most once per `ms`: at once when it has not run for `ms`, else once at the end of
 * the window (however many calls came in it). `cancel` drops a pending run.
 */
export function throttle(fn: () => void, ms: number, timers: Timers = realTimers): { call: () => void; cancel: () => void } {
  let last = -Infinity;
  let timer: unknown = null;
  const run = () => {
    timer = null;
    last = timers.now();
    fn();
  };
  return {
    call() {
      if (timer !== null) return;
      const wait = last + ms - timers.now();
      if (wait <= 0) run();
      else timer = timers.setTimeout(run, wait);
    },
    cancel() {
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
  };
}
