//! The OpenAPI 3.1 document, generated from the same endpoint table that builds the router.
//! Shapes are described in prose in docs/API.md; the schemas here cover request bodies.

use serde_json::{json, Map, Value};

pub fn document() -> Value {
    let mut paths = Map::new();
    for e in super::endpoints() {
        let mut op = json!({
            "summary": e.summary,
            "operationId": operation_id(e.method.as_str(), e.path),
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {}}},
                "4XX": {"description": "Client error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        if !e.auth {
            op["security"] = json!([]);
        }
        let params: Vec<Value> = path_params(e.path)
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "maxLength": super::extract::MAX_ID_LEN}}))
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if let Some(schema) = e.body {
            op["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
            });
        }
        let item = paths.entry(e.path.to_string()).or_insert_with(|| json!({}));
        item[e.method.as_str().to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Proctor hall API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "See docs/API.md for response shapes and semantics."},
        "servers": [{"url": "http://127.0.0.1:8765"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas()
        }
    })
}

fn operation_id(method: &str, path: &str) -> String {
    let words: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != "v1")
        .map(|s| s.trim_matches(|c| c == '{' || c == '}'))
        .collect();
    format!(
        "{}_{}",
        method.to_ascii_lowercase(),
        words.join("_").replace(['.', '-'], "_")
    )
}

fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
}

fn enum_of(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}

fn schemas() -> Value {
    let s = json!({"type": "string"});
    let obj = json!({"type": "object"});
    json!({
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": s, "message": s}}}},
        "RouteInput": {"type": "object",
            "required": ["capability_id", "env", "data_label", "tenant_risk", "qos_class", "tenant_id", "correlation_id"],
            "properties": {
                "capability_id": s, "tenant_id": s, "correlation_id": s,
                "env": enum_of(&["dev", "stage", "prod", "edge"]),
                "data_label": enum_of(&["PUBLIC", "INTERNAL", "RESTRICTED"]),
                "tenant_risk": enum_of(&["low", "medium", "high"]),
                "qos_class": enum_of(&["P0", "P1", "P2", "P3"]),
                "request": obj, "blast_radius": {"type": ["object", "null"]},
                "blast_score": {"type": ["integer", "string", "null"]},
                "privilege_context": {"type": ["object", "null"]},
                "dry_run": {"type": ["boolean", "integer", "string"]},
                "tenant_credential": {"type": ["string", "null"]}}},
        "WorkerRecord": {"type": "object", "required": ["worker_id", "worker_species_id", "capabilities"],
            "properties": {
                "worker_id": {"type": "string", "maxLength": super::extract::MAX_ID_LEN},
                "worker_species_id": s, "capabilities": {"type": "array", "items": s, "minItems": 1},
                "risk_tier": s, "required_controls": {"type": "array"}, "currently_implements": {"type": "array"},
                "allowed_environments": {"type": "array"}, "blast_radius": obj, "privilege_envelope": obj,
                "idempotency": s, "attestation": obj, "artifact_hash": s, "owner": s, "contact": s}},
        "Heartbeat": {"type": "object", "additionalProperties": false, "properties": {
            "status": enum_of(&["ok", "degraded", "offline"]), "latency_ms": {"type": "number", "minimum": 0}}},
        "VerifyRequest": {"type": "object", "additionalProperties": false, "properties": {"package_dir": s}},
        "PathRequest": {"type": "object", "additionalProperties": false, "required": ["path"], "properties": {"path": s}},
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
    })
}
