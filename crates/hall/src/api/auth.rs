//! Bearer-token auth for `/v1`, plus single-use tickets for `EventSource` (which cannot send
//! headers). The token is compared in constant time and is never accepted from a URL.

use super::error::ApiError;
use super::AppState;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// How long an event-stream ticket stays valid.
pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// Query parameters that look like credentials: refused outright so tokens never sit in URLs/logs.
const CREDENTIAL_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "api_token",
    "auth",
    "authorization",
    "bearer",
];
/// Path (inside `/v1`) that accepts a ticket instead of the bearer header.
pub const EVENTS_PATH: &str = "/v1/events";

/// Constant-time token comparison (length leaks nothing useful: tokens have a fixed length).
pub fn token_matches(expected: &str, presented: &str) -> bool {
    expected.as_bytes().ct_eq(presented.as_bytes()).into()
}

/// What [`require_auth`] checks a request against: the token, and the event-stream tickets.
/// Its own state rather than [`AppState`], so the fleet view (which has no hall) shares it.
#[derive(Clone)]
pub struct Credentials {
    pub token: Arc<str>,
    pub tickets: Arc<Tickets>,
}

impl Credentials {
    pub fn of(state: &AppState) -> Self {
        Self {
            token: state.token.clone(),
            tickets: state.tickets.clone(),
        }
    }
}

/// Middleware for every `/v1` route.
pub async fn require_auth(
    State(state): State<Credentials>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // Undecodable query strings carry no credentials we could honour; treat them as empty here
    // (the handler's own query parsing reports them).
    let params = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    if params
        .iter()
        .any(|(k, _)| CREDENTIAL_PARAMS.contains(&k.to_ascii_lowercase().as_str()))
    {
        return Err(ApiError::unauthorized(
            "TOKEN_IN_QUERY",
            "credentials in the query string are refused; send `Authorization: Bearer <token>`",
        ));
    }
    if let Some(header) = req.headers().get(AUTHORIZATION) {
        return match header.to_str().ok().and_then(bearer_token) {
            Some(presented) if token_matches(&state.token, presented) => Ok(next.run(req).await),
            Some("") => Err(ApiError::unauthorized(
                "UNAUTHORIZED",
                "missing bearer token: `Authorization: Bearer` carries no token (an empty or \
                 unread token file? the token is the hall's data dir's `api-token`)",
            )),
            Some(_) => Err(ApiError::unauthorized("UNAUTHORIZED", "wrong bearer token")),
            None => Err(ApiError::unauthorized(
                "UNAUTHORIZED",
                "missing bearer token: the Authorization header is not `Bearer <token>`",
            )),
        };
    }
    if req.uri().path() == EVENTS_PATH {
        if let Some((_, ticket)) = params.iter().find(|(k, _)| k == "ticket") {
            return if state.tickets.redeem(ticket) {
                Ok(next.run(req).await)
            } else {
                Err(ApiError::unauthorized(
                    "INVALID_TICKET",
                    "event ticket unknown, used or expired",
                ))
            };
        }
    }
    Err(ApiError::unauthorized(
        "UNAUTHORIZED",
        "missing `Authorization: Bearer <token>` header",
    ))
}

/// The credentials of an `Authorization: Bearer <token>` header (`""` when the header names the
/// scheme without a token: `curl -H "Authorization: Bearer $(cat missing-file)"` sends
/// `Bearer `, which arrives as `Bearer`). The scheme name is case-insensitive (RFC 9110
/// §11.1): `bearer` and `BEARER` are the same scheme.
fn bearer_token(header: &str) -> Option<&str> {
    let header = header.trim();
    let (scheme, token) = header.split_once(' ').unwrap_or((header, ""));
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Single-use, short-lived tickets for the event stream.
#[derive(Default)]
pub struct Tickets {
    live: Mutex<HashMap<String, Instant>>,
}

impl Tickets {
    pub fn issue(&self) -> (String, DateTime<Utc>) {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let ticket = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let now = Instant::now();
        let mut live = self.live.lock().expect("ticket lock");
        live.retain(|_, issued| now.duration_since(*issued) < TICKET_TTL);
        live.insert(ticket.clone(), now);
        let expires = Utc::now() + chrono::Duration::from_std(TICKET_TTL).expect("small duration");
        (ticket, expires)
    }

    /// True once per ticket, within its lifetime.
    pub fn redeem(&self, ticket: &str) -> bool {
        let issued = self.live.lock().expect("ticket lock").remove(ticket);
        issued.is_some_and(|at| at.elapsed() < TICKET_TTL)
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_the_token_is_not_altered() {
        for h in ["Bearer abc", "bearer abc", "BEARER  abc ", " Bearer abc"] {
            assert_eq!(bearer_token(h), Some("abc"), "{h:?}");
        }
        assert_eq!(bearer_token("Bearer ABC"), Some("ABC"));
        for h in ["Bearer", "Bearer ", " bearer   "] {
            assert_eq!(bearer_token(h), Some(""), "{h:?}");
        }
        for h in ["Basic abc", "Bearerabc", ""] {
            assert_eq!(bearer_token(h), None, "{h:?}");
        }
    }
}
