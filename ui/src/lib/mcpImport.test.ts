import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import {
  KEPT_VALUE, backupOf, choiceKey, choosable, clientLabel, clientsToRestart, errorPlace, explainImportError, importRequest, isChoosable,
  mapsEveryTool, pruneSelection, recordView, summarize, toolMapText,
} from './mcpImport';
import type { ImportEnvNeeded, ImportFilePlan, ImportPlan, ImportResult, ImportServerPlan } from './types';

const CURSOR = '/home/me/.cursor/mcp.json';
const VSCODE = '/home/me/.config/Code/User/mcp.json';
const REG = '/data/registry';

const ref = (name: string, worker: string, field: string): ImportEnvNeeded => ({ name, worker_id: worker, field, note: `the secret value of ${name}` });

function server(name: string, over: Partial<ImportServerPlan> = {}): ImportServerPlan {
  const id = `mcp.${name}`;
  return {
    name, status: 'import', reason: null, transport: 'stdio', worker_id: id, worker_species_id: `wrk.${id}`, capability_id: `cap.${id}`,
    record_path: `${REG}/${id}.json`,
    record: { worker_id: id, worker_species_id: `wrk.${id}`, capabilities: [`cap.${id}`], mcp: { command: 'npx', args: ['-y', name], tools: { '*': `cap.${id}` } } },
    record_status: 'new', references: [], ...over,
  };
}

const skipped = (name: string, status: 'skipped' | 'already_proctor', reason: string): ImportServerPlan => ({
  name, status, reason, transport: null, worker_id: null, worker_species_id: null, capability_id: null, record_path: null, record: null, record_status: null, references: [],
});

function file(path: string, servers: ImportServerPlan[], over: Partial<ImportFilePlan> = {}): ImportFilePlan {
  const removed = servers.filter((s) => s.status === 'import').map((s) => s.name);
  return {
    client: path.includes('.cursor') ? 'cursor' : 'vscode', path, shape: 'mcp_servers', error: null, servers, warnings: [],
    rewrite: removed.length ? { removed, entry_name: 'proctor', entry: {}, entry_added: !servers.some((s) => s.status === 'already_proctor'), backup: null } : null,
    ...over,
  };
}

const rule = (name: string, add = true) => ({
  capability_id: `cap.mcp.${name}`, worker_species_id: `wrk.mcp.${name}`, add, rule_id: add ? `mcp.${name}` : 'rr_existing', rule: null,
});

function samplePlan(): ImportPlan {
  const gh = ref('GITHUB_TOKEN', 'mcp.github', 'mcp.env.GITHUB_TOKEN');
  const remote = ref('REMOTE_AUTHORIZATION', 'mcp.remote', 'mcp.headers.Authorization');
  return {
    target: { data_dir: '/data', registry_dir: REG, rules_file: '/data/rules.json', proctor_command: '/usr/bin/proctor' },
    files: [
      file(CURSOR, [
        server('github', {
          references: [gh],
          record: {
            mcp: { command: 'npx', args: ['-y', 'gh'], env: { GITHUB_TOKEN: '$GITHUB_TOKEN', LOG_LEVEL: 'info' }, tools: { '*': 'cap.mcp.github' } },
          },
        }),
        server('remote', {
          transport: 'http', references: [remote],
          record: { mcp: { url: 'https://tools.example/mcp', headers: { Authorization: '$REMOTE_AUTHORIZATION' }, tools: { '*': 'cap.mcp.remote' } } },
        }),
        skipped('legacy', 'skipped', 'a legacy SSE server'),
      ]),
      file(VSCODE, [skipped('proctor', 'already_proctor', 'already launches `proctor mcp`'), server('files', { record_status: 'exists' })]),
    ],
    rules: [rule('github'), rule('remote'), rule('files', false)],
    env_needed: [gh, remote],
  };
}

const keys = (...pairs: [string, string][]) => new Set(pairs.map(([p, n]) => choiceKey(p, n)));

