//! Tauri commands: one per hall API operation the UI uses, each a one-line dispatch into the
//! embedded hall's API router (see `embedded`). Names and paths mirror `OPS` in ui/src/lib/api.ts;
//! arguments are snake_case like the HTTP API's (`query` = query parameters, `body` = JSON body).

use crate::embedded::EmbeddedHall;
use crate::error::CommandError;
use axum::http::Method;
use serde_json::{Map, Value};
use tauri::State;

type Query = Option<Map<String, Value>>;
type Reply = Result<Value, CommandError>;

#[tauri::command(rename_all = "snake_case")]
pub async fn route(hall: State<'_, EmbeddedHall>, body: Value) -> Reply {
    hall.call(Method::POST, "/v1/route", &[], None, Some(&body))
        .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_workers(hall: State<'_, EmbeddedHall>) -> Reply {
    hall.call(Method::GET, "/v1/workers", &[], None, None).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn enroll_worker(hall: State<'_, EmbeddedHall>, body: Value) -> Reply {
    hall.call(Method::POST, "/v1/workers", &[], None, Some(&body))
        .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn verify_worker(
    hall: State<'_, EmbeddedHall>,
    worker_id: String,
    body: Option<Value>,
) -> Reply {
    let body = body.unwrap_or_else(|| Value::Object(Map::new()));
    hall.call(
        Method::POST,
        "/v1/workers/{worker_id}/verify",
        &[("worker_id", &worker_id)],
        None,
        Some(&body),
    )
    .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_decisions(hall: State<'_, EmbeddedHall>, query: Query) -> Reply {
    hall.call(Method::GET, "/v1/decisions", &[], query.as_ref(), None)
        .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn get_decision(hall: State<'_, EmbeddedHall>, decision_id: String) -> Reply {
    hall.call(
        Method::GET,
        "/v1/decisions/{decision_id}",
        &[("decision_id", &decision_id)],
        None,
        None,
    )
    .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn get_trace(hall: State<'_, EmbeddedHall>, correlation_id: String) -> Reply {
    hall.call(
        Method::GET,
        "/v1/traces/{correlation_id}",
        &[("correlation_id", &correlation_id)],
        None,
        None,
    )
    .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn get_stats(hall: State<'_, EmbeddedHall>, query: Query) -> Reply {
    hall.call(Method::GET, "/v1/stats", &[], query.as_ref(), None)
        .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn verify_ledger(hall: State<'_, EmbeddedHall>, query: Query) -> Reply {
    hall.call(Method::GET, "/v1/ledger/verify", &[], query.as_ref(), None)
        .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_alerts(hall: State<'_, EmbeddedHall>, query: Query) -> Reply {
    hall.call(Method::GET, "/v1/alerts", &[], query.as_ref(), None)
        .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn ack_alert(hall: State<'_, EmbeddedHall>, id: String) -> Reply {
    hall.call(
        Method::POST,
        "/v1/alerts/{id}/ack",
        &[("id", &id)],
        None,
        None,
    )
    .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn attest_hash(hall: State<'_, EmbeddedHall>, body: Value) -> Reply {
    hall.call(Method::POST, "/v1/attest/hash", &[], None, Some(&body))
        .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn attest_verify(hall: State<'_, EmbeddedHall>, body: Value) -> Reply {
    hall.call(Method::POST, "/v1/attest/verify", &[], None, Some(&body))
        .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn attest_sign(hall: State<'_, EmbeddedHall>, body: Value) -> Reply {
    hall.call(Method::POST, "/v1/attest/sign", &[], None, Some(&body))
        .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn get_settings(hall: State<'_, EmbeddedHall>) -> Reply {
    hall.call(Method::GET, "/v1/settings", &[], None, None)
        .await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn put_thresholds(hall: State<'_, EmbeddedHall>, body: Value) -> Reply {
    hall.call(
        Method::PUT,
        "/v1/settings/thresholds",
        &[],
        None,
        Some(&body),
    )
    .await
}
