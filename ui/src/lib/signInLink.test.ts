import { describe, expect, it, vi } from 'vitest';
import { signInCode, takeSignInCode } from './signInLink';

describe('sign-in links', () => {
  it('reads the code of a #signin= fragment and nothing else', () => {
    expect(signInCode('#signin=abc-_1')).toBe('abc-_1');
    expect(signInCode('#signin=')).toBeNull();
    expect(signInCode('#/overview')).toBeNull();
    expect(signInCode('')).toBeNull();
  });

  it('takes the code out of the address bar, keeping path and query', () => {
    const hist = { state: null, replaceState: vi.fn() };
    expect(takeSignInCode({ hash: '#signin=xyz', pathname: '/', search: '?a=1' }, hist)).toBe('xyz');
    expect(hist.replaceState).toHaveBeenCalledWith(null, '', '/?a=1');
    hist.replaceState.mockClear();
    expect(takeSignInCode({ hash: '#/alerts', pathname: '/', search: '' }, hist)).toBeNull();
    expect(hist.replaceState).not.toHaveBeenCalled();
  });
});
