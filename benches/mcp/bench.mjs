// MCP gateway latency and throughput, side by side in one run, with one client: the official MCP
// TypeScript SDK (tests/mcp/node_modules). Downstream: the `mcp_fixture` example (a stdio MCP server
// on the official Rust SDK whose `echo` tool answers at once).
//
//   (a) N sequential `echo` calls straight to the fixture over stdio (StdioClientTransport)
//   (b) the same through `proctor mcp` (stdio bridge → hall /mcp → fixture)
//   (c) the same over the hall's /mcp (StreamableHTTPClientTransport)
//   (d) throughput over /mcp: CONC concurrent SDK client sessions for SECONDS, in PROCS load
//       processes; and the same with RAW_CONC sessions of a lean JSON-RPC client (node:http,
//       keep-alive), which spends far less CPU per call than the SDK, to show the hall's capacity
//   breakdown: the same echo as raw JSON-RPC over /mcp, and POST /v1/route (the decision and its
//       durable write alone), sequential with the lean client; the downstream latency the hall
//       itself measured (its mcp_call records)
//
// Every gateway call is a WCP decision durably recorded, then forwarded, then its outcome durably
// recorded, before the client is answered. (a), (b), (c) run interleaved in ROUNDS rounds so that
// machine noise hits all three alike. Loopback only; every loop is bounded in count or time.
//
// Usage: node benches/mcp/bench.mjs   (benches/mcp/run.sh builds the release binaries first)
//   env: PROCTOR_BIN, FIXTURE_BIN, N (3000), WARMUP (300), ROUNDS (6), CONC (8), RAW_CONC (16),
//        SECONDS (10), PROCS (2), JSON_OUT (a file for the raw figures)

import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const harness = await import(join(root, 'tests/mcp/harness.mjs'));
const { Client, Hall, StdioClientTransport, StreamableHTTPClientTransport, deadline, prepareDataDir, stdioBridge } = harness;

const env = (k, d) => (process.env[k] !== undefined ? Number(process.env[k]) : d);
const PROCTOR = process.env.PROCTOR_BIN ?? join(root, 'target/release/proctor');
const FIXTURE = process.env.FIXTURE_BIN ?? join(root, 'target/release/examples/mcp_fixture');
const N = env('N', 3000);
const WARMUP = env('WARMUP', 300);
const ROUNDS = env('ROUNDS', 6);
const CONC = env('CONC', 8);
const RAW_CONC = env('RAW_CONC', 16);
const SECONDS = env('SECONDS', 10);
const PROCS = env('PROCS', 2);
const CALL_MS = 30_000; // no single call may take longer

const echo = (i) => ({ name: 'echo', arguments: { text: `bench ${i}` } });

/**
 * A lean MCP client over Streamable HTTP: one session, raw JSON-RPC on a keep-alive connection,
 * the answer read from JSON or from the SSE event that carries it. No schema validation.
 */
class RawMcp {
  constructor(url, token, agent) {
    this.u = new URL(`${url}/mcp`);
    this.token = token;
    this.agent = agent;
    this.id = 0;
  }

