import { describe, expect, it } from 'vitest';
import {
  approvalBody, authorizationHeader, callBody, claudeDesktopConfig, commandLine, formatBytes, formatLatency, matchesCallFilter,
  mcpEndpoint, outcomeClass, prependCalls, reachableOrigin, serverStateClass, throttle, tokenFile, vscodeConfig, type Timers,
} from './mcp';
import type { LinkedRecord } from './types';

const linked = (seq: number, over: Partial<LinkedRecord> = {}): LinkedRecord => ({
  seq, hash: `h${seq}`, decision_seq: seq - 1, decision_hash: 'd', at: '2026-01-01T12:00:00Z', kind: 'mcp_call', decision_id: `d-${seq}`,
  correlation_id: 'corr', server: 'org.fx.server', tool: 'echo', body: {}, ...over,
});

describe('client configuration', () => {
  it('Claude Desktop and Cursor launch proctor mcp with the data dir', () => {
    expect(JSON.parse(claudeDesktopConfig('/home/me/.local/share/proctor'))).toEqual({
      mcpServers: { proctor: { command: 'proctor', args: ['mcp', '--data-dir', '/home/me/.local/share/proctor'] } },
    });
  });
  it('VS Code names its servers and the stdio transport', () => {
    expect(JSON.parse(vscodeConfig('/d'))).toEqual({ servers: { proctor: { type: 'stdio', command: 'proctor', args: ['mcp', '--data-dir', '/d'] } } });
  });
  it('escapes a Windows data dir and odd characters as JSON', () => {
    const dir = 'C:\\Users\\me "x"\\AppData\\Roaming\\proctor';
    expect(JSON.parse(claudeDesktopConfig(dir)).mcpServers.proctor.args[2]).toBe(dir);
    expect(tokenFile(dir)).toBe(`${dir}\\api-token`);
  });
  it('names the token file and never a token', () => {
    expect(tokenFile('/d/')).toBe('/d/api-token');
    expect(authorizationHeader('/d')).toBe('Authorization: Bearer <the token in /d/api-token>');
  });
  it('the /mcp URL is the hall the browser talks to, or the desktop hall\'s loopback address', () => {
    expect(mcpEndpoint({ desktop: false, hallUrl: '', origin: 'http://127.0.0.1:8765', listen: '0.0.0.0:1' })).toBe('http://127.0.0.1:8765/mcp');
    expect(mcpEndpoint({ desktop: false, hallUrl: 'http://hall:9000/', origin: 'http://localhost:5173', listen: '' })).toBe('http://hall:9000/mcp');
    expect(mcpEndpoint({ desktop: true, hallUrl: '', origin: 'tauri://localhost', listen: '127.0.0.1:8765' })).toBe('http://127.0.0.1:8765/mcp');
  });
  it('turns wildcard listen addresses into loopback ones', () => {
    expect(reachableOrigin('0.0.0.0:8765')).toBe('http://127.0.0.1:8765');
    expect(reachableOrigin('[::]:8765')).toBe('http://[::1]:8765');
    expect(reachableOrigin('[::1]:8765')).toBe('http://[::1]:8765');
    expect(reachableOrigin('127.0.0.1:1')).toBe('http://127.0.0.1:1');
  });
});

describe('linked records', () => {
  it('reads an mcp_call body defensively', () => {
    const b = callBody(linked(2, { body: { outcome: 'ok', latency_ms: 1.5, result_bytes: 12, arguments: { text: 'x' }, client: 7 } }));
    expect(b).toMatchObject({ outcome: 'ok', latency_ms: 1.5, result_bytes: 12, arguments: { text: 'x' }, client: null, error: null });
    expect(callBody(linked(3)).outcome).toBe('unknown');
  });
  it('reads an approval body only when it looks like one', () => {
    expect(approvalBody(linked(2, { kind: 'approval', body: { id: 'a', state: 'approved' } }))?.state).toBe('approved');
    expect(approvalBody(linked(2, { kind: 'approval', body: { oops: true } }))).toBeNull();
  });
  it('classes outcomes and server states', () => {
    expect(outcomeClass('ok')).toBe('ok');
    expect(outcomeClass('tool_error')).toBe('warning');
    expect(outcomeClass('timeout')).toBe('bad');
    expect(outcomeClass('denied')).toBe('bad');
    expect(serverStateClass('ready')).toBe('ok');
    expect(serverStateClass('failed')).toBe('bad');
    expect(serverStateClass('idle')).toBe('muted');
  });
  it('filters pushed calls by server and tool', () => {
    expect(matchesCallFilter(linked(1), {})).toBe(true);
    expect(matchesCallFilter(linked(1), { server: 'org.fx.server', tool: 'echo' })).toBe(true);
    expect(matchesCallFilter(linked(1), { tool: 'add' })).toBe(false);
    expect(matchesCallFilter(linked(1), { server: 'other' })).toBe(false);
    expect(matchesCallFilter(linked(1, { kind: 'approval' }), {})).toBe(false);
  });
  it('prepends pushed calls newest first, without duplicates, bounded', () => {
    const list = [linked(5), linked(4)];
    expect(prependCalls(list, [linked(6), linked(5), linked(7)], 3).map((r) => r.seq)).toEqual([7, 6, 5]);
  });
});

describe('display', () => {
  it('formats sizes and latencies', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(4 * 1024 * 1024)).toBe('4.0 MiB');
    expect(formatBytes(null)).toBe('—');
    expect(formatLatency(0.8412)).toBe('0.84 ms');
    expect(formatLatency(12.34)).toBe('12.3 ms');
    expect(formatLatency(1500)).toBe('1.50 s');
    expect(formatLatency(null)).toBe('—');
  });
  it('quotes command-line arguments that need it', () => {
    expect(commandLine('/usr/bin/srv', ['--dir', '/a b', ''])).toBe('/usr/bin/srv --dir "/a b" ""');
    expect(commandLine(null, [])).toBe('');
  });
});

describe('throttle', () => {
  function fakeTimers() {
    let now = 0;
    const queue: { at: number; fn: () => void; id: number }[] = [];
    let ids = 0;
    const timers: Timers = {
      now: () => now,
      setTimeout: (fn, ms) => {
        const id = ++ids;
        queue.push({ at: now + ms, fn, id });
        return id;
      },
      clearTimeout: (id) => {
        const i = queue.findIndex((t) => t.id === id);
        if (i !== -1) queue.splice(i, 1);
      },
    };
    const advance = (ms: number) => {
      now += ms;
      for (const t of queue.filter((t) => t.at <= now)) {
        queue.splice(queue.indexOf(t), 1);
        t.fn();
      }
    };
    return { timers, advance };
  }

  it('runs at once, then at most once per window however many calls came', () => {
    const { timers, advance } = fakeTimers();
    let runs = 0;
    const t = throttle(() => runs++, 1000, timers);
    t.call();
    expect(runs).toBe(1);
    t.call();
    t.call();
    t.call();
    expect(runs).toBe(1);
    advance(999);
    expect(runs).toBe(1);
    advance(1);
    expect(runs).toBe(2);
    advance(5000);
    expect(runs).toBe(2);
    t.call();
    expect(runs).toBe(3);
  });

  it('drops a pending run on cancel', () => {
    const { timers, advance } = fakeTimers();
    let runs = 0;
    const t = throttle(() => runs++, 1000, timers);
    t.call();
    t.call();
    t.cancel();
    advance(2000);
    expect(runs).toBe(1);
  });
});
