// UI preferences kept in this browser/webview (localStorage): hall address and token (browser mode),
// theme and notifications. Hall-side thresholds live in the hall (Settings screen, PUT /v1/settings).

export type Theme = 'system' | 'light' | 'dark';

export interface Prefs {
  hallUrl: string;
  token: string;
  theme: Theme;
  notifications: boolean;
}

export const DEFAULT_PREFS: Readonly<Prefs> = Object.freeze({ hallUrl: '', token: '', theme: 'system', notifications: true });

const KEY = 'proctor.prefs.v1';

export function loadPrefs(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): Prefs {
  try {
    const raw = storage?.getItem(KEY);
    if (!raw) return { ...DEFAULT_PREFS };
    const parsed = JSON.parse(raw) as Partial<Prefs>;
    return {
      hallUrl: typeof parsed.hallUrl === 'string' ? parsed.hallUrl : DEFAULT_PREFS.hallUrl,
      token: typeof parsed.token === 'string' ? parsed.token : DEFAULT_PREFS.token,
      theme: parsed.theme === 'light' || parsed.theme === 'dark' ? parsed.theme : 'system',
      notifications: typeof parsed.notifications === 'boolean' ? parsed.notifications : true,
    };
  } catch {
    return { ...DEFAULT_PREFS };
  }
}

export function savePrefs(prefs: Prefs, storage: Pick<Storage, 'setItem'> = globalThis.localStorage): void {
  storage.setItem(KEY, JSON.stringify(prefs));
}

export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}

/**
 * A screen's own preference under its own key (column choices, saved views, pane widths): read
 * through `parse`, which returns null for anything it does not recognise, so a stale or tampered
 * value falls back instead of breaking the screen.
 */
export function loadStored<T>(key: string, parse: (raw: unknown) => T | null, fallback: T, storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): T {
  try {
    const raw = storage?.getItem(key);
    return (raw ? parse(JSON.parse(raw)) : null) ?? fallback;
  } catch {
    return fallback;
  }
}

export function saveStored(key: string, value: unknown, storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
  storage?.setItem(key, JSON.stringify(value));
}
