// The one door from the UI to the hall. Screens call `HallApi` methods and subscribe to events;
// whether that goes over HTTP (`proctor serve` in a browser) or Tauri IPC (the desktop app, where
// the hall runs in-process) is decided once, by `detectTransport`, and never seen by a screen.
//
// Operations are named as in the hall's endpoint table. Their HTTP method and path (`OPS`,
// ops.gen.ts) and their request and answer types (wire.gen.ts) are generated from the hall's
// OpenAPI document, so neither transport restates a route: HTTP sends `OPS[name]`, the desktop
// passes the name to its one command, `hall_call`, which dispatches it into the same router.

import type { AckRequest, ApprovalVerdict, AttestSignRequest, AttestVerifyRequest, HallEvent, ImportRequest, RouteInput, Thresholds, VerifyRequest, WorkerRecord } from './types';
import { EVENT_KINDS } from './types';
import { OPS, type OpName } from './ops.gen';
import type { operations } from './wire.gen';

export type QueryValue = string | number | boolean | null | undefined;
export type Query = Record<string, QueryValue>;

export interface CallArgs {
  /** Fills the `{name}` segments of the operation's path (percent-encoded). */
  params?: Record<string, string>;
  query?: Query;
  body?: unknown;
}

/** What an operation answers on success (`200`), from the OpenAPI document. */
export type Answer<N extends OpName> = operations[N] extends { responses: { 200: { content: { 'application/json': infer Body } } } }
  ? Body
  : never;

/** The arguments of one operation, typed from the OpenAPI document (path parameters, JSON body). */
export interface OpArgs<N extends OpName> {
  params?: operations[N]['parameters'] extends { path: infer P extends Record<string, string> } ? P : never;
  query?: Query;
  body?: operations[N] extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;
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
  /** `unreachable`: the hall did not answer (rather than a stream that fell behind and reconnects). */
  | { state: 'down'; message: string; retryInMs: number; unreachable: boolean };

export interface EventHandlers {
  onEvent(event: HallEvent): void;
  onStatus(status: StreamStatus): void;
}

export interface Transport {
  readonly kind: 'http' | 'tauri';
  /** Where the hall is, for messages such as "the hall is not reachable at ...". */
  readonly location: string;
  call<T>(op: OpName, args?: CallArgs): Promise<T>;
  /** Starts the live event stream; returns a function that stops it. */
  subscribe(handlers: EventHandlers): () => void;
}

/**
 * Typed operations over any transport: each method names one operation and shapes its arguments.
 * `call` checks the arguments against the operation's path parameters and request body in the
 * document, and answers with the document's success body, so a method cannot send or read the wrong
 * shape without failing `npm run check`.
 */
export class HallApi {
  constructor(readonly transport: Transport) {}

  private call<N extends OpName>(op: N, args?: OpArgs<N>): Promise<Answer<N>> {
    return this.transport.call<Answer<N>>(op, args);
  }

