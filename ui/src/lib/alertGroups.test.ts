import { describe, expect, it } from 'vitest';
import { ackable, alertLink, groupAlerts } from './alertGroups';
import type { Alert } from './types';

const alert = (id: number, over: Partial<Alert> = {}): Alert => ({
  id, created_at: `2026-01-01T12:0${id}:00Z`, kind: 'worker_stale', severity: 'warning', subject: 'org.a.w', message: 'm', acked: false, acked_at: null, ...over,
});

describe('alert groups', () => {
  it('groups repeats of one kind for one subject, newest first, with the worst severity and the open count', () => {
    const groups = groupAlerts([
      alert(1),
      alert(2, { kind: 'worker_offline', severity: 'critical' }),
      alert(3, { acked: true }),
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
    expect(ackable(alert(1, { acked: true }))).toBe(false);
    expect(ackable(alert(1, { kind: 'ledger_unwritable' }))).toBe(false);
  });
});
