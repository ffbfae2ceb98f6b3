// App-wide live state of the hall: connection, workers, alerts, stats and calls waiting for
// approval. Loaded once, then kept current by pushed events (SSE or Tauri
// events); screens read it and may register for live decisions and MCP events. Nothing here polls.
// Components get it from Svelte context (`getHall`), set once by App (`setHallContext(hall)`), so a
// component test can mount a screen over a `HallState` attached to a fake transport.

import { createContext } from 'svelte';
import { ApiError, HallApi, detectTransport, isDesktop, type StreamStatus, type Transport } from './api';
import { applyApproval, mergeApprovals, pendingCount } from './approvals';
import { nav } from './nav.svelte';
import { FocusRoute, notifyAlert, notifyApproval } from './notify';
import { loadPrefs, type Prefs } from './prefs';
import { openDelta } from './alertGroups';
import type { AckRequest, Alert, Approval, DecisionEvent, FleetHall, HallEvent, Stats, Worker } from './types';
import { countShown } from './workers';

export type Connection =
  | { state: 'starting' }
  | { state: 'ready' }
  /** The browser has no token, or the hall refused it: the sign-in card asks for one. */
  | { state: 'signin'; tokenFile: string | null; error: ApiError | null }
  | { state: 'error'; error: ApiError };

type DecisionListener = (event: DecisionEvent) => void;
/** The gateway's own events: a call's outcome was recorded, or a server changed. */
export type McpEvent = Extract<HallEvent, { kind: 'mcp_call' | 'mcp_server' }>;
type McpListener = (event: McpEvent) => void;

const ALERT_LIMIT = 200;
/** The totals span the whole ledger: day-wide buckets keep that answer small (the charts ask for their own). */
const TOTALS_BUCKET_S = 86_400;
/** The fleet view's totals cover this much (its store holds many halls' decisions). */
export const FLEET_TOTALS_MS = 86_400_000;

export class HallState {
  api: HallApi | null = $state(null);
  prefs: Prefs = $state(loadPrefs());
  connection: Connection = $state({ state: 'starting' });
  stream: StreamStatus = $state({ state: 'connecting' });
  workers: Worker[] = $state([]);
  alerts: Alert[] = $state([]);
  /** Calls held for a person: pending ones, then those ended recently (lib/approvals.ts). */
  approvals: Approval[] = $state([]);
  stats: Stats | null = $state(null);
  /**
   * A fleet view (`proctor serve --fleet`, its `/health` says so): the decisions of many halls,
   * read-only. No live stream, no workers, alerts or approvals of its own; the halls instead.
   */
  fleet = $state(false);
  fleetHalls: FleetHall[] = $state([]);
  /** Events the stream lost while this client lagged (the hall said so); shown, then reloaded. */
  missedEvents = $state(0);
  /** Bumped after the state was reloaded on reconnect, so screens holding their own lists reload too. */
  resyncs = $state(0);
  /**
   * When the hall stopped answering (ms since the epoch), until the stream is live again and the
   * state reloaded: everything on screen may be stale meanwhile.
   */
  unreachableSince: number | null = $state(null);

  readonly unackedAlerts = $derived(this.alerts.filter((a) => a.open).length);
  /** Workers per state; one whose package check failed counts as `not routed`, never as healthy. */
  readonly healthCounts = $derived(countShown(this.workers));
  readonly pendingApprovals = $derived(pendingCount(this.approvals));
  /** Desktop: the next window focus after an approval notification opens the Approvals screen. */
  readonly focusRoute = new FocusRoute();

  private readonly decisionListeners = new Set<DecisionListener>();
  private readonly mcpListeners = new Set<McpListener>();
  /** `approval` events that arrive while a listing loads, applied again on top of it (one per load). */
  private readonly approvalBuffers = new Set<Approval[]>();
  private stopStream: (() => void) | null = null;
  /** The stream dropped since it was last open: events were missed, reload when it opens again. */
  private streamDropped = false;

