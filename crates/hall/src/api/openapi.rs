//! The OpenAPI 3.1 document, generated from the same endpoint table that builds the router.
//!
//! Response bodies are described by schemas derived from the Rust types that serialize them
//! (schemars, serialize contract: wcp's `RouteDecision`, the hall's `WorkerView`, `Health`,
//! `Alert`, the SSE payloads ...). Where a handler builds its JSON by hand, the schema below says
//! exactly what it builds, composed from the derived ones. Every response object is closed
//! (`additionalProperties: false`) unless the type itself is open, so `tests/openapi.rs`, which
//! validates real responses of every endpoint against this document, fails on any field that is
//! missing, mistyped or undocumented. Request bodies keep hand-written schemas: they describe
//! what the lenient parsers accept (SPEC.md §1.14 coercions), which no Rust type spells out.
//!
//! Each operation's `operationId` is its name in the endpoint table. The UI's TypeScript wire types
//! and its operation table (name → method and path) are generated from this document (`npm
//! --prefix ui run gen:api`), so the shapes and the list of operations exist once, here and in
//! the Rust types.

use crate::alerts::Alert;
use crate::config::{AlertThresholds, HealthThresholds};
use crate::events::{DecisionEvent, RegistryEvent};
use crate::hall::{Enrolled, WorkerView};
use crate::health::{Health, HealthState, ReportedStatus, Transition};
use crate::receipt::EvidenceReceipt;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::transform::{transform_subschemas, Transform};
use schemars::{JsonSchema, Schema};
use serde_json::{json, Map, Value};
use std::sync::LazyLock;

/// Where component schemas live (and what `$ref`s point at).
const COMPONENTS: &str = "/components/schemas";

static DOCUMENT: LazyLock<Value> = LazyLock::new(build);

/// The document served at `GET /v1/openapi.json` (built once).
pub fn document() -> Value {
    DOCUMENT.clone()
}

fn build() -> Value {
    let mut schemas = Schemas::new();
    let mut paths = Map::new();
    for e in super::endpoints() {
        let mut responses = success_responses(e.name, &mut schemas);
        let error = json!({"content": {"application/json": {"schema": reference("Error")}}});
        for (range, description) in [("4XX", "Client error"), ("5XX", "Local failure")] {
            let mut r = error.clone();
            r["description"] = json!(description);
            responses.entry(range).or_insert(r);
        }
        let mut op = json!({
            "summary": e.summary,
            "operationId": e.name,
            "responses": responses,
        });
        if !e.auth {
            op["security"] = json!([]);
        }
        let params: Vec<Value> = path_params(e.path)
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "maxLength": super::extract::MAX_ID_LEN}}))
            .chain(query_params(e.name))
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if let Some(schema) = e.body {
            op["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": reference(schema)}}
            });
        }
        let item = paths.entry(e.path.to_string()).or_insert_with(|| json!({}));
        item[e.method.as_str().to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Proctor hall API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Every request and response body is described here; docs/API.md explains the semantics."},
        "servers": [{"url": "http://127.0.0.1:8765"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas.finish()
        }
    })
}

/// The component schemas: derived ones (collected by the generator as they are referenced) plus
/// the hand-written request bodies and response envelopes.
struct Schemas {
    generator: SchemaGenerator,
}

impl Schemas {
    fn new() -> Self {
        let settings = SchemaSettings::draft2020_12()
            .for_serialize()
            .with(|s| s.definitions_path = COMPONENTS.into())
            .with_transform(CloseObjects);
        Self {
            generator: settings.into_generator(),
        }
    }

    /// `$ref` to the derived schema of `T` (registered on first use).
    fn of<T: JsonSchema>(&mut self) -> Value {
        self.generator.subschema_for::<T>().to_value()
    }

    /// The derived schema of `T` itself (not a `$ref`), for envelopes that extend it.
    fn body_of<T: JsonSchema>(&mut self, name: &str) -> Value {
        self.of::<T>();
        let mut schema = Schema::from(
            self.generator.definitions()[name]
                .as_object()
                .cloned()
                .expect("derived schemas are objects"),
        );
        CloseObjects.transform(&mut schema);
        schema.to_value()
    }

    fn finish(mut self) -> Map<String, Value> {
        let hand_written = responses(&mut self).into_iter().chain(requests());
        let mut all = self.generator.take_definitions(true);
        for (name, schema) in hand_written {
            let clash = all.insert(name.clone(), schema);
            debug_assert!(clash.is_none(), "two component schemas named {name}");
        }
        all.sort_keys();
        all
    }
}

