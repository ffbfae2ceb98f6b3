import { describe, expect, it } from 'vitest';
import { pickLocale, formatAgo, formatCount, formatDateTime, formatPercent, isoToLocalInput, localInputToIso, parseTime, shortHash } from './format';

describe('format', () => {
  it('parses WCP timestamps with and without a fraction (SPEC.md §6 #14)', () => {
    expect(parseTime('2026-02-26T10:11:12.123456+00:00')?.toISOString()).toBe('2026-02-26T10:11:12.123Z');
    expect(parseTime('2026-02-26T10:11:12+00:00')?.toISOString()).toBe('2026-02-26T10:11:12.000Z');
    expect(parseTime('not a time')).toBeNull();
    expect(parseTime(null)).toBeNull();
  });

  it('shows times in the local time zone, a dash when unknown', () => {
    const iso = '2026-02-26T10:11:12Z';
    const expected = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(iso));
    expect(formatDateTime(iso)).toBe(expected);
    expect(formatDateTime(undefined)).toBe('—');
  });

  it('says how long ago', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(formatAgo('2026-01-01T11:59:58Z', now)).toBe('just now');
    expect(formatAgo('2026-01-01T11:59:30Z', now)).toBe('30 s ago');
    expect(formatAgo('2026-01-01T11:55:00Z', now)).toBe('5 min ago');
    expect(formatAgo('2026-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatAgo('2025-12-30T12:00:00Z', now)).toBe('2 d ago');
    expect(formatAgo('2026-01-01T12:05:00Z', now)).toBe('just now');
    expect(formatAgo(null, now)).toBe('never');
  });

  it('formats ratios, counts and hashes', () => {
    expect(formatPercent(0.0834)).toBe('8.3 %');
    expect(formatPercent(Number.NaN)).toBe('—');
    expect(formatCount(undefined)).toBe('—');
    expect(shortHash('a'.repeat(64))).toBe(`${'a'.repeat(8)}…aaaa`);
    expect(shortHash('abc')).toBe('abc');
    expect(shortHash(null)).toBe('—');
  });

  it('falls back to en-US when the runtime rejects the default locale (LANG=C in WebKitGTK)', () => {
    expect(pickLocale(() => new Intl.DateTimeFormat())).toBeUndefined();
    expect(pickLocale(() => { throw new RangeError('invalid language tag: C'); })).toBe('en-US');
  });

  it('round-trips datetime-local values through UTC', () => {
    const iso = localInputToIso('2026-03-04T05:06');
    expect(iso).toBeDefined();
    expect(isoToLocalInput(iso)).toBe('2026-03-04T05:06');
    expect(localInputToIso('')).toBeUndefined();
    expect(isoToLocalInput(undefined)).toBe('');
  });
});
