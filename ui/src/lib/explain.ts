// Why a decision has the candidates it has, in words that follow the decision itself: its deny
// code says at which step of the WCP decision (docs/wcp.md, "The decision") it stopped, and the
// matched rule says whether a rule was reached at all.

/** `matched_rule_id` of a decision that never reached a rule (crates/wcp/src/model.rs). */
const NO_RULE = new Set(['PRE_ROUTING', 'NO_MATCH']);

/** Steps after a rule matched and before a worker is chosen: the deny code → what stopped it. */
const BEFORE_SELECTION: Record<string, string> = {
  DENY_MISSING_CORRELATION_ID: 'the request had no correlation id',
  DENY_MISSING_REQUIRED_CONTROLS: "the registry lacks a control the rule requires",
  DENY_REQUIRES_HUMAN: 'the blast-radius gate requires a person',
  DENY_POLICY_GATE: 'the policy gate denied it',
  DENY_REQUIRES_HUMAN_APPROVAL: 'the policy gate requires a person to approve it',
  DENY_POLICY_GATE_UNCONFIGURED: 'the rule asks for a policy gate and none is configured',
  DENY_POLICY_GATE_INVALID_RESPONSE: 'the policy gate gave an invalid answer',
  DENY_INTERNAL_ERROR: 'a policy failed unexpectedly',
};

/** Steps after a worker was chosen: attestation and the privilege envelope. */
const AFTER_SELECTION: Record<string, string> = {
  DENY_ATTESTATION_UNCONFIGURED: 'attestation is required and not configured',
  DENY_WORKER_ATTESTATION_MISSING: 'the chosen worker has no attestation',
  DENY_WORKER_ATTESTATION_INVALID_HASH: "the chosen worker's registered hash is invalid",
  DENY_WORKER_HASH_UNAVAILABLE: "the chosen worker's code could not be hashed",
  DENY_WORKER_TAMPERED: "the chosen worker's code differs from its registered hash",
  DENY_PRIVILEGE_ENVELOPE_UNCONFIGURED: 'a privilege envelope is required and not configured',
  DENY_PRIVILEGE_ENVELOPE_VIOLATED: "the request exceeds the chosen worker's privilege envelope",
};

/** The sentence shown instead of an empty candidate table; null when there are candidates to show. */
export function explainNoCandidates(d: {
  candidate_workers_ranked: readonly unknown[];
  matched_rule_id: string;
  denied: boolean;
  deny_reason_if_denied?: { code: string } | null;
}): string | null {
  if (d.candidate_workers_ranked.length > 0) return null;
  const code = d.deny_reason_if_denied?.code ?? '';
  if (NO_RULE.has(d.matched_rule_id)) {
    return `No candidates: denied before any rule matched (${code || 'no code'}).`;
  }
  const rule = `rule ${d.matched_rule_id} matched`;
  if (!d.denied) return `No candidates recorded, although ${rule} and the request was allowed.`;
  const before = BEFORE_SELECTION[code];
  if (before) return `No candidates were considered: ${rule}, then ${before} (${code}) before a worker was chosen.`;
  const after = AFTER_SELECTION[code];
  if (after) return `${rule[0]!.toUpperCase()}${rule.slice(1)} and a worker was chosen, then ${after} (${code}); a denial at this step does not record the candidates.`;
  if (code === 'DENY_NO_AVAILABLE_WORKER') return `No candidates: ${rule} but lists no worker (${code}).`;
  return `No candidates: ${rule}, then the request was denied (${code || 'no code'}).`;
}
