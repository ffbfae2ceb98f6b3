// Calls held for a person (docs/mcp.md, "Human approval"): the list the Approvals screen and the
// navigation badge show, kept current from `approval` events, and the countdown to expiry.

import type { ApiError } from './api';
import type { Approval } from './types';

/** Ended approvals kept in memory for the screen (the ledger keeps them all). */
export const ENDED_KEPT = 100;

export const isPending = (a: Approval) => a.state === 'pending';

/**
 * Pending first, oldest first (the one waiting longest on top), then the ended ones, most recently
 * ended first: the order the hall lists them in.
 */
export function sortApprovals(list: Approval[]): Approval[] {
  const pending = list.filter(isPending).sort((a, b) => cmpTime(a.requested_at, b.requested_at) || cmp(a.id, b.id));
  const ended = list.filter((a) => !isPending(a)).sort((a, b) => cmpTime(endedAt(b), endedAt(a)) || cmp(b.id, a.id));
  return [...pending, ...ended.slice(0, ENDED_KEPT)];
}

/** When an approval ended (its verdict's time), or when it was requested if it has none. */
export function endedAt(a: Approval): string {
  return a.verdict?.at ?? a.requested_at;
}

/**
 * Applies one `approval` event (or a listed approval) to the list. An approval ends once: an ended
 * state is never replaced by `pending`, so an event and a listing that cross each other (the list
 * was read before the event was published) agree whichever lands last.
 */
export function applyApproval(list: Approval[], incoming: Approval): Approval[] {
  const i = list.findIndex((a) => a.id === incoming.id);
  if (i === -1) return sortApprovals([...list, incoming]);
  if (!isPending(list[i]!) && isPending(incoming)) return list;
  const next = list.slice();
  next[i] = incoming;
  return sortApprovals(next);
}

/** A fresh listing merged with what is already known (events that arrived while it loaded). */
export function mergeApprovals(known: Approval[], listed: Approval[]): Approval[] {
  let out = known;
  for (const a of listed) out = applyApproval(out, a);
  // Pending ones the hall no longer lists ended while the hall was out of reach (or it restarted):
  // only a listing that says how they ended may keep them, so drop them.
  const listedIds = new Set(listed.map((a) => a.id));
  return out.filter((a) => !isPending(a) || listedIds.has(a.id));
}

export const pendingCount = (list: Approval[]) => list.filter(isPending).length;

/**
 * Time left before an approval expires, for a live countdown: "1:59", "1:02:03", "expired".
 * Rounded up, so it reads "0:01" until the last second is gone.
 */
export function formatCountdown(expiresAt: string, now: number = Date.now()): string {
  const end = Date.parse(expiresAt);
  if (!Number.isFinite(end)) return '—';
  const left = Math.ceil((end - now) / 1000);
  if (left <= 0) return 'expired';
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Seconds left, for styling the last ones; negative once expired. */
export function secondsLeft(expiresAt: string, now: number = Date.now()): number {
  return Math.ceil((Date.parse(expiresAt) - now) / 1000);
}

/** What the person is told when their verdict was refused. */
export function explainDecideError(err: ApiError, approval: Approval): string {
  if (err.status === 409) {
    return `This call was already decided or ended before your verdict arrived (${err.message}). Nothing was changed; it is listed below with how it ended.`;
  }
  if (err.status === 404) {
    return `The hall no longer knows approval ${approval.id} (it may have restarted, which refuses every waiting call). Nothing was changed.`;
  }
  return err.message;
}

/** Who the UI names as the decider when the person leaves it to the UI. */
export function verdictBy(desktop: boolean): string {
  return desktop ? 'desktop app' : 'web UI';
}

/** The arguments as the screen shows them: pretty JSON, or null when only their hash was kept. */
export function showArguments(args: unknown): string | null {
  if (args === null || args === undefined) return null;
  return JSON.stringify(args, null, 2);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpTime(a: string, b: string): number {
  return (Date.parse(a) || 0) - (Date.parse(b) || 0);
}
