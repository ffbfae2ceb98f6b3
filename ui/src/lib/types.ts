// Wire types of the hall API (docs/API.md), all generated: nothing here restates a shape.
//
// The hall's OpenAPI document (`GET /v1/openapi.json`) describes every request and response body;
// its response schemas are derived from the Rust types that serialize them, and the hall's tests
// validate real responses of every endpoint against it. The copy in openapi.json is turned into
// wire.gen.ts by `npm run gen:api`; the hall's tests fail when the copy is stale (refresh both with
// `npm run sync:api`), and so does the e2e suite
// when the served document differs from it. This module only names the generated schemas and
// derives the few UI-side views of them (the event union, value lists of enums).

import type { components } from './wire.gen';

type Schemas = components['schemas'];

// Request bodies.
export type RouteInput = Schemas['RouteInput'];
export type WorkerRecord = Schemas['WorkerRecord'];
export type Thresholds = Schemas['Thresholds'];
export type VerifyRequest = Schemas['VerifyRequest'];
export type AttestVerifyRequest = Schemas['AttestVerifyRequest'];
export type AttestSignRequest = Schemas['AttestSignRequest'];
export type ErrorBody = Schemas['Error'];

// Enumerations.
export type Env = Schemas['Env'];
export type DataLabel = Schemas['DataLabel'];
export type QosClass = Schemas['QosClass'];
export type TenantRisk = Schemas['TenantRisk'];
export type DenyCode = Schemas['DenyCode'];
export type HealthState = Schemas['HealthState'];
export type ReportedStatus = Schemas['ReportedStatus'];
export type Severity = Schemas['Severity'];
export type AlertKind = Schemas['AlertKind'];
export type ConformanceLevel = Schemas['Level'];

// `satisfies` keeps these value lists complete and in step with the generated unions.
export const HEALTH_STATES = ['healthy', 'degraded', 'stale', 'offline'] as const satisfies readonly HealthState[];
export const ENVS = ['dev', 'stage', 'prod', 'edge'] as const satisfies readonly Env[];
export const DATA_LABELS = ['PUBLIC', 'INTERNAL', 'RESTRICTED'] as const satisfies readonly DataLabel[];
export const SEVERITIES = ['info', 'warning', 'critical'] as const satisfies readonly Severity[];

// Decisions and the ledger.
export type DenyReason = Schemas['DenyReason'];
export type CandidateWorker = Schemas['CandidateWorker'];
export type TelemetryEnvelope = Schemas['TelemetryEvent'];
export type RouteDecision = Schemas['RouteDecision'];
export type EvidenceReceipt = Schemas['EvidenceReceipt'];
/** `POST /v1/route`: the decision with its evidence receipt. */
export type RoutedDecision = Schemas['RoutedDecision'];
/** One ledger entry. */
export type LedgerRecord = Schemas['LedgerRecord'];
export type DecisionPage = Schemas['DecisionPage'];
export type DecisionSummary = Schemas['DecisionSummary'];
/** `GET /v1/decisions/count`: the exact total past a summary's lower bound. */
export type DecisionCount = Schemas['DecisionCount'];
export type Trace = Schemas['Trace'];
export type Issue = Schemas['Issue'];
export type IssueList = Schemas['IssueList'];
/** A `health_transition` hall event as stored (GET /v1/hall-events, GET /v1/traces/{id}). */
export type HealthTransitionEvent = Schemas['HealthTransitionEvent'];
export type HallEventRecord = Schemas['HallEvent'];
export type Stats = Schemas['Stats'];
/** `GET /v1/ledger/verify`. */
export type LedgerStatus = Schemas['LedgerVerification'];
/** A hall shipping to the fleet's central store (`GET /v1/fleet/halls`, the fleet view only). */
export type FleetHall = Schemas['FleetHall'];


// Workers.
export type HealthPoint = Schemas['Sample'];
export type Health = Schemas['Health'];
export type Conformance = Schemas['WorkerConformance'];
export type Worker = Schemas['WorkerView'];
export type WorkerList = Schemas['WorkerList'];
export type EnrollResult = Schemas['Enrolled'];
export type HeartbeatReply = Schemas['HeartbeatReply'];
export type WorkerVerdict = Schemas['WorkerVerdict'];