  /** (Re)connects with the current prefs; used at start and after the Settings screen changes them. */
  async connect(): Promise<void> {
    this.stopStream?.();
    this.stopStream = null;
    this.connection = { state: 'starting' };
    const transport = await detectTransport({ baseUrl: this.prefs.hallUrl, token: this.prefs.token });
    // The desktop embeds a hall; a browser may be talking to a fleet view. `/health` needs no token.
    this.fleet = transport.kind === 'http' && (await new HallApi(transport).health().catch(() => null))?.mode === 'fleet';
    // Without a token every call would be refused: ask for one first.
    if (transport.kind === 'http' && !this.prefs.token.trim()) {
      this.api = new HallApi(transport);
      await this.askToSignIn(null);
      return;
    }
    await this.attach(transport);
  }

  /** Talks to the hall over `transport` (the detected one; a fake in component tests), then loads. */
  async attach(transport: Transport): Promise<void> {
    this.stopStream?.();
    this.api = new HallApi(transport);
    if (this.fleet) {
      // A fleet view has no event stream: its figures are as of the last load.
      this.stream = { state: 'connecting' };
      await this.reload();
      return;
    }
    // Subscribe before loading so nothing that happens during the load is missed.
    this.stopStream = transport.subscribe({
      onEvent: (e) => this.apply(e),
      onStatus: (s) => {
        this.stream = s;
        // A reconnect goes down → connecting → open: remember the drop until the stream is back.
        if (s.state === 'down') this.streamDropped = true;
        if (s.state === 'down' && s.unreachable) this.unreachableSince ??= Date.now();
        if (s.state === 'open' && this.streamDropped) {
          this.streamDropped = false;
          void this.reload().then((ok) => {
            if (!ok) return;
            this.unreachableSince = null;
            this.resyncs += 1;
          });
        }
      },
    });
    await this.reload();
  }

  /** Loads workers, alerts, totals and approvals; false when the hall did not answer. */
  async reload(): Promise<boolean> {
    const api = this.api;
    if (!api) return false;
    try {
      if (this.fleet) {
        // The fleet's totals over the last day: the whole central store is too much to count every 30 s.
        const since = new Date(Date.now() - FLEET_TOTALS_MS).toISOString();
        const [stats, halls] = await Promise.all([api.getStats({ since, bucket_s: TOTALS_BUCKET_S }), api.listFleetHalls()]);
        this.stats = stats;
        this.fleetHalls = halls.halls;
        this.connection = { state: 'ready' };
        return true;
      }
      const [workers, alerts, stats] = await Promise.all([
        api.listWorkers(),
        api.listAlerts({ limit: ALERT_LIMIT }),
        api.getStats({ bucket_s: TOTALS_BUCKET_S }),
      ]);
      this.workers = workers.workers;
      this.alerts = alerts.alerts;
      this.stats = stats;
      this.connection = { state: 'ready' };
      await this.reloadApprovals(api);
      return true;
    } catch (err) {
      const error = asApiError(err);
      if (error.status === 401) await this.askToSignIn(error);
      // Once loaded, the screens keep what they show under the "unreachable" banner.
      else if (this.connection.state !== 'ready') this.connection = { state: 'error', error };
      return false;
    }
  }

  /** Shows the sign-in card, with the token file's path when the hall tells it (`GET /health`). */
  async askToSignIn(error: ApiError | null): Promise<void> {
    this.stopStream?.();
    this.stopStream = null;
    const health = await this.api?.health().catch(() => null);
    this.connection = { state: 'signin', tokenFile: health?.token_file ?? null, error };
  }

  async refreshWorkers(): Promise<void> {
    if (!this.api) return;
    this.workers = (await this.api.listWorkers()).workers;
  }

  async ack(alert: Alert, body: AckRequest = {}): Promise<void> {
    if (!this.api) return;
    const updated = await this.api.ackAlert(alert.id, body);
    this.countOpen(this.alerts.find((a) => a.id === alert.id) ?? alert, updated);
    this.upsertAlert(updated);
  }

  private countOpen(before: Alert | undefined, after: Alert): void {
    if (this.stats) this.stats.alerts_open = Math.max(0, this.stats.alerts_open + openDelta(before, after));
  }

  onDecision(listener: DecisionListener): () => void {
    this.decisionListeners.add(listener);
    return () => this.decisionListeners.delete(listener);
  }

