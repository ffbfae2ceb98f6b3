import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { ENDED_KEPT, applyApproval, explainDecideError, formatCountdown, mergeApprovals, pendingCount, secondsLeft, showArguments, sortApprovals } from './approvals';
import type { Approval } from './types';

const approval = (id: string, over: Partial<Approval> = {}): Approval => ({
  id, decision_id: `d-${id}`, correlation_id: 'corr-1', capability_id: 'cap.fx.gated', tool: 'delete_everything', worker_id: 'org.fx.server',
  deny_code: 'DENY_REQUIRES_HUMAN_APPROVAL', reason: 'a person must approve', arguments: { really: true }, arguments_sha256: 'ab'.repeat(32),
  session_id: 's-1', client: 'e2e/1.0', requested_at: '2026-01-01T12:00:00Z', expires_at: '2026-01-01T12:02:00Z', state: 'pending', verdict: null,
  ...over,
});
const ended = (id: string, state: Approval['state'], at: string, over: Partial<Approval> = {}) =>
  approval(id, { state, verdict: { by: 'alice', at, note: null }, ...over });

describe('countdown', () => {
  const expires = '2026-01-01T12:02:00Z';
  const at = (iso: string) => Date.parse(iso);
  it('counts minutes and seconds down, rounding up', () => {
    expect(formatCountdown(expires, at('2026-01-01T12:00:00Z'))).toBe('2:00');
    expect(formatCountdown(expires, at('2026-01-01T12:00:00.5Z'))).toBe('2:00');
    expect(formatCountdown(expires, at('2026-01-01T12:01:01Z'))).toBe('0:59');
    expect(formatCountdown(expires, at('2026-01-01T12:01:59.9Z'))).toBe('0:01');
  });
  it('shows hours when there are any', () => {
    expect(formatCountdown('2026-01-01T13:02:03Z', at('2026-01-01T12:00:00Z'))).toBe('1:02:03');
  });
  it('says expired at and after the deadline, and a dash for a bad time', () => {
    expect(formatCountdown(expires, at(expires))).toBe('expired');
    expect(formatCountdown(expires, at('2026-01-01T13:00:00Z'))).toBe('expired');
    expect(formatCountdown('not a time', 0)).toBe('—');
    expect(secondsLeft(expires, at('2026-01-01T12:01:50Z'))).toBe(10);
  });
});

describe('approval events', () => {
  it('adds a new pending approval and counts it', () => {
    const list = applyApproval([], approval('a'));
    expect(list.map((a) => a.id)).toEqual(['a']);
    expect(pendingCount(list)).toBe(1);
  });

  it('moves an approval to the ended ones when it ends', () => {
    let list = applyApproval([], approval('a'));
    list = applyApproval(list, ended('a', 'approved', '2026-01-01T12:00:30Z'));
    expect(list).toHaveLength(1);
    expect(list[0]!.state).toBe('approved');
    expect(pendingCount(list)).toBe(0);
  });

  it('never turns an ended approval back to pending (a stale listing or a late event)', () => {
    const list = applyApproval([ended('a', 'denied', '2026-01-01T12:00:30Z')], approval('a'));
    expect(list[0]!.state).toBe('denied');
  });

  it('orders pending oldest first, then the ended ones most recently ended first', () => {
    const list = sortApprovals([
      ended('e1', 'approved', '2026-01-01T12:00:10Z'),
      approval('p2', { requested_at: '2026-01-01T12:00:05Z' }),
      ended('e2', 'expired', '2026-01-01T12:00:20Z'),
      approval('p1', { requested_at: '2026-01-01T12:00:01Z' }),
    ]);
    expect(list.map((a) => a.id)).toEqual(['p1', 'p2', 'e2', 'e1']);
  });

  it('keeps a bounded number of ended approvals, and every pending one', () => {
    let list: Approval[] = [approval('p')];
    for (let i = 0; i < ENDED_KEPT + 10; i++) list = applyApproval(list, ended(`e${i}`, 'denied', new Date(Date.UTC(2026, 0, 1, 12, 0, i)).toISOString()));
    expect(list).toHaveLength(ENDED_KEPT + 1);
    expect(list[0]!.id).toBe('p');
    expect(list[1]!.id).toBe(`e${ENDED_KEPT + 9}`);
  });

  it('merges a listing with what events already said, dropping pending ones the hall no longer lists', () => {
    const known = [ended('a', 'approved', '2026-01-01T12:00:30Z'), approval('gone'), approval('b')];
    const listed = [approval('a'), approval('b'), approval('c'), ended('old', 'expired', '2026-01-01T11:00:00Z')];
    const merged = mergeApprovals(known, listed);
    expect(merged.map((a) => `${a.id}:${a.state}`)).toEqual(['b:pending', 'c:pending', 'a:approved', 'old:expired']);
  });
});

describe('verdict errors and arguments', () => {
  it('explains a 409 as someone else having decided', () => {
    const text = explainDecideError(new ApiError(409, 'CONFLICT', 'approval x already ended: approved'), approval('x'));
    expect(text).toMatch(/already decided or ended/);
    expect(text).toContain('approval x already ended: approved');
  });
  it('explains a 404 and passes other errors through', () => {
    expect(explainDecideError(new ApiError(404, 'NOT_FOUND', 'no approval x'), approval('x'))).toMatch(/no longer knows approval x/);
    expect(explainDecideError(new ApiError(500, 'LEDGER', 'disk full'), approval('x'))).toBe('disk full');
  });
  it('pretty-prints arguments, or says there are none when only the hash was kept', () => {
    expect(showArguments({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(showArguments(null)).toBeNull();
    expect(showArguments(undefined)).toBeNull();
  });
});
