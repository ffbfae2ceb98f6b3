// Component tests: a fake transport the test answers and pushes events through, a `HallState`
// attached to it, and a screen mounted under that hall (src/test/WithHall.svelte).

import { flushSync, mount, tick, unmount, type Component } from 'svelte';
import { ApiError, type CallArgs, type EventHandlers, type StreamStatus, type Transport } from '../lib/api';
import { HallState } from '../lib/hall.svelte';
import type { OpName } from '../lib/ops.gen';
import type { DecisionEvent, HallEvent, Stats } from '../lib/types';
import WithHall from './WithHall.svelte';

type Handler = (args: CallArgs) => unknown;

export const EMPTY_STATS: Stats = {
  decisions_total: 0, allowed: 0, denied: 0, deny_rate: 0, by_deny_code: {}, by_worker: {}, buckets: [],
  workers: { healthy: 0, degraded: 0, stale: 0, offline: 0 }, alerts_open: 0, uptime_s: 1,
};

/** A hall that answers what the test says, records every call and pushes the events the test emits. */
export class FakeTransport implements Transport {
  readonly kind = 'http' as const;
  readonly location = 'fake://hall';
  readonly calls: { op: OpName; args: CallArgs }[] = [];
  private readonly handlers = new Map<OpName, Handler>();
  private readonly subscribers = new Set<EventHandlers>();

  constructor() {
    this.on('list_workers', () => ({ workers: [] }))
      .on('list_alerts', () => ({ alerts: [] }))
      .on('get_stats', () => structuredClone(EMPTY_STATS))
      .on('list_approvals', () => ({ approvals: [] }))
      .on('list_decisions', () => ({ decisions: [], next_cursor: null }));
  }

  /** Answers `op` with what `handler` returns (a value, a promise, or a throw for an error). */
  on(op: OpName, handler: Handler): this {
    this.handlers.set(op, handler);
    return this;
  }

  async call<T>(op: OpName, args: CallArgs = {}): Promise<T> {
    this.calls.push({ op, args });
    const handler = this.handlers.get(op);
    if (!handler) throw new ApiError(404, 'NOT_FOUND', `the fake hall has no answer for ${op}`);
    return (await handler(args)) as T;
  }

  subscribe(handlers: EventHandlers): () => void {
    this.subscribers.add(handlers);
    handlers.onStatus({ state: 'open' });
    return () => this.subscribers.delete(handlers);
  }

  /** Pushes a change of the stream's state (the hall went away, or came back). */
  status(status: StreamStatus): void {
    for (const s of this.subscribers) s.onStatus(status);
  }

  emit(event: HallEvent): void {
    for (const s of this.subscribers) s.onEvent(event);
  }

  callsOf(op: OpName): CallArgs[] {
    return this.calls.filter((c) => c.op === op).map((c) => c.args);
  }
}

/** A hall state over a fake transport, loaded, with the load's calls forgotten. */
export async function fakeHall(transport = new FakeTransport()): Promise<{ hall: HallState; transport: FakeTransport }> {
  const hall = new HallState();
  await hall.attach(transport);
  transport.calls.length = 0;
  return { hall, transport };
}

/** Mounts `component` under `hall`; `destroy` unmounts it. */
export async function render(component: Component, hall: HallState): Promise<{ target: HTMLElement; destroy: () => void }> {
  const target = document.createElement('div');
  document.body.appendChild(target);
  const app = mount(WithHall, { target, props: { hall, component } });
  await settle();
  return {
    target,
    destroy: () => {
      void unmount(app);
      target.remove();
    },
  };
}

/** Lets pending promises (the fake's answers) and Svelte's updates run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    await tick();
  }
  flushSync();
}

/** A promise the test resolves or rejects when it wants (an answer in flight). */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A pushed `decision` event. */
export function decisionEvent(seq: number, over: Partial<DecisionEvent> = {}): HallEvent {
  return {
    kind: 'decision',
    data: {
      seq, hash: `h${seq}`, recorded_at: new Date().toISOString(), decision_id: `d-${seq}`, correlation_id: 'corr-1',
      tenant_id: 'tenant.a', capability_id: 'cap.doc.summarize', env: 'dev', data_label: 'INTERNAL', denied: false, deny_code: null,
      matched_rule_id: 'rr_doc', selected_worker_species_id: 'wrk.doc.summarizer', dry_run: false, ...over,
    },
  };
}
