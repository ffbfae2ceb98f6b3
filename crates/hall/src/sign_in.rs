//! Single-use sign-in links. `proctor serve` prints `http://127.0.0.1:PORT/#signin=<code>`:
//! the code is random (256 bits), valid once and for [`CODE_TTL`], and travels in the URL's
//! fragment, which browsers never send, so it reaches no access log or proxy. The UI trades it
//! for the API token with `POST /v1/session` (docs/hall.md, "Signing in"). The token itself is
//! never put in a URL.

use crate::api::error::ApiError;
use crate::api::extract::JsonBody;
use crate::api::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// Where the UI trades a code for the token.
pub const SESSION_PATH: &str = "/v1/session";

/// How long a printed link works.
pub const CODE_TTL: Duration = Duration::from_secs(10 * 60);

/// Why a code was refused (each is a 401 with its own code name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not a code this hall issued (or none was issued: the desktop, `--no-sign-in-link`).
    Unknown,
    Used,
    Expired,
}

impl Refused {
    pub fn code(self) -> &'static str {
        match self {
            Refused::Unknown => "SIGN_IN_CODE_UNKNOWN",
            Refused::Used => "SIGN_IN_CODE_USED",
            Refused::Expired => "SIGN_IN_CODE_EXPIRED",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refused::Unknown => "this sign-in link is not one this hall issued; sign in with the API token",
            Refused::Used => "this sign-in link was already used (a link works once); sign in with the API token",
            Refused::Expired => "this sign-in link expired (a link works for 10 minutes); sign in with the API token, or restart `proctor serve` for a new link",
        }
    }
}

/// The codes a hall issued. Only their SHA-256 is kept, and a presented code is compared with
/// every one in constant time, so neither memory nor timing gives a code away.
pub struct SignInCodes {
    ttl: Duration,
    issued: Mutex<Vec<Issued>>,
}

impl Default for SignInCodes {
    fn default() -> Self {
        Self::with_ttl(CODE_TTL)
    }
}

struct Issued {
    digest: [u8; 32],
    at: Instant,
    used: bool,
}

impl SignInCodes {
    /// Codes valid for `ttl` instead of [`CODE_TTL`] (tests of expiry).
    pub fn with_ttl(ttl: Duration) -> Self {
        Self {
            ttl,
            issued: Mutex::default(),
        }
    }

    /// A new code, valid once for [`CODE_TTL`].
    pub fn issue(&self) -> String {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let code = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let mut issued = self.issued.lock().expect("sign-in codes lock");
        issued.retain(|c| c.at.elapsed() < self.ttl);
        issued.push(Issued {
            digest: digest(&code),
            at: Instant::now(),
            used: false,
        });
        code
    }

    /// Accept `code` once, within its lifetime. Under one lock: of concurrent requests with
    /// the same code, exactly one is accepted.
    pub fn redeem(&self, code: &str) -> Result<(), Refused> {
        let presented = digest(code);
        let mut issued = self.issued.lock().expect("sign-in codes lock");
        let mut found = None;
        for (i, c) in issued.iter().enumerate() {
            if bool::from(c.digest.ct_eq(&presented)) {
                found = Some(i);
            }
        }
        let c = &mut issued[found.ok_or(Refused::Unknown)?];
        if c.used {
            return Err(Refused::Used);
        }
        if c.at.elapsed() >= self.ttl {
            return Err(Refused::Expired);
        }
        c.used = true;
        Ok(())
    }
}

/// `POST /v1/session` body.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    pub code: String,
}

/// `POST /v1/session` (no bearer token): the API token for a code this hall printed, once.
/// A hall serving without links (the desktop, `--no-sign-in-link`) knows no code.
pub async fn exchange(
    State(s): State<AppState>,
    codes: Option<Extension<Arc<SignInCodes>>>,
    JsonBody(req): JsonBody<SessionRequest>,
) -> Result<Json<Value>, ApiError> {
    let redeemed = match codes {
        Some(Extension(codes)) => codes.redeem(&req.code),
        None => Err(Refused::Unknown),
    };
    match redeemed {
        Ok(()) => Ok(Json(json!({"token": &*s.token}))),
        Err(why) => Err(ApiError::unauthorized(why.code(), why.message())),
    }
}

fn digest(code: &str) -> [u8; 32] {
    Sha256::digest(code.as_bytes()).into()
}

/// The link to print for a hall listening on `addr` (a wildcard address is reached on
/// loopback).
pub fn link(addr: std::net::SocketAddr, code: &str) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{addr}/#signin={code}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_works_once_and_only_while_fresh() {
        let codes = SignInCodes::default();
        let code = codes.issue();
        assert_eq!(code.len(), 43, "256 bits, base64url");
        assert_eq!(codes.redeem("nope"), Err(Refused::Unknown));
        assert_eq!(codes.redeem(&code), Ok(()));
        assert_eq!(codes.redeem(&code), Err(Refused::Used));
        let brief = SignInCodes::with_ttl(Duration::ZERO);
        let old = brief.issue();
        assert_eq!(brief.redeem(&old), Err(Refused::Expired));
        assert_eq!(SignInCodes::default().redeem(&code), Err(Refused::Unknown));
    }

    #[test]
    fn the_link_carries_the_code_in_its_fragment_on_a_reachable_address() {
        let any: std::net::SocketAddr = "0.0.0.0:8765".parse().unwrap();
        assert_eq!(link(any, "abc"), "http://127.0.0.1:8765/#signin=abc");
        let v6: std::net::SocketAddr = "[::1]:9".parse().unwrap();
        assert_eq!(link(v6, "abc"), "http://[::1]:9/#signin=abc");
    }
}
