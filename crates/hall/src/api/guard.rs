//! Host and Origin checks for requests that arrive over the network (DNS rebinding, cross-site
//! writes). A page on `evil.example` whose name an attacker re-points at 127.0.0.1 reaches the
//! hall from the victim's browser with `Host: evil.example`; it is refused before any route, `/`
//! and `/health` included. The hall's own names are the loopback names, the address it listens on
//! and the address the connection came in on (a hall listening on every interface answers to the
//! address a client dialled), each with the port it listens on. An IP literal cannot be
//! re-pointed, so naming one of its own addresses is safe.
//!
//! The server applies this per connection ([`crate::server`]); the desktop's in-process dispatch
//! into the router has no network peer and no Host to check.

use super::error::ApiError;
use axum::body::Bytes;
use axum::http::header::{HOST, ORIGIN};
use axum::http::uri::Authority;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::future::Either;
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::{IpAddr, SocketAddr};
use std::task::{Context, Poll};

type Request<B> = axum::http::Request<B>;

/// Names that always mean this machine.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The API router behind the checks, for one connection.
#[derive(Clone)]
pub struct Guarded {
    app: Router,
    ours: Ours,
}

/// The addresses a connection may name: the listener's and the one it came in on (same port).
#[derive(Clone, Copy)]
struct Ours {
    listen: SocketAddr,
    local: SocketAddr,
}

impl Guarded {
    /// `app` for a connection that came in on `local` of a listener bound to `listen`.
    pub fn new(app: Router, listen: SocketAddr, local: SocketAddr) -> Self {
        Self {
            app,
            ours: Ours { listen, local },
        }
    }
}

impl<B> tower::Service<Request<B>> for Guarded
where
    B: axum::body::HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future =
        Either<Ready<Result<Response, Infallible>>, axum::routing::future::RouteFuture<Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower::Service::<Request<B>>::poll_ready(&mut self.app, cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        match refusal(&self.ours, &req) {
            Some(refused) => Either::Left(ready(Ok(refused.into_response()))),
            None => Either::Right(tower::Service::call(&mut self.app, req)),
        }
    }
}

/// Why `req` may not reach the API, if it may not.
fn refusal<B>(ours: &Ours, req: &Request<B>) -> Option<ApiError> {
    let mut hosts = req.headers().get_all(HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(host), None) => host.to_str().ok().and_then(|h| h.parse::<Authority>().ok()),
        (None, _) => None,
        (Some(_), Some(_)) => return Some(misdirected("more than one Host header".into())),
    };
    // An absolute request target (`GET http://name/ HTTP/1.1`) names the host too (RFC 9112
    // §3.2.2): both must be ours.
    for authority in host.iter().chain(req.uri().authority()) {
        if !ours.names(authority) {
            return Some(misdirected(format!(
                "Host {authority:?} is not this hall: use http://127.0.0.1:{port} or http://localhost:{port}",
                port = ours.local.port()
            )));
        }
    }
    if host.is_none() && req.uri().authority().is_none() {
        return Some(misdirected(
            "missing or malformed Host header (HTTP/1.1 requires one)".into(),
        ));
    }
    if changes_state(req.method()) {
        if let Some(origin) = req.headers().get(ORIGIN) {
            let text = String::from_utf8_lossy(origin.as_bytes());
            if !ours.is_origin(&text) {
                return Some(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "FOREIGN_ORIGIN",
                    format!(
                        "Origin {text:?} may not change this hall's state: only pages the hall serves may"
                    ),
                ));
            }
        }
    }
    None
}

fn misdirected(message: String) -> ApiError {
    ApiError::new(StatusCode::MISDIRECTED_REQUEST, "MISDIRECTED_HOST", message)
}

