//! Handlers: each one unpacks the request, calls one `Hall` method and shapes the answer.
//! No business logic lives here. Every face runs these same handlers: HTTP clients through the
//! server, and the desktop, whose one Tauri command (`hall_call`, src-tauri/src/commands.rs)
//! dispatches the named operation into this same axum router rather than calling `Hall`.

use super::error::ApiError;
use super::extract::{check_id, Id, JsonBody, OptionalJsonBody, Q};
use super::AppState;
use crate::attest_ops::{AttestSignRequest, AttestVerifyRequest, PathRequest, VerifyRequest};
use crate::config::Thresholds;
use crate::health::Heartbeat;
use crate::queries::{AlertsQuery, DecisionQuery, StatsQuery};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};

type ApiResult<T = Response> = Result<T, ApiError>;

/// Unauthenticated, so it also tells a first-time UI where the token it needs is kept.
pub async fn health(State(s): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "ok", "timestamp": Utc::now().to_rfc3339(),
        "token_file": s.hall.config().token_file,
    }))
}

/// Prometheus' scrape (docs/observability.md): the text exposition format, not JSON.
pub async fn metrics(State(s): State<AppState>) -> Response {
    let content_type = [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)];
    (content_type, s.hall.metrics_text()).into_response()
}

/// `configured: false` and nothing else without `[fleet]`.
pub async fn fleet_status(State(s): State<AppState>) -> Json<fleet::FleetStatus> {
    Json(s.hall.fleet_status().unwrap_or_default())
}

pub async fn route(State(s): State<AppState>, JsonBody(input): JsonBody<Value>) -> ApiResult {
    let routed = s.hall.route(input).await?;
    // The decision JSON is already serialized (it is what the ledger stored): splice the receipt in
    // rather than re-serializing the whole decision.
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        routed.into_response_bytes(),
    )
        .into_response())
}

pub async fn enroll(State(s): State<AppState>, JsonBody(record): JsonBody<Value>) -> ApiResult {
    let enrolled = s.hall.enroll(record).await?;
    let status = if enrolled.updated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(enrolled)).into_response())
}

/// `POST /enroll`: the reference hall's enrollment (WCP §4.1) for clients written against it,
/// behind the same bearer auth as everything else. As in the reference, `artifact_hash` is
/// required and errors are `{"error": text}` (plus `code` on tamper).
pub async fn reference_enroll(
    State(s): State<AppState>,
    JsonBody(record): JsonBody<Value>,
) -> Response {
    let refuse = |body: Value| (StatusCode::BAD_REQUEST, Json(body)).into_response();
    if let Err(problem) = crate::live::validate_record(&record) {
        return refuse(json!({ "error": problem }));
    }
    if !record.get("artifact_hash").is_some_and(Value::is_string) {
        return refuse(
            json!({"error": "artifact_hash is required. Compute it as sha256: + the SHA-256 of the \
            record's compact sorted-keys JSON without artifact_hash (docs/API.md, POST /v1/workers)."}),
        );
    }
    match s.hall.enroll(record).await {
        Ok(e) if e.updated => Json(json!({"enrolled": true, "updated": true, "worker_id": e.worker_id,
            "artifact_hash_verified": true})).into_response(),
        Ok(e) => (StatusCode::CREATED, Json(json!({"enrolled": true, "enrollment_id": uuid::Uuid::new_v4().to_string(),
            "worker_id": e.worker_id, "enrolled_at": e.enrolled_at, "artifact_hash_verified": true}))).into_response(),
        Err(crate::HallError::EnrollTampered) => refuse(json!({"error": "artifact_hash mismatch — record was tampered",
            "code": "DENY_WORKER_TAMPERED"})),
        Err(crate::HallError::InvalidRecord(problem)) => refuse(json!({ "error": problem })),
        Err(other) => ApiError::from(other).into_response(),
    }
}

pub async fn workers(State(s): State<AppState>) -> Json<Value> {
    let workers = s.hall.workers();
    Json(json!({"count": workers.len(), "workers": workers}))
}

pub async fn heartbeat(
    State(s): State<AppState>,
    Id(worker_id): Id,
    OptionalJsonBody(hb): OptionalJsonBody<Heartbeat>,
) -> ApiResult<Json<Value>> {
    if hb.latency_ms.is_some_and(|l| !(l.is_finite() && l >= 0.0)) {
        return Err(ApiError::invalid_body(
            "latency_ms must be a non-negative number",
        ));
    }
    let health = s.hall.heartbeat(&worker_id, &hb)?;
    Ok(Json(json!({"worker_id": worker_id, "health": health})))
}

