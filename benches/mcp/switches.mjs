// Context switches per `tools/call` through `proctor mcp`, per thread of the hall and the bridge:
// each thread's voluntary switches (a thread that blocks and is woken again) over N sequential
// `echo` calls, read from /proc (Linux). A count, not a time, so it holds on a shared machine.
//
//   node benches/mcp/switches.mjs            (PROCTOR_BIN, FIXTURE_BIN as for bench.mjs; N=2000)

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { Hall, prepareDataDir, stdioBridge } = await import(join(root, 'tests/mcp/harness.mjs'));
const PROCTOR = process.env.PROCTOR_BIN ?? join(root, 'target/release/proctor');
const FIXTURE = process.env.FIXTURE_BIN ?? join(root, 'target/release/examples/mcp_fixture');
const N = Number(process.env.N ?? 2000);

/** Voluntary context switches per thread name of process `pid`. */
function switches(pid) {
  const byName = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const dir = `/proc/${pid}/task/${tid}`;
    const name = readFileSync(`${dir}/comm`, 'utf8').trim();
    const n = Number(readFileSync(`${dir}/status`, 'utf8').match(/^voluntary_ctxt_switches:\s+(\d+)/m)[1]);
    byName[name] = (byName[name] ?? 0) + n;
  }
  return byName;
}

const dataDir = prepareDataDir(
  {
    'config.toml': '[mcp]\ntenant_id = "bench"\n',
    'rules.json': { rules: [{ rule_id: 'rr_bench', match: { capability_id: 'cap.bench.echo' }, decision: { candidate_workers_ranked: [{ worker_species_id: 'wrk.bench.fixture' }] } }] },
    'registry/fixture.json': {
      worker_id: 'org.bench.fixture', worker_species_id: 'wrk.bench.fixture', capabilities: ['cap.bench.echo'], risk_tier: 'low',
      mcp: { command: FIXTURE, tools: { echo: 'cap.bench.echo' } },
    },
  },
  'proctor-mcp-switches-',
);
const hall = await Hall.start(dataDir, { bin: PROCTOR });
const bridge = await stdioBridge(dataDir, 'switches', [], PROCTOR);
try {
  const echo = (i) => bridge.client.callTool({ name: 'echo', arguments: { text: `x ${i}` } });
  for (let i = 0; i < 300; i++) await echo(i); // warm-up: the fixture started, sessions open
  const procs = { hall: hall.child.pid, bridge: bridge.transport.pid };
  const before = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, switches(pid)]));
  for (let i = 0; i < N; i++) await echo(i);
  console.log(`| process: thread | voluntary context switches per call (${N} calls) |\n|---|---|`);
  let total = 0;
  for (const [k, pid] of Object.entries(procs)) {
    const after = switches(pid);
    for (const [name, n] of Object.entries(after)) {
      const per = (n - (before[k][name] ?? 0)) / N;
      total += per;
      if (per >= 0.005) console.log(`| ${k}: ${name} | ${per.toFixed(2)} |`);
    }
  }
  console.log(`| **all** | **${total.toFixed(1)}** |`);
} finally {
  await bridge.client.close();
  await hall.stop();
  hall.remove();
}
