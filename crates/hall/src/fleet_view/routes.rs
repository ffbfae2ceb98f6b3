//! The fleet view's handlers: each reads the central store once and shapes the answer as the
//! hall's own operation of the same name does, with the hall that recorded each record.

use super::FleetState;
use crate::api::error::ApiError;
use crate::api::extract::{Id, Q};
use crate::api::routes::check_filter_ids;
use crate::health::HealthState;
use crate::queries::{decision_json, DecisionQuery, StatsQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, MethodRouter};
use axum::Json;
use chrono::Utc;
use fleet::query::{
    CentralDecision, CentralEvent, CentralLinked, DecisionFilter, HallRow, QueryError,
};
use serde_json::{json, Map, Value};

type ApiResult = Result<Json<Value>, ApiError>;

/// The hall operations (by their name in the endpoint table) the fleet view answers.
pub(super) fn read_only(operation: &str) -> Option<MethodRouter<FleetState>> {
    Some(match operation {
        "health" => get(health),
        "list_decisions" => get(decisions),
        "get_decision" => get(decision),
        "get_trace" => get(trace),
        "get_stats" => get(stats),
        "list_fleet_halls" => get(halls),
        "get_openapi" => get(crate::api::routes::openapi),
        _ => return None,
    })
}

/// The store's failures: PostgreSQL away (or the schema missing) is a 503 saying so.
fn central(e: QueryError) -> ApiError {
    match e {
        QueryError::BadQuery(m) => ApiError::invalid_query(m),
        QueryError::Unavailable(_) | QueryError::BadUrl(_) => {
            tracing::warn!(error = %e, "fleet view: central store unavailable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "CENTRAL_UNAVAILABLE",
                e.to_string(),
            )
        }
    }
}

fn with_hall(mut record: Value, hall_id: &str) -> Value {
    record["hall_id"] = json!(hall_id);
    record
}

fn decision_record(d: &CentralDecision) -> Value {
    with_hall(decision_json(d.seq, &d.hash, &d.body), &d.hall_id)
}

/// The hall's linked-record shape: `seq` and `hash` around the chained JSON's fields.
fn linked_record(l: &CentralLinked) -> Value {
    let mut record = Map::new();
    record.insert("seq".into(), json!(l.seq));
    record.insert("hash".into(), json!(l.hash));
    if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&l.json) {
        record.extend(fields);
    }
    with_hall(Value::Object(record), &l.hall_id)
}

fn hall_event(e: &CentralEvent) -> Value {
    json!({"id": e.id, "at": e.at, "kind": e.kind, "worker_id": e.worker_id,
           "correlation_id": e.correlation_id, "details": e.details, "hall_id": e.hall_id})
}

fn hall_row(h: &HallRow) -> Value {
    json!({"hall_id": h.hall_id, "name": h.name, "public_key": h.public_key, "version": h.version,
           "registered_at": h.registered_at, "last_contact": h.last_contact,
           "backlog": h.backlog.max(0), "head_seq": h.head_seq, "health": h.health.as_str()})
}

/// Unauthenticated, like the hall's: the UI learns here that it talks to a fleet view.
async fn health(State(s): State<FleetState>) -> Json<Value> {
    Json(json!({
        "status": "ok", "timestamp": Utc::now().to_rfc3339(),
        "token_file": s.token_file.as_ref(), "mode": "fleet",
    }))
}

async fn decisions(State(s): State<FleetState>, Q(q): Q<DecisionQuery>) -> ApiResult {
    check_filter_ids(&q)?;
    let (request, hall_id) = q.into_page()?;
    let filter = DecisionFilter {
        hall_id,
        filter: request.filter,
    };
    let page = s
        .reader
        .decisions(&filter, request.limit, request.cursor.as_deref())
        .await
        .map_err(central)?;
    let records: Vec<Value> = page.records.iter().map(decision_record).collect();
    Ok(Json(
        json!({"decisions": records, "next_cursor": page.next_cursor}),
    ))
}

async fn decision(State(s): State<FleetState>, Id(id): Id) -> ApiResult {
    let Some((found, linked)) = s.reader.decision(&id).await.map_err(central)? else {
        return Err(ApiError::not_found(format!(
            "decision {id} is not in the central store"
        )));
    };
    let mut detail = decision_record(&found);
    detail["linked"] = linked.iter().map(linked_record).collect();
    Ok(Json(detail))
}

async fn trace(State(s): State<FleetState>, Id(id): Id) -> ApiResult {
    let t = s.reader.trace(&id).await.map_err(central)?;
    Ok(Json(json!({
        "correlation_id": id,
        "decisions": t.decisions.iter().map(decision_record).collect::<Vec<_>>(),
        "health_transitions": t.health_transitions.iter().map(hall_event).collect::<Vec<_>>(),
        "linked": t.linked.iter().map(linked_record).collect::<Vec<_>>(),
    })))
}

async fn stats(State(s): State<FleetState>, Q(q): Q<StatsQuery>) -> ApiResult {
    let bucket_seconds = q.bucket_seconds()?;
    let f = s
        .reader
        .stats(q.since, q.until, None, bucket_seconds, 10)
        .await
        .map_err(central)?;
    let counts = |items: &[ledger::Count]| -> Value {
        items
            .iter()
            .map(|c| (c.key.clone(), json!(c.count)))
            .collect()
    };
    // Worker health is each hall's, live; the central store keeps none: zero of each state
    // (the UI shows the halls' health instead in fleet mode).
    let workers: Map<String, Value> = [
        HealthState::Healthy,
        HealthState::Degraded,
        HealthState::Stale,
        HealthState::Offline,
    ]
    .iter()
    .map(|state| (state.as_str().to_string(), json!(0)))
    .collect();
    let st = &f.stats;
    let deny_rate = if st.total == 0 {
        0.0
    } else {
        st.denied as f64 / st.total as f64
    };
    Ok(Json(json!({
        "decisions_total": st.total, "allowed": st.total - st.denied, "denied": st.denied,
        "deny_rate": deny_rate, "by_deny_code": counts(&st.top_deny_codes),
        "by_worker": counts(&st.workers), "buckets": st.buckets, "workers": workers,
        "alerts_open": f.alerts_open, "uptime_s": s.started.elapsed().as_secs(),
    })))
}

async fn halls(State(s): State<FleetState>) -> ApiResult {
    let halls = s.reader.halls(Utc::now()).await.map_err(central)?;
    let rows: Vec<Value> = halls.iter().map(hall_row).collect();
    Ok(Json(json!({"count": rows.len(), "halls": rows})))
}
