//! Extractors that turn every malformed request into a precise JSON 4xx (never axum's plain-text
//! rejections, never a 5xx).

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::any::TypeId;

/// Longest id accepted in a path segment or a query filter: any id a route accepted can be looked up.
pub const MAX_ID_LEN: usize = crate::hall::MAX_INPUT_ID_LEN;

/// A JSON body. Syntax problems (including invalid UTF-8 and nesting deeper than serde_json's
/// limit of 128) are `400 BAD_JSON`; well-formed JSON of the wrong shape is `422 INVALID_BODY`
/// (see [`parse`]).
pub struct JsonBody<T>(pub T);

/// Like [`JsonBody`] but an empty body means `T::default()` (heartbeat, verify).
pub struct OptionalJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + 'static> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_json_bytes(req, state).await?;
        parse(&bytes).map(JsonBody)
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Default + 'static> FromRequest<S>
    for OptionalJsonBody<T>
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty_ok = !req.headers().contains_key(CONTENT_TYPE);
        let bytes = if empty_ok {
            Bytes::from_request(req, state).await.map_err(rejection)?
        } else {
            read_json_bytes(req, state).await?
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        parse(&bytes).map(OptionalJsonBody)
    }
}

async fn read_json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        });
    if !is_json {
        return Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "expected Content-Type: application/json",
        ));
    }
    Bytes::from_request(req, state).await.map_err(rejection)
}

/// Body read failures: the only realistic one is the size limit (a body that does not arrive in
/// time is answered by `deadline::body`).
fn rejection(r: axum::extract::rejection::BytesRejection) -> ApiError {
    ApiError::new(
        r.status(),
        ApiError::code_for_status(r.status()),
        r.body_text(),
    )
}

/// Parse JSON with the 400/422 split described on [`JsonBody`].
///
/// A raw document (`T` = `Value`: a RouteInput, a registry record) goes to its own parser, which
/// reports shape errors in its own terms. A typed body is read as a document first, so that only
/// syntax is a 400 (serde_json calls `null` for an enum a syntax error), and must be an object
/// (derived struct deserializers would also take an array of the fields in order).
pub fn parse<T: DeserializeOwned + 'static>(bytes: &[u8]) -> Result<T, ApiError> {
    let syntax = |e: serde_json::Error| match e.classify() {
        serde_json::error::Category::Data => ApiError::invalid_body(e.to_string()),
        _ => ApiError::bad_json(e.to_string()),
    };
    if TypeId::of::<T>() == TypeId::of::<Value>() {
        return serde_json::from_slice(bytes).map_err(syntax);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(syntax)?;
    if !value.is_object() {
        return Err(ApiError::invalid_body("the body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| ApiError::invalid_body(e.to_string()))
}

/// Query parameters with `400 INVALID_QUERY` naming the parameter on failure.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        check_query(parts.uri.query().unwrap_or(""))?;
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Q(q.0))
            .map_err(|e| ApiError::invalid_query(e.body_text()))
    }
}

/// Refuses what the form decoder would silently repair: an invalid percent escape, or one that
/// decodes to bytes that are not UTF-8 (`?tenant_id=%ff` would otherwise become U+FFFD and
/// match nothing).
fn check_query(query: &str) -> Result<(), ApiError> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = String::from_utf8_lossy(&percent_decode(key).unwrap_or_default()).into_owned();
        let printable = name.escape_debug();
        for (part, text) in [("name", key), ("value", value)] {
            match percent_decode(text) {
                Err(at) => {
                    return Err(ApiError::invalid_query(format!(
                        "query parameter \"{printable}\": invalid percent escape at byte {at} of its {part}"
                    )))
                }
                Ok(bytes) if std::str::from_utf8(&bytes).is_err() => {
                    return Err(ApiError::invalid_query(format!(
                        "query parameter \"{printable}\": its {part} is not UTF-8 once percent-decoded"
                    )))
                }
                Ok(_) => {}
            }
        }
    }
    Ok(())
}

/// Decodes `%XX` escapes (a form's `+` stays a `+`: it is never invalid); `Err` holds the byte
/// offset of an escape that is not `%` and two hex digits.
pub fn percent_decode(text: &str) -> Result<Vec<u8>, usize> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(i)?;
                // Not `from_str_radix` alone: it takes a sign (`%+1`).
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err(i);
                }
                let hex = std::str::from_utf8(hex).map_err(|_| i)?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| i)?);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// One id from the path, checked for length and control characters.
pub struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(id) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::invalid_id(e.body_text()))?;
        check_id(&id)?;
        Ok(Id(id))
    }
}

pub fn check_id(id: &str) -> Result<(), ApiError> {
    if id.trim().is_empty() {
        return Err(ApiError::invalid_id("id is empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(ApiError::invalid_id(format!(
            "id is {} bytes long; the limit is {MAX_ID_LEN}",
            id.len()
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(ApiError::invalid_id("id contains control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_decode_and_bad_ones_name_their_offset() {
        assert_eq!(percent_decode("a%20b+c").unwrap(), b"a b+c");
        assert_eq!(percent_decode("%e2%9C%93").unwrap(), "\u{2713}".as_bytes());
        assert_eq!(percent_decode("ab%"), Err(2));
        assert_eq!(percent_decode("%4"), Err(0));
        assert_eq!(percent_decode("x%zz"), Err(1));
        assert_eq!(percent_decode("%+1"), Err(0));
    }

    #[test]
    fn a_query_that_decodes_to_non_utf8_or_bad_escapes_names_the_parameter() {
        assert!(check_query("tenant_id=a%20b&limit=5&&flag").is_ok());
        let msg = |q: &str| check_query(q).unwrap_err().message;
        assert!(msg("limit=5&tenant_id=%ff").contains("\"tenant_id\": its value is not UTF-8"));
        assert!(msg("tenant_id=%zz").contains("\"tenant_id\": invalid percent escape"));
        assert!(msg("%ff=1").contains("its name is not UTF-8"));
    }
}
