//! The web UI at `/` and every other non-API path: the build embedded in the binary (`ui/dist`
//! when the hall was compiled), or, for UI development, the files of a configured `ui_dir`
//! (`PROCTOR_UI_DIR`), which are never served from outside that directory. A path that names no
//! file and looks like a client-side route (no extension) gets `index.html`.

use super::error::ApiError;
use super::extract::percent_decode;
use axum::body::Body;
use axum::http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The UI as built when the hall was compiled (empty when `ui/dist` did not exist then: the hall
/// then answers UI paths with a 404 that says how to get one). `build.rs` makes cargo rebuild when
/// `ui/dist` changes.
#[derive(rust_embed::Embed)]
#[folder = "../../ui/dist/"]
#[allow_missing = true]
struct Built;

/// Vite's content-hashed output: a name never changes its bytes, so browsers may keep it.
const HASHED_DIR: &str = "assets/";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else (`index.html` names the current hashed files) is revalidated on each load.
const REVALIDATE: &str = "no-cache";

#[derive(Clone)]
enum Source {
    Embedded,
    Dir(Arc<Path>),
}

/// A router answering every path the API does not.
pub fn router<S: Clone + Send + Sync + 'static>(dir: Option<&Path>) -> Router<S> {
    let source = match dir {
        Some(dir) => Source::Dir(dir.into()),
        None => Source::Embedded,
    };
    Router::new().fallback(move |method: Method, uri: Uri| serve(source.clone(), method, uri))
}

async fn serve(source: Source, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut refused = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            format!("{} serves the web UI: GET or HEAD only", uri.path()),
        )
        .into_response();
        refused
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return refused;
    }
    let Some(rel) = relative(uri.path()) else {
        return ApiError::not_found("no such file in the web UI").into_response();
    };
    let found = match source.load(&rel).await {
        Ok(None) if is_client_route(&rel) => source.load("index.html").await,
        found => found,
    };
    match found {
        Ok(Some((name, bytes))) => asset(&name, bytes),
        Ok(None) if source.load("index.html").await.is_ok_and(|i| i.is_some()) => {
            ApiError::not_found(format!("no file {rel:?} in the web UI")).into_response()
        }
        Ok(None) => source.no_ui().into_response(),
        Err(refused) => refused.into_response(),
    }
}

/// The file a URL path names, relative to the UI's root; `None` for a path that could climb out
/// (`..`), or that holds a NUL, a backslash or bytes that are not UTF-8.
fn relative(path: &str) -> Option<String> {
    let decoded = String::from_utf8(percent_decode(path).ok()?).ok()?;
    let rel = decoded.trim_start_matches('/');
    let bad_segment = rel.split('/').any(|s| s == ".." || s == ".");
    if bad_segment || rel.contains(['\0', '\\']) {
        return None;
    }
    Some(if rel.is_empty() { "index.html" } else { rel }.to_string())
}

/// `/workers` is the UI's own route; `/assets/x.js` or `/logo.png` is a file that is missing.
fn is_client_route(rel: &str) -> bool {
    let last = rel.rsplit('/').next().unwrap_or(rel);
    !rel.starts_with(HASHED_DIR) && !last.contains('.')
}

