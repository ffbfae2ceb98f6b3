// Onboarding (docs/mcp.md, "Onboarding (import)"): the import plan the hall makes from this
// user's MCP clients (`GET /v1/mcp/import`), the request built from the servers a person chose,
// what the plan will do for that choice, and where an error belongs. Pure functions, tested in
// mcpImport.test.ts.

import type { ApiError } from './api';
import type {
  ImportClient,
  ImportEnvNeeded,
  ImportFilePlan,
  ImportPlan,
  ImportRequest,
  ImportResult,
  ImportRulePlan,
  ImportServerPlan,
} from './types';

const CLIENT_LABELS: Record<ImportClient, string> = { claude: 'Claude Desktop', cursor: 'Cursor', vscode: 'VS Code' };

export function clientLabel(client: ImportClient | null | undefined): string {
  return client ? CLIENT_LABELS[client] : 'an MCP client';
}

// ---------------------------------------------------------------- choosing

/** One chosen entry: the client file and the entry's name in it (a Set key). */
export function choiceKey(path: string, name: string): string {
  return JSON.stringify([path, name]);
}

/** Whether a server can be put behind the hall: planned for import, in a file the hall can rewrite. */
export function isChoosable(file: ImportFilePlan, server: ImportServerPlan): boolean {
  return !file.error && server.status === 'import';
}

/** Every entry that can be chosen, in the plan's order. */
export function choosable(plan: ImportPlan): { path: string; name: string }[] {
  return plan.files.flatMap((f) => f.servers.filter((s) => isChoosable(f, s)).map((s) => ({ path: f.path, name: s.name })));
}

/** A selection kept across a fresh plan: entries that are no longer choosable drop out. */
export function pruneSelection(plan: ImportPlan, selected: ReadonlySet<string>): Set<string> {
  return new Set(choosable(plan).map((c) => choiceKey(c.path, c.name)).filter((k) => selected.has(k)));
}

/** The `POST /v1/mcp/import` body for the chosen entries, in the plan's order (unknown keys are dropped). */
export function importRequest(plan: ImportPlan, selected: ReadonlySet<string>): ImportRequest {
  return { servers: choosable(plan).filter((c) => selected.has(choiceKey(c.path, c.name))) };
}

// ---------------------------------------------------------------- what a server becomes

export interface RecordView {
  command: string | null;
  args: string[];
  url: string | null;
  /** `[name, shown]`: a `$REFERENCE` as written in the record, any other value only as "as written". */
  env: [string, string][];
  headers: [string, string][];
  /** The tool map to review: downstream tool name (or `*`) → capability. */
  tools: Record<string, string>;
}

const isRef = (v: unknown): v is string => typeof v === 'string' && /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(v);

/** Label of a value the record keeps as the client had it (not a secret, by the hall's rules). */
export const KEPT_VALUE = '(kept as written)';

function pairs(value: unknown): [string, string][] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, isRef(v) ? v : KEPT_VALUE]);
}

/**
 * The planned record's `mcp` block, read defensively, for display. Values other than `$NAME`
 * references are not shown: the screen names them, as the MCP screen does.
 */
export function recordView(record: unknown): RecordView | null {
  const mcp = (record as { mcp?: unknown } | null | undefined)?.mcp;
  if (!mcp || typeof mcp !== 'object') return null;
  const m = mcp as Record<string, unknown>;
  const tools: Record<string, string> = {};
  if (m.tools && typeof m.tools === 'object') {
    for (const [k, v] of Object.entries(m.tools as Record<string, unknown>)) if (typeof v === 'string') tools[k] = v;
  }
  return {
    command: typeof m.command === 'string' ? m.command : null,
    args: Array.isArray(m.args) ? m.args.filter((a): a is string => typeof a === 'string') : [],
    url: typeof m.url === 'string' ? m.url : null,
    env: pairs(m.env),
    headers: pairs(m.headers),
    tools,
  };
}

/** The tool map as the record writes it, e.g. `{"*": "cap.mcp.github"}`. */
export function toolMapText(tools: Record<string, string>): string {
  return JSON.stringify(tools);
}

/** Whether every tool of the server is offered under one capability (the import's default, to review). */
export function mapsEveryTool(tools: Record<string, string>): boolean {
  return '*' in tools;
}

// ---------------------------------------------------------------- what the choice does

export interface FileChange {
  path: string;
  client: ImportClient | null;
  /** Entries taken out of the file (now served through the hall). */
  removed: string[];
  /** `added`: a `proctor` entry is written in place of the first; `exists`: the client already has one. */
  entry: 'added' | 'exists';
}

