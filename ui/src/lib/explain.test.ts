import { describe, expect, it } from 'vitest';
import { explainNoCandidates } from './explain';

const denied = (matched_rule_id: string, code: string) => ({
  candidate_workers_ranked: [],
  matched_rule_id,
  denied: true,
  deny_reason_if_denied: { code, message: '' },
});

describe('explaining an empty candidate list', () => {
  it('follows the decision: a policy-gate denial after its rule matched says so', () => {
    const text = explainNoCandidates(denied('rr_gated', 'DENY_POLICY_GATE'));
    expect(text).toBe('No candidates were considered: rule rr_gated matched, then the policy gate denied it (DENY_POLICY_GATE) before a worker was chosen.');
    expect(text).not.toMatch(/before a rule matched/);
  });

  it('says "before any rule matched" only when none did', () => {
    expect(explainNoCandidates(denied('NO_MATCH', 'DENY_NO_MATCHING_RULE'))).toBe('No candidates: denied before any rule matched (DENY_NO_MATCHING_RULE).');
    expect(explainNoCandidates(denied('PRE_ROUTING', 'DENY_UNKNOWN_TENANT'))).toMatch(/before any rule matched \(DENY_UNKNOWN_TENANT\)/);
  });

  it('tells denials after the worker was chosen from those before', () => {
    expect(explainNoCandidates(denied('rr_x', 'DENY_WORKER_TAMPERED'))).toMatch(/^Rule rr_x matched and a worker was chosen, then .*DENY_WORKER_TAMPERED/);
    expect(explainNoCandidates(denied('rr_x', 'DENY_REQUIRES_HUMAN'))).toMatch(/blast-radius gate/);
  });

  it('shows the table when there are candidates', () => {
    expect(explainNoCandidates({ ...denied('rr_x', 'DENY_NO_AVAILABLE_WORKER'), candidate_workers_ranked: [{ worker_species_id: 'w' }] })).toBeNull();
  });
});