fn asset(name: &str, bytes: Cow<'static, [u8]>) -> Response {
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    let cache = if name.starts_with(HASHED_DIR) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(mime.essence_str()) {
        headers.insert(CONTENT_TYPE, mime);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

impl Source {
    /// The file `rel` (its name and bytes), `None` when there is none.
    async fn load(&self, rel: &str) -> Result<Option<(String, Cow<'static, [u8]>)>, ApiError> {
        match self {
            Source::Embedded => Ok(Built::get(rel).map(|f| (rel.to_string(), f.data))),
            Source::Dir(root) => {
                let (root, rel) = (root.clone(), rel.to_string());
                let read = tokio::task::spawn_blocking(move || read_contained(&root, &rel))
                    .await
                    .map_err(|e| {
                        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string())
                    })??;
                Ok(read.map(|(name, bytes)| (name, Cow::Owned(bytes))))
            }
        }
    }

    fn no_ui(&self) -> ApiError {
        match self {
            Source::Embedded => ApiError::not_found(format!(
                "no web UI in this build: build it (`npm --prefix ui run build`) then rebuild \
                 proctor, or set {} to a built UI's directory",
                crate::config::UI_DIR_ENV
            )),
            Source::Dir(root) => ApiError::not_found(format!(
                "no web UI in {} (ui_dir / {}): it has no index.html",
                root.display(),
                crate::config::UI_DIR_ENV
            )),
        }
    }
}

/// Reads `root/rel` only if the file it resolves to, symlinks followed, lies inside `root`: the
/// file is opened first and then checked to be the very file the canonical path names, so a link
/// swapped in between cannot lead the read outside.
fn read_contained(root: &Path, rel: &str) -> Result<Option<(String, Vec<u8>)>, ApiError> {
    use std::io::Read;
    let root = root
        .canonicalize()
        .map_err(|e| ApiError::not_found(format!("ui_dir {}: {e}", root.display())))?;
    let path = root.join(rel);
    let Ok(mut file) = std::fs::File::open(&path) else {
        return Ok(None);
    };
    let (Ok(opened), Ok(real)) = (file.metadata(), path.canonicalize()) else {
        return Ok(None);
    };
    if !real.starts_with(&root) {
        return Err(outside(rel, &root));
    }
    let Ok(named) = std::fs::metadata(&real) else {
        return Ok(None);
    };
    if !same_file(&opened, &named) {
        return Err(outside(rel, &root));
    }
    if !opened.is_file() {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(opened.len() as usize);
    file.read_to_end(&mut bytes)
        .map_err(|e| ApiError::not_found(format!("{rel}: {e}")))?;
    let name = real
        .strip_prefix(&root)
        .map_or_else(|_| PathBuf::from(rel), Path::to_path_buf);
    Ok(Some((name.to_string_lossy().into_owned(), bytes)))
}

fn outside(rel: &str, root: &Path) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "OUTSIDE_UI_DIR",
        format!("{rel:?} leads outside the UI directory {}", root.display()),
    )
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    (a.len(), a.modified().ok(), a.is_file()) == (b.len(), b.modified().ok(), b.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths_map_to_files_inside_the_ui_only() {
        assert_eq!(relative("/").as_deref(), Some("index.html"));
        assert_eq!(relative("/assets/a-1.js").as_deref(), Some("assets/a-1.js"));
        assert_eq!(relative("/a%20b.css").as_deref(), Some("a b.css"));
        for bad in [
            "/../api-token",
            "/assets/%2e%2e/x",
            "/a/./b",
            "/%ff",
            "/a%00",
            "/a\\b",
            "/%zz",
        ] {
            assert_eq!(relative(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_extensionless_paths_outside_assets_are_client_routes() {
        assert!(is_client_route("workers"));
        assert!(is_client_route("decisions/abc"));
        assert!(!is_client_route("assets/gone"));
        assert!(!is_client_route("favicon.png"));
    }

    #[cfg(unix)]
    #[test]
    fn a_dev_ui_dir_never_reads_through_a_link_that_leaves_it() {
        let outside_dir = tempfile::tempdir().unwrap();
        std::fs::write(outside_dir.path().join("secret"), "token").unwrap();
        let ui = tempfile::tempdir().unwrap();
        std::fs::write(ui.path().join("index.html"), "<html>").unwrap();
        std::os::unix::fs::symlink(outside_dir.path().join("secret"), ui.path().join("s.txt"))
            .unwrap();
        std::os::unix::fs::symlink(outside_dir.path(), ui.path().join("d")).unwrap();
        std::os::unix::fs::symlink("index.html", ui.path().join("inner.html")).unwrap();
        for rel in ["s.txt", "d/secret"] {
            let err = read_contained(ui.path(), rel).unwrap_err();
            assert_eq!(err.code, "OUTSIDE_UI_DIR", "{rel}");
        }
        let (name, bytes) = read_contained(ui.path(), "inner.html").unwrap().unwrap();
        assert_eq!(
            (name.as_str(), bytes.as_slice()),
            ("index.html", &b"<html>"[..])
        );
        assert!(read_contained(ui.path(), "missing.js").unwrap().is_none());
    }
}