describe('choosing servers', () => {
  it('offers only entries planned for import, in files the hall can rewrite', () => {
    const plan = samplePlan();
    expect(choosable(plan)).toEqual([
      { path: CURSOR, name: 'github' },
      { path: CURSOR, name: 'remote' },
      { path: VSCODE, name: 'files' },
    ]);
    const broken = file('/x.json', [server('a')], { error: 'not JSON' });
    expect(isChoosable(broken, broken.servers[0]!)).toBe(false);
  });

  it('builds the request from the selection in the plan order, dropping what is not choosable', () => {
    const plan = samplePlan();
    const selected = keys([VSCODE, 'files'], [CURSOR, 'github'], [CURSOR, 'legacy'], ['/gone.json', 'x']);
    expect(importRequest(plan, selected)).toEqual({
      servers: [
        { path: CURSOR, name: 'github' },
        { path: VSCODE, name: 'files' },
      ],
    });
    expect(importRequest(plan, new Set())).toEqual({ servers: [] });
  });

  it('keys do not collide when names or paths hold separators', () => {
    expect(choiceKey('/a b', 'c')).not.toBe(choiceKey('/a', 'b c'));
  });

  it('keeps a selection across a fresh plan only for entries still choosable', () => {
    const plan = samplePlan();
    plan.files[0]!.servers[0] = skipped('github', 'already_proctor', 'imported meanwhile');
    const kept = pruneSelection(plan, keys([CURSOR, 'github'], [CURSOR, 'remote']));
    expect([...kept]).toEqual([choiceKey(CURSOR, 'remote')]);
  });
});

describe('what a server becomes', () => {
  it('shows references and names, never a written-out value', () => {
    const r = recordView(samplePlan().files[0]!.servers[0]!.record)!;
    expect(r.command).toBe('npx');
    expect(r.args).toEqual(['-y', 'gh']);
    expect(r.env).toEqual([
      ['GITHUB_TOKEN', '$GITHUB_TOKEN'],
      ['LOG_LEVEL', KEPT_VALUE],
    ]);
    expect(toolMapText(r.tools)).toBe('{"*":"cap.mcp.github"}');
    expect(mapsEveryTool(r.tools)).toBe(true);
    expect(mapsEveryTool({ echo: 'cap.x' })).toBe(false);
  });

  it('reads an HTTP server and tolerates odd records', () => {
    const r = recordView(samplePlan().files[0]!.servers[1]!.record)!;
    expect(r.url).toBe('https://tools.example/mcp');
    expect(r.command).toBeNull();
    expect(r.headers).toEqual([['Authorization', '$REMOTE_AUTHORIZATION']]);
    expect(recordView(null)).toBeNull();
    expect(recordView({ mcp: 'x' })).toBeNull();
    expect(recordView({ mcp: { args: [1, 'a'], env: ['x'], tools: { a: 1, b: 'cap.b' } } })).toEqual({
      command: null, args: ['a'], url: null, env: [], headers: [], tools: { b: 'cap.b' },
    });
    // Something that only looks like a reference is not one.
    expect(recordView({ mcp: { env: { A: '$not a ref', B: 'ghp_x' } } })!.env).toEqual([
      ['A', KEPT_VALUE],
      ['B', KEPT_VALUE],
    ]);
  });

  it('labels clients', () => {
    expect(clientLabel('claude')).toBe('Claude Desktop');
    expect(clientLabel('vscode')).toBe('VS Code');
    expect(clientLabel(null)).toBe('an MCP client');
  });
});