/// Response objects carry exactly the documented keys: adds `additionalProperties: false` to
/// every object schema with `properties` that does not say otherwise (open types such as
/// `DenyReason` and `TelemetryEvent` do).
#[derive(Clone)]
struct CloseObjects;

impl Transform for CloseObjects {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(obj) = schema.as_object_mut() {
            if obj.contains_key("properties") && !obj.contains_key("additionalProperties") {
                obj.insert("additionalProperties".into(), Value::Bool(false));
            }
        }
        transform_subschemas(self, schema);
    }
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#{COMPONENTS}/{name}")})
}

fn json_reply(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// What each operation (by its name in the endpoint table) answers when it succeeds (and, for the
/// reference alias, its own error shape). Errors otherwise share `Error` (added by the caller as
/// `4XX`/`5XX`).
fn success_responses(operation: &str, s: &mut Schemas) -> Map<String, Value> {
    let ok = |schema: Value| json!({"200": json_reply("OK", schema)});
    let out = match operation {
        "health" => ok(reference("Liveness")),
        "route" => ok(reference("RoutedDecision")),
        "enroll_worker" => json!({
            "200": json_reply("Replaced an enrolled worker's record", s.of::<Enrolled>()),
            "201": json_reply("Enrolled a new worker", s.of::<Enrolled>())}),
        "reference_enroll" => json!({
            "200": json_reply("Replaced (reference shape)", reference("ReferenceReenrolled")),
            "201": json_reply("Enrolled (reference shape)", reference("ReferenceEnrolled")),
            "400": json_reply("Refused (reference shape)", reference("ReferenceError"))}),
        "list_workers" => ok(reference("WorkerList")),
        "report_heartbeat" => ok(reference("HeartbeatReply")),
        "verify_worker" => ok(reference("WorkerVerdict")),
        "list_decisions" => ok(reference("DecisionPage")),
        "get_decision" => ok(reference("DecisionDetail")),
        "get_trace" => ok(reference("Trace")),
        "get_stats" => ok(reference("Stats")),
        "verify_ledger" => ok(reference("LedgerVerification")),
        "list_hall_events" => ok(reference("HallEventList")),
        "list_issues" => ok(s.of::<crate::queries::IssueList>()),
        "decisions_summary" => ok(s.of::<crate::queries::summary::DecisionSummary>()),
        "decisions_count" => ok(s.of::<crate::queries::summary::DecisionCount>()),
        "list_alerts" => ok(reference("AlertList")),
        "ack_alert" => ok(s.of::<Alert>()),
        "issue_event_ticket" => ok(reference("EventTicket")),
        "create_session" => ok(reference("Session")),
        "stream_events" => json!({"200": {
            "description": "Server-Sent Events: each message's `event:` name and JSON `data:` are one StreamEvent",
            "content": {"text/event-stream": {"schema": reference("StreamEvent")}}}}),
        "get_metrics" => json!({"200": {
            "description": "Prometheus text exposition format 0.0.4 (docs/observability.md lists the metrics)",
            "content": {(crate::metrics::CONTENT_TYPE): {"schema": {"type": "string"}}}}}),
        "attest_hash" => ok(reference("PackageHash")),
        "attest_verify" => ok(reference("AttestVerdict")),
        "attest_sign" => ok(reference("SignResult")),
        "get_settings" | "put_thresholds" => ok(reference("Settings")),
        "get_hall_key" => ok(s.of::<crate::anchor::HallPublicKey>()),
        "get_fleet" => ok(s.of::<fleet::FleetStatus>()),
        "get_openapi" => ok(open_object()),
        "get_mcp" => ok(s.of::<crate::mcp::view::McpOverview>()),
        "list_mcp_calls" => ok(reference("McpCallList")),
        "list_approvals" => ok(s.of::<crate::mcp::view::ApprovalList>()),
        "decide_approval" => ok(s.of::<crate::mcp::Approval>()),
        "list_fleet_halls" => ok(reference("FleetHallList")),
        "plan_mcp_import" => ok(s.of::<crate::mcp::import::Plan>()),
        "apply_mcp_import" => ok(s.of::<crate::mcp::onboarding::ImportResult>()),
        // An endpoint added without documenting its answer: tests/openapi.rs fails on it.
        _ => json!({}),
    };
    as_map(out)
}

fn as_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A closed object whose every property is required (what the handlers' `json!` bodies are).
fn object(properties: Value) -> Value {
    let required: Vec<&String> = properties.as_object().expect("properties").keys().collect();
    json!({"type": "object", "required": required, "properties": properties, "additionalProperties": false})
}

/// `base` (a closed derived object schema) with more required properties.
fn extend(mut base: Value, more: Value) -> Value {
    for (key, schema) in more.as_object().expect("properties") {
        base["properties"][key] = schema.clone();
        base["required"]
            .as_array_mut()
            .expect("derived objects list required keys")
            .push(json!(key));
    }
    base
}

/// `schema` with an optional `hall_id`: the hall that recorded it, which only the fleet view
/// (`proctor serve --fleet`, records of many halls) sets.
fn with_hall(mut schema: Value) -> Value {
    schema["properties"]["hall_id"] = json!({"type": "string"});
    schema
}

/// Any JSON object (`{"type": "object"}` alone reads as "no keys" to TypeScript generators).
fn open_object() -> Value {
    json!({"type": "object", "additionalProperties": true})
}

fn nullable(type_name: &str) -> Value {
    json!({"type": [type_name, "null"]})
}

/// Response envelopes built by hand in the handlers (`json!`), composed from derived schemas.
fn responses(s: &mut Schemas) -> Vec<(String, Value)> {
    let string = json!({"type": "string"});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let count = json!({"type": "integer", "minimum": 0});
    let time = json!({"type": "string", "format": "date-time"});
    let hex64 = json!({"type": "string", "pattern": "^[0-9a-f]{64}$"});
    let open = open_object();
    let counts_by_key = json!({"type": "object", "additionalProperties": count});
    let verdict = object(json!({
        "ok": {"type": "boolean"},
        "verdict": {"type": "string", "enum": ["valid", "tampered", "unsigned", "invalid"]},
        "code": {"type": ["string", "null"], "pattern": "^ATTEST_[A-Z_]+$"},
        "message": string,
        "details": open,
        "checked_at": time}));
    let routed = extend(
        s.body_of::<wcp::RouteDecision>("RouteDecision"),
        json!({"evidence_receipt": s.of::<EvidenceReceipt>()}),
    );
    // A decision as recorded: one `proctor decisions import` recorded carries its import mark
    // (docs/ledger.md, "Imported decisions"); the hall's own have none.
    let mut recorded = s.body_of::<wcp::RouteDecision>("RouteDecision");
    recorded["properties"]["imported"] = json!({"type": "object",
        "required": ["source", "importer", "imported_at"],
        "properties": {"source": string, "importer": string, "imported_at": time, "previous": open},
        "additionalProperties": false});
    let record = with_hall(object(
        json!({"seq": {"type": "integer", "minimum": 1}, "hash": hex64,
        "decision": reference("RecordedDecision")}),
    ));
    let workers_by_state: Map<String, Value> = [
        HealthState::Healthy,
        HealthState::Degraded,
        HealthState::Stale,
        HealthState::Offline,
    ]
    .iter()
    .map(|state| (state.as_str().to_string(), count.clone()))
    .collect();
    let stream_event =
        |name: &str, data: Value| object(json!({"event": {"const": name}, "data": data}));
    let stream = json!({"oneOf": [
        stream_event("decision", s.of::<DecisionEvent>()),
        stream_event("health", s.of::<Transition>()),
        stream_event("registry", s.of::<RegistryEvent>()),
        stream_event("alert", s.of::<Alert>()),
        stream_event("lagged", object(json!({"missed": count}))),
        stream_event("mcp_call", reference("LinkedRecord")),
        stream_event("approval", s.of::<crate::mcp::Approval>()),
        stream_event("mcp_server", s.of::<crate::mcp::ServerEvent>()),
    ]});
    // A record linked to a decision (ledger: an MCP call's outcome, an approval's ending).
    let linked = with_hall(object(
        json!({"seq": {"type": "integer", "minimum": 1}, "hash": hex64,
        "decision_seq": {"type": "integer", "minimum": 1}, "decision_hash": hex64, "at": time,
        "kind": {"type": "string", "enum": ["mcp_call", "approval"]}, "decision_id": string,
        "correlation_id": string, "server": nullable("string"), "tool": nullable("string"),
        "body": open}),
    ));
    let fleet_hall = object(json!({
        "hall_id": string, "name": string, "public_key": string, "version": string,
        "registered_at": time, "last_contact": {"type": ["string", "null"], "format": "date-time"},
        "backlog": count, "head_seq": nullable("integer"),
        "health": {"type": "string", "enum": ["live", "late", "silent", "never"]}}));
    vec![
        ("Liveness", {
            // `mode` only from the fleet view (`proctor serve --fleet`): the UI reads it to
            // show the fleet and hide what changes a hall.
            let mut l = object(json!({"status": {"const": "ok"}, "timestamp": string, "token_file": string,
                "mode": {"const": "fleet"}}));
            l["required"] = json!(["status", "timestamp", "token_file"]);
            l
        }),
        ("FleetHall", fleet_hall),
        ("FleetHallList", object(json!({"halls": {"type": "array", "items": reference("FleetHall")},
            "count": count}))),
        ("RoutedDecision", routed),
        ("RecordedDecision", recorded),
        ("LedgerRecord", record.clone()),
        ("DecisionDetail", extend(record, json!({"linked": {"type": "array", "items": reference("LinkedRecord")}}))),
        ("LinkedRecord", linked),
        ("McpCallList", object(json!({"calls": {"type": "array", "items": reference("LinkedRecord")},
            "count": count}))),
        ("DecisionPage", object(json!({"decisions": {"type": "array", "items": reference("LedgerRecord")},
            "next_cursor": nullable("string")}))),
        ("HallEvent", object(json!({"id": {"type": "integer"}, "at": time, "kind": string,
            "worker_id": nullable("string"), "correlation_id": nullable("string"),
            "details": open}))),
        ("HealthTransitionEvent", with_hall(object(json!({"id": {"type": "integer"}, "at": time,
            "kind": {"const": "health_transition"}, "worker_id": string,
            "correlation_id": nullable("string"),
            "details": object(json!({"from": s.of::<HealthState>(), "to": s.of::<HealthState>(),
                "reported_status": {"anyOf": [s.of::<ReportedStatus>(), {"type": "null"}]}}))})))),
        ("HallEventList", object(json!({"events": {"type": "array", "items": reference("HallEvent")},
            "count": count}))),
        ("Trace", object(json!({"correlation_id": string,
            "decisions": {"type": "array", "items": reference("LedgerRecord")},
            "health_transitions": {"type": "array", "items": reference("HealthTransitionEvent")},
            "linked": {"type": "array", "items": reference("LinkedRecord")}}))),
        ("WorkerList", object(json!({"workers": {"type": "array", "items": s.of::<WorkerView>()},
            "count": count}))),
        ("HeartbeatReply", object(json!({"worker_id": string, "health": s.of::<Health>()}))),
        ("StatsBucket", object(json!({"start": time, "decisions": count, "denied": count}))),
        ("Stats", object(json!({
            "decisions_total": count, "allowed": count, "denied": count,
            "deny_rate": {"type": "number", "minimum": 0, "maximum": 1},
            "by_deny_code": counts_by_key, "by_worker": counts_by_key,
            "buckets": {"type": "array", "items": reference("StatsBucket")},
            "workers": object(Value::Object(workers_by_state)),
            "alerts_open": count, "uptime_s": count}))),
        ("LedgerVerification", object(json!({"ok": {"type": "boolean"}, "records": count,
            "head_seq": nullable("integer"), "first_bad_seq": nullable("integer"), "message": string}))),
        ("AlertList", object(json!({"alerts": {"type": "array", "items": s.of::<Alert>()}, "count": count}))),
        ("EventTicket", object(json!({"ticket": string, "expires_at": time}))),
        ("Session", object(json!({"token": string}))),
        ("StreamEvent", stream),
        ("PackageHash", object(json!({"path": string, "package_hash": hex64, "files": count,
            "manifest": {"oneOf": [{"type": "null"}, object(json!({
                "worker_id": nullable("string"), "worker_species_id": nullable("string"),
                "worker_version": nullable("string"), "package_hash": nullable("string"),
                "attested_at_utc": nullable("string")}))]},
            // When the manifest's package_hash is not the package's: the files added, removed and
            // changed against the signature's file list, or (changes_unknown) why that list
            // cannot be trusted or is missing.
            "changes": {"oneOf": [{"type": "null"}, object(json!({
                "changed": strings, "added": strings, "removed": strings}))]},
            "changes_unknown": nullable("string")}))),
        ("WorkerVerdict", extend(verdict.clone(), json!({"worker_id": string}))),
        ("AttestVerdict", verdict),
        ("SignResult", object(json!({"manifest": open, "package_hash": hex64, "key_id": string}))),
        ("Settings", object(json!({
            "listen": string, "data_dir": string, "ledger_path": string, "registry_dir": string,
            "rules_file": string, "ui_dir": nullable("string"), "body_limit_bytes": count,
            "health": s.of::<HealthThresholds>(), "alerts": s.of::<AlertThresholds>(),
            "hall_config": {"oneOf": [s.of::<wcp::HallConfig>(), {"type": "null"}]}}))),
        ("ReferenceEnrolled", object(json!({"enrolled": {"const": true}, "enrollment_id": string,
            "worker_id": string, "enrolled_at": string, "artifact_hash_verified": {"const": true}}))),
        ("ReferenceReenrolled", object(json!({"enrolled": {"const": true}, "updated": {"const": true},
            "worker_id": string, "artifact_hash_verified": {"const": true}}))),
        ("ReferenceError", {
            let mut e = object(json!({"error": string, "code": {"const": "DENY_WORKER_TAMPERED"}}));
            e["required"] = json!(["error"]);
            e
        }),
        ("Error", object(json!({"error": object(json!({"code": string, "message": string}))}))),
    ]
    .into_iter()
    .map(|(name, schema)| (name.to_string(), schema))
    .collect()
}

/// Whether an operation (by name) documents query parameters (the others refuse any).
pub fn takes_query(operation: &str) -> bool {
    !query_params(operation).is_empty()
}

/// Query parameters, derived from the structs the handlers deserialize them into (so a
/// parameter the handler refuses is never documented, and the reverse).
fn query_params(operation: &str) -> Vec<Value> {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let schema = match operation {
        "list_decisions" | "decisions_summary" | "decisions_count" => {
            generator.root_schema_for::<crate::queries::DecisionQuery>()
        }
        "get_stats" => generator.root_schema_for::<crate::queries::StatsQuery>(),
        "list_alerts" => generator.root_schema_for::<crate::queries::AlertsQuery>(),
        "list_issues" => generator.root_schema_for::<crate::queries::IssuesQuery>(),
        "list_hall_events" => generator.root_schema_for::<crate::queries::HallEventsQuery>(),
        "list_mcp_calls" => generator.root_schema_for::<crate::mcp::view::CallsQuery>(),
        "list_approvals" => generator.root_schema_for::<crate::mcp::view::ApprovalsQuery>(),
        "stream_events" => {
            return vec![json!({"name": "ticket", "in": "query", "required": false,
                "description": "From POST /v1/events/ticket, for clients that cannot send headers (EventSource)",
                "schema": {"type": "string"}})]
        }
        _ => return Vec::new(),
    };
    let required = schema.get("required").cloned().unwrap_or(json!([]));
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // The summary and the count take the list's filter and refuse its paging (they cover the
    // whole filter).
    let paging = |name: &str| {
        ["decisions_summary", "decisions_count"].contains(&operation)
            && ["cursor", "limit"].contains(&name)
    };
    properties
        .into_iter()
        .filter(|(name, _)| !paging(name))
        .map(|(name, schema)| {
            let required = required.as_array().is_some_and(|r| r.contains(&json!(name)));
            json!({"name": name, "in": "query", "required": required, "schema": without_null(schema)})
        })
        .collect()
}

/// A query parameter is absent or has a value: drop the `null` that `Option` adds.
fn without_null(mut schema: Value) -> Value {
    if let Some(types) = schema.get_mut("type").and_then(Value::as_array_mut) {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            schema["type"] = only.clone();
        }
    }
    if let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut) {
        values.retain(|v| !v.is_null());
    }
    if let Some(mut alternatives) = schema
        .get_mut("anyOf")
        .and_then(Value::as_array_mut)
        .cloned()
    {
        alternatives.retain(|a| a != &json!({"type": "null"}));
        if let [only] = alternatives.as_slice() {
            return only.clone();
        }
    }
    schema
}

fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
}

fn enum_of(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}

/// Request bodies: what the handlers' parsers accept.
fn requests() -> Vec<(String, Value)> {
    let s = json!({"type": "string"});
    let obj = open_object();
    let obj_or_null = json!({"type": ["object", "null"], "additionalProperties": true});
    let schemas = json!({
        "RouteInput": {"type": "object",
            "required": ["capability_id", "env", "data_label", "tenant_risk", "qos_class", "tenant_id", "correlation_id"],
            "properties": {
                "capability_id": s, "tenant_id": s, "correlation_id": s,
                "env": enum_of(&["dev", "stage", "prod", "edge"]),
                "data_label": enum_of(&["PUBLIC", "INTERNAL", "RESTRICTED"]),
                "tenant_risk": enum_of(&["low", "medium", "high"]),
                "qos_class": enum_of(&["P0", "P1", "P2", "P3"]),
                "request": obj, "blast_radius": obj_or_null,
                "blast_score": {"type": ["integer", "string", "null"]},
                "privilege_context": obj_or_null,
                "dry_run": {"type": ["boolean", "integer", "string"]},
                "tenant_credential": {"type": ["string", "null"]}}},
        "WorkerRecord": {"type": "object", "required": ["worker_id", "worker_species_id", "capabilities"],
            "properties": {
                "worker_id": {"type": "string", "maxLength": crate::live::MAX_WORKER_ID_LEN},
                "worker_species_id": s, "capabilities": {"type": "array", "items": s, "minItems": 1},
                "risk_tier": s, "required_controls": {"type": "array"}, "currently_implements": {"type": "array"},
                "allowed_environments": {"type": "array"}, "blast_radius": obj, "privilege_envelope": obj,
                "idempotency": s, "attestation": obj, "artifact_hash": s, "owner": s, "contact": s}},
        "Heartbeat": {"type": "object", "additionalProperties": false, "properties": {
            "status": enum_of(&["ok", "degraded", "offline"]), "latency_ms": {"type": "number", "minimum": 0}}},
        "VerifyRequest": {"type": "object", "additionalProperties": false, "properties": {"package_dir": s}},
        "ImportRequest": {"type": "object", "additionalProperties": false, "required": ["servers"],
            "properties": {"servers": {"type": "array", "minItems": 1, "items": {"type": "object",
                "additionalProperties": false, "required": ["path", "name"],
                "properties": {"path": s, "name": s}}}}},
        "ApprovalVerdict": {"type": "object", "additionalProperties": false, "required": ["verdict"],
            "properties": {"verdict": enum_of(&["approve", "deny"]), "note": {"type": ["string", "null"]},
                           "by": {"type": ["string", "null"]}}},
        "PathRequest": {"type": "object", "additionalProperties": false, "required": ["path"], "properties": {"path": s}},
        "AckRequest": {"type": "object", "additionalProperties": false, "properties": {
            "note": {"type": ["string", "null"], "maxLength": crate::alerts::MAX_ACK_TEXT},
            "by": {"type": ["string", "null"], "maxLength": crate::alerts::MAX_ACK_TEXT}}},
        "SessionRequest": {"type": "object", "additionalProperties": false, "required": ["code"],
            "properties": {"code": s}},
        "AttestVerifyRequest": {"type": "object", "additionalProperties": false,
            "required": ["path", "worker_id", "worker_species_id"],
            "properties": {"path": s, "worker_id": s, "worker_species_id": s}},
        "AttestSignRequest": {"type": "object", "additionalProperties": false,
            "required": ["path", "worker_id", "worker_species_id", "worker_version"],
            "properties": {"path": s, "worker_id": s, "worker_species_id": s, "worker_version": s,
                           "build_source": enum_of(&["local", "ci", "agent"])}},
        "Thresholds": {"type": "object", "additionalProperties": false, "required": ["health", "alerts"], "properties": {
            "health": {"type": "object", "required": ["stale_after_s", "offline_after_s", "degraded_latency_ms"],
                "properties": {"stale_after_s": {"type": "integer", "minimum": 1}, "offline_after_s": {"type": "integer", "minimum": 2},
                               "degraded_latency_ms": {"type": "number", "exclusiveMinimum": 0}}},
            "alerts": {"type": "object", "required": ["deny_rate_threshold", "deny_rate_window_s", "deny_rate_min_decisions"],
                "properties": {"deny_rate_threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                               "deny_rate_window_s": {"type": "integer", "minimum": 1, "maximum": 3600},
                               "deny_rate_min_decisions": {"type": "integer", "minimum": 1}}}}}
    });
    as_map(schemas).into_iter().collect()
}
