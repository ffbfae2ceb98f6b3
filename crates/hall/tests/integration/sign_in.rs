//! Single-use sign-in links through a real HTTP server: a code is traded for the API token at
//! `POST /v1/session` once (also under concurrent requests), never after it expired, and a
//! hall serving without links knows no code.

use crate::common::TestHall;
use serde_json::{json, Value};
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// A hall on 127.0.0.1 trading `codes` (or, with none, serving without sign-in links).
fn serve(codes: Option<Arc<hall::sign_in::SignInCodes>>) -> (TestHall, String, String) {
    let hall = match codes {
        Some(codes) => TestHall::start_with_sign_in(codes),
        None => TestHall::start(),
    };
    let (url, token) = (hall.url(""), hall.token.clone());
    (hall, url, token)
}

fn exchange(url: &str, body: &Value) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    // The hall may still be opening: retry while nothing listens behind the port.
    for _ in 0..200 {
        if let Ok(mut r) = agent.post(format!("{url}/v1/session")).send_json(body) {
            let status = r.status().as_u16();
            return (status, r.body_mut().read_json().unwrap_or(Value::Null));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("no answer from {url}");
}

#[test]
fn a_code_gives_the_token_once_even_to_concurrent_requests() {
    let codes = Arc::new(hall::sign_in::SignInCodes::default());
    let code = codes.issue();
    let (_dir, url, token) = serve(Some(codes));
    // The hall is up before the race starts.
    assert_eq!(exchange(&url, &json!({"code": "not-a-code"})).0, 401);

    let n = 16;
    let start = Arc::new(Barrier::new(n));
    let answers: Vec<(u16, Value)> = (0..n)
        .map(|_| {
            let (url, code, start) = (url.clone(), code.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                exchange(&url, &json!({"code": code}))
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let granted: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(granted.len(), 1, "{answers:?}");
    // Exactly the `Session` schema of the OpenAPI document.
    assert_eq!(*granted[0], json!({"token": token}));
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 401);
        assert_eq!(body["error"]["code"], "SIGN_IN_CODE_USED", "{body}");
    }
    // The token it gave works.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let r = agent
        .get(format!("{url}/v1/stats"))
        .header(
            "Authorization",
            format!("Bearer {}", granted[0]["token"].as_str().unwrap()),
        )
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn an_expired_or_unknown_code_is_refused_by_name() {
    let codes = Arc::new(hall::sign_in::SignInCodes::with_ttl(Duration::from_millis(
        300,
    )));
    let code = codes.issue();
    let (_dir, url, _) = serve(Some(codes));
    std::thread::sleep(Duration::from_millis(400));
    let (status, body) = exchange(&url, &json!({"code": code}));
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "SIGN_IN_CODE_EXPIRED", "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
    let (status, body) = exchange(&url, &json!({"code": "x"}));
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("SIGN_IN_CODE_UNKNOWN"))
    );
    // A body of the wrong shape is the usual 422; no token leaks into any refusal.
    let (status, body) = exchange(&url, &json!({"code": code, "token": "t"}));
    assert_eq!(status, 422, "{body}");
}

#[test]
fn a_hall_without_links_knows_no_code() {
    let (_dir, url, token) = serve(None);
    let (status, body) = exchange(&url, &json!({"code": "anything"}));
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("SIGN_IN_CODE_UNKNOWN"))
    );
    assert!(!body.to_string().contains(&token));
}
