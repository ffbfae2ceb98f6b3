// Plain-words explanations of attestation codes (SPEC.md §3.4) and verdicts.

export const ATTEST_EXPLANATIONS: Record<string, string> = {
  ATTEST_MANIFEST_MISSING: 'There is no readable manifest.json in the package, so nothing vouches for it. Sign the package first.',
  ATTEST_MANIFEST_ID_MISMATCH: 'The manifest was written for a different worker id or species than the one you are checking.',
  ATTEST_HASH_MISMATCH: 'The files changed after the manifest was signed: the package was tampered with or rebuilt without re-signing.',
  ATTEST_SIGNATURE_MISSING: 'The manifest carries no signature, or no key is configured to check it.',
  ATTEST_SIG_INVALID: 'The signature does not match the manifest: it was edited after signing, or signed with another key.',
  ATTEST_NAMESPACE_UNTRUSTED: 'The signing key is not in the trust store for this namespace.',
  ATTEST_KEY_REVOKED: 'The key that signed this package has been revoked.',
  DENY_WORKER_TAMPERED: 'The worker no longer matches what was registered: treat it as tampered.',
  NO_NAMESPACE_KEY: 'There is no signing key for this namespace on this machine. Create one with `proctor keys new --namespace <namespace>`.',
  INVALID_PATH: 'The path does not exist or is not a directory on the machine running the hall.',
};

export function explainCode(code: string | null | undefined): string {
  if (!code) return 'The package hash matches the manifest and the signature is valid for a trusted key.';
  return ATTEST_EXPLANATIONS[code] ?? `The check failed with ${code}.`;
}

/** The worker_id namespace (`org.<name>` / `x.<name>`) that signs a package (SPEC.md §3.5), or null. */
export function namespaceOf(workerId: string): string | null {
  const parts = workerId.split('.');
  if ((parts[0] === 'org' || parts[0] === 'x') && parts[1]) return `${parts[0]}.${parts[1]}`;
  return null;
}
