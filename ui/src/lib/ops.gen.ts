// Generated from openapi.json by scripts/gen-api.mjs (`npm run gen:api`): do not edit.
// Every hall API operation by its name (the operationId, the name in the hall's endpoint table):
// the HTTP transport sends its method and path; the desktop's `hall_call` command takes its name.

export const OPS = {
  /** Acknowledge an alert, with an optional note and who acknowledges */
  ack_alert: { method: 'POST', path: '/v1/alerts/{id}/ack' },
  /** Put the chosen client entries behind this hall: records, rules, client files rewritten (backed up) */
  apply_mcp_import: { method: 'POST', path: '/v1/mcp/import' },
  /** Canonical package hash of a directory */
  attest_hash: { method: 'POST', path: '/v1/attest/hash' },
  /** Sign a package with the worker namespace's key */
  attest_sign: { method: 'POST', path: '/v1/attest/sign' },
  /** Verify a package against its manifest and signature */
  attest_verify: { method: 'POST', path: '/v1/attest/verify' },
  /** Trade a sign-in link's single-use code for the API token (no auth) */
  create_session: { method: 'POST', path: '/v1/session' },
  /** Approve or deny a held call; the verdict is recorded before the call goes on */
  decide_approval: { method: 'POST', path: '/v1/approvals/{id}' },
  /** How many decisions match a filter, exact within a time budget */
  decisions_count: { method: 'GET', path: '/v1/decisions/count' },
  /** How many decisions match a filter, per time bucket and per facet value */
  decisions_summary: { method: 'GET', path: '/v1/decisions/summary' },
  /** Enroll (or replace) a worker registry record */
  enroll_worker: { method: 'POST', path: '/v1/workers' },
  /** One recorded decision */
  get_decision: { method: 'GET', path: '/v1/decisions/{decision_id}' },
  /** This hall's shipping to the fleet's central store: hall id, connection, backlog per stream, last contact and error (docs/fleet.md) */
  get_fleet: { method: 'GET', path: '/v1/fleet' },
  /** The public key that signs this hall's receipts and ledger checkpoints */
  get_hall_key: { method: 'GET', path: '/v1/hall/key' },
  /** The MCP gateway: servers with their state and tools, client sessions, settings */
  get_mcp: { method: 'GET', path: '/v1/mcp' },
  /** Prometheus metrics in the text exposition format (bearer auth: docs/observability.md) */
  get_metrics: { method: 'GET', path: '/metrics' },
  /** This API's OpenAPI document */
  get_openapi: { method: 'GET', path: '/v1/openapi.json' },
  /** Effective settings (never the token) */
  get_settings: { method: 'GET', path: '/v1/settings' },
  /** Decision counters and worker health summary */
  get_stats: { method: 'GET', path: '/v1/stats' },
  /** Every decision under one correlation id */
  get_trace: { method: 'GET', path: '/v1/traces/{correlation_id}' },
  /** Liveness (no auth; the reference hall's shape) */
  health: { method: 'GET', path: '/health' },
  /** A single-use ticket for opening the event stream */
  issue_event_ticket: { method: 'POST', path: '/v1/events/ticket' },
  /** Alerts, newest first */
  list_alerts: { method: 'GET', path: '/v1/alerts' },
  /** Calls held for a person (pending first) */
  list_approvals: { method: 'GET', path: '/v1/approvals' },
  /** Decision history, newest first, keyset-paginated */
  list_decisions: { method: 'GET', path: '/v1/decisions' },
  /** The halls shipping to the central store, with health, backlog and last contact (the fleet view only: `proctor serve --fleet`; a hall answers 404) */
  list_fleet_halls: { method: 'GET', path: '/v1/fleet/halls' },
  /** What the hall saw: enrollments, health transitions, reloads */
  list_hall_events: { method: 'GET', path: '/v1/hall-events' },
  /** Denials in a time window grouped by deny code, capability and worker, with a trend */
  list_issues: { method: 'GET', path: '/v1/issues' },
  /** The MCP audit trail: call outcomes (or approval endings), newest first */
  list_mcp_calls: { method: 'GET', path: '/v1/mcp/calls' },
  /** List enrolled workers with their health */
  list_workers: { method: 'GET', path: '/v1/workers' },
  /** The MCP servers this user's clients run, planned as workers of this hall (writes nothing) */
  plan_mcp_import: { method: 'GET', path: '/v1/mcp/import' },
  /** Change and persist health/alert thresholds */
  put_thresholds: { method: 'PUT', path: '/v1/settings/thresholds' },
  /** Reference-compatible alias of enrollment (the reference hall's shapes; bearer auth) */
  reference_enroll: { method: 'POST', path: '/enroll' },
  /** Report a worker heartbeat */
  report_heartbeat: { method: 'POST', path: '/v1/workers/{worker_id}/heartbeat' },
  /** Route a RouteInput; the decision is recorded before it is returned */
  route: { method: 'POST', path: '/v1/route' },
  /** Live events (Server-Sent Events) */
  stream_events: { method: 'GET', path: '/v1/events' },
  /** Check the ledger's hash chain */
  verify_ledger: { method: 'GET', path: '/v1/ledger/verify' },
  /** Attestation verdict for an enrolled worker's package */
  verify_worker: { method: 'POST', path: '/v1/workers/{worker_id}/verify' },
} as const;

/** The name of a hall API operation. */
export type OpName = keyof typeof OPS;
