// What a valid attestation verdict says up front on the Attest screen: who signed (key and
// namespace), which version, and when (the verdict's `details`, docs/attest.md).

import type { AttestVerdict } from './types';

export interface VerdictFacts {
  keyId: string | null;
  namespace: string | null;
  version: string | null;
  signedAt: string | null;
}

export function verdictFacts(verdict: AttestVerdict | null): VerdictFacts | null {
  if (!verdict?.ok) return null;
  const d = (verdict.details ?? {}) as Record<string, unknown>;
  const text = (k: string) => (typeof d[k] === 'string' && d[k] !== '' ? (d[k] as string) : null);
  return { keyId: text('key_id'), namespace: text('namespace') ?? text('signed_by_namespace'), version: text('worker_version'), signedAt: text('attested_at_utc') };
}
