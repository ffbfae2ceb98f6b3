import { describe, expect, it } from 'vitest';
import { ackable, alertLink, alertState, groupAlerts, openDelta } from './alertGroups';
import type { Alert } from './types';

const alert = (id: number, over: Partial<Alert> = {}): Alert => ({
  id, created_at: `2026-01-01T12:0${id}:00Z`, kind: 'worker_stale', severity: 'warning', subject: 'org.a.w', message: 'm', acked: false, acked_at: null,
  acked_by: null, ack_note: null, resolved_at: null, open: true, ...over,
});

describe('alert groups', () => {
  it('groups repeats of one kind for one subject, newest first, with the worst severity and the open count', () => {
    const groups = groupAlerts([
      alert(1),
      alert(2, { kind: 'worker_offline', severity: 'critical' }),
      alert(3, { acked: true, open: false }),
      alert(4, { subject: 'org.a.other' }),
    ]);
    expect(groups.map((g) => g.alerts.map((a) => a.id))).toEqual([[4], [3, 1], [2]]);
    expect(groups[1]!.open).toBe(1);
    expect(groups[2]!.severity).toBe('critical');
  });

  it('links a worker alert to its page and a deny-rate spike to the denials of its window', () => {
    expect(alertLink(alert(1), new Set(['org.a.w']))).toEqual({ href: '#/workers/org.a.w', label: 'worker' });
    expect(alertLink(alert(1), new Set())).toBeNull();
    const spike = alert(5, { kind: 'deny_rate_spike', subject: 'hall', message: 'deny rate 80% over the last 60 s (8 of 10 decisions denied)' });
    const link = alertLink(spike, new Set())!;
    const params = new URLSearchParams(link.href.split('?')[1]);
    expect(params.get('outcome')).toBe('denied');
    expect(params.get('since')).toBe('2026-01-01T12:04:00.000Z');
    expect(params.get('until')).toBe('2026-01-01T12:05:01.000Z');
  });

  it('leaves the alerts that clear themselves out of acknowledging', () => {
    expect(ackable(alert(1))).toBe(true);
    expect(ackable(alert(1, { acked: true, open: false }))).toBe(false);
    expect(ackable(alert(1, { resolved_at: '2026-01-01T13:00:00Z', open: false }))).toBe(false);
    expect(ackable(alert(1, { kind: 'ledger_unwritable' }))).toBe(false);
  });

  it('says what became of an alert: open, acknowledged by whom with the note, resolved when', () => {
    expect(alertState(alert(1))).toEqual({ kind: 'open' });
    const acked = alert(1, { acked: true, open: false, acked_at: '2026-01-01T12:30:00Z', acked_by: 'ana', ack_note: 'restarting it' });
    expect(alertState(acked)).toEqual({ kind: 'acknowledged', by: 'ana', at: '2026-01-01T12:30:00Z', note: 'restarting it' });
    const over = { resolved_at: '2026-01-01T13:00:00Z', open: false };
    expect(alertState(alert(1, over))).toEqual({ kind: 'resolved', at: '2026-01-01T13:00:00Z', ackedBy: null, note: null });
    expect(alertState({ ...acked, ...over })).toMatchObject({ kind: 'resolved', ackedBy: 'ana', note: 'restarting it' });
  });

  it('counts open alerts as they come, are acknowledged and resolve', () => {
    expect(openDelta(undefined, alert(1))).toBe(1);
    expect(openDelta(undefined, alert(1, { open: false }))).toBe(0);
    expect(openDelta(alert(1), alert(1, { open: false }))).toBe(-1);
    expect(openDelta(alert(1, { open: false }), alert(1, { open: false }))).toBe(0);
  });
});
