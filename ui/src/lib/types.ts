// Wire types of the hall API (docs/API.md).
//
// Request bodies come from the hall's OpenAPI document (`GET /v1/openapi.json`, copied to
// openapi.json and turned into wire.gen.ts by `npm run gen:api`); the e2e suite fails when the
// served document and the copy differ. The document does not describe response bodies, so those
// are written here from docs/API.md, and the e2e "wire shapes" test checks every field the UI
// reads against real responses of a running hall.

import type { components } from './wire.gen';

type Schemas = components['schemas'];
export type RouteInput = Schemas['RouteInput'];
export type WorkerRecord = Schemas['WorkerRecord'];
export type Thresholds = Schemas['Thresholds'];
export type VerifyRequest = Schemas['VerifyRequest'];
export type AttestVerifyRequest = Schemas['AttestVerifyRequest'];
export type AttestSignRequest = Schemas['AttestSignRequest'];
export type ErrorBody = Schemas['Error'];

export type Env = RouteInput['env'];
export type DataLabel = RouteInput['data_label'];
export type QosClass = RouteInput['qos_class'];
export type TenantRisk = RouteInput['tenant_risk'];
export type HealthState = 'healthy' | 'degraded' | 'stale' | 'offline';
export type Severity = 'info' | 'warn' | 'critical';

export const HEALTH_STATES: readonly HealthState[] = ['healthy', 'degraded', 'stale', 'offline'];
export const ENVS: readonly Env[] = ['dev', 'stage', 'prod', 'edge'];
export const DATA_LABELS: readonly DataLabel[] = ['PUBLIC', 'INTERNAL', 'RESTRICTED'];
export const SEVERITIES: readonly Severity[] = ['info', 'warn', 'critical'];

export interface DenyReason {
  code: string;
  message: string;
  [extra: string]: unknown;
}

export interface CandidateWorker {
  worker_species_id: string;
  score_hint: number | null;
  requires_controls_minimum: unknown[] | null;
  skip_reason: string | null;
}

export interface TelemetryEnvelope {
  event_id: string;
  timestamp?: string;
  [key: string]: unknown;
}

export interface RouteDecision {
  decision_id: string;
  timestamp: string;
  correlation_id: string;
  tenant_id: string;
  capability_id: string;
  matched_rule_id: string;
  env: Env;
  data_label: DataLabel;
  tenant_risk: TenantRisk;
  qos_class: QosClass;
  denied: boolean;
  deny_reason_if_denied: DenyReason | null;
  selected_worker_species_id: string | null;
  candidate_workers_ranked: CandidateWorker[];
  required_controls_effective: string[];
  recommended_profiles_effective: unknown[];
  escalation_effective: Record<string, unknown>;
  preconditions_checked: Record<string, unknown>;
  artifact_hash: string | null;
  worker_attestation_checked: boolean;
  worker_attestation_valid: boolean | null;
  dry_run: boolean;
  telemetry_envelopes: TelemetryEnvelope[];
}

export interface EvidenceReceipt {
  decision_id: string;
  artifact_hash: string | null;
  ledger_seq: number;
  ledger_hash: string;
  recorded_at: string;
}

export interface RoutedDecision extends RouteDecision {
  evidence_receipt: EvidenceReceipt;
}

/** One ledger entry. `recorded_at` and `prev_hash` are optional: halls may leave them out. */
export interface LedgerRecord {
  seq: number;
  hash: string;
  prev_hash?: string;
  recorded_at?: string;
  decision: RouteDecision;
}

/** When a record was made: the ledger time if the hall sends it, else the decision's own timestamp. */
export function recordTime(r: LedgerRecord): string {
  return r.recorded_at ?? r.decision.timestamp;
}

export interface DecisionPage {
  decisions: LedgerRecord[];
  next_cursor: string | null;
}

export interface Trace {
  correlation_id: string;
  decisions: LedgerRecord[];
  /** Hall events of the workers the decisions considered, from 5 min before to 5 min after them. */
  health_transitions: HealthTransitionEvent[];
}

/** A `health_transition` hall event as stored (docs/API.md, GET /v1/hall-events). */
export interface HealthTransitionEvent {
  id: number;
  at: string;
  kind: 'health_transition';
  worker_id: string;
  correlation_id: string | null;
  details: { from: HealthState; to: HealthState; reported_status: string | null };
}

