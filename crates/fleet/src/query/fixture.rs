//! A small central store for tests of the fleet view (feature `testing`): three halls, real
//! RouteDecision JSON chained with [`ledger::chain_hash`] per hall, a correlation id whose
//! decisions span two halls, a linked record, a health transition and an open alert. Rows go
//! in with plain INSERTs into the migrated schema, as a shipper leaves them.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};
use tokio_postgres::Client;

/// In contact a moment ago, nothing unshipped.
pub const HALL_A: &str = "hall-a";
/// Last contact 20 minutes ago, 42 records behind.
pub const HALL_B: &str = "hall-b";
/// Registered, never shipped.
pub const HALL_C: &str = "hall-c";
/// The correlation id of decisions in both hall A (seq 10) and hall B (seqs 10 and 11).
pub const SPANNING: &str = "corr-span";
/// Decisions per hall.
pub const A_DECISIONS: i64 = 30;
pub const B_DECISIONS: i64 = 20;
/// The id of hall B's seq 11, which has a linked record (an MCP call's outcome).
pub const LINKED_DECISION: &str = "dec-hall-b-11";

/// One decision of the fixture: who, what and whether it was denied.
struct Spec<'a> {
    hall: &'a str,
    seq: i64,
    at: DateTime<Utc>,
    tenant: &'a str,
    capability: &'a str,
    correlation: String,
    denied: bool,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// A RouteDecision's wire JSON (every field the hall writes, in its order).
fn decision_json(s: &Spec<'_>) -> String {
    let worker = (!s.denied).then(|| format!("wrk.{}", s.capability));
    let deny = s.denied.then(|| {
        json!({"code": "DENY_NO_MATCHING_RULE",
               "message": "No routing rule matched. Fail-closed per WCP spec section 5.1."})
    });
    let candidates: Vec<Value> = worker
        .iter()
        .map(|w| json!({"worker_species_id": w, "score_hint": 1.0, "requires_controls_minimum": null, "skip_reason": null}))
        .collect();
    json!({
        "decision_id": format!("dec-{}-{}", s.hall, s.seq), "timestamp": stamp(s.at),
        "correlation_id": s.correlation, "tenant_id": s.tenant, "capability_id": s.capability,
        "matched_rule_id": if s.denied { "NO_MATCH" } else { "rr_fixture" },
        "env": "dev", "data_label": "PUBLIC", "tenant_risk": "low", "qos_class": "P2",
        "denied": s.denied, "deny_reason_if_denied": deny, "selected_worker_species_id": worker,
        "candidate_workers_ranked": candidates, "required_controls_effective": [],
        "recommended_profiles_effective": [],
        "escalation_effective": {"policy_gate": false, "msavx_step_up": false,
            "human_required_default": false, "human_required_if": [], "rationale": null},
        "preconditions_checked": {"must_have_correlation_id": true, "must_attach_policy_version": true,
            "must_record_artifact_hash_if_executes": true, "deny_if_missing_required_controls": true,
            "deny_if_unsigned_artifact_in_prod": false, "deny_if_no_attestation_in_prod": false},
        "artifact_hash": null, "worker_attestation_checked": false, "worker_attestation_valid": null,
        "dry_run": false, "telemetry_envelopes": []
    })
    .to_string()
}

/// The fixture's decisions: hall A's at even seconds after `base`, hall B's at odd ones, so
/// the newest-first order across halls interleaves them. Hall A: tenants alternate x/y, every
/// 5th denied; hall B: tenant x, every 4th denied.
fn specs(base: DateTime<Utc>) -> Vec<Spec<'static>> {
    let mut out = Vec::new();
    for seq in 1..=A_DECISIONS {
        out.push(Spec {
            hall: HALL_A,
            seq,
            at: base + Duration::seconds(2 * seq),
            tenant: if seq % 2 == 1 { "tenant-x" } else { "tenant-y" },
            capability: if seq % 5 == 0 {
                "cap.none"
            } else {
                "cap.doc.summarize"
            },
            correlation: if seq == 10 {
                SPANNING.into()
            } else {
                format!("corr-a-{seq}")
            },
            denied: seq % 5 == 0,
        });
    }
    for seq in 1..=B_DECISIONS {
        out.push(Spec {
            hall: HALL_B,
            seq,
            at: base + Duration::seconds(2 * seq + 1),
            tenant: "tenant-x",
            capability: if seq % 4 == 0 {
                "cap.none"
            } else {
                "cap.doc.ocr"
            },
            correlation: if seq == 10 || seq == 11 {
                SPANNING.into()
            } else {
                format!("corr-b-{seq}")
            },
            denied: seq % 4 == 0,
        });
    }
    out
}

