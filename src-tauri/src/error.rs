//! Errors of the desktop shell.

use serde::Serialize;

/// Why the embedded hall could not start (shown to the user, then the app exits).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("no data directory: {0}")]
    DataDir(String),
    #[error("the hall's configuration could not be loaded: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {reason} (another program, or the hall of another data dir, listens there: set `listen` in this data dir's config.toml, or PROCTOR_LISTEN)")]
    Bind { addr: String, reason: String },
    #[error("the hall could not open: {0}")]
    Open(String),
}

/// What a failed command returns to the webview: the HTTP status and the hall's own error body,
/// `{"status": 404, "error": {"code": "NOT_FOUND", "message": "..."}}`, so the UI handles both
/// transports the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{status} {}: {}", error.code, error.message)]
pub struct CommandError {
    pub status: u16,
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

impl CommandError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            error: ErrorBody {
                code: code.to_string(),
                message: message.into(),
            },
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "INTERNAL", message)
    }
}
