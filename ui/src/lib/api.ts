// The one door from the UI to the hall. Screens call `HallApi` methods and subscribe to events;
// whether that goes over HTTP (`proctor serve` in a browser) or Tauri IPC (the desktop app, where
// the hall runs in-process) is decided once, by `detectTransport`, and never seen by a screen.
//
// Every operation is declared once in `OPS` with its HTTP method/path and its Tauri command name,
// so the two transports cannot drift apart and the desktop commands map 1:1 onto the HTTP API.

import type {
  Alert,
  AlertList,
  AttestSignRequest,
  AttestVerdict,
  AttestVerifyRequest,
  DecisionPage,
  EnrollResult,
  HallEvent,
  HallSettings,
  LedgerRecord,
  LedgerStatus,
  PackageHash,
  RoutedDecision,
  RouteInput,
  SignResult,
  Stats,
  Thresholds,
  Trace,
  VerifyRequest,
  WorkerList,
  WorkerRecord,
  WorkerVerdict,
} from './types';
import { EVENT_KINDS } from './types';
import type { paths } from './wire.gen';

export type QueryValue = string | number | boolean | null | undefined;
export type Query = Record<string, QueryValue>;

export interface Op {
  method: 'GET' | 'POST' | 'PUT';
  /** Path template; `{name}` segments are filled from `params` (percent-encoded). */
  path: string;
  /** The desktop shell's Tauri command for the same operation. */
  command: string;
}

export const OPS = {
  route: { method: 'POST', path: '/v1/route', command: 'route' },
  listWorkers: { method: 'GET', path: '/v1/workers', command: 'list_workers' },
  enrollWorker: { method: 'POST', path: '/v1/workers', command: 'enroll_worker' },
  verifyWorker: { method: 'POST', path: '/v1/workers/{worker_id}/verify', command: 'verify_worker' },
  listDecisions: { method: 'GET', path: '/v1/decisions', command: 'list_decisions' },
  getDecision: { method: 'GET', path: '/v1/decisions/{decision_id}', command: 'get_decision' },
  getTrace: { method: 'GET', path: '/v1/traces/{correlation_id}', command: 'get_trace' },
  getStats: { method: 'GET', path: '/v1/stats', command: 'get_stats' },
  verifyLedger: { method: 'GET', path: '/v1/ledger/verify', command: 'verify_ledger' },
  listAlerts: { method: 'GET', path: '/v1/alerts', command: 'list_alerts' },
  ackAlert: { method: 'POST', path: '/v1/alerts/{id}/ack', command: 'ack_alert' },
  attestHash: { method: 'POST', path: '/v1/attest/hash', command: 'attest_hash' },
  attestVerify: { method: 'POST', path: '/v1/attest/verify', command: 'attest_verify' },
  attestSign: { method: 'POST', path: '/v1/attest/sign', command: 'attest_sign' },
  getSettings: { method: 'GET', path: '/v1/settings', command: 'get_settings' },
  putThresholds: { method: 'PUT', path: '/v1/settings/thresholds', command: 'put_thresholds' },
} as const satisfies Record<string, Op>;

export interface CallArgs {
  params?: Record<string, string>;
  query?: Query;
  body?: unknown;
}

/** An error the UI can show as is: `code` is the hall's error code (or UNREACHABLE / BAD_RESPONSE). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type StreamStatus =
  | { state: 'connecting' }
  | { state: 'open' }
  | { state: 'down'; message: string; retryInMs: number };

export interface EventHandlers {
  onEvent(event: HallEvent): void;
  onStatus(status: StreamStatus): void;
}

export interface Transport {
  readonly kind: 'http' | 'tauri';
  /** Where the hall is, for messages such as "the hall is not reachable at ...". */
  readonly location: string;
  call<T>(op: Op, args?: CallArgs): Promise<T>;
  /** Starts the live event stream; returns a function that stops it. */
  subscribe(handlers: EventHandlers): () => void;
}

/** Typed operations over any transport. */
export class HallApi {
  constructor(readonly transport: Transport) {}

