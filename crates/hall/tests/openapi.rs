//! The OpenAPI document lists exactly the routes the server answers.

mod common;

use common::TestHall;
use std::collections::BTreeSet;

#[test]
fn openapi_document_matches_the_router() {
    let hall = TestHall::start();
    let doc = hall.get("/v1/openapi.json");
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["openapi"], "3.1.0");

    let documented: BTreeSet<(String, String)> = doc.body["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = hall::api::endpoints()
        .iter()
        .map(|e| (e.method.to_string(), e.path.to_string()))
        .collect();
    assert_eq!(documented, routed);

    // Every documented operation is really served: never the "no route" 404 or a 405.
    for (method, path) in &documented {
        let concrete = path.replace(['{', '}'], "");
        let body: Option<&[u8]> = (method != "GET").then_some(b"{}");
        let r = hall.request(method, &concrete, Some(&hall.bearer()), body);
        assert_ne!(r.status, 405, "{method} {path}");
        let msg = r.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            !(r.status == 404 && msg.contains("no route")),
            "{method} {path} is not routed"
        );
        assert!(r.status < 500, "{method} {path}: {}", r.status);
    }

    // And what is not documented is not served.
    let delete = hall.request("DELETE", "/v1/route", Some(&hall.bearer()), None);
    assert_eq!(delete.status, 405);
    assert_eq!(delete.body["error"]["code"], "METHOD_NOT_ALLOWED");
    let unknown = hall.get("/v1/not-a-route");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["error"]["code"], "NOT_FOUND");
}
