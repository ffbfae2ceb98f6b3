import { describe, expect, it } from 'vitest';
import { href, pageTitle, parseHash } from './router';

describe('hash router', () => {
  it('parses screen, argument and params', () => {
    const l = parseHash('#/decisions/d%2F1?tenant_id=a');
    expect(l.screen).toBe('decisions');
    expect(l.arg).toBe('d/1');
    expect(l.params.get('tenant_id')).toBe('a');
  });
  it('falls back to the overview for unknown screens and bad escapes', () => {
    expect(parseHash('#/nope').screen).toBe('overview');
    expect(parseHash('').screen).toBe('overview');
    expect(parseHash('#/traces/%E0%A4%A').arg).toBe('');
  });
  it('builds links that parse back', () => {
    const link = href('traces', 'a b/c', new URLSearchParams({ x: '1' }));
    expect(link).toBe('#/traces/a%20b%2Fc?x=1');
    expect(parseHash(link)).toMatchObject({ screen: 'traces', arg: 'a b/c' });
  });
  it('titles the tab with waiting calls, the screen and open alerts', () => {
    expect(pageTitle('Overview', 0, 0)).toBe('Overview — Proctor');
    expect(pageTitle('Decisions', 0, 1)).toBe('Decisions · 1 open alert — Proctor');
    expect(pageTitle('Alerts', 2, 3)).toBe('(2) Alerts · 3 open alerts — Proctor');
  });
});
