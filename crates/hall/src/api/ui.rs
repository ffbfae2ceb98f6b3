//! Serving the built web UI (`ui/dist`) at `/`, with client-side routing fallback to `index.html`.

use super::error::ApiError;
use axum::Router;
use std::path::Path;
use tower_http::services::{ServeDir, ServeFile};

/// A router answering every non-API path from `dir`; without a UI, a JSON 404 that says how to
/// get one.
pub fn router<S: Clone + Send + Sync + 'static>(dir: Option<&Path>) -> Router<S> {
    match dir.filter(|d| d.join("index.html").is_file()) {
        Some(dir) => {
            let serve = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
            Router::new().fallback_service(serve)
        }
        None => Router::new().fallback(|| async {
            ApiError::not_found(format!(
                "no web UI here: build it (`npm run build` in ui/) or set {} to its directory",
                crate::config::UI_DIR_ENV
            ))
        }),
    }
}