pub async fn decisions(
    State(s): State<AppState>,
    Q(q): Q<DecisionQuery>,
) -> ApiResult<Json<Value>> {
    check_filter_ids(&q)?;
    Ok(Json(s.hall.decisions(q).await?))
}

pub async fn decisions_summary(
    State(s): State<AppState>,
    Q(q): Q<DecisionQuery>,
) -> ApiResult<Json<crate::queries::summary::DecisionSummary>> {
    check_filter_ids(&q)?;
    Ok(Json(s.hall.decisions_summary(q).await?))
}

pub async fn decisions_count(
    State(s): State<AppState>,
    Q(q): Q<DecisionQuery>,
) -> ApiResult<Json<crate::queries::summary::DecisionCount>> {
    check_filter_ids(&q)?;
    Ok(Json(s.hall.decisions_count(q).await?))
}

/// Every id filter of `GET /v1/decisions` as long and as clean as an id in a path.
pub(crate) fn check_filter_ids(q: &DecisionQuery) -> ApiResult<()> {
    for id in q.ids().into_iter().flatten() {
        check_id(id).map_err(|e| ApiError::invalid_query(e.message))?;
    }
    Ok(())
}

/// `GET /v1/fleet/halls` is the fleet view's (`crate::fleet_view`); a hall is not a fleet.
pub async fn fleet_halls() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "FLEET_VIEW_ONLY",
        "the halls of a fleet are listed by the fleet view (`proctor serve --fleet \
         --database-url URL`), not by a hall",
    )
}

pub async fn decision(State(s): State<AppState>, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(s.hall.decision(&id).await?))
}

pub async fn trace(State(s): State<AppState>, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(s.hall.trace(&id).await?))
}

pub async fn stats(State(s): State<AppState>, Q(q): Q<StatsQuery>) -> ApiResult<Json<Value>> {
    Ok(Json(s.hall.stats(q).await?))
}

pub async fn issues(
    State(s): State<AppState>,
    Q(q): Q<crate::queries::IssuesQuery>,
) -> ApiResult<Json<crate::queries::IssueList>> {
    Ok(Json(s.hall.issues(q).await?))
}

pub async fn hall_events(
    State(s): State<AppState>,
    Q(q): Q<crate::queries::HallEventsQuery>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.hall.hall_events(q).await?))
}

pub async fn ledger_verify(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(s.hall.verify_ledger().await?))
}

pub async fn alerts(State(s): State<AppState>, Q(q): Q<AlertsQuery>) -> ApiResult<Json<Value>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid_query("limit must be between 1 and 500"));
    }
    let alerts = s.hall.alerts(q.open, limit).await?;
    Ok(Json(json!({"count": alerts.len(), "alerts": alerts})))
}

pub async fn ack_alert(
    State(s): State<AppState>,
    Id(id): Id,
    desktop: Option<axum::Extension<crate::alerts::DesktopUser>>,
    OptionalJsonBody(req): OptionalJsonBody<crate::alerts::AckRequest>,
) -> ApiResult<Json<Value>> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::invalid_id(format!("alert id {id:?} is not a number")))?;
    // An HTTP client is whoever holds the token; the desktop knows its OS user.
    let default_by = desktop
        .as_ref()
        .map_or(crate::alerts::DEFAULT_ACKED_BY, |d| d.0 .0.as_str());
    Ok(Json(
        serde_json::to_value(s.hall.ack_alert(id, req, default_by).await?)
            .expect("alert serializes"),
    ))
}

pub async fn ticket(State(s): State<AppState>) -> Json<Value> {
    let (ticket, expires_at) = s.tickets.issue();
    Json(json!({"ticket": ticket, "expires_at": expires_at.to_rfc3339()}))
}

pub async fn attest_hash(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<PathRequest>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.hall.attest_hash(req).await?))
}

pub async fn attest_verify(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<AttestVerifyRequest>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.hall.attest_verify(req).await?))
}

pub async fn attest_sign(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<AttestSignRequest>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.hall.attest_sign(req).await?))
}

pub async fn verify_worker(
    State(s): State<AppState>,
    Id(worker_id): Id,
    OptionalJsonBody(req): OptionalJsonBody<VerifyRequest>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.hall.verify_worker(&worker_id, req).await?))
}

pub async fn settings(State(s): State<AppState>) -> Json<Value> {
    Json(s.hall.settings())
}

pub async fn put_thresholds(
    State(s): State<AppState>,
    JsonBody(t): JsonBody<Thresholds>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.hall.set_thresholds(t)?))
}

pub async fn openapi() -> Json<Value> {
    Json(super::openapi::document())
}
