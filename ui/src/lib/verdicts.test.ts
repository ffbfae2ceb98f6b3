import { describe, expect, it } from 'vitest';
import { explainCode, namespaceOf } from './verdicts';

describe('attestation verdicts', () => {
  it('explains every code in words, unknown codes by name', () => {
    expect(explainCode(null)).toMatch(/matches/);
    expect(explainCode('ATTEST_HASH_MISMATCH')).toMatch(/tampered/);
    expect(explainCode('ATTEST_NEW_THING')).toContain('ATTEST_NEW_THING');
  });
  it('derives the signing namespace from the worker id (SPEC.md §3.5)', () => {
    expect(namespaceOf('org.acme.summarizer.i-1')).toBe('org.acme');
    expect(namespaceOf('x.me.tool')).toBe('x.me');
    expect(namespaceOf('x.')).toBeNull();
    expect(namespaceOf('wrk.doc.summarizer')).toBeNull();
  });
});
