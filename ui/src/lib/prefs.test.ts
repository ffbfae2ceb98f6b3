import { describe, expect, it } from 'vitest';
import { DEFAULT_PREFS, loadPrefs, savePrefs } from './prefs';

function memory() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe('prefs', () => {
  it('round-trips and falls back to defaults for missing or corrupt values', () => {
    const s = memory();
    expect(loadPrefs(s)).toEqual(DEFAULT_PREFS);
    savePrefs({ hallUrl: 'http://127.0.0.1:8765', token: 't', theme: 'dark', notifications: false }, s);
    expect(loadPrefs(s)).toEqual({ hallUrl: 'http://127.0.0.1:8765', token: 't', theme: 'dark', notifications: false });
    s.setItem('proctor.prefs.v1', '{"theme": "purple", "token": 5}');
    expect(loadPrefs(s)).toEqual(DEFAULT_PREFS);
    s.setItem('proctor.prefs.v1', 'not json');
    expect(loadPrefs(s)).toEqual(DEFAULT_PREFS);
  });
});