describe('summarising the plan for a selection', () => {
  it('lists the records, rules, file changes and variables of the chosen servers only', () => {
    const s = summarize(samplePlan(), keys([CURSOR, 'github']));
    expect(s.chosen).toBe(1);
    expect(s.records).toEqual([{ worker_id: 'mcp.github', path: `${REG}/mcp.github.json` }]);
    expect(s.kept).toEqual([]);
    expect(s.rules.map((r) => r.rule_id)).toEqual(['mcp.github']);
    expect(s.routed).toEqual([]);
    expect(s.env.map((e) => e.name)).toEqual(['GITHUB_TOKEN']);
    expect(s.files).toEqual([{ path: CURSOR, client: 'cursor', removed: ['github'], entry: 'added' }]);
  });

  it('keeps an existing record, names the rule that routes it and the proctor entry that stays', () => {
    const s = summarize(samplePlan(), keys([VSCODE, 'files'], [CURSOR, 'remote']));
    expect(s.chosen).toBe(2);
    expect(s.records.map((r) => r.worker_id)).toEqual(['mcp.remote']);
    expect(s.kept).toEqual(['mcp.files']);
    expect(s.rules.map((r) => r.rule_id)).toEqual(['mcp.remote']);
    expect(s.routed.map((r) => r.rule_id)).toEqual(['rr_existing']);
    expect(s.env.map((e) => e.name)).toEqual(['REMOTE_AUTHORIZATION']);
    expect(s.files).toEqual([
      { path: CURSOR, client: 'cursor', removed: ['remote'], entry: 'added' },
      { path: VSCODE, client: 'vscode', removed: ['files'], entry: 'exists' },
    ]);
  });

  it('is empty without a choice', () => {
    expect(summarize(samplePlan(), new Set())).toEqual({ chosen: 0, records: [], kept: [], rules: [], routed: [], env: [], files: [] });
  });
});

describe('the answer', () => {
  const result = (): ImportResult => {
    const plan = samplePlan();
    return {
      plan,
      applied: {
        records_written: [`${REG}/mcp.github.json`], rules_added: ['mcp.github'], files_rewritten: [CURSOR],
        backups: [[CURSOR, `${CURSOR}.proctor-backup-20260101T000000Z`]], initialized: [],
      },
    };
  };

  it('names the clients to restart and each file\'s backup', () => {
    const r = result();
    expect(clientsToRestart(r)).toEqual(['Cursor']);
    expect(backupOf(r, CURSOR)).toBe(`${CURSOR}.proctor-backup-20260101T000000Z`);
    expect(backupOf(r, VSCODE)).toBeNull();
    r.applied.files_rewritten = [];
    expect(clientsToRestart(r)).toEqual([]);
  });
});

describe('errors', () => {
  it('are placed at the server, client file or button they concern', () => {
    const plan = samplePlan();
    expect(errorPlace(plan, `${CURSOR}: changed since the import was planned; plan it again`)).toEqual({ at: 'file', path: CURSOR });
    expect(errorPlace(plan, `not found: ${VSCODE} is not a client configuration this hall found`)).toEqual({ at: 'file', path: VSCODE });
    expect(errorPlace(plan, `${CURSOR}.proctor-backup-1: permission denied`)).toEqual({ at: 'file', path: CURSOR });
    expect(errorPlace(plan, `${REG}/mcp.remote.json: changed since the import was planned`)).toEqual({ at: 'server', path: CURSOR, name: 'remote' });
    expect(errorPlace(plan, '/data/rules.json: not valid')).toEqual({ at: 'apply' });
    expect(errorPlace(null, CURSOR)).toEqual({ at: 'apply' });
  });

  it('the longest named path wins when one file path extends another', () => {
    const plan = samplePlan();
    plan.files.push(file(`${CURSOR}.d/mcp.json`, [server('z')]));
    expect(errorPlace(plan, `${CURSOR}.d/mcp.json: changed`)).toEqual({ at: 'file', path: `${CURSOR}.d/mcp.json` });
  });

  it('say what 404 and 409 mean', () => {
    expect(explainImportError(new ApiError(404, 'NOT_FOUND', 'not found: /x'))).toMatch(/no longer finds this client file.*nothing was written.*not found: \/x/);
    expect(explainImportError(new ApiError(409, 'CONFLICT', '/x: changed'))).toMatch(/changed since the import was planned.*Plan again/);
    expect(explainImportError(new ApiError(500, 'CONFIG', 'disk full'))).toBe('disk full');
  });
});
