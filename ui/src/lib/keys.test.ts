import { describe, expect, it } from 'vitest';
import { isTyping } from './keys';

describe('isTyping', () => {
  it('is true in fields and editable elements', () => {
    for (const tagName of ['INPUT', 'TEXTAREA', 'SELECT']) expect(isTyping({ tagName })).toBe(true);
    expect(isTyping({ tagName: 'DIV', isContentEditable: true })).toBe(true);
  });

  it('is false elsewhere', () => {
    expect(isTyping(null)).toBe(false);
    expect(isTyping(undefined)).toBe(false);
    expect(isTyping({ tagName: 'BODY', isContentEditable: false })).toBe(false);
    expect(isTyping({ tagName: 'BUTTON' })).toBe(false);
    expect(isTyping({})).toBe(false);
  });
});