  onMcp(listener: McpListener): () => void {
    this.mcpListeners.add(listener);
    return () => this.mcpListeners.delete(listener);
  }

  /**
   * Pending approvals and those ended since the hall started (it keeps the last 500). Answers the
   * error instead of throwing: the rest of the UI works without them, the Approvals screen says so.
   */
  async reloadApprovals(api: HallApi | null = this.api): Promise<ApiError | null> {
    if (!api) return null;
    const buffer: Approval[] = [];
    this.approvalBuffers.add(buffer);
    try {
      const listed = await api.listApprovals('all');
      let next = mergeApprovals(this.approvals, listed.approvals);
      for (const a of buffer) next = applyApproval(next, a);
      this.approvals = next;
      return null;
    } catch (err) {
      return asApiError(err);
    } finally {
      this.approvalBuffers.delete(buffer);
    }
  }

  /** Records a verdict's answer at once (its `approval` event follows and agrees). */
  noteApproval(approval: Approval): void {
    this.approvals = applyApproval(this.approvals, approval);
  }

  private apply(event: HallEvent): void {
    switch (event.kind) {
      case 'decision':
        this.countDecision(event.data);
        for (const listener of this.decisionListeners) listener(event.data);
        break;
      case 'health': {
        const worker = this.workers.find((w) => w.worker_id === event.data.worker_id);
        if (worker?.health) {
          worker.health.state = event.data.to;
          worker.health.reported_status = event.data.reported_status;
        } else void this.refreshWorkers();
        break;
      }
      case 'registry':
        void this.refreshWorkers();
        break;
      case 'alert': {
        const before = this.alerts.find((a) => a.id === event.data.id);
        const isNew = !before;
        this.countOpen(before, event.data);
        this.upsertAlert(event.data);
        if (isNew && this.prefs.notifications) void notifyAlert(event.data);
        break;
      }
      case 'approval': {
        const known = this.approvals.some((a) => a.id === event.data.id);
        this.approvals = applyApproval(this.approvals, event.data);
        for (const buffer of this.approvalBuffers) buffer.push(event.data);
        if (!known && event.data.state === 'pending' && this.prefs.notifications) void this.notifyApproval(event.data);
        break;
      }
      case 'mcp_call':
      case 'mcp_server':
        for (const listener of this.mcpListeners) listener(event);
        break;
      case 'lagged':
        // The transport reconnects; the reload on reconnect brings everything back in line.
        this.missedEvents += event.data.missed;
        break;
    }
  }

  private async notifyApproval(approval: Approval): Promise<void> {
    const shown = await notifyApproval(approval, () => nav.go('approvals'));
    // The desktop plugin cannot tell a click on the notification: route on the next focus instead.
    if (shown && isDesktop()) this.focusRoute.notified(typeof document !== 'undefined' && document.hasFocus());
  }

  private countDecision(d: DecisionEvent): void {
    const s = this.stats;
    if (!s) return;
    s.decisions_total += 1;
    if (d.denied) {
      s.denied += 1;
      if (d.deny_code) s.by_deny_code[d.deny_code] = (s.by_deny_code[d.deny_code] ?? 0) + 1;
    } else s.allowed += 1;
    s.deny_rate = s.decisions_total === 0 ? 0 : s.denied / s.decisions_total;
  }

  private upsertAlert(alert: Alert): void {
    const i = this.alerts.findIndex((a) => a.id === alert.id);
    if (i === -1) this.alerts = [alert, ...this.alerts].slice(0, ALERT_LIMIT);
    else this.alerts[i] = alert;
  }
}

export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(0, 'INTERNAL', err instanceof Error ? err.message : String(err));
}

/** The app's one hall client; App puts it in context, components take it from there (`getHall`). */
export const hall = new HallState();

const [getHallContext, setHallContextRaw] = createContext<HallState>();

/** Makes `state` the hall of this component and its descendants (App; a test's wrapper). */
export function setHallContext(state: HallState): HallState {
  return setHallContextRaw(state);
}

/** The hall set by an ancestor with `setHallContext`; call it during component initialisation. */
export function getHall(): HallState {
  return getHallContext();
}
