// The current location as reactive state, following `hashchange`.
import { parseHash, href, type Location, type Screen } from './router';

class Nav {
  current: Location = $state(parseHash(typeof location === 'undefined' ? '' : location.hash));

  constructor() {
    if (typeof window !== 'undefined') {
      window.addEventListener('hashchange', () => (this.current = parseHash(location.hash)));
    }
  }

  go(screen: Screen, arg = '', params?: URLSearchParams, replace = false): void {
    const target = href(screen, arg, params);
    if (replace) {
      history.replaceState(null, '', target);
      this.current = parseHash(target);
    } else location.hash = target;
  }
}

export const nav = new Nav();