  post(path, body, headers = {}) {
    return new Promise((ok, fail) => {
      const data = Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          host: this.u.hostname,
          port: this.u.port,
          path,
          method: 'POST',
          agent: this.agent,
          timeout: CALL_MS,
          headers: {
            Authorization: `Bearer ${this.token}`,
            'Content-Type': 'application/json',
            Accept: 'application/json, text/event-stream',
            'Content-Length': data.length,
            ...(this.session ? { 'Mcp-Session-Id': this.session, 'Mcp-Protocol-Version': this.version } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks = [];
          res.on('data', (d) => chunks.push(d));
          res.on('end', () => ok({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${CALL_MS} ms`)));
      req.on('error', fail);
      req.end(data);
    });
  }

  /** The JSON-RPC message with this id, from a JSON body or an SSE stream. */
  static message(text, id) {
    const t = text.trimStart();
    if (t.startsWith('{')) return JSON.parse(t);
    for (const line of text.split('\n')) {
      if (!line.startsWith('data:')) continue;
      const d = line.slice(5).trim();
      if (!d.startsWith('{')) continue;
      const m = JSON.parse(d);
      if (m.id === id) return m;
    }
    return null;
  }

  async connect(name) {
    const r = await this.post(this.u.pathname, {
      jsonrpc: '2.0',
      id: this.id++,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name, version: '1.0.0' } },
    });
    if (r.status !== 200) throw new Error(`initialize: HTTP ${r.status} ${r.text}`);
    this.session = r.headers['mcp-session-id'];
    this.version = RawMcp.message(r.text, 0)?.result?.protocolVersion ?? '2025-06-18';
    await this.post(this.u.pathname, { jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  /** tools/call echo; resolves to the result, throws on anything but a governed answer. */
  async echo(i) {
    const id = this.id++;
    const r = await this.post(this.u.pathname, { jsonrpc: '2.0', id, method: 'tools/call', params: echo(i) });
    const m = r.status === 200 ? RawMcp.message(r.text, id) : null;
    const res = m?.result;
    if (!res || res.isError || res.content?.[0]?.text !== `bench ${i}` || !res._meta?.proctor?.decision_id) {
      throw new Error(`bad answer: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    }
    return res;
  }

  /** POST /v1/route: the decision and its durable write, no MCP. */
  async route(i) {
    const r = await this.post('/v1/route', {
      capability_id: 'cap.bench.echo', tenant_id: 'bench', env: 'dev', data_label: 'INTERNAL', tenant_risk: 'low', qos_class: 'P2',
      correlation_id: 'bench-route', request: { text: `bench ${i}` },
    });
    if (r.status !== 200) throw new Error(`route: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  }
}

// ------------------------------------------------------------------ load process mode (d)
if (process.argv[2] === '--load') {
  const [url, token, conc, seconds, kind] = process.argv.slice(3);
  const end = Date.now() + Number(seconds) * 1000;
  const sessions = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number(conc) * 2 });
  for (let i = 0; i < Number(conc); i++) {
    if (kind === 'raw') {
      const raw = new RawMcp(url, token, agent);
      await deadline(raw.connect(`bench-raw-${process.pid}-${i}`), 20_000, 'connect');
      await deadline(raw.echo(0), CALL_MS, 'first call');
      sessions.push({ callTool: (p) => raw.echo(Number(p.arguments.text.slice(6))), close: async () => {} });
      continue;
    }
    const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
    const client = new Client({ name: `bench-load-${process.pid}-${i}`, version: '1.0.0' });
    await deadline(client.connect(transport), 20_000, 'connect');
    await deadline(client.callTool(echo(0)), CALL_MS, 'first call');
    sessions.push(client);
  }
  process.stdout.write('ready\n');
  await new Promise((r) => process.stdin.once('data', r)); // the parent says go
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let ok = 0;
  let errors = 0;
  const lat = [];
  const deadlineAt = Date.now() + Number(seconds) * 1000;
  await Promise.all(
    sessions.map(async (client, k) => {
      let i = 0;
      while (Date.now() < deadlineAt) {
        const s = process.hrtime.bigint();
        const n = i++;
        const r = await deadline(client.callTool(echo(n)), CALL_MS, 'call').catch(() => null);
        if (r && !r.isError && r._meta?.proctor?.decision_id && r.content?.[0]?.text === `bench ${n}`) {
          ok++;
          if ((ok & 7) === 0) lat.push(Number(process.hrtime.bigint() - s) / 1000);
        } else errors++;
      }
    }),
  );
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ ok, errors, wall, cpu_s: (cpu.user + cpu.system) / 1e6, lat }) + '\n');
  for (const c of sessions) await c.close().catch(() => {});
  void end;
  process.exit(0);
}

// ------------------------------------------------------------------ helpers
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
function stats(us) {
  const s = [...us].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, p50: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99), max: s[s.length - 1], mean };
}
const ms = (us) => (us / 1000).toFixed(3);
const procCpu = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime (clock ticks of 10 ms)
  } catch {
    return NaN;
  }
};
/** The child processes of `pid` (children of any of its threads). */
const childPids = (pid) => {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
};


// ------------------------------------------------------------------ set-up
let warnings = 0;
process.on('warning', () => warnings++);
const machine = {
  nproc: cpus().length,
  cpu: (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1],
  date: new Date().toISOString(),
  node: process.version,
  loadavg_start: loadavg().map((x) => x.toFixed(2)).join(' '),
};
console.error(`== machine: ${machine.nproc} cores, ${machine.cpu}, load ${machine.loadavg_start}`);

const dataDir = prepareDataDir(
  {
    'config.toml': '[mcp]\ntenant_id = "bench"\n',
    'rules.json': {
      rules: [{ rule_id: 'rr_bench', match: { capability_id: 'cap.bench.echo' }, decision: { candidate_workers_ranked: [{ worker_species_id: 'wrk.bench.fixture' }] } }],
    },
    'registry/fixture.json': {
      worker_id: 'org.bench.fixture',
      worker_species_id: 'wrk.bench.fixture',
      capabilities: ['cap.bench.echo'],
      risk_tier: 'low',
      mcp: { command: FIXTURE, tools: { echo: 'cap.bench.echo' } },
    },
  },
  'proctor-mcp-bench-',
);
const hall = await Hall.start(dataDir, { bin: PROCTOR });
const cleanup = [];
let exitCode = 0;

/** (d): `conc` sessions of `kind` (sdk | raw) in up to PROCS load processes for SECONDS. */
async function throughput(kind, conc) {
  console.error(`== throughput: ${conc} ${kind} sessions in ${Math.min(PROCS, conc)} processes for ${SECONDS} s over /mcp`);
  const perProc = Array.from({ length: PROCS }, (_, i) => Math.floor(conc / PROCS) + (i < conc % PROCS ? 1 : 0)).filter((c) => c > 0);
  const loaders = perProc.map((c) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--load', hall.url, hall.token, String(c), String(SECONDS), kind], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const exited = new Promise((ok) => p.once('exit', ok));
    cleanup.push(() => (p.exitCode === null ? (p.kill('SIGKILL'), exited) : exited));
    return { p, out: () => out, exited };
  });
  await deadline(
    Promise.all(loaders.map((l) => new Promise((ok) => { const t = setInterval(() => { if (l.out().includes('ready')) { clearInterval(t); ok(); } }, 20); }))),
    60_000,
    'load processes ready',
  );
  const hallPid = hall.child.pid;
  const fixtures = childPids(hallPid);
  const cpuOf = () => ({ hall: procCpu(hallPid), fixture: fixtures.map(procCpu).reduce((a, b) => a + (b || 0), 0) });
  const before = cpuOf();
  const seqBefore = (await hall.get('/v1/decisions?limit=1')).decisions[0].seq;
  const load0 = loadavg()[0];
  for (const l of loaders) l.p.stdin.write('go\n');
  const reports = await deadline(
    Promise.all(
      loaders.map(async (l) => {
        const code = await l.exited;
        if (code !== 0) throw new Error(`load process exited ${code}`);
        return JSON.parse(l.out().split('\n').filter((x) => x.startsWith('{')).pop());
      }),
    ),
    (SECONDS + 60) * 1000,
    'load processes',
  );
  const after = cpuOf();
  const seqAfter = (await hall.get('/v1/decisions?limit=1')).decisions[0].seq;
  const ok = reports.reduce((a, r) => a + r.ok, 0);
  const wall = Math.max(...reports.map((r) => r.wall));
  return {
    kind,
    sessions: conc,
    processes: perProc.length,
    seconds: wall,
    calls: ok,
    errors: reports.reduce((a, r) => a + r.errors, 0),
    calls_per_s: ok / wall,
    latency: stats(reports.flatMap((r) => r.lat)),
    decisions_recorded: seqAfter - seqBefore,
    hall_cpu_us_per_call: ((after.hall - before.hall) / ok) * 1e6,
    fixture_cpu_us_per_call: ((after.fixture - before.fixture) / ok) * 1e6,
    client_cpu_us_per_call: (reports.reduce((a, r) => a + r.cpu_s, 0) / ok) * 1e6,
    loadavg_1m: `${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}`,
  };
}

try {
  // (a) straight to the fixture
  const directTransport = new StdioClientTransport({ command: FIXTURE, args: [], stderr: 'pipe' });
  const direct = new Client({ name: 'bench-direct', version: '1.0.0' });
  await deadline(direct.connect(directTransport), 20_000, 'connect to the fixture');
  cleanup.push(() => direct.close());
  // (b) through proctor mcp
  const bridge = await stdioBridge(dataDir, 'bench-stdio', [], PROCTOR);
  cleanup.push(() => bridge.client.close());
  // (c) over /mcp. A fresh session per round: the SDK's Streamable HTTP client hands one
  // AbortSignal to every fetch, and undici keeps a listener on it per request until GC; past 1,500
  // live ones Node warns on every call, which costs the client (not the hall) time.
  let sdkHttp = await hall.httpClient('bench-http');
  cleanup.push(() => sdkHttp.client.close());
  // breakdown: the lean client
  const raw = new RawMcp(hall.url, hall.token, new http.Agent({ keepAlive: true, maxSockets: 1 }));
  await raw.connect('bench-raw');

  const faces = [
    { key: 'a', label: '(a) direct: SDK stdio → fixture', call: (i) => direct.callTool(echo(i)), us: [] },
    { key: 'b', label: '(b) SDK stdio → `proctor mcp` → hall /mcp → fixture', call: (i) => bridge.client.callTool(echo(i)), us: [] },
    {
      key: 'c',
      label: '(c) SDK Streamable HTTP → hall /mcp → fixture',
      call: (i) => sdkHttp.client.callTool(echo(i)),
      reopen: async () => {
        await sdkHttp.client.close();
        sdkHttp = await hall.httpClient('bench-http');
        await timedCall(faces[2], 20, [], 0);
      },
      us: [],
    },
    { key: 'r', label: 'breakdown: lean raw JSON-RPC client → hall /mcp → fixture', call: (i) => raw.echo(i), us: [] },
    { key: 'v', label: 'breakdown: lean client, POST /v1/route (decision + durable write only)', call: (i) => raw.route(i).then(() => ({ content: [{ text: `bench ${i}` }] })), us: [] },
  ];
  const timedCall = async (f, n, sink, offset) => {
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      const r = await deadline(f.call(offset + i), CALL_MS, f.label);
      const us = Number(process.hrtime.bigint() - t) / 1000;
      if (r.isError || r.content?.[0]?.text !== `bench ${offset + i}`) throw new Error(`${f.label}: bad answer ${JSON.stringify(r).slice(0, 300)}`);
      sink.push(us);
    }
  };
  console.error(`== warm-up: ${WARMUP} calls each`);
  for (const f of faces) await timedCall(f, WARMUP, [], 0);
  const per = Math.ceil(N / ROUNDS);
  if (per > 1000) throw new Error(`N / ROUNDS = ${per}: keep it at most 1,000 (raise ROUNDS)`);
  console.error(`== sequential: ${ROUNDS} rounds × ${per} calls each, interleaved`);
  for (let r = 0; r < ROUNDS; r++) {
    const order = [...faces.slice(r % faces.length), ...faces.slice(0, r % faces.length)];
    for (const f of order) {
      if (f.reopen) await f.reopen();
      await timedCall(f, per, f.us, (r + 1) * 100_000);
    }
  }
  const seq = Object.fromEntries(faces.map((f) => [f.key, stats(f.us)]));
  const added = (k) => Object.fromEntries(['p50', 'p95', 'p99', 'mean'].map((p) => [p, seq[k][p] - seq.a[p]]));
  const result = { machine, n: per * ROUNDS, seq, added: { b: added('b'), c: added('c'), r: added('r') } };
  // What the hall itself measured of the latest forwarded calls (request to the fixture → answer).
  const trail = await hall.get(`/v1/mcp/calls?limit=${Math.min(1000, per * 3)}`);
  const outcomes = trail.records ?? trail.calls ?? trail.items ?? [];
  result.hall_downstream = stats(outcomes.map((o) => o.body.latency_ms * 1000));

  // (d) throughput
  result.throughput = [await throughput('sdk', CONC), await throughput('raw', RAW_CONC)];
  const verify = await hall.request('GET', '/v1/ledger/verify', { timeoutMs: 120_000 });
  result.ledger_verify = verify.json?.ok === true ? 'ok' : verify.text;
  result.machine.loadavg_end = loadavg().map((x) => x.toFixed(2)).join(' ');

  // ------------------------------------------------------------------ report
  const line = (label, s) => `| ${label} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.mean)} |`;
  console.log(`\nMCP gateway: ${result.n} sequential echo calls per path (${ROUNDS} interleaved rounds, after ${WARMUP} warm-up), times in ms`);
  console.log(`machine: ${machine.nproc} cores, ${machine.cpu}, ${machine.date}, node ${machine.node}, load ${machine.loadavg_start} → ${result.machine.loadavg_end}\n`);
  console.log('| path | p50 | p95 | p99 | mean |');
  console.log('|---|---|---|---|---|');
  for (const f of faces.slice(0, 3)) console.log(line(f.label, seq[f.key]));
  console.log(line('**added by the gateway, (b) − (a)**', result.added.b));
  console.log(line('**added by the gateway, (c) − (a)**', result.added.c));
  for (const f of faces.slice(3)) console.log(line(f.label, seq[f.key]));
  console.log(line('breakdown: lean client over /mcp − (a)', result.added.r));
  console.log(line(`breakdown: the fixture's answer as the hall timed it (${result.hall_downstream.n} calls)`, result.hall_downstream));
  console.log('\n| throughput over /mcp | calls/s | errors | latency p50 / p99 (ms) | CPU per call: hall / fixture / clients (µs) | decisions recorded | load (1 min) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const t of result.throughput) {
    console.log(
      `| ${t.sessions} ${t.kind === 'sdk' ? 'SDK client' : 'lean client'} sessions, ${t.processes} processes, ${t.seconds.toFixed(1)} s | ${t.calls_per_s.toFixed(0)} | ${t.errors} | ` +
        `${ms(t.latency.p50)} / ${ms(t.latency.p99)} | ${t.hall_cpu_us_per_call.toFixed(0)} / ${t.fixture_cpu_us_per_call.toFixed(0)} / ${t.client_cpu_us_per_call.toFixed(0)} | ${t.decisions_recorded} of ${t.calls} | ${t.loadavg_1m} |`,
    );
  }
  console.log(`\nledger verify after the run: ${result.ledger_verify}; Node warnings in the timing process: ${warnings}`);
  const target = (name, value, limit, unit, lower = true) => {
    const okT = lower ? value <= limit : value >= limit;
    console.log(`target ${name}: ${value.toFixed(3)} ${unit} (${lower ? '≤' : '≥'} ${limit}) ${okT ? 'MET' : `MISSED by ${Math.abs(value - limit).toFixed(3)} ${unit}`}`);
  };
  for (const k of ['b', 'c']) {
    target(`added p50 (${k}−a)`, result.added[k].p50 / 1000, 1, 'ms');
    target(`added p99 (${k}−a)`, result.added[k].p99 / 1000, 5, 'ms');
  }
  for (const t of result.throughput) target(`throughput over /mcp, ${t.kind} clients`, t.calls_per_s, 2000, 'calls/s', false);
  for (const t of result.throughput) {
    if (t.decisions_recorded < t.calls) {
      console.log(`ERROR: ${t.calls} calls answered but only ${t.decisions_recorded} decisions recorded`);
      exitCode = 1;
    }
  }
  if (process.env.JSON_OUT) {
    mkdirSync(dirname(process.env.JSON_OUT), { recursive: true });
    writeFileSync(process.env.JSON_OUT, JSON.stringify({ ...result, raw: Object.fromEntries(faces.map((f) => [f.key, f.us])) }));
  }
} catch (e) {
  console.error(`bench failed: ${e.stack ?? e}\n${hall.stderr().slice(-3000)}`);
  exitCode = 1;
} finally {
  for (const c of cleanup) await c().catch(() => {});
  await hall.stop();
  hall.remove();
}
process.exit(exitCode);
