//! The desktop's one Tauri command, `hall_call`: any hall API operation, named as in the hall's
//! endpoint table (`hall::api::endpoints`, the OpenAPI `operationId`), dispatched into the embedded
//! hall's API router (see `embedded`), so it answers exactly as the HTTP operation does. Its
//! arguments are the HTTP request's parts, snake_case like the API: `params` fill the path's
//! `{name}` segments, `query` becomes the query string, `body` is the JSON body.

use crate::embedded::EmbeddedHall;
use crate::error::CommandError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use tauri::State;

#[tauri::command(rename_all = "snake_case")]
pub async fn hall_call(
    hall: State<'_, EmbeddedHall>,
    operation: String,
    params: Option<BTreeMap<String, String>>,
    query: Option<Map<String, Value>>,
    body: Option<Value>,
) -> Result<Value, CommandError> {
    hall.call(
        &operation,
        &params.unwrap_or_default(),
        query.as_ref(),
        body.as_ref(),
    )
    .await
}