/// Fills a migrated, empty central store; decisions start at `now` minus ten minutes.
pub async fn seed(client: &Client, now: DateTime<Utc>) -> Result<(), tokio_postgres::Error> {
    let base = now - Duration::minutes(10);
    let genesis = [0u8; 32];
    for (hall, name, contact, backlog) in [
        (HALL_A, "laptop-a", Some(now - Duration::seconds(10)), 0i64),
        (HALL_B, "ci-runner-b", Some(now - Duration::minutes(20)), 42),
        (HALL_C, "server-c", None, 0),
    ] {
        client
            .execute(
                "INSERT INTO halls (hall_id, public_key, name, registered_at, last_contact, \
                 backlog, genesis, version) VALUES ($1, $2, $3, $4, $5, $6, $7, '0.1.0')",
                &[
                    &hall,
                    &format!("key-of-{hall}"),
                    &name,
                    &(now - Duration::days(1)),
                    &contact,
                    &backlog,
                    &genesis.as_slice(),
                ],
            )
            .await?;
    }
    client
        .execute("SELECT fleet_ensure_month($1)", &[&base])
        .await?;
    client
        .execute("SELECT fleet_ensure_month($1)", &[&now])
        .await?;
    let mut prev = std::collections::HashMap::new();
    let mut linked_hash = None;
    for s in specs(base) {
        let body = decision_json(&s);
        let before: [u8; 32] = *prev.get(s.hall).unwrap_or(&genesis);
        let hash = ledger::chain_hash(&before, body.as_bytes());
        prev.insert(s.hall, hash);
        let decision_id = format!("dec-{}-{}", s.hall, s.seq);
        if decision_id == LINKED_DECISION {
            linked_hash = Some(hash);
        }
        let worker = (!s.denied).then(|| format!("wrk.{}", s.capability));
        let deny_code = s.denied.then_some("DENY_NO_MATCHING_RULE");
        client
            .execute(
                "INSERT INTO decisions (hall_id, seq, ts, decision_id, correlation_id, tenant_id, \
                 capability_id, matched_rule_id, worker, env, data_label, qos_class, denied, \
                 deny_code, deny_message, dry_run, artifact_hash, prev_hash, hash, body) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'dev', 'PUBLIC', 'P2', $10, $11, NULL, \
                 false, NULL, $12, $13, $14)",
                &[
                    &s.hall,
                    &s.seq,
                    &s.at,
                    &decision_id,
                    &s.correlation,
                    &s.tenant,
                    &s.capability,
                    &if s.denied { "NO_MATCH" } else { "rr_fixture" },
                    &worker,
                    &s.denied,
                    &deny_code,
                    &before.as_slice(),
                    &hash.as_slice(),
                    &body,
                ],
            )
            .await?;
    }
    // Hall B's seq 11 went on to an MCP call: its outcome, first of hall B's linked chain.
    let at = base + Duration::seconds(2 * 11 + 2);
    let chained = json!({
        "decision_seq": 11, "decision_hash": hex::encode(linked_hash.unwrap_or(genesis)),
        "at": stamp(at), "kind": "mcp_call", "decision_id": LINKED_DECISION,
        "correlation_id": SPANNING, "server": "wrk.cap.doc.ocr", "tool": "ocr",
        "body": {"outcome": "ok", "duration_ms": 12}
    })
    .to_string();
    let linked_genesis = ledger::linked_genesis(&genesis);
    let hash = ledger::chain_hash(&linked_genesis, chained.as_bytes());
    client
        .execute(
            "INSERT INTO linked_records (hall_id, seq, ts, kind, decision_id, decision_seq, \
             correlation_id, server, tool, prev_hash, hash, json) VALUES \
             ($1, 1, $2, 'mcp_call', $3, 11, $4, 'wrk.cap.doc.ocr', 'ocr', $5, $6, $7)",
            &[
                &HALL_B,
                &at,
                &LINKED_DECISION,
                &SPANNING,
                &linked_genesis.as_slice(),
                &hash.as_slice(),
                &chained,
            ],
        )
        .await?;
    // The OCR worker degraded a minute after the spanning decisions: part of the incident.
    client
        .execute(
            "INSERT INTO hall_events (hall_id, id, ts, kind, worker_id, correlation_id, details) \
             VALUES ($1, 1, $2, 'health_transition', 'org.acme.ocr.i-1', NULL, $3)",
            &[
                &HALL_B,
                &(at + Duration::minutes(1)),
                &json!({"from": "healthy", "to": "degraded", "reported_status": "degraded"}),
            ],
        )
        .await?;
    client
        .execute(
            "INSERT INTO alerts (hall_id, id, created_at, severity, code, message, details) \
             VALUES ($1, 1, $2, 'warning', 'deny_rate', 'deny rate above 20%', '{}')",
            &[&HALL_A, &now],
        )
        .await?;
    Ok(())
}