export interface ImportSummary {
  /** Chosen entries. */
  chosen: number;
  /** Worker records written: id and file. */
  records: { worker_id: string; path: string }[];
  /** Worker ids whose record exists for the same server and is kept as it is. */
  kept: string[];
  /** Routing rules added. */
  rules: ImportRulePlan[];
  /** Rules that already route a chosen server's capability. */
  routed: ImportRulePlan[];
  /** Variables the hall's environment must provide, once per name and worker. */
  env: ImportEnvNeeded[];
  files: FileChange[];
}

/**
 * What applying the chosen entries will write, from the plan of every entry: the hall plans the
 * choice again when it applies, and its answer (`ImportResult`) is what was done.
 */
export function summarize(plan: ImportPlan, selected: ReadonlySet<string>): ImportSummary {
  const out: ImportSummary = { chosen: 0, records: [], kept: [], rules: [], routed: [], env: [], files: [] };
  const capabilities = new Set<string>();
  for (const f of plan.files) {
    const removed: string[] = [];
    for (const s of f.servers) {
      if (!isChoosable(f, s) || !selected.has(choiceKey(f.path, s.name))) continue;
      out.chosen++;
      removed.push(s.name);
      if (s.capability_id) capabilities.add(s.capability_id);
      if (s.record_status === 'new' && s.worker_id && s.record_path) {
        if (!out.records.some((r) => r.path === s.record_path)) out.records.push({ worker_id: s.worker_id, path: s.record_path });
        for (const e of s.references) {
          if (!out.env.some((x) => x.name === e.name && x.worker_id === e.worker_id)) out.env.push(e);
        }
      } else if (s.record_status === 'exists' && s.worker_id && !out.kept.includes(s.worker_id)) {
        out.kept.push(s.worker_id);
      }
    }
    if (removed.length) {
      const hasEntry = f.servers.some((s) => s.status === 'already_proctor') || f.rewrite?.entry_added === false;
      out.files.push({ path: f.path, client: f.client, removed, entry: hasEntry ? 'exists' : 'added' });
    }
  }
  for (const r of plan.rules) {
    if (!capabilities.has(r.capability_id)) continue;
    (r.add ? out.rules : out.routed).push(r);
  }
  return out;
}

/** The clients whose files were rewritten: each must be restarted to launch `proctor mcp`. */
export function clientsToRestart(result: ImportResult): string[] {
  const rewritten = new Set(result.applied.files_rewritten);
  const labels: string[] = [];
  for (const f of result.plan.files) {
    if (!rewritten.has(f.path)) continue;
    const label = clientLabel(f.client);
    if (!labels.includes(label)) labels.push(label);
  }
  // A rewritten file the plan does not list (cannot happen today) still asks for a restart.
  if (labels.length === 0 && rewritten.size > 0) labels.push(clientLabel(null));
  return labels;
}

/** The backup of a rewritten client file, from `applied.backups` (`[file, backup]` pairs). */
export function backupOf(result: ImportResult, path: string): string | null {
  return result.applied.backups.find(([file]) => file === path)?.[1] ?? null;
}

// ---------------------------------------------------------------- errors

/** Where an error of the import is shown: at a server, at a client file, or at the button. */
export type ErrorPlace = { at: 'server'; path: string; name: string } | { at: 'file'; path: string } | { at: 'apply' };

/**
 * The place an error concerns, from the path its message names: a planned record (a server), a
 * client file (the longest path named, so a backup beside a file still points at the file), else
 * the apply button.
 */
export function errorPlace(plan: ImportPlan | null, message: string): ErrorPlace {
  if (!plan) return { at: 'apply' };
  for (const f of plan.files) {
    for (const s of f.servers) {
      if (s.record_path && message.includes(s.record_path)) return { at: 'server', path: f.path, name: s.name };
    }
  }
  const files = plan.files.filter((f) => message.includes(f.path)).sort((a, b) => b.path.length - a.path.length);
  return files[0] ? { at: 'file', path: files[0].path } : { at: 'apply' };
}

/** What an error of `POST /v1/mcp/import` means for the person who clicked, in words. */
export function explainImportError(err: ApiError): string {
  if (err.status === 404) {
    return `The hall no longer finds this client file where it looks (moved or deleted since the plan); nothing was written. Plan again. (${err.message})`;
  }
  if (err.status === 409) {
    return `This file changed since the import was planned, so it was not touched; what was written before it stays. Plan again to review the change. (${err.message})`;
  }
  return err.message;
}
