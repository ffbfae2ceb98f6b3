//! JSON error bodies `{"error": {"code", "message"}}` and the status of every error code.

use crate::error::HallError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_JSON", message)
    }
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY", message)
    }
    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_QUERY", message)
    }
    pub fn invalid_id(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_ID", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// The code used when a layer below us (axum, tower-http) produced a bare error status.
    pub fn code_for_status(status: StatusCode) -> &'static str {
        match status {
            StatusCode::BAD_REQUEST => "BAD_REQUEST",
            StatusCode::UNAUTHORIZED => "UNAUTHORIZED",
            StatusCode::NOT_FOUND => "NOT_FOUND",
            StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
            StatusCode::REQUEST_TIMEOUT => "TIMEOUT",
            StatusCode::PAYLOAD_TOO_LARGE => "BODY_TOO_LARGE",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
            StatusCode::UNPROCESSABLE_ENTITY => "INVALID_BODY",
            StatusCode::SERVICE_UNAVAILABLE => "UNAVAILABLE",
            s if s.is_server_error() => "INTERNAL",
            _ => "HTTP_ERROR",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(error_body(self.code, None, &self.message)),
        )
            .into_response()
    }
}

/// `{"error": {"code", "message"}}`, with the `decision_id` the error stands for when there is
/// one (a decision that could not be recorded): every error body of the API, and the lines
/// `proctor route --db` prints for withheld decisions ([`crate::Withheld`]).
pub fn error_body(code: &str, decision_id: Option<&str>, message: &str) -> Value {
    let mut error = Map::new();
    error.insert("code".into(), code.into());
    if let Some(id) = decision_id {
        error.insert("decision_id".into(), id.into());
    }
    error.insert("message".into(), message.into());
    let mut body = Map::new();
    body.insert("error".into(), Value::Object(error));
    Value::Object(body)
}

impl From<HallError> for ApiError {
    fn from(err: HallError) -> Self {
        let status = match &err {
            HallError::InvalidRouteInput(_)
            | HallError::InvalidRecord(_)
            | HallError::EnrollTampered
            | HallError::InvalidPath(_)
            | HallError::InvalidQuery(_)
            | HallError::NoNamespaceKey(_) => StatusCode::BAD_REQUEST,
            HallError::InvalidSettings(_) => StatusCode::UNPROCESSABLE_ENTITY,
            HallError::NotFound(_) => StatusCode::NOT_FOUND,
            HallError::Conflict(_) => StatusCode::CONFLICT,
            HallError::LedgerUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            HallError::Config(_) | HallError::Io { .. } | HallError::Attest(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        // Ledger failures are logged by the recorder, rate-limited: a full disk fails every
        // request, and a line each filled the log faster than the ledger had.
        if status.is_server_error() && !matches!(err, HallError::LedgerUnavailable(_)) {
            tracing::error!(code = err.code(), error = %err, "request failed");
        }
        ApiError::new(status, err.code(), err.to_string())
    }
}
