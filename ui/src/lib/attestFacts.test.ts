import { describe, expect, it } from 'vitest';
import { verdictFacts } from './attestFacts';
import type { AttestVerdict } from './types';

const verdict = (ok: boolean, details: Record<string, unknown>) => ({ ok, details }) as unknown as AttestVerdict;

describe('verdict facts', () => {
  it('reads signer key, namespace, version and signing time of a valid verdict', () => {
    const v = verdict(true, { key_id: 'k1', namespace: 'org.acme', worker_version: '1.4.2', attested_at_utc: '2026-12-01T10:00:00Z' });
    expect(verdictFacts(v)).toEqual({ keyId: 'k1', namespace: 'org.acme', version: '1.4.2', signedAt: '2026-12-01T10:00:00Z' });
  });

  it('says nothing for a refused verdict, and null for what a verdict lacks', () => {
    expect(verdictFacts(verdict(false, { key_id: 'k1' }))).toBeNull();
    expect(verdictFacts(null)).toBeNull();
    expect(verdictFacts(verdict(true, {}))).toEqual({ keyId: null, namespace: null, version: null, signedAt: null });
  });
});
