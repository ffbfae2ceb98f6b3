//! The Decisions explorer's reads through the real HTTP server: `q` in the query syntax (one
//! parser with the CLI), and `GET /v1/decisions/summary` (count, buckets, facets) and
//! `GET /v1/decisions/count` against what the list holds for the same filter.

use crate::common;

use common::{route_input, TestHall};
use serde_json::{json, Value};

fn route(hall: &TestHall, tenant: &str, env: &str, label: &str, i: usize) {
    let mut input = route_input(&format!("corr-x-{tenant}-{i}"));
    input["tenant_id"] = json!(tenant);
    input["env"] = json!(env);
    input["data_label"] = json!(label);
    let r = hall.post("/v1/route", &input);
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// `tenant.one`: 5 in dev (2 RESTRICTED); `tenant.two`: 3 in prod.
fn seeded() -> TestHall {
    let hall = TestHall::start();
    for i in 0..5 {
        route(
            &hall,
            "tenant.one",
            "dev",
            if i < 2 { "RESTRICTED" } else { "PUBLIC" },
            i,
        );
    }
    for i in 0..3 {
        route(&hall, "tenant.two", "prod", "PUBLIC", i);
    }
    hall
}

fn enc(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn listed(hall: &TestHall, params: &str) -> Vec<Value> {
    let r = hall.get(&format!("/v1/decisions?limit=500&{params}"));
    assert_eq!(r.status, 200, "{params}: {:?}", r.body);
    r.body["decisions"].as_array().unwrap().clone()
}

#[test]
fn q_filters_the_list_like_the_parameters_it_names() {
    let hall = seeded();
    let by_query = listed(
        &hall,
        &format!("q={}", enc("tenant:tenant.one label:RESTRICTED")),
    );
    let by_params = listed(&hall, "tenant_id=tenant.one&data_label=RESTRICTED");
    assert_eq!(by_query.len(), 2);
    assert_eq!(by_query, by_params);
    // The query adds to the parameters; agreeing twice is fine.
    assert_eq!(
        listed(
            &hall,
            &format!("tenant_id=tenant.two&q={}", enc("env:prod"))
        )
        .len(),
        3
    );
    assert_eq!(
        listed(
            &hall,
            &format!("tenant_id=tenant.two&q={}", enc("tenant:tenant.two"))
        )
        .len(),
        3
    );
}

#[test]
fn a_bad_query_is_a_400_naming_the_token() {
    let hall = seeded();
    for (q, token) in [
        ("tenant:tenant.one envv:prod", "envv:prod"),
        ("env:moon", "env:moon"),
        ("\"open", "\"open"),
    ] {
        for path in [
            "/v1/decisions",
            "/v1/decisions/summary",
            "/v1/decisions/count",
        ] {
            let r = hall.get(&format!("{path}?q={}", enc(q)));
            assert_eq!(r.status, 400, "{path} {q}: {:?}", r.body);
            assert_eq!(r.body["error"]["code"], "INVALID_QUERY");
            let message = r.body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("q: ") && message.contains(token),
                "{message}"
            );
        }
    }
    let r = hall.get(&format!(
        "/v1/decisions?tenant_id=tenant.one&q={}",
        enc("tenant:tenant.two")
    ));
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("contradicts"));
}

#[test]
fn the_summary_counts_what_the_list_holds() {
    let hall = seeded();
    for params in [
        "",
        "tenant_id=tenant.one",
        "q=env%3Aprod",
        "data_label=RESTRICTED",
    ] {
        let list = listed(&hall, params);
        let r = hall.get(&format!("/v1/decisions/summary?{params}"));
        assert_eq!(r.status, 200, "{params}: {:?}", r.body);
        let s = &r.body;
        assert_eq!(s["total"], list.len(), "{params}");
        assert_eq!(s["total_exact"], true);
        let bucketed: u64 = s["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["decisions"].as_u64().unwrap())
            .sum();
        assert_eq!(bucketed, list.len() as u64, "{params}");
        let facet = |field: &str| -> Vec<(String, u64)> {
            s["facets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["field"] == field)
                .unwrap_or_else(|| panic!("no facet {field}: {s}"))["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    (
                        v["value"].as_str().unwrap().to_string(),
                        v["count"].as_u64().unwrap(),
                    )
                })
                .collect()
        };
        for (field, key) in [
            ("tenant_id", "tenant_id"),
            ("env", "env"),
            ("data_label", "data_label"),
        ] {
            let mut expected: Vec<(String, u64)> = Vec::new();
            for d in &list {
                let v = d["decision"][key].as_str().unwrap().to_string();
                match expected.iter_mut().find(|(k, _)| *k == v) {
                    Some((_, n)) => *n += 1,
                    None => expected.push((v, 1)),
                }
            }
            expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            assert_eq!(facet(field), expected, "{params} {field}");
        }
    }
}

#[test]
fn the_summary_and_the_count_refuse_paging() {
    let hall = seeded();
    for path in ["/v1/decisions/summary", "/v1/decisions/count"] {
        for params in ["limit=5", "cursor=v1.0000000000000001"] {
            let r = hall.get(&format!("{path}?{params}"));
            assert_eq!(r.status, 400, "{path} {params}: {:?}", r.body);
            assert!(r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("cursor and limit"));
        }
    }
}

#[test]
fn the_count_is_what_the_list_holds_and_needs_the_token() {
    let hall = seeded();
    for params in [
        "",
        "tenant_id=tenant.one",
        "q=env%3Aprod",
        "data_label=RESTRICTED&env=dev",
        "q=tenant.two",
        "tenant_id=nobody",
    ] {
        let list = listed(&hall, params);
        let r = hall.get(&format!("/v1/decisions/count?{params}"));
        assert_eq!(r.status, 200, "{params}: {:?}", r.body);
        assert_eq!(
            r.body,
            json!({"total": list.len(), "exact": true}),
            "{params}"
        );
    }
    let r = hall.get_noauth("/v1/decisions/count");
    assert_eq!(r.status, 401, "{:?}", r.body);
    let r = hall.get("/v1/decisions/count?hall_id=h1");
    assert_eq!(r.status, 400, "{:?}", r.body);
}
