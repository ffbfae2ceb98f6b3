// Display formatting. Times are shown in the user's time zone (the Intl default), never raw UTC.

/**
 * The user's locale, or en-US when the runtime cannot use it: WebKitGTK under `LANG=C` throws
 * "invalid language tag: C" from every Intl constructor given the default locale.
 */
export function pickLocale(probe: () => unknown = () => new Intl.DateTimeFormat()): string | undefined {
  try {
    probe();
    return undefined;
  } catch {
    return 'en-US';
  }
}

const LOCALE = pickLocale();

const dateTime = new Intl.DateTimeFormat(LOCALE, {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const timeOnly = new Intl.DateTimeFormat(LOCALE, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const shortDateTime = new Intl.DateTimeFormat(LOCALE, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const clock = new Intl.DateTimeFormat(LOCALE, { hour: '2-digit', minute: '2-digit' });

const numbers = new Intl.NumberFormat(LOCALE);

/** Parses an RFC 3339 / WCP timestamp; WCP may omit the fraction (SPEC.md §6 #14), Date accepts both. */
export function parseTime(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDateTime(iso: string | null | undefined, fmt: Intl.DateTimeFormat = dateTime): string {
  const d = parseTime(iso);
  return d ? fmt.format(d) : '—';
}

export function formatTime(iso: string | null | undefined): string {
  return formatDateTime(iso, timeOnly);
}

/** Month, day and time: a list row's date with time, without the year. */
export function formatShortDateTime(iso: string | null | undefined): string {
  return formatDateTime(iso, shortDateTime);
}

/** HH:MM of a moment (ms since the epoch), in the user's time zone. */
export function formatClock(ms: number | null): string {
  return ms === null ? '—' : clock.format(new Date(ms));
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago"; future times (clock skew) read as "just now". */
export function formatAgo(iso: string | null | undefined, now: number = Date.now()): string {
  const d = parseTime(iso);
  if (!d) return 'never';
  const s = Math.floor((now - d.getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function formatPercent(ratio: number | null | undefined, digits = 1): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  return `${(ratio * 100).toFixed(digits)} %`;
}

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return numbers.format(n);
}

/** First and last characters of a long hash, for tables; the full value stays in the title/detail. */
export function shortHash(hash: string | null | undefined, keep = 8): string {
  if (!hash) return '—';
  return hash.length <= keep * 2 + 1 ? hash : `${hash.slice(0, keep)}…${hash.slice(-4)}`;
}

/** `datetime-local` input value (local time, minutes) <-> RFC 3339 UTC. */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function isoToLocalInput(iso: string | undefined): string {
  const d = parseTime(iso);
  if (!d) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A JSON value that should be a list of strings, as "a, b"; anything else as compact JSON. */
export function formatList(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  return value === null || value === undefined ? '' : JSON.stringify(value);
}
