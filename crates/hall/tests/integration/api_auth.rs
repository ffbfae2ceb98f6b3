//! Authentication, tickets, CORS and security headers.

use crate::common;

use common::TestHall;

fn sample_path(path: &str) -> String {
    path.replace("{worker_id}", "org.a.w")
        .replace("{decision_id}", "d")
        .replace("{correlation_id}", "c")
        .replace("{id}", "1")
}

#[test]
fn every_v1_route_refuses_missing_wrong_and_query_string_tokens() {
    let hall = TestHall::start();
    let good = hall.bearer();
    for e in hall::api::endpoints() {
        let path = sample_path(e.path);
        let method = e.method.as_str();
        let body: Option<&[u8]> = (method != "GET").then_some(b"{}");
        if !e.auth {
            // Answered without a token (`/v1/session` here refuses the body without a code).
            let public = hall.request(method, &path, None, body);
            assert_ne!(
                public.body["error"]["code"], "UNAUTHORIZED",
                "{path} is public"
            );
            assert_eq!(
                public.status,
                if e.name == "health" { 200 } else { 422 },
                "{path}"
            );
            continue;
        }
        let none = hall.request(method, &path, None, body);
        assert_eq!(none.status, 401, "{method} {path} without token");
        assert_eq!(none.body["error"]["code"], "UNAUTHORIZED");
        let wrong = hall.request(
            method,
            &path,
            Some("Bearer 0000000000000000000000000000000000000000000000000000000000000000"),
            body,
        );
        assert_eq!(wrong.status, 401, "{method} {path} wrong token");
        let basic = hall.request(method, &path, Some(&format!("Basic {}", hall.token)), body);
        assert_eq!(basic.status, 401, "{method} {path} non-bearer scheme");
        for param in ["token", "access_token", "api_token"] {
            let sep = if path.contains('?') { '&' } else { '?' };
            let in_query = hall.request(
                method,
                &format!("{path}{sep}{param}={}", hall.token),
                Some(&good),
                body,
            );
            assert_eq!(in_query.status, 401, "{method} {path} token in query");
            assert_eq!(in_query.body["error"]["code"], "TOKEN_IN_QUERY");
        }
    }
    // The scheme name is case-insensitive (RFC 9110 §11.1); the token is not.
    let lower = format!("bearer {}", hall.token);
    assert_eq!(
        hall.request("GET", "/v1/workers", Some(&lower), None)
            .status,
        200
    );
    let upper_token = format!("Bearer {}", hall.token.to_uppercase());
    assert_eq!(
        hall.request("GET", "/v1/workers", Some(&upper_token), None)
            .status,
        401
    );
}

/// `curl -H "Authorization: Bearer $(cat <token file>)"` with a wrong path sends an empty
/// token: the hall says the token is missing, not wrong.
#[test]
fn an_empty_bearer_is_a_missing_token_not_a_wrong_one() {
    let hall = TestHall::start();
    for header in ["Bearer ", "Bearer", "bearer  "] {
        let r = hall.request("GET", "/v1/workers", Some(header), None);
        assert_eq!(r.status, 401, "{header:?}");
        assert_eq!(r.body["error"]["code"], "UNAUTHORIZED");
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("missing bearer token"),
            "{header:?}: {message}"
        );
        assert!(message.contains("api-token"), "{header:?}: {message}");
    }
    let r = hall.request("GET", "/v1/workers", Some("Basic abc"), None);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("missing bearer token"),
        "{}",
        r.body
    );
    let r = hall.request("GET", "/v1/workers", Some("Bearer 00ff"), None);
    assert_eq!(r.body["error"]["message"], "wrong bearer token");
    let r = hall.request("GET", "/v1/workers", None, None);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("missing `Authorization: Bearer <token>`"),
        "{}",
        r.body
    );
}

#[test]
fn event_tickets_are_single_use_and_only_open_the_event_stream() {
    let hall = TestHall::start();
    let t = hall.post("/v1/events/ticket", &serde_json::json!({}));
    assert_eq!(t.status, 200);
    let ticket = t.body["ticket"].as_str().unwrap().to_string();
    assert!(ticket.len() >= 43);

    // A ticket does not authenticate other routes.
    let other = hall.request("GET", &format!("/v1/workers?ticket={ticket}"), None, None);
    assert_eq!(other.status, 401);

    // First use opens the stream (headers arrive; we do not read the body).
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let resp = agent
        .get(hall.url(&format!("/v1/events?ticket={ticket}")))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    drop(resp);
    let reuse = hall.request("GET", &format!("/v1/events?ticket={ticket}"), None, None);
    assert_eq!(reuse.status, 401);
    assert_eq!(reuse.body["error"]["code"], "INVALID_TICKET");
    let forged = hall.request("GET", "/v1/events?ticket=forged", None, None);
    assert_eq!(forged.status, 401);
}

#[test]
fn cors_is_closed_and_security_headers_are_everywhere() {
    let hall = TestHall::start();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let preflight = ureq::http::Request::builder()
        .method("OPTIONS")
        .uri(hall.url("/v1/route"))
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .body(())
        .unwrap();
    let resp = agent.run(preflight).unwrap();
    assert!(
        resp.status().as_u16() >= 400,
        "preflight must not succeed: {}",
        resp.status()
    );
    assert!(resp
        .headers()
        .keys()
        .all(|k| !k.as_str().starts_with("access-control-")));

    for path in ["/health", "/v1/workers", "/", "/v1/nope"] {
        let resp = agent
            .get(hall.url(path))
            .header("Origin", "https://evil.example")
            .call()
            .unwrap();
        let h = resp.headers();
        assert!(
            h.keys().all(|k| !k.as_str().starts_with("access-control-")),
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["content-security-policy"], hall::api::CSP, "{path}");
    }
}

#[test]
fn health_matches_the_reference_shape_without_auth() {
    let hall = TestHall::start();
    let h = hall.get_noauth("/health");
    assert_eq!(h.status, 200);
    assert_eq!(h.body["status"], "ok");
    assert!(h.body["timestamp"].is_string());
}
