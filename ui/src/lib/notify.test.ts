import { describe, expect, it } from 'vitest';
import { FocusRoute, approvalNotice } from './notify';
import type { Approval } from './types';

const approval: Approval = {
  id: 'a1', decision_id: 'd1', correlation_id: 'c1', capability_id: 'cap.x', tool: 'delete_everything', worker_id: 'org.fx.server',
  deny_code: 'DENY_REQUIRES_HUMAN_APPROVAL', reason: null, arguments: null, arguments_sha256: 'x', session_id: 's', client: 'claude-desktop/1.0',
  requested_at: '2026-01-01T00:00:00Z', expires_at: '2026-01-01T00:02:00Z', state: 'pending', verdict: null,
};

describe('approval notifications', () => {
  it('say which tool on which server, for whom, and why', () => {
    const n = approvalNotice(approval);
    expect(n.title).toMatch(/waits for your approval/);
    expect(n.body).toBe('delete_everything on org.fx.server from claude-desktop/1.0 (DENY_REQUIRES_HUMAN_APPROVAL). Open Approvals to approve or deny it.');
    expect(approvalNotice({ ...approval, client: null }).body).not.toContain('from');
  });

  it('route to the screen on the next focus after a notification sent in the background', () => {
    const r = new FocusRoute();
    r.notified(false);
    expect(r.focused(true)).toBe(true);
    expect(r.focused(true)).toBe(false); // once
  });

  it('do not route when the window was in front, nothing waits any more, or the screen was opened', () => {
    const r = new FocusRoute();
    r.notified(true);
    expect(r.focused(true)).toBe(false);
    r.notified(false);
    expect(r.focused(false)).toBe(false);
    r.notified(false);
    r.disarm();
    expect(r.focused(true)).toBe(false);
  });
});