export interface HealthPoint {
  at: string;
  latency_ms: number | null;
  decisions: number;
}

export interface Health {
  state: HealthState;
  reported_status: string | null;
  last_heartbeat_at: string | null;
  last_latency_ms: number | null;
  decisions_routed: number;
  series: HealthPoint[];
}

export interface Worker {
  worker_id: string;
  worker_species_id: string;
  /** As enrolled: normally a list of capability ids, but the record is the user's file. */
  capabilities: unknown;
  risk_tier: unknown;
  source_file: string | null;
  record: Record<string, unknown>;
  /** Null until the hall has seen the worker at all (shown as offline, "never"). */
  health: Health | null;
  /** Scored by the hall with `wcp::conformance::check_worker` (docs/API.md, GET /v1/workers). */
  conformance: Conformance;
}

export type ConformanceLevel = 'none' | 'WCP-Basic' | 'WCP-Standard' | 'WCP-Full';

export interface Conformance {
  level: ConformanceLevel;
  /** The first level not reached; null once WCP-Full is reached. */
  next_level: ConformanceLevel | null;
  /** What that level (and any below it) still lacks, in words. */
  missing: string[];
}

export interface WorkerList {
  workers: Worker[];
  count: number;
}

export interface EnrollResult {
  enrolled: boolean;
  updated: boolean;
  worker_id: string;
  enrolled_at: string;
  artifact_hash_verified: boolean;
}

export interface WorkerVerdict {
  worker_id: string;
  verdict: 'valid' | 'tampered' | 'unsigned' | 'invalid';
  code: string | null;
  package_hash: string | null;
  registered_hash: string | null;
  checked_at: string;
  detail: Record<string, unknown>;
}

export interface Stats {
  decisions_total: number;
  allowed: number;
  denied: number;
  deny_rate: number;
  by_deny_code: Record<string, number>;
  by_worker: Record<string, number>;
  workers: Record<HealthState, number>;
  alerts_open: number;
  uptime_s: number;
}

export interface LedgerStatus {
  ok: boolean;
  records: number;
  head_seq: number | null;
  head_hash: string | null;
  first_bad_seq: number | null;
  message: string;
}

export interface Alert {
  id: number;
  created_at: string;
  kind: string;
  severity: Severity;
  subject: string | null;
  message: string;
  acked: boolean;
  acked_at: string | null;
}

export interface AlertList {
  alerts: Alert[];
  count: number;
}

export interface PackageHash {
  path: string;
  package_hash: string;
  files: number;
}

export interface AttestVerdict {
  ok: boolean;
  code: string | null;
  meta: Record<string, unknown>;
}

export interface SignResult {
  manifest: Record<string, unknown>;
}

export interface HallSettings extends Thresholds {
  listen: string;
  data_dir: string;
  ledger_path: string;
  registry_dir: string;
  rules_file: string;
  ui_dir: string | null;
  body_limit_bytes: number;
  hall_config: Record<string, unknown> | null;
}

/** `decision` SSE event: the summary the hall pushes for every recorded decision. */
export interface DecisionEvent {
  seq: number;
  hash: string;
  recorded_at: string;
  decision_id: string;
  correlation_id: string;
  tenant_id: string;
  capability_id: string;
  env: Env;
  denied: boolean;
  deny_code: string | null;
  matched_rule_id: string;
  selected_worker_species_id: string | null;
  dry_run: boolean;
}

export interface HealthEvent {
  worker_id: string;
  from: HealthState;
  to: HealthState;
  at: string;
  reported_status: string | null;
}

export interface RegistryEvent {
  source: 'registry' | 'rules';
  ok: boolean;
  workers: number;
  rules: number;
  at: string;
  message: string;
}

export type HallEvent =
  | { kind: 'decision'; data: DecisionEvent }
  | { kind: 'health'; data: HealthEvent }
  | { kind: 'registry'; data: RegistryEvent }
  | { kind: 'alert'; data: Alert }
  | { kind: 'lagged'; data: { missed: number } };

export const EVENT_KINDS = ['decision', 'health', 'registry', 'alert', 'lagged'] as const;
