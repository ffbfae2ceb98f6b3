// Hash routing: `#/<screen>/<arg>?<params>`. Hash URLs work the same when the UI is served by
// `proctor serve`, opened from disk, or loaded by the Tauri webview.

export const SCREENS = ['overview', 'decisions', 'traces', 'issues', 'workers', 'mcp', 'approvals', 'attest', 'alerts', 'ledger', 'settings', 'fleet'] as const;
export type Screen = (typeof SCREENS)[number];

export interface Location {
  screen: Screen;
  /** The path segment after the screen (a decision id, a correlation id), decoded. */
  arg: string;
  params: URLSearchParams;
}

export function parseHash(hash: string): Location {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
  const slash = path.indexOf('/');
  const head = slash === -1 ? path : path.slice(0, slash);
  let arg = '';
  if (slash !== -1) {
    try {
      arg = decodeURIComponent(path.slice(slash + 1));
    } catch {
      arg = '';
    }
  }
  const screen = (SCREENS as readonly string[]).includes(head) ? (head as Screen) : 'overview';
  return { screen, arg, params };
}

/** The screens of the fleet view (`proctor serve --fleet`): it reads decisions and halls, nothing of one hall's own. */
export const FLEET_SCREENS: readonly Screen[] = ['fleet', 'decisions', 'traces', 'settings'];

/**
 * The screen to show: in the fleet view, a hall's own screen (or the default overview) is the
 * fleet's home; a hall has no Fleet screen (its overview instead).
 */
export function shownScreen(screen: Screen, fleet: boolean): Screen {
  if (!fleet) return screen === 'fleet' ? 'overview' : screen;
  return FLEET_SCREENS.includes(screen) ? screen : 'fleet';
}

export function href(screen: Screen, arg = '', params?: URLSearchParams): string {
  const qs = params?.toString();
  return `#/${screen}${arg ? `/${encodeURIComponent(arg)}` : ''}${qs ? `?${qs}` : ''}`;
}

/** The tab title: calls waiting for a person first (they need someone), the screen, open alerts. */
export function pageTitle(screen: string, pendingApprovals: number, openAlerts: number): string {
  const waiting = pendingApprovals > 0 ? `(${pendingApprovals}) ` : '';
  const alerts = openAlerts > 0 ? ` · ${openAlerts} open alert${openAlerts === 1 ? '' : 's'}` : '';
  return `${waiting}${screen}${alerts} — Proctor`;
}