  route(input: RouteInput) {
    return this.transport.call<RoutedDecision>(OPS.route, { body: input });
  }
  listWorkers() {
    return this.transport.call<WorkerList>(OPS.listWorkers);
  }
  enrollWorker(record: WorkerRecord) {
    return this.transport.call<EnrollResult>(OPS.enrollWorker, { body: record });
  }
  verifyWorker(workerId: string, body: VerifyRequest = {}) {
    return this.transport.call<WorkerVerdict>(OPS.verifyWorker, { params: { worker_id: workerId }, body });
  }
  listDecisions(query: Query) {
    return this.transport.call<DecisionPage>(OPS.listDecisions, { query });
  }
  getDecision(decisionId: string) {
    return this.transport.call<LedgerRecord>(OPS.getDecision, { params: { decision_id: decisionId } });
  }
  getTrace(correlationId: string) {
    return this.transport.call<Trace>(OPS.getTrace, { params: { correlation_id: correlationId } });
  }
  getStats(since?: string) {
    return this.transport.call<Stats>(OPS.getStats, { query: { since } });
  }
  verifyLedger() {
    return this.transport.call<LedgerStatus>(OPS.verifyLedger);
  }
  listAlerts(query: { open?: boolean; limit?: number } = {}) {
    return this.transport.call<AlertList>(OPS.listAlerts, { query: { open: query.open || undefined, limit: query.limit } });
  }
  ackAlert(id: number) {
    return this.transport.call<Alert>(OPS.ackAlert, { params: { id: String(id) } });
  }
  attestHash(path: string) {
    return this.transport.call<PackageHash>(OPS.attestHash, { body: { path } });
  }
  attestVerify(body: AttestVerifyRequest) {
    return this.transport.call<AttestVerdict>(OPS.attestVerify, { body });
  }
  attestSign(body: AttestSignRequest) {
    return this.transport.call<SignResult>(OPS.attestSign, { body });
  }
  getSettings() {
    return this.transport.call<HallSettings>(OPS.getSettings);
  }
  putThresholds(thresholds: Thresholds) {
    return this.transport.call<HallSettings>(OPS.putThresholds, { body: thresholds });
  }
}

/** What an operation answers on success (`200`), read from the OpenAPI document by path and method. */
export type Answer<O extends Op> = Operation<O> extends { responses: { 200: { content: infer C } } }
  ? C extends { 'application/json': infer Body } ? Body : never
  : never;
type Operation<O extends Op> = paths[O['path'] & keyof paths][Lowercase<O['method']> & keyof paths[O['path'] & keyof paths]];

// Compile-time proof that each `HallApi` method is typed with what the hall really answers: the
// document's success body for the method's operation must be assignable to the declared return
// type (every `OPS` key is a `HallApi` method). A wrong mapping fails `npm run check`.
type Reads<K extends keyof typeof OPS> = Awaited<ReturnType<HallApi[K]>>;
type Mismatched = { [K in keyof typeof OPS]: Answer<(typeof OPS)[K]> extends Reads<K> ? never : K }[keyof typeof OPS];
type AssertNone<T extends never> = T;
export type EveryAnswerMatchesTheDocument = AssertNone<Mismatched>;

/** Fills `{name}` segments of a path template. Missing params are a programming error. */
export function fillPath(template: string, params: Record<string, string> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(value);
  });
}

/** Query string from a query object; empty, null and undefined values are left out. */
export function queryString(query: Query = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    search.set(key, String(value));
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}

// ---------------------------------------------------------------- HTTP (browser) transport

export interface EventSourceLike {
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  onerror: ((event: Event) => void) | null;
  onopen: ((event: Event) => void) | null;
  close(): void;
}

export interface HttpDeps {
  fetch: typeof fetch;
  EventSource: new (url: string) => EventSourceLike;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

export interface HttpConfig {
  /** Hall origin, e.g. `http://127.0.0.1:8765`; empty = the origin that served the UI. */
  baseUrl: string;
  token: string;
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 15_000;

export class HttpTransport implements Transport {
  readonly kind = 'http';
  private readonly base: string;

  constructor(
    private readonly config: HttpConfig,
    private readonly deps: HttpDeps,
  ) {
    this.base = config.baseUrl.replace(/\/+$/, '');
  }

  get location(): string {
    return this.base || (typeof location !== 'undefined' ? location.origin : 'this address');
  }

  async call<T>(op: Op, args: CallArgs = {}): Promise<T> {
    const url = this.base + fillPath(op.path, args.params) + queryString(args.query);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.config.token) headers.Authorization = `Bearer ${this.config.token}`;
    let body: string | undefined;
    if (op.method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(args.body ?? {});
    }
    let response: Response;
    try {
      response = await this.deps.fetch(url, { method: op.method, headers, body });
    } catch {
      throw new ApiError(0, 'UNREACHABLE', `The hall is not reachable at ${this.location}. Is \`proctor serve\` running?`);
    }
    return parseResponse<T>(response);
  }

