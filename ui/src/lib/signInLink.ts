// Sign-in links: `proctor serve` prints `http://127.0.0.1:PORT/#signin=<code>`, a random code that
// works once, for 10 minutes (docs/hall.md, "Signing in"). The code is taken out of the address bar
// at once (a reload or Back does not present it again, and the fragment never reached the server)
// and traded for the API token, which is then kept as a typed one is.

import { HallApi, detectTransport } from './api';
import { asApiError, type HallState } from './hall.svelte';
import { savePrefs } from './prefs';

const PREFIX = '#signin=';

/** The code of a `#signin=<code>` fragment, or null. */
export function signInCode(hash: string): string | null {
  if (!hash.startsWith(PREFIX)) return null;
  const code = decodeURIComponent(hash.slice(PREFIX.length)).trim();
  return code === '' ? null : code;
}

/** Takes a sign-in code out of the address bar, replacing the history entry. */
export function takeSignInCode(
  loc: Pick<Location, 'hash' | 'pathname' | 'search'> = location,
  hist: Pick<History, 'replaceState' | 'state'> = history,
): string | null {
  const code = signInCode(loc.hash);
  if (code !== null) hist.replaceState(hist.state, '', loc.pathname + loc.search);
  return code;
}

/** Trades `code` for the token and connects; a refused code shows the sign-in card saying why. */
export async function signInWithCode(hall: HallState, code: string): Promise<void> {
  const transport = await detectTransport({ baseUrl: hall.prefs.hallUrl, token: '' });
  const api = new HallApi(transport);
  try {
    const { token } = await api.createSession(code);
    hall.prefs.token = token;
    savePrefs(hall.prefs);
  } catch (err) {
    hall.api = api;
    await hall.askToSignIn(asApiError(err));
    return;
  }
  await hall.connect();
}