fn changes_state(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

impl Ours {
    /// A loopback name or one of our addresses, with the port the connection came to (80 when
    /// the authority names none, as for any `http` URL).
    fn names(&self, authority: &Authority) -> bool {
        let port = authority.port_u16().unwrap_or(80);
        if authority.as_str().contains('@') || port != self.local.port() {
            return false;
        }
        let host = authority.host().to_ascii_lowercase();
        if LOOPBACK_NAMES.contains(&host.as_str()) {
            return true;
        }
        let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        else {
            return false;
        };
        [self.listen.ip(), self.local.ip()]
            .iter()
            .any(|own| own.to_canonical() == ip.to_canonical())
    }

    /// `http://<one of our authorities>`, nothing more (no path, no `null`, no other scheme).
    fn is_origin(&self, origin: &str) -> bool {
        origin
            .strip_prefix("http://")
            .and_then(|rest| rest.parse::<Authority>().ok())
            .is_some_and(|authority| self.names(&authority))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, host: Option<&str>, origin: Option<&str>) -> Request<()> {
        let mut b = Request::builder().method(method).uri("/v1/route");
        if let Some(h) = host {
            b = b.header(HOST, h);
        }
        if let Some(o) = origin {
            b = b.header(ORIGIN, o);
        }
        b.body(()).unwrap()
    }

    /// The refusal's code for a connection to `local` of a listener on the same address.
    fn code(
        local: &str,
        method: Method,
        host: Option<&str>,
        origin: Option<&str>,
    ) -> Option<&'static str> {
        let local = local.parse().unwrap();
        let ours = Ours {
            listen: local,
            local,
        };
        refusal(&ours, &req(method, host, origin)).map(|e| e.code)
    }

    #[test]
    fn loopback_names_and_the_local_address_with_its_port_are_ours() {
        let l = "127.0.0.1:8765";
        for host in [
            "127.0.0.1:8765",
            "localhost:8765",
            "LocalHost:8765",
            "[::1]:8765",
        ] {
            assert_eq!(code(l, Method::GET, Some(host), None), None, "{host}");
        }
        for host in [
            "evil.example:8765",
            "127.0.0.1:8766",
            "localhost",
            "127.0.0.2:8765",
            "localhost.:8765",
            "user@localhost:8765",
            "",
        ] {
            assert_eq!(
                code(l, Method::GET, Some(host), None),
                Some("MISDIRECTED_HOST"),
                "{host}"
            );
        }
        assert_eq!(code(l, Method::GET, None, None), Some("MISDIRECTED_HOST"));
        // Bound to a LAN address: that address is ours too; port 80 may be left out.
        assert_eq!(
            code("192.168.1.5:80", Method::GET, Some("192.168.1.5"), None),
            None
        );
        assert_eq!(
            code("[fe80::1]:9000", Method::GET, Some("[FE80::1]:9000"), None),
            None
        );
        // Listening on every interface: the address dialled, and the listen address itself
        // (`hall.url` says `http://0.0.0.0:port`).
        let everywhere = Ours {
            listen: "0.0.0.0:9000".parse().unwrap(),
            local: "10.0.0.7:9000".parse().unwrap(),
        };
        for host in ["10.0.0.7:9000", "0.0.0.0:9000", "localhost:9000"] {
            assert!(
                refusal(&everywhere, &req(Method::GET, Some(host), None)).is_none(),
                "{host}"
            );
        }
        assert!(refusal(&everywhere, &req(Method::GET, Some("10.0.0.8:9000"), None)).is_some());
        // An IPv4 client on a dual-stack socket arrives at an IPv4-mapped local address.
        assert_eq!(
            code(
                "[::ffff:10.0.0.7]:9000",
                Method::GET,
                Some("10.0.0.7:9000"),
                None
            ),
            None
        );
    }

    #[test]
    fn a_foreign_origin_may_read_nothing_new_and_change_nothing() {
        let l = "127.0.0.1:8765";
        let host = Some("127.0.0.1:8765");
        for ours in ["http://127.0.0.1:8765", "http://localhost:8765"] {
            assert_eq!(code(l, Method::POST, host, Some(ours)), None, "{ours}");
        }
        for foreign in [
            "http://evil.example:8765",
            "http://127.0.0.1:3000",
            "https://127.0.0.1:8765",
            "null",
            "http://127.0.0.1:8765/path",
            "tauri://localhost",
        ] {
            for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
                assert_eq!(
                    code(l, m, host, Some(foreign)),
                    Some("FOREIGN_ORIGIN"),
                    "{foreign}"
                );
            }
            // Reads carry no Origin check: CORS already keeps their answers from the page.
            assert_eq!(code(l, Method::GET, host, Some(foreign)), None, "{foreign}");
        }
        // Non-browser clients send no Origin.
        assert_eq!(code(l, Method::POST, host, None), None);
    }
}
