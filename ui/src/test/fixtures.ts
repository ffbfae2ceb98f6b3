// Test fixtures: a ledger record with a complete RouteDecision.
import type { LedgerRecord, RouteDecision } from '../lib/types';

export function decision(over: Partial<RouteDecision> = {}): RouteDecision {
  return {
    decision_id: 'd-1', timestamp: '2026-01-01T12:00:00.000001+00:00', correlation_id: 'corr-1', tenant_id: 'tenant.a',
    capability_id: 'cap.doc.summarize', matched_rule_id: 'rr_doc', env: 'dev', data_label: 'PUBLIC', tenant_risk: 'low', qos_class: 'P2',
    denied: false, deny_reason_if_denied: null, selected_worker_species_id: 'wrk.doc.summarizer',
    candidate_workers_ranked: [{ worker_species_id: 'wrk.doc.summarizer', score_hint: 1, requires_controls_minimum: null, skip_reason: null }],
    required_controls_effective: [], recommended_profiles_effective: [], escalation_effective: { policy_gate: false, msavx_step_up: false, human_required_default: false, human_required_if: [], rationale: null },
    preconditions_checked: {
      must_have_correlation_id: true, must_attach_policy_version: true, must_record_artifact_hash_if_executes: true,
      deny_if_missing_required_controls: true, deny_if_unsigned_artifact_in_prod: false, deny_if_no_attestation_in_prod: false,
    },
    artifact_hash: 'a'.repeat(64), worker_attestation_checked: false, worker_attestation_valid: null, dry_run: false, telemetry_envelopes: [],
    ...over,
  };
}

export function record(seq: number, over: Partial<RouteDecision> = {}, timestamp = '2026-01-01T12:00:00Z'): LedgerRecord {
  return { seq, hash: `h${seq}`, decision: decision({ decision_id: `d-${seq}`, timestamp, ...over }) };
}
