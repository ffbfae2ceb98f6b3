// The MCP gateway driven by real MCP parts: the official TypeScript SDK's client, on both of the
// hall's faces (`proctor mcp` over stdio, launched by the SDK's StdioClientTransport; `/mcp` over
// Streamable HTTP), in front of the official @modelcontextprotocol/server-everything as the
// downstream worker, with a real `proctor serve` and the `proctor` CLI for approvals.
//
// Run: node tests/mcp/run.mjs [name filter]   (needs target/debug/proctor and
// `npm --prefix tests/mcp ci`; ./test does both). Prints one line per test and a final
// `N passed, N failed`; exits non-zero on any failure. Every wait has a deadline, and the whole
// run stops after OVERALL_MS.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Client,
  Hall,
  McpError,
  SERVER_EVERYTHING,
  SPY,
  StdioClientTransport,
  StreamableHTTPClientTransport,
  deadline,
  eventually,
  prepareDataDir,
  sleep,
  stdioBridge,
  textOf,
} from './harness.mjs';

const OVERALL_MS = 540_000;
const TEST_MS = 90_000;
const filter = process.argv[2];

const overall = setTimeout(() => {
  console.log(`FAIL the whole run: over ${OVERALL_MS / 1000} s`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, OVERALL_MS);
let passed = 0;
let failed = 0;

// ------------------------------------------------------------------ the hall's data dir
// echo → an allowed capability; get-sum → a capability no rule names (denied, fail closed);
// get-structured-content → a capability whose rule asks the policy gate, which always wants a
// person. server-everything's other tools are unmapped, so no client may see or call them.
const TOOLS = { echo: 'cap.demo.echo', 'get-sum': 'cap.demo.math', 'get-structured-content': 'cap.demo.weather' };
const MAPPED = Object.keys(TOOLS).sort();
const GATED = 'get-structured-content';
const WORKER = 'org.demo.everything';
const SPECIES = 'wrk.demo.everything';
const TENANT = 'mcp-tests';

const dataDir = prepareDataDir({
  'config.toml': `policy_gate_file = "gate.json"\n\n[mcp]\ntenant_id = "${TENANT}"\napproval_timeout_s = 120\n`,
  'gate.json': { rules: [], default: ['REQUIRE_HUMAN', 'gate.v1', 'a person must approve'] },
  'rules.json': {
    rules: [
      {
        rule_id: 'rr_echo',
        match: { capability_id: 'cap.demo.echo' },
        decision: { candidate_workers_ranked: [{ worker_species_id: SPECIES }] },
      },
      {
        rule_id: 'rr_weather',
        match: { capability_id: 'cap.demo.weather' },
        decision: {
          candidate_workers_ranked: [{ worker_species_id: SPECIES }],
          escalation: { policy_gate: true, rationale: 'a person looks first' },
        },
      },
    ],
  },
});
const SPY_LOG = join(dataDir, 'downstream-saw.jsonl');
// Written after the dir exists, since the record names a file inside it.
mkdirSync(join(dataDir, 'registry'));
writeFileSync(
  join(dataDir, 'registry/everything.json'),
  JSON.stringify({
    worker_id: WORKER,
    worker_species_id: SPECIES,
    capabilities: Object.values(TOOLS),
    risk_tier: 'low',
    mcp: { command: process.execPath, args: [SPY], env: { SPY_LOG }, tools: TOOLS },
  }),
);

/** The tools/call requests server-everything received (through the spy), by tool name. */
function downstreamCalls(tool) {
  if (!existsSync(SPY_LOG)) return [];
  return readFileSync(SPY_LOG, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((m) => m.method === 'tools/call' && (tool === undefined || m.params?.name === tool));
}

/** Set-up that cannot go on: one failed line and the closing count, then out. */
function setupFailed(what, e) {
  console.log(`FAIL set-up: ${what}\n     ${String(e?.stack ?? e).split('\n').slice(0, 8).join('\n     ')}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// The reference answers: the same calls straight to server-everything with the same SDK client.
const reference = {};
try {
  const transport = new StdioClientTransport({ command: process.execPath, args: [SERVER_EVERYTHING, 'stdio'], stderr: 'pipe' });
  const direct = new Client({ name: 'reference', version: '1.0.0' });
  await deadline(direct.connect(transport), 20_000, 'connecting to server-everything directly');
  reference.tools = (await deadline(direct.listTools(), 20_000, 'listing server-everything')).tools.map((t) => t.name);
  reference.echo = await deadline(direct.callTool({ name: 'echo', arguments: { message: 'héllo through proctor' } }), 20_000, 'echo');
  reference.weather = await deadline(direct.callTool({ name: GATED, arguments: { location: 'Chicago' } }), 20_000, GATED);
  await direct.close();
} catch (e) {
  setupFailed('server-everything answers directly (is `npm --prefix tests/mcp ci` done?)', e);
}

const hall = await Hall.start(dataDir).catch((e) => setupFailed('proctor serve starts (is target/debug/proctor built?)', e));
// Whatever ends this process ends the hall too (its MCP servers follow when their stdin closes).
process.on('exit', () => hall.child.kill('SIGKILL'));
const clients = [];
const keep = (c) => (clients.push(c), c);

// ------------------------------------------------------------------ helpers
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

/** The result without the hall's `_meta.proctor`, to compare with server-everything's own. */
function withoutProctor(result) {
  const { _meta, ...rest } = result;
  const meta = { ...(_meta ?? {}) };
  delete meta.proctor;
  return Object.keys(meta).length ? { ...rest, _meta: meta } : rest;
}

function decisionIdOf(result) {
  const id = result?._meta?.proctor?.decision_id;
  assert.equal(typeof id, 'string', `_meta.proctor.decision_id in ${JSON.stringify(result)}`);
  return id;
}

/** A decision's detail, once `linked` records are linked to it: a call's outcome is committed just
 * after its answer (`[mcp] record_outcome = "after_answer"`, the default). */
async function decision(id, linked = 0) {
  return eventually(async () => {
    const d = await hall.get(`/v1/decisions/${id}`);
    return (d.linked?.length ?? 0) >= linked && d;
  }, `${linked} record(s) linked to decision ${id}`);
}

/** The approvals (all states) as `proctor approvals list --json --all` prints them. */
function approvalsCli() {
  return JSON.parse(hall.cliOk('approvals', 'list', '--json', '--all', '--data-dir', dataDir));
}

/** Waits for the pending approval of a call of this correlation id that is not in `seen`. */
async function pendingApproval(correlationId, seen = new Set()) {
  return eventually(
    () => approvalsCli().find((a) => a.correlation_id === correlationId && a.state === 'pending' && !seen.has(a.id)),
    `a pending approval for correlation id ${correlationId}`,
    20_000,
  );
}

async function approvalState(id) {
  return (await hall.get('/v1/approvals?state=all')).approvals.find((a) => a.id === id)?.state;
}

/** Sends raw JSON-RPC text to /mcp (with the token, as a client would). */
function postRaw(body, extraHeaders = {}) {
  return hall.request('POST', '/mcp', {
    body,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...extraHeaders },
  });
}

async function expectMcpError(promise, what) {
  try {
    const r = await promise;
    assert.fail(`${what}: expected an MCP error, got ${JSON.stringify(r).slice(0, 300)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    return e;
  }
}

// ------------------------------------------------------------------ the same scenario on both faces
/**
 * Registers the governed-call scenario for one face. `open()` returns {client, correlationId()}:
 * the session's correlation id as the face knows it (stdio: from the bridge's stderr line).
 */
function face(label, open) {
  const s = { decisions: [] };
  test(`${label}: tools/list shows exactly the mapped tools`, async () => {
    Object.assign(s, await open());
    const { tools } = await deadline(s.client.listTools(), 60_000, 'tools/list');
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, MAPPED);
    // server-everything offers more; the unmapped ones are invisible.
    assert.ok(reference.tools.length > MAPPED.length + 3, `server-everything lists ${reference.tools}`);
    assert.ok(reference.tools.includes('get-tiny-image'));
    const echo = tools.find((t) => t.name === 'echo');
    assert.ok(echo.inputSchema?.properties?.message, 'the downstream schema is passed through');
  });

  test(`${label}: an allowed call returns server-everything's real answer with _meta.proctor`, async () => {
    const before = downstreamCalls('echo').length;
    const result = await deadline(s.client.callTool({ name: 'echo', arguments: { message: 'héllo through proctor' } }), 30_000, 'echo');
    assert.notEqual(result.isError, true, textOf(result));
    assert.deepEqual(withoutProctor(result), reference.echo);
    assert.equal(textOf(result), 'Echo: héllo through proctor');
    const id = decisionIdOf(result);
    assert.equal(result._meta.proctor.evidence_receipt.decision_id, id);
    assert.ok(result._meta.proctor.evidence_receipt.ledger_seq >= 1);
    assert.equal(downstreamCalls('echo').length, before + 1, 'server-everything saw the call once');
    const d = await decision(id, 1);
    assert.equal(d.decision.denied, false);
    assert.equal(d.decision.capability_id, 'cap.demo.echo');
    assert.equal(d.decision.tenant_id, TENANT);
    s.correlationId = d.decision.correlation_id;
    if (s.announcedCorrelationId) assert.equal(s.correlationId, s.announcedCorrelationId(), 'the id the bridge printed');
    const linked = d.linked ?? [];
    assert.equal(linked.length, 1, JSON.stringify(linked));
    assert.equal(linked[0].kind, 'mcp_call');
    assert.equal(linked[0].tool, 'echo');
    assert.equal(linked[0].server, WORKER);
    assert.equal(linked[0].body.outcome, 'ok');
    assert.deepEqual(linked[0].body.arguments, { message: 'héllo through proctor' });
    s.decisions.push(id);
  });

  test(`${label}: a denied call is isError with its deny code and never reaches server-everything`, async () => {
    const result = await deadline(s.client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }), 30_000, 'get-sum');
    assert.equal(result.isError, true, JSON.stringify(result));
    const text = textOf(result);
    assert.match(text, /^DENY_NO_MATCHING_RULE: /);
    const id = decisionIdOf(result);
    assert.ok(text.includes(id), `the text names the decision: ${text}`);
    assert.equal(downstreamCalls('get-sum').length, 0, 'server-everything saw a denied call');
    const d = await decision(id, 1);
    assert.equal(d.decision.denied, true);
    assert.equal(d.decision.deny_code ?? d.decision.denial?.code ?? 'DENY_NO_MATCHING_RULE', 'DENY_NO_MATCHING_RULE');
    const trail = await hall.get(`/v1/mcp/calls?tool=get-sum&correlation_id=${encodeURIComponent(s.correlationId)}`);
    const records = trail.records ?? trail.calls ?? trail.items;
    assert.ok(Array.isArray(records), JSON.stringify(trail));
    assert.equal(records.length, 1, JSON.stringify(trail));
    assert.equal(records[0].body.outcome, 'denied');
    assert.equal(records[0].decision_id, id);
    s.decisions.push(id);
  });

  test(`${label}: an unmapped or unknown tool is a JSON-RPC error and never reaches the server`, async () => {
    for (const name of ['get-tiny-image', 'no-such-tool']) {
      const e = await expectMcpError(s.client.callTool({ name, arguments: {} }), name);
      assert.ok(e instanceof McpError, `${name}: ${e}`);
      assert.equal(e.code, -32602, `${name}: ${e.message}`);
      assert.ok(e.message.includes(`unknown tool: ${name}`), e.message);
      assert.equal(downstreamCalls(name).length, 0);
    }
  });

  test(`${label}: a call that needs a person waits for \`proctor approvals approve\`, then runs`, async () => {
    const before = downstreamCalls(GATED).length;
    let settled = false;
    const call = s.client.callTool({ name: GATED, arguments: { location: 'Chicago' } }).finally(() => (settled = true));
    call.catch(() => {});
    const approval = await pendingApproval(s.correlationId);
    assert.equal(approval.tool, GATED);
    assert.equal(approval.capability_id, 'cap.demo.weather');
    assert.equal(approval.worker_id, WORKER);
    assert.equal(approval.deny_code, 'DENY_REQUIRES_HUMAN_APPROVAL');
    assert.deepEqual(approval.arguments, { location: 'Chicago' });
    for (const k of ['id', 'decision_id', 'requested_at', 'expires_at']) assert.ok(approval[k], `approval.${k}`);
    await sleep(300);
    assert.equal(settled, false, 'the call was answered before a person decided');
    assert.equal(downstreamCalls(GATED).length, before, 'forwarded before approval');
    const ended = JSON.parse(hall.cliOk('approvals', 'approve', approval.id, '--note', 'looks fine', '--by', 'tester', '--data-dir', dataDir));
    assert.equal(ended.state, 'approved');
    const result = await deadline(call, 30_000, 'the approved call');
    assert.notEqual(result.isError, true, textOf(result));
    assert.deepEqual(withoutProctor(result), reference.weather);
    assert.equal(downstreamCalls(GATED).length, before + 1);
    assert.equal(decisionIdOf(result), approval.decision_id);
    // The WCP decision stays the reference's (denied); the verdict and the call are linked to it.
    const d = await decision(approval.decision_id, 2);
    assert.equal(d.decision.denied, true);
    const kinds = d.linked.map((l) => l.kind);
    assert.deepEqual(kinds, ['approval', 'mcp_call']);
    assert.equal(d.linked[0].body.verdict.by, 'tester');
    assert.equal(d.linked[0].body.verdict.note, 'looks fine');
    assert.equal(d.linked[1].body.outcome, 'ok');
    // An approval ends once: the CLI refuses a second verdict (exit 3).
    const again = hall.cli(['approvals', 'deny', approval.id, '--data-dir', dataDir]);
    assert.equal(again.status, 3, `second verdict: ${again.status} ${again.stderr}`);
    s.decisions.push(approval.decision_id);
    s.seen = new Set([approval.id]);
  });

  test(`${label}: a call denied with \`proctor approvals deny\` is isError with its code`, async () => {
    const before = downstreamCalls(GATED).length;
    const call = s.client.callTool({ name: GATED, arguments: { location: 'New York' } });
    call.catch(() => {});
    const approval = await pendingApproval(s.correlationId, s.seen);
    const ended = JSON.parse(hall.cliOk('approvals', 'deny', approval.id, '--note', 'not today', '--by', 'tester', '--data-dir', dataDir));
    assert.equal(ended.state, 'denied');
    const result = await deadline(call, 30_000, 'the denied call');
    assert.equal(result.isError, true, JSON.stringify(result));
    assert.match(textOf(result), /^DENY_REQUIRES_HUMAN_APPROVAL: /);
    assert.ok(textOf(result).includes('not today'), textOf(result));
    assert.equal(downstreamCalls(GATED).length, before, 'server-everything saw a denied call');
    const d = await decision(approval.decision_id, 2);
    assert.equal(d.linked[0].kind, 'approval');
    assert.equal(d.linked[0].body.state, 'denied');
    s.decisions.push(approval.decision_id);
  });

  test(`${label}: every call of the session is in the ledger under its one correlation id`, async () => {
    assert.equal(s.decisions.length, 4, 'the scenario above ran');
    const trace = await hall.get(`/v1/traces/${encodeURIComponent(s.correlationId)}`);
    const ids = trace.decisions.map((d) => d.decision_id ?? d.decision?.decision_id);
    assert.deepEqual([...ids].sort(), [...s.decisions].sort());
    for (const d of trace.decisions) assert.equal(d.correlation_id ?? d.decision?.correlation_id, s.correlationId);
    const cli = JSON.parse(hall.cliOk('trace', s.correlationId, '--json', '--data-dir', dataDir));
    assert.equal(cli.decisions.length, 4);
    // The audit trail of this session: one outcome per call, one ending per approval.
    const records = await eventually(async () => {
      const trail = await hall.get(`/v1/mcp/calls?correlation_id=${encodeURIComponent(s.correlationId)}`);
      const r = trail.records ?? trail.calls ?? trail.items;
      return r.length >= 4 && r;
    }, 'the session\'s four outcomes');
    assert.deepEqual(records.map((r) => r.body.outcome).sort(), ['denied', 'denied', 'ok', 'ok']);
    const endings = await hall.get(`/v1/mcp/calls?kind=approval&correlation_id=${encodeURIComponent(s.correlationId)}`);
    const endRecords = endings.records ?? endings.calls ?? endings.items;
    assert.deepEqual(endRecords.map((r) => r.body.state).sort(), ['approved', 'denied']);
  });
}

face('stdio (proctor mcp)', async () => {
  const b = keep(await stdioBridge(dataDir, 'proctor-tests-stdio'));
  return {
    client: b.client,
    announcedCorrelationId: () => b.stderr().match(/correlation id ([0-9a-f-]{36})/)?.[1],
  };
});

face('http (/mcp)', async () => {
  const h = keep(await hall.httpClient('proctor-tests-http'));
  return { client: h.client };
});

// ------------------------------------------------------------------ the HTTP face's door
test('http: /mcp without the bearer token is 401, for raw requests and the SDK client', async () => {
  const raw = await hall.request('POST', '/mcp', {
    auth: false,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
  });
  assert.equal(raw.status, 401, raw.text);
  const wrong = await hall.request('POST', '/mcp', { auth: false, body: '{}', headers: { Authorization: 'Bearer not-the-token', 'Content-Type': 'application/json' } });
  assert.equal(wrong.status, 401, wrong.text);
  const transport = new StreamableHTTPClientTransport(new URL(`${hall.url}/mcp`));
  const client = new Client({ name: 'no-token', version: '1.0.0' });
  const e = await expectMcpError(deadline(client.connect(transport), 20_000, 'connect without a token'), 'connect');
  assert.match(String(e.message ?? e), /401|Unauthorized|UNAUTHORIZED/i);
  await client.close().catch(() => {});
});

// ------------------------------------------------------------------ no hall
test('stdio: with no hall for the data dir, the client connects and tools/list is an MCP error naming it', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'proctor-mcp-nohall-'));
  try {
    const b = await stdioBridge(empty, 'no-hall');
    try {
      for (const [what, p] of [
        ['tools/list', () => b.client.listTools()],
        ['tools/call', () => b.client.callTool({ name: 'echo', arguments: { message: 'x' } })],
      ]) {
        const e = await expectMcpError(deadline(p(), 20_000, what), what);
        assert.ok(e instanceof McpError, `${what}: ${e}`);
        assert.equal(e.code, -32603, e.message);
        assert.ok(e.message.includes(empty), `${what}: names the data dir: ${e.message}`);
        assert.match(e.message, /no Proctor hall is running/);
        assert.match(e.message, /proctor serve --data-dir/);
        assert.equal(e.data?.proctor, 'hall_unavailable');
      }
      await eventually(() => b.stderr().includes(`no Proctor hall is running for data dir ${empty}`), 'the problem on stderr', 5_000);
    } finally {
      await b.client.close();
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------ faults through the gateway
const HUGE = 'x'.repeat(1_100_000 + 1024); // over the hall's 1 MiB body limit once in JSON-RPC

test('faults: a huge argument over /mcp is a clear error and the hall keeps answering', async () => {
  const h = keep(await hall.httpClient('huge-http'));
  const e = await expectMcpError(deadline(h.client.callTool({ name: 'echo', arguments: { message: HUGE } }), 30_000, 'huge call'), 'huge call');
  assert.equal(e.code, 413, `${e.constructor.name} ${e.code}: ${e.message}`);
  assert.match(e.message, /BODY_TOO_LARGE|too large|limit/i);
  assert.equal(downstreamCalls('echo').filter((m) => m.params.arguments.message.length > 1000).length, 0);
  const ok = await deadline(h.client.callTool({ name: 'echo', arguments: { message: 'still here' } }), 30_000, 'echo after');
  assert.equal(textOf(ok), 'Echo: still here');
  assert.equal((await hall.request('GET', '/health')).status, 200);
});

test('faults: a huge argument through proctor mcp is a clear error that does not blame a missing hall', async () => {
  const b = keep(await stdioBridge(dataDir, 'huge-stdio'));
  const e = await expectMcpError(deadline(b.client.callTool({ name: 'echo', arguments: { message: HUGE } }), 30_000, 'huge call'), 'huge call');
  assert.ok(e instanceof McpError, String(e));
  assert.match(e.message, /413|too large|limit/i);
  // The hall is running and answered: telling the user to start it would send them the wrong way.
  assert.doesNotMatch(e.message, /is it still running|start `proctor serve/, e.message);
  const ok = await deadline(b.client.callTool({ name: 'echo', arguments: { message: 'still here' } }), 30_000, 'echo after');
  assert.equal(textOf(ok), 'Echo: still here');
});

test('faults: malformed JSON-RPC posted raw to /mcp gets a JSON-RPC error, not a 500', async () => {
  const cases = [
    ['truncated JSON', '{"jsonrpc": "2.0", "id": 1, "method": ', -32700],
    ['not JSON at all', 'hello, hall', -32700],
    ['JSON that is not JSON-RPC', '{"foo": 1}', -32600],
    ['an empty batch', '[]', -32600],
  ];
  const problems = [];
  for (const [what, body, code] of cases) {
    const r = await postRaw(body);
    if (r.status >= 500) problems.push(`${what}: HTTP ${r.status} ${r.text}`);
    else if (r.status !== 400) problems.push(`${what}: HTTP ${r.status} (expected 400) ${r.text}`);
    else if (r.json?.jsonrpc !== '2.0' || r.json?.error?.code !== code) problems.push(`${what}: not a JSON-RPC error with code ${code}: ${r.text}`);
  }
  assert.equal((await hall.request('GET', '/health')).status, 200);
  assert.deepEqual(problems, []);
});

/** Starts a held call on `client`, waits for its approval, returns it. */
async function holdCall(client, correlationOf) {
  // The approvals already there, taken before the call: a call held at once must not count as seen.
  const seen = new Set(approvalsCli().map((a) => a.id));
  const call = client.callTool({ name: GATED, arguments: { location: 'Los Angeles' } });
  call.catch(() => {});
  const approval = await eventually(
    () => approvalsCli().find((a) => !seen.has(a.id) && a.state === 'pending' && (!correlationOf || a.correlation_id === correlationOf)),
    'the held call',
    20_000,
  );
  return approval;
}

async function expectCancelled(approval, within, how) {
  const state = await eventually(async () => {
    const st = await approvalState(approval.id);
    return st !== 'pending' ? st : null;
  }, `the approval to end after ${how}`, within).catch((e) => `still pending ${within / 1000} s after ${how} (${e.message})`);
  assert.equal(state, 'cancelled', `${how}: ${state}`);
  const d = await decision(approval.decision_id);
  assert.equal(d.decision.denied, true);
  assert.equal(d.decision.deny_code ?? 'DENY_REQUIRES_HUMAN_APPROVAL', 'DENY_REQUIRES_HUMAN_APPROVAL');
  const ending = d.linked.find((l) => l.kind === 'approval');
  assert.equal(ending?.body?.state, 'cancelled', JSON.stringify(d.linked));
  assert.equal(downstreamCalls(GATED).filter((m) => m.params.arguments.location === 'Los Angeles').length, 0);
}

test('faults: a stdio client that disconnects while its call waits for approval cancels it (proctor mcp)', async () => {
  const b = await stdioBridge(dataDir, 'leaver-stdio');
  const approval = await holdCall(b.client);
  await b.client.close(); // closes the bridge's stdin (then SIGTERM after 2 s, as the SDK does)
  await expectCancelled(approval, 10_000, 'the stdio client closed');
});

test('faults: an HTTP client that ends its session (DELETE) while its call waits cancels it', async () => {
  const h = await hall.httpClient('leaver-http-delete');
  const approval = await holdCall(h.client);
  await deadline(h.transport.terminateSession(), 10_000, 'DELETE /mcp');
  await h.client.close();
  await expectCancelled(approval, 15_000, 'DELETE of the session');
});

// Not tested: an HTTP client whose connection drops without DELETE. A stateful Streamable HTTP
// session may resume its stream (Last-Event-ID), so MCP does not count a dropped connection as a
// cancellation; such a call waits until approval_timeout_s and then ends as expired.

test('faults: a client that cancels its waiting call (notifications/cancelled) cancels the approval', async () => {
  const h = keep(await hall.httpClient('canceller'));
  const ac = new AbortController();
  const call = h.client.callTool({ name: GATED, arguments: { location: 'Los Angeles' } }, undefined, { signal: ac.signal });
  call.catch(() => {});
  const approval = await eventually(() => approvalsCli().find((a) => a.client === 'canceller/1.0.0' && a.state === 'pending'), 'the held call', 20_000);
  ac.abort('changed my mind');
  await expectCancelled(approval, 10_000, 'the client cancelled');
});

test('faults: a stdio client that cancels its waiting call (notifications/cancelled) cancels the approval (proctor mcp)', async () => {
  const b = keep(await stdioBridge(dataDir, 'canceller-stdio'));
  // A first call connects the bridge's hall session, so the held call takes the short path.
  const warm = await deadline(b.client.callTool({ name: 'echo', arguments: { message: 'warm' } }), 30_000, 'the first call');
  assert.notEqual(warm.isError, true, textOf(warm));
  const seen = new Set(approvalsCli().map((a) => a.id));
  const ac = new AbortController();
  const call = b.client.callTool({ name: GATED, arguments: { location: 'Los Angeles' } }, undefined, { signal: ac.signal });
  call.catch(() => {});
  const approval = await eventually(() => approvalsCli().find((a) => !seen.has(a.id) && a.state === 'pending'), 'the held call', 20_000);
  ac.abort('changed my mind');
  await expectCancelled(approval, 10_000, 'the stdio client cancelled');
});

test('the ledger verifies while the hall runs (`proctor verify-log`)', async () => {
  const r = hall.cli(['verify-log', '--data-dir', dataDir, '--json'], { timeoutMs: 60_000 });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const report = JSON.parse(r.stdout);
  assert.equal(report.finding ?? null, null, r.stdout);
  assert.ok(report.records_checked >= 8, r.stdout);
  assert.ok(report.linked_records >= 8, r.stdout);
});

test('stdio: a bridge outlives its hall: a call while it is down is an MCP error, and after a restart calls go through', async () => {
  const b = await stdioBridge(dataDir, 'survivor');
  const echo = (message) => b.client.callTool({ name: 'echo', arguments: { message } });
  try {
    for (const m of ['one', 'two']) {
      const r = await deadline(echo(m), 30_000, `call ${m}`);
      assert.notEqual(r.isError, true, textOf(r));
    }
    for (const c of clients.splice(0)) await c.client.close().catch(() => {});
    await hall.stop();
    const e = await expectMcpError(deadline(echo('down'), 30_000, 'the call while the hall is down'), 'the call while the hall is down');
    assert.equal(e.data?.proctor, 'hall_unavailable', e.message);
    assert.ok(e.message.includes(dataDir), e.message);
    const again = await Hall.start(dataDir);
    try {
      const r = await deadline(echo('three'), 30_000, 'the call after the restart');
      assert.notEqual(r.isError, true, textOf(r));
      assert.equal(textOf(r), textOf(await deadline(echo('three'), 30_000, 'the next call')));
      const d = await again.get(`/v1/decisions/${decisionIdOf(r)}`);
      assert.equal(d.capability_id ?? d.decision?.capability_id, 'cap.demo.echo');
    } finally {
      await again.stop();
    }
  } finally {
    await b.client.close();
  }
});

test('after the hall stops: proctor mcp says no hall answers for the data dir, and the ledger verifies', async () => {
  for (const c of clients.splice(0)) await c.client.close().catch(() => {});
  await hall.stop();
  const b = await stdioBridge(dataDir, 'after-stop');
  try {
    const e = await expectMcpError(deadline(b.client.listTools(), 30_000, 'tools/list'), 'tools/list');
    assert.ok(e instanceof McpError, String(e));
    assert.ok(e.message.includes(dataDir), e.message);
    assert.equal(e.data?.proctor, 'hall_unavailable');
  } finally {
    await b.client.close();
  }
  const r = hall.cli(['verify-log', '--data-dir', dataDir], { timeoutMs: 60_000 });
  assert.equal(r.status, 0, r.stderr + r.stdout);
});

// ------------------------------------------------------------------ run
for (const t of tests) {
  if (filter && !t.name.includes(filter) && !t.name.startsWith('after the hall stops')) continue;
  try {
    await deadline(t.fn(), TEST_MS, t.name);
    passed++;
    console.log(`ok   ${t.name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${t.name}\n     ${String(e?.stack ?? e).split('\n').slice(0, 6).join('\n     ')}`);
  }
}
for (const c of clients) await c.client.close().catch(() => {});
await hall.stop();
if (failed) console.log(`hall stderr (last lines):\n${hall.stderr().split('\n').slice(-20).join('\n')}`);
hall.remove();
clearTimeout(overall);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
