import { describe, expect, it, vi } from 'vitest';
import { ApiError, HALL_CALL, HallApi, HttpTransport, TAURI_EVENT, TauriTransport, fillPath, isDesktop, queryString, type EventSourceLike, type HttpDeps, type StreamStatus } from './api';
import type { HallEvent } from './types';

type FetchCall = { url: string; init: RequestInit };

function fakeFetch(responder: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: FetchCall[] = [];
  const fetch = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    return responder(String(url), init ?? {});
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = [];
  listeners = new Map<string, ((e: MessageEvent) => void)[]>();
  onerror: ((e: Event) => void) | null = null;
  onopen: ((e: Event) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }
  addEventListener(type: string, listener: (e: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  emit(type: string, data: string) {
    for (const l of this.listeners.get(type) ?? []) l(new MessageEvent(type, { data }));
  }
  close() {
    this.closed = true;
  }
}

function deps(fetch: typeof globalThis.fetch): HttpDeps & { timers: (() => void)[] } {
  const timers: (() => void)[] = [];
  return {
    fetch,
    EventSource: FakeEventSource,
    setTimeout: (fn) => {
      timers.push(fn);
      return timers.length;
    },
    clearTimeout: () => {},
    timers,
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('paths and query strings', () => {
  it('percent-encodes path parameters so ids cannot change the route', () => {
    expect(fillPath('/v1/decisions/{decision_id}', { decision_id: '../x?y#z' })).toBe('/v1/decisions/..%2Fx%3Fy%23z');
  });
  it('refuses a missing path parameter', () => {
    expect(() => fillPath('/v1/traces/{correlation_id}', {})).toThrow(/correlation_id/);
  });
  it('leaves out empty values', () => {
    expect(queryString({ a: '', b: undefined, c: null, d: 'x y', e: false, f: 0 })).toBe('?d=x+y&e=false&f=0');
    expect(queryString({})).toBe('');
  });
});

describe('HttpTransport', () => {
  it('sends the bearer token as a header, never in the URL', async () => {
    const { fetch, calls } = fakeFetch(() => json(200, { decisions: [], next_cursor: null }));
    const api = new HallApi(new HttpTransport({ baseUrl: 'http://127.0.0.1:9/', token: 'sekret' }, deps(fetch)));
    await api.listDecisions({ tenant_id: 't1', denied: true, limit: 5 });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe('http://127.0.0.1:9/v1/decisions?tenant_id=t1&denied=true&limit=5');
    expect(calls[0]!.url).not.toContain('sekret');
    expect((calls[0]!.init.headers as Record<string, string>).Authorization).toBe('Bearer sekret');
    expect(calls[0]!.init.method).toBe('GET');
    expect(calls[0]!.init.body).toBeUndefined();
  });

  it('posts JSON bodies with a content type', async () => {
    const { fetch, calls } = fakeFetch(() => json(200, { id: 3, acked: true }));
    const api = new HallApi(new HttpTransport({ baseUrl: '', token: 't' }, deps(fetch)));
    await api.ackAlert(3);
    await api.attestHash('/pkg');
    expect(calls[0]!.url).toBe('/v1/alerts/3/ack');
    expect(calls[1]!.init.body).toBe('{"path":"/pkg"}');
    expect((calls[1]!.init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
  });

  it("turns the hall's error body into an ApiError with its code", async () => {
    const { fetch } = fakeFetch(() => json(400, { error: { code: 'INVALID_QUERY', message: 'since is not RFC 3339' } }));
    const api = new HallApi(new HttpTransport({ baseUrl: '', token: 't' }, deps(fetch)));
    const err = await api.listDecisions({ since: 'yesterday' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: 'INVALID_QUERY', message: 'since is not RFC 3339' });
  });

  it('tells the user where to find the token on 401', async () => {
    const { fetch } = fakeFetch(() => json(401, { error: { code: 'UNAUTHORIZED', message: 'missing or wrong token' } }));
    const err = (await new HttpTransport({ baseUrl: '', token: '' }, deps(fetch)).call('get_stats').catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toMatch(/api-token/);
  });

  it('says the hall is not reachable, with its address, when fetch fails', async () => {
    const { fetch } = fakeFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    const err = (await new HttpTransport({ baseUrl: 'http://127.0.0.1:1', token: 't' }, deps(fetch)).call('get_stats').catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('UNREACHABLE');
    expect(err.message).toContain('http://127.0.0.1:1');
  });

  it('reports a non-JSON answer instead of crashing', async () => {
    const { fetch } = fakeFetch(() => new Response('<html>proxy error</html>', { status: 502 }));
    const err = (await new HttpTransport({ baseUrl: '', token: 't' }, deps(fetch)).call('get_stats').catch((e: unknown) => e)) as ApiError;
    expect(err).toMatchObject({ status: 502, code: 'BAD_RESPONSE' });
  });

  it('opens the event stream with a single-use ticket and delivers typed events', async () => {
    FakeEventSource.instances = [];
    const { fetch, calls } = fakeFetch((url) => (url.endsWith('/v1/events/ticket') ? json(200, { ticket: 'T1', expires_at: 'x' }) : json(404, {})));
    const d = deps(fetch);
    const events: HallEvent[] = [];
    const statuses: StreamStatus[] = [];
    const stop = new HttpTransport({ baseUrl: 'http://h', token: 'tok' }, d).subscribe({ onEvent: (e) => events.push(e), onStatus: (s) => statuses.push(s) });
    await flush();
    expect(calls[0]!.init.method).toBe('POST');
    const es = FakeEventSource.instances[0]!;
    expect(es.url).toBe('http://h/v1/events?ticket=T1');
    expect(es.url).not.toContain('tok');
    es.onopen?.(new Event('open'));
    es.emit('decision', JSON.stringify({ seq: 1, decision_id: 'd1', denied: false }));
    es.emit('alert', 'not json');
    expect(events).toEqual([{ kind: 'decision', data: { seq: 1, decision_id: 'd1', denied: false } }]);
    expect(statuses.map((s) => s.state)).toEqual(['connecting', 'open']);
    stop();
    expect(es.closed).toBe(true);
  });

  it('reconnects with a fresh ticket after an error, backing off', async () => {
    FakeEventSource.instances = [];
    let n = 0;
    const { fetch } = fakeFetch(() => json(200, { ticket: `T${++n}`, expires_at: 'x' }));
    const d = deps(fetch);
    const statuses: StreamStatus[] = [];
    const stop = new HttpTransport({ baseUrl: '', token: 't' }, d).subscribe({ onEvent: () => {}, onStatus: (s) => statuses.push(s) });
    await flush();
    FakeEventSource.instances[0]!.onerror?.(new Event('error'));
    expect(FakeEventSource.instances[0]!.closed).toBe(true);
    expect(statuses.at(-1)).toMatchObject({ state: 'down', retryInMs: 1000 });
    d.timers.shift()!();
    await flush();
    expect(FakeEventSource.instances[1]!.url).toBe('/v1/events?ticket=T2');
    FakeEventSource.instances[1]!.onerror?.(new Event('error'));
    expect(statuses.at(-1)).toMatchObject({ state: 'down', retryInMs: 2000 });
    stop();
  });

  it('reconnects after a lagged notice so state can be reloaded', async () => {
    FakeEventSource.instances = [];
    const { fetch } = fakeFetch(() => json(200, { ticket: 'T', expires_at: 'x' }));
    const d = deps(fetch);
    const events: HallEvent[] = [];
    new HttpTransport({ baseUrl: '', token: 't' }, d).subscribe({ onEvent: (e) => events.push(e), onStatus: () => {} });
    await flush();
    FakeEventSource.instances[0]!.emit('lagged', '{"missed": 12}');
    expect(events).toEqual([{ kind: 'lagged', data: { missed: 12 } }]);
    expect(FakeEventSource.instances[0]!.closed).toBe(true);
    expect(d.timers).toHaveLength(1);
  });
});

describe('TauriTransport', () => {
  it('invokes the one hall_call command with the operation name, params, query and body', async () => {
    const invoke = vi.fn(async () => ({ ok: true }));
    const t = new TauriTransport({ invoke: invoke as never, listen: async () => () => {} });
    const api = new HallApi(t);
    await api.getDecision('d-1');
    await api.listDecisions({ tenant_id: 'a', env: '', cursor: undefined });
    const input = { capability_id: 'c', env: 'dev', data_label: 'PUBLIC', tenant_risk: 'low', qos_class: 'P2', tenant_id: 't', correlation_id: 'x' } as const;
    await api.route(input);
    await api.verifyWorker('w/1');
    expect(invoke.mock.calls).toEqual([
      [HALL_CALL, { operation: 'get_decision', params: { decision_id: 'd-1' } }],
      [HALL_CALL, { operation: 'list_decisions', query: { tenant_id: 'a' } }],
      [HALL_CALL, { operation: 'route', body: input }],
      [HALL_CALL, { operation: 'verify_worker', params: { worker_id: 'w/1' }, body: {} }],
    ]);
  });

  it('maps a rejected command to the same ApiError as HTTP', async () => {
    const t = new TauriTransport({
      invoke: async () => Promise.reject({ status: 404, error: { code: 'NOT_FOUND', message: 'no decision d-9' } }),
      listen: async () => () => {},
    });
    await expect(t.call('get_decision', { params: { decision_id: 'd-9' } })).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('listens on the hall event and stops listening on unsubscribe', async () => {
    let handler: ((p: unknown) => void) | null = null;
    const unlisten = vi.fn();
    const t = new TauriTransport({
      invoke: async () => ({}) as never,
      listen: async (name, h) => {
        expect(name).toBe(TAURI_EVENT);
        handler = h;
        return unlisten;
      },
    });
    const events: HallEvent[] = [];
    const stop = t.subscribe({ onEvent: (e) => events.push(e), onStatus: () => {} });
    await flush();
    handler!([{ kind: 'alert', data: { id: 1 } }, { kind: 'decision', data: { seq: 2 } }, 'garbage']);
    handler!({ kind: 'lagged', data: { missed: 3 } });
    handler!('garbage');
    expect(events.map((e) => e.kind)).toEqual(['alert', 'decision', 'lagged']);
    stop();
    expect(unlisten).toHaveBeenCalled();
  });

});

describe('isDesktop', () => {
  it('detects the Tauri webview by its injected internals only', () => {
    expect(isDesktop({})).toBe(false);
    expect(isDesktop({ __TAURI_INTERNALS__: {} })).toBe(true);
  });
});

describe('MCP gateway operations', () => {
  it('send the approval verdict, the approvals filter and the calls filters over HTTP', async () => {
    const { fetch, calls } = fakeFetch(() => json(200, {}));
    const api = new HallApi(new HttpTransport({ baseUrl: 'http://h', token: 't' }, deps(fetch)));
    await api.getMcp();
    await api.listMcpCalls({ server: 'org.fx', tool: 'echo', before_seq: 9, limit: 50 });
    await api.listApprovals('all');
    await api.decideApproval('a/1', { verdict: 'approve', note: 'fine', by: 'web UI' });
    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      'GET http://h/v1/mcp',
      'GET http://h/v1/mcp/calls?server=org.fx&tool=echo&before_seq=9&limit=50',
      'GET http://h/v1/approvals?state=all',
      'POST http://h/v1/approvals/a%2F1',
    ]);
    expect(JSON.parse(String(calls[3]!.init.body))).toEqual({ verdict: 'approve', note: 'fine', by: 'web UI' });
  });

  it('go through hall_call by name in the desktop app', async () => {
    const invoke = vi.fn(async () => ({}));
    const api = new HallApi(new TauriTransport({ invoke: invoke as never, listen: async () => () => {} }));
    await api.decideApproval('a1', { verdict: 'deny' });
    await api.listMcpCalls({ tool: 'echo' });
    expect(invoke.mock.calls).toEqual([
      [HALL_CALL, { operation: 'decide_approval', params: { id: 'a1' }, body: { verdict: 'deny' } }],
      [HALL_CALL, { operation: 'list_mcp_calls', query: { tool: 'echo' } }],
    ]);
  });

  it('plan and apply the import of MCP client configurations', async () => {
    const { fetch, calls } = fakeFetch(() => json(200, {}));
    const api = new HallApi(new HttpTransport({ baseUrl: 'http://h', token: 't' }, deps(fetch)));
    await api.planMcpImport();
    const request = { servers: [{ path: '/home/me/.cursor/mcp.json', name: 'github' }] };
    await api.applyMcpImport(request);
    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual(['GET http://h/v1/mcp/import', 'POST http://h/v1/mcp/import']);
    expect(JSON.parse(String(calls[1]!.init.body))).toEqual(request);

    const invoke = vi.fn(async () => ({}));
    const desktop = new HallApi(new TauriTransport({ invoke: invoke as never, listen: async () => () => {} }));
    await desktop.planMcpImport();
    await desktop.applyMcpImport(request);
    expect(invoke.mock.calls).toEqual([
      [HALL_CALL, { operation: 'plan_mcp_import' }],
      [HALL_CALL, { operation: 'apply_mcp_import', body: request }],
    ]);
  });

  it('deliver the gateway events of the stream', async () => {
    const { fetch } = fakeFetch(() => json(200, { ticket: 'tk' }));
    FakeEventSource.instances = [];
    const t = new HttpTransport({ baseUrl: '', token: 't' }, deps(fetch));
    const events: HallEvent[] = [];
    t.subscribe({ onEvent: (e) => events.push(e), onStatus: () => {} });
    await flush();
    const es = FakeEventSource.instances[0]!;
    es.emit('approval', JSON.stringify({ id: 'a1', state: 'pending' }));
    es.emit('mcp_call', JSON.stringify({ seq: 3, kind: 'mcp_call' }));
    es.emit('mcp_server', JSON.stringify({ event: 'state', worker_id: 'w', state: 'ready', error: null }));
    expect(events.map((e) => e.kind)).toEqual(['approval', 'mcp_call', 'mcp_server']);
  });
});