// Alerts, attestation, settings.
export type Alert = Schemas['Alert'];
/** `POST /v1/alerts/{id}/ack`: a note, and who acknowledges. */
export type AckRequest = Schemas['AckRequest'];
export type AlertList = Schemas['AlertList'];
export type PackageHash = Schemas['PackageHash'];
/** `POST /v1/attest/verify`. */
export type AttestVerdict = Schemas['AttestVerdict'];
export type SignResult = Schemas['SignResult'];
export type HallSettings = Schemas['Settings'];
/** The public key that signs the hall's receipts and ledger checkpoints. */
export type HallKey = Schemas['HallPublicKey'];

// The MCP gateway (docs/mcp.md): servers, sessions, the audit trail and human approvals.
export type McpOverview = Schemas['McpOverview'];
export type McpServer = Schemas['ServerView'];
export type McpServerStatus = Schemas['ServerStatusView'];
export type McpServerState = Schemas['ServerState'];
export type McpTool = Schemas['ToolView'];
export type McpSession = Schemas['SessionView'];
export type McpShadowed = Schemas['Shadowed'];
export type McpSettings = Schemas['McpConfig'];
export type McpConditions = Schemas['Conditions'];
/** `mcp_server` events: a server's state changed, or its tool list did. */
export type McpServerEvent = Schemas['ServerEvent'];
/** A hash-chained record linked to a decision: an MCP call's outcome or an approval's ending. */
export type LinkedRecord = Schemas['LinkedRecord'];
export type McpCallList = Schemas['McpCallList'];
export type Approval = Schemas['Approval'];
export type ApprovalList = Schemas['ApprovalList'];
export type ApprovalState = Schemas['ApprovalState'];
/** `POST /v1/approvals/{id}` body. */
export type ApprovalVerdict = Schemas['ApprovalVerdict'];
/** Who ended an approval, when, and their note. */
export type Verdict = Schemas['Verdict'];
/** `GET /v1/decisions/{id}`: the ledger record with the records linked to it. */
export type DecisionDetail = Schemas['DecisionDetail'];

// Onboarding (docs/mcp.md, "Onboarding (import)"): the MCP servers this user's clients already
// configure, planned as workers of this hall (`GET /v1/mcp/import`), and put behind it on request.
export type ImportPlan = Schemas['Plan'];
export type ImportFilePlan = Schemas['FilePlan'];
export type ImportServerPlan = Schemas['ServerPlan'];
export type ImportRulePlan = Schemas['RulePlan'];
export type ImportEnvNeeded = Schemas['EnvNeeded'];
export type ImportClient = Schemas['Client'];
/** `POST /v1/mcp/import` body: the chosen entries, by client file and entry name. */
export type ImportRequest = Schemas['ImportRequest'];
/** `POST /v1/mcp/import` answer: the plan as applied, and what was written. */
export type ImportResult = Schemas['ImportResult'];
export type ImportApplied = Schemas['Applied'];

export const SERVER_STATES = ['idle', 'starting', 'ready', 'failed', 'stopped'] as const satisfies readonly McpServerState[];
export const APPROVAL_STATES = ['pending', 'approved', 'denied', 'expired', 'cancelled'] as const satisfies readonly ApprovalState[];

// Live events: the SSE `event:` name and `data:` payload of each message (`StreamEvent` in the
// document), as the `{kind, data}` pairs both transports deliver.
type StreamEvent = Schemas['StreamEvent'];
export type HallEvent = StreamEvent extends infer E ? (E extends { event: infer K; data: infer D } ? { kind: K; data: D } : never) : never;
export type DecisionEvent = Schemas['DecisionEvent'];
export type HealthEvent = Schemas['Transition'];
export type RegistryEvent = Schemas['RegistryEvent'];

export const EVENT_KINDS = ['decision', 'health', 'registry', 'alert', 'lagged', 'mcp_call', 'approval', 'mcp_server'] as const satisfies readonly HallEvent['kind'][];