  subscribe(handlers: EventHandlers): () => void {
    let stopped = false;
    let source: EventSourceLike | null = null;
    let retryTimer: unknown = null;
    let retryMs = RETRY_MIN_MS;

    const scheduleRetry = (message: string) => {
      source?.close();
      source = null;
      if (stopped) return;
      handlers.onStatus({ state: 'down', message, retryInMs: retryMs });
      retryTimer = this.deps.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    };

    // EventSource cannot send an Authorization header, and the hall refuses tokens in URLs:
    // each connection first trades the token for a single-use ticket (docs/API.md "Live events").
    const connect = async () => {
      if (stopped) return;
      handlers.onStatus({ state: 'connecting' });
      let ticket: string;
      try {
        ticket = (await this.call<{ ticket: string }>(TICKET_OP)).ticket;
      } catch (err) {
        scheduleRetry(err instanceof Error ? err.message : String(err));
        return;
      }
      if (stopped) return;
      const es = new this.deps.EventSource(`${this.base}/v1/events${queryString({ ticket })}`);
      source = es;
      es.onopen = () => {
        retryMs = RETRY_MIN_MS;
        handlers.onStatus({ state: 'open' });
      };
      // A ticket is single-use, so the browser's own reconnect would be refused: reconnect ourselves.
      es.onerror = () => scheduleRetry(`The live event stream from ${this.location} was interrupted.`);
      for (const kind of EVENT_KINDS) {
        es.addEventListener(kind, (message) => {
          const event = parseEvent(kind, message.data);
          if (!event) return;
          handlers.onEvent(event);
          if (kind === 'lagged') scheduleRetry('The live stream fell behind; reloading.');
        });
      }
    };

    void connect();
    return () => {
      stopped = true;
      if (retryTimer !== null) this.deps.clearTimeout(retryTimer);
      source?.close();
    };
  }
}

const TICKET_OP: Op = { method: 'POST', path: '/v1/events/ticket', command: 'events_ticket' };

async function parseResponse<T>(response: Response): Promise<T> {
  const text = await response.text();
  let json: unknown = undefined;
  if (text !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(response.status, 'BAD_RESPONSE', `The hall answered ${response.status} with a body that is not JSON.`);
    }
  }
  if (!response.ok) throw errorFromBody(response.status, json);
  return json as T;
}

/** Turns the hall's `{"error": {"code", "message"}}` (or anything else) into an ApiError. */
export function errorFromBody(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`;
  const message = typeof error?.message === 'string' ? error.message : `The hall answered with status ${status}.`;
  if (status === 401) {
    const sep = /[.!?]$/.test(message) ? ' ' : '. ';
    return new ApiError(status, code, `${message}${sep}Check the API token in Settings (it is in <data-dir>/api-token).`);
  }
  return new ApiError(status, code, message);
}

/** Parses one SSE payload; a malformed payload is dropped (and logged) rather than breaking the stream. */
export function parseEvent(kind: HallEvent['kind'], data: string): HallEvent | null {
  try {
    return { kind, data: JSON.parse(data) } as HallEvent;
  } catch {
    console.warn(`proctor: dropped a malformed ${kind} event`);
    return null;
  }
}

// ---------------------------------------------------------------- Tauri (desktop) transport

export interface TauriDeps {
  invoke<T>(command: string, args: Record<string, unknown>): Promise<T>;
  listen(event: string, handler: (payload: unknown) => void): Promise<() => void>;
}

/** The desktop shell emits hall events on this Tauri event, in batches: an array of `{kind, data}`. */
export const TAURI_EVENT = 'hall:event';

export class TauriTransport implements Transport {
  readonly kind = 'tauri';
  readonly location = 'the hall embedded in this app';

  constructor(private readonly deps: TauriDeps) {}

  async call<T>(op: Op, args: CallArgs = {}): Promise<T> {
    const invokeArgs: Record<string, unknown> = { ...args.params };
    if (args.query !== undefined) invokeArgs.query = stripEmpty(args.query);
    if (args.body !== undefined) invokeArgs.body = args.body;
    try {
      return await this.deps.invoke<T>(op.command, invokeArgs);
    } catch (err) {
      // Commands reject with the same `{"error": {code, message}}` body as the HTTP API.
      const status = typeof (err as { status?: unknown })?.status === 'number' ? (err as { status: number }).status : 500;
      if (typeof err === 'string') throw new ApiError(status, 'INTERNAL', err);
      throw errorFromBody(status, err);
    }
  }

  subscribe(handlers: EventHandlers): () => void {
    let stopped = false;
    let unlisten: (() => void) | null = null;
    handlers.onStatus({ state: 'connecting' });
    this.deps
      .listen(TAURI_EVENT, (payload) => {
        for (const event of Array.isArray(payload) ? payload : [payload]) {
          if (event && typeof event === 'object' && 'kind' in event) handlers.onEvent(event as HallEvent);
        }
      })
      .then((fn) => {
        if (stopped) fn();
        else {
          unlisten = fn;
          handlers.onStatus({ state: 'open' });
        }
      })
      .catch((err: unknown) => handlers.onStatus({ state: 'down', message: String(err), retryInMs: 0 }));
    return () => {
      stopped = true;
      unlisten?.();
    };
  }
}

function stripEmpty(query: Query): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') out[key] = value;
  }
  return out;
}

// ---------------------------------------------------------------- picking one

/** True inside the Tauri webview (Tauri v2 always injects `__TAURI_INTERNALS__`). */
export function isDesktop(w: object = globalThis): boolean {
  return '__TAURI_INTERNALS__' in w;
}

export async function detectTransport(http: HttpConfig): Promise<Transport> {
  if (isDesktop()) {
    const [{ invoke }, { listen }] = await Promise.all([import('@tauri-apps/api/core'), import('@tauri-apps/api/event')]);
    return new TauriTransport({
      invoke: (command, args) => invoke(command, args),
      listen: (event, handler) => listen(event, (e) => handler(e.payload)),
    });
  }
  return new HttpTransport(http, {
    fetch: (input, init) => fetch(input, init),
    EventSource: EventSource as unknown as HttpDeps['EventSource'],
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  });
}
