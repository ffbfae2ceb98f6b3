// A transparent tee in front of @modelcontextprotocol/server-everything (stdio): every JSON-RPC
// message the hall sends to the server is appended to $SPY_LOG before the server gets it, so the
// tests can prove what the downstream server saw (and that a denied call never reached it).
//
// Usage (as an MCP worker's command): node tests/mcp/spy.mjs   with SPY_LOG=<file>
// The server's stdout and stderr pass through unchanged.

import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const server = join(here, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const log = process.env.SPY_LOG;

const child = spawn(process.execPath, [server, 'stdio'], { stdio: ['pipe', 'inherit', 'inherit'] });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
process.on('SIGTERM', () => child.kill('SIGTERM'));

let buffered = '';
process.stdin.on('data', (chunk) => {
  if (log) {
    buffered += chunk.toString('utf8');
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) appendFileSync(log, line + '\n');
    }
  }
  child.stdin.write(chunk);
});
process.stdin.on('end', () => child.stdin.end());