  route(input: RouteInput) {
    return this.call('route', { body: input });
  }
  listWorkers() {
    return this.call('list_workers');
  }
  enrollWorker(record: WorkerRecord) {
    return this.call('enroll_worker', { body: record });
  }
  verifyWorker(workerId: string, body: VerifyRequest = {}) {
    return this.call('verify_worker', { params: { worker_id: workerId }, body });
  }
  listDecisions(query: Query) {
    return this.call('list_decisions', { query });
  }
  /** How many decisions match a filter, per time bucket and per facet value (the explorer's). */
  decisionsSummary(query: Query) {
    return this.call('decisions_summary', { query });
  }
  /** How many decisions match a filter, exact unless the hall's time budget ran out (after a summary's lower bound). */
  decisionsCount(query: Query) {
    return this.call('decisions_count', { query });
  }
  getDecision(decisionId: string) {
    return this.call('get_decision', { params: { decision_id: decisionId } });
  }
  getTrace(correlationId: string) {
    return this.call('get_trace', { params: { correlation_id: correlationId } });
  }
  getStats(query: StatsQuery = {}) {
    return this.call('get_stats', { query: { ...query } });
  }
  /** Denials in a window grouped by deny code × capability × worker (24 h up to now by default). */
  listIssues(query: { since?: string; until?: string } = {}) {
    return this.call('list_issues', { query });
  }
  /** The fleet view only (`proctor serve --fleet`): the halls, their last contact and backlog. */
  listFleetHalls() {
    return this.call('list_fleet_halls');
  }
  /** Unauthenticated: the hall is up, and where its API token is kept (for signing in). */
  health() {
    return this.call('health');
  }
  listHallEvents(query: HallEventsQuery = {}) {
    return this.call('list_hall_events', { query: { ...query } });
  }
  verifyLedger() {
    return this.call('verify_ledger');
  }
  listAlerts(query: { open?: boolean; limit?: number } = {}) {
    return this.call('list_alerts', { query: { open: query.open || undefined, limit: query.limit } });
  }
  /** Who acknowledges (`by`, else the hall's default: `token holder`, the desktop's OS user) and why. */
  ackAlert(id: number, body: AckRequest = {}) {
    return this.call('ack_alert', { params: { id: String(id) }, body });
  }
  /** Unauthenticated: a sign-in link's single-use code for the API token. */
  createSession(code: string) {
    return this.call('create_session', { body: { code } });
  }
  attestHash(path: string) {
    return this.call('attest_hash', { body: { path } });
  }
  attestVerify(body: AttestVerifyRequest) {
    return this.call('attest_verify', { body });
  }
  attestSign(body: AttestSignRequest) {
    return this.call('attest_sign', { body });
  }
  getSettings() {
    return this.call('get_settings');
  }
  getHallKey() {
    return this.call('get_hall_key');
  }
  putThresholds(thresholds: Thresholds) {
    return this.call('put_thresholds', { body: thresholds });
  }
  getMcp() {
    return this.call('get_mcp');
  }
  listMcpCalls(query: McpCallsQuery = {}) {
    return this.call('list_mcp_calls', { query: { ...query } });
  }
  listApprovals(state: 'pending' | 'all' = 'pending') {
    return this.call('list_approvals', { query: { state } });
  }
  /** 404: no such approval; 409: it already ended (someone else decided, or it expired). */
  decideApproval(id: string, verdict: ApprovalVerdict) {
    return this.call('decide_approval', { params: { id }, body: verdict });
  }
  /** What importing the MCP servers this user's clients configure would do; nothing is written. */
  planMcpImport() {
    return this.call('plan_mcp_import');
  }
  /** Puts the chosen entries behind the hall. 404: not a client file the hall found; 409: a file changed since planning. */
  applyMcpImport(request: ImportRequest) {
    return this.call('apply_mcp_import', { body: request });
  }
}

/** `GET /v1/stats`: the range (`until` exclusive) and the bucket width in seconds. */
export type StatsQuery = NonNullable<operations['get_stats']['parameters']['query']>;

/** `GET /v1/hall-events` filters: a worker, a kind, a time range. */
export type HallEventsQuery = NonNullable<operations['list_hall_events']['parameters']['query']>;

/** `GET /v1/mcp/calls` filters (all optional; newest first). */
export type McpCallsQuery = NonNullable<operations['list_mcp_calls']['parameters']['query']>;

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
// A local hall restarts in about a second: retrying every 5 s at most keeps the outage shown short.
const RETRY_MAX_MS = 5_000;

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

  async call<T>(op: OpName, args: CallArgs = {}): Promise<T> {
    const { method, path } = OPS[op];
    const url = this.base + fillPath(path, args.params) + queryString(args.query);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.config.token) headers.Authorization = `Bearer ${this.config.token}`;
    let body: string | undefined;
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(args.body ?? {});
    }
    let response: Response;
    try {
      response = await this.deps.fetch(url, { method, headers, body });
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

    const scheduleRetry = (message: string, unreachable = true) => {
      source?.close();
      source = null;
      if (stopped) return;
      handlers.onStatus({ state: 'down', message, retryInMs: retryMs, unreachable });
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
        ticket = (await this.call<Answer<'issue_event_ticket'>>('issue_event_ticket')).ticket;
      } catch (err) {
        scheduleRetry(err instanceof Error ? err.message : String(err), err instanceof ApiError && err.code === 'UNREACHABLE');
        return;
      }
      if (stopped) return;
      const es = new this.deps.EventSource(`${this.base}${OPS.stream_events.path}${queryString({ ticket })}`);
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
          if (kind === 'lagged') scheduleRetry('The live stream fell behind; reloading.', false);
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
    return new ApiError(status, code, `${message}${sep}Sign in with the hall's API token (the api-token file in its data dir).`);
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

/** The desktop shell's one command: `{operation, params?, query?, body?}` → the operation's answer. */
export const HALL_CALL = 'hall_call';

/** The desktop shell emits hall events on this Tauri event, in batches: an array of `{kind, data}`. */
export const TAURI_EVENT = 'hall:event';

export class TauriTransport implements Transport {
  readonly kind = 'tauri';
  readonly location = 'the hall embedded in this app';

  constructor(private readonly deps: TauriDeps) {}

  async call<T>(op: OpName, args: CallArgs = {}): Promise<T> {
    const invokeArgs: Record<string, unknown> = { operation: op };
    if (args.params !== undefined) invokeArgs.params = args.params;
    if (args.query !== undefined) invokeArgs.query = stripEmpty(args.query);
    if (args.body !== undefined) invokeArgs.body = args.body;
    try {
      return await this.deps.invoke<T>(HALL_CALL, invokeArgs);
    } catch (err) {
      // `hall_call` rejects with `{status, error: {code, message}}`, the HTTP API's error body.
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
      .catch((err: unknown) => handlers.onStatus({ state: 'down', message: String(err), retryInMs: 0, unreachable: true }));
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
