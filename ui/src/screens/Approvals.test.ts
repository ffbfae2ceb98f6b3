// The Approvals screen over a fake hall: a verdict with its note, someone else's verdict first (409),
// and a call held while the screen is open.
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../lib/api';
import type { Approval } from '../lib/types';
import { fakeHall, render, settle } from '../test/hall';
import Approvals from './Approvals.svelte';

function approval(over: Partial<Approval> = {}): Approval {
  const now = Date.now();
  return {
    id: 'ap-1', decision_id: 'd-1', correlation_id: 'corr-1', capability_id: 'cap.mcp.files', tool: 'delete_file',
    worker_id: 'wrk.mcp.files', deny_code: 'DENY_REQUIRES_HUMAN_APPROVAL', reason: 'policy asks a person', arguments: { path: '/tmp/x' },
    arguments_sha256: 'a'.repeat(64), session_id: 's-1', client: 'claude-desktop/1.0', requested_at: new Date(now - 5_000).toISOString(),
    expires_at: new Date(now + 120_000).toISOString(), state: 'pending', verdict: null, ...over,
  };
}
const ended = (a: Approval, state: Approval['state'], note: string | null, by = 'web UI'): Approval => ({
  ...a, state, verdict: { by, at: new Date().toISOString(), note },
});
const button = (target: HTMLElement, label: string) => target.querySelector<HTMLButtonElement>(`button[aria-label="${label}"]`)!;
const notice = (target: HTMLElement) => target.querySelector('[data-testid="approval-notice"]')?.textContent ?? '';

let destroy: (() => void) | undefined;
afterEach(() => {
  destroy?.();
  destroy = undefined;
});

describe('Approvals', () => {
  it('approves with the note and lists the call as ended', async () => {
    const { hall, transport } = await fakeHall();
    let listed = [approval()];
    transport
      .on('list_approvals', () => ({ count: listed.length, approvals: listed }))
      .on('decide_approval', (a) => {
        const body = a.body as { verdict: string; note?: string; by: string };
        listed = [ended(approval(), body.verdict === 'approve' ? 'approved' : 'denied', body.note ?? null, body.by)];
        return listed[0];
      });
    const view = await render(Approvals, hall);
    destroy = view.destroy;
    expect(view.target.querySelector('[data-testid="approval-tool"]')?.textContent).toBe('delete_file');
    expect(view.target.querySelector('[data-testid="approval-arguments"]')?.textContent).toContain('"/tmp/x"');

    const note = view.target.querySelector<HTMLInputElement>('[data-testid="approval-note"]')!;
    note.value = '  checked with the owner ';
    note.dispatchEvent(new Event('input', { bubbles: true }));
    button(view.target, 'Approve the delete_file call').click();
    await settle();

    expect(transport.callsOf('decide_approval')).toEqual([
      { params: { id: 'ap-1' }, body: { verdict: 'approve', note: 'checked with the owner', by: 'web UI' } },
    ]);
    expect(notice(view.target)).toBe('Approved: delete_file on wrk.mcp.files.');
    expect(view.target.querySelector('[data-testid="approvals-empty"]')).not.toBeNull();
    expect(view.target.querySelector('[data-testid="approval-state"]')?.textContent).toBe('approved');
    expect(view.target.querySelector('[data-testid="approval-verdict-note"]')?.textContent).toBe('checked with the owner');
  });

  it('says so when the call ended before the verdict (409), and shows how it ended', async () => {
    const { hall, transport } = await fakeHall();
    let listed = [approval()];
    transport
      .on('list_approvals', () => ({ count: listed.length, approvals: listed }))
      .on('decide_approval', () => {
        listed = [ended(approval(), 'denied', 'not now', 'alice@host (cli)')];
        throw new ApiError(409, 'CONFLICT', 'approval ap-1 already ended (denied)');
      });
    const view = await render(Approvals, hall);
    destroy = view.destroy;

    button(view.target, 'Deny the delete_file call').click();
    await settle();
    expect(transport.callsOf('decide_approval')[0]?.body).toEqual({ verdict: 'deny', note: undefined, by: 'web UI' });
    expect(notice(view.target)).toContain('This call was already decided or ended before your verdict arrived (approval ap-1 already ended (denied))');
    expect(view.target.querySelector('[data-testid="approval-notice"]')?.getAttribute('role')).toBe('alert');
    expect(view.target.querySelector('[data-testid="approval-state"]')?.textContent).toBe('denied');
    expect(view.target.querySelector('[data-testid="approval-by"]')?.textContent).toBe('alice@host (cli)');
  });

  it('shows a call held while the screen is open', async () => {
    const { hall, transport } = await fakeHall();
    const view = await render(Approvals, hall);
    destroy = view.destroy;
    expect(view.target.querySelector('[data-testid="approvals-empty"]')).not.toBeNull();

    transport.emit({ kind: 'approval', data: approval({ id: 'ap-2', tool: 'write_file' }) });
    await settle();
    expect(view.target.querySelector('[data-approval-id="ap-2"] [data-testid="approval-tool"]')?.textContent).toBe('write_file');
    expect(hall.pendingApprovals).toBe(1);
  });
});
