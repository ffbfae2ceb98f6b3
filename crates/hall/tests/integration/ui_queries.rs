//! What the web UI asks before and around its screens: the charts' stats over a time range with a
//! chosen bucket width, and where the API token lives (told before sign-in by `GET /health`).

use crate::common;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use common::{route_input, TestHall};
use serde_json::Value;

fn at(t: DateTime<Utc>) -> String {
    // `+` must not be read as a space in a query string: use the `Z` form.
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[test]
fn stats_answer_buckets_of_the_asked_width_within_since_and_until() {
    let hall = TestHall::start();
    for i in 0..3 {
        let r = hall.post("/v1/route", &route_input(&format!("corr-stats-{i}")));
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let now = Utc::now();
    let range = |since: DateTime<Utc>, until: DateTime<Utc>, bucket_s: i64| {
        let r = hall.get(&format!(
            "/v1/stats?since={}&until={}&bucket_s={bucket_s}",
            at(since),
            at(until)
        ));
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body
    };

    let hour = range(now - Duration::hours(1), now + Duration::hours(1), 3600);
    assert_eq!(hour["decisions_total"], 3);
    let buckets = hour["buckets"].as_array().unwrap();
    let counted: u64 = buckets
        .iter()
        .map(|b| b["decisions"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 3);
    for b in buckets {
        let start: DateTime<Utc> = b["start"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            start.timestamp() % 3600,
            0,
            "buckets start on the hour: {b}"
        );
        assert_eq!(start.timestamp_subsec_micros(), 0);
    }

    // `until` is exclusive and bounds the buckets as well as the totals.
    let before = range(now - Duration::hours(1), now - Duration::minutes(30), 60);
    assert_eq!(before["decisions_total"], 0);
    assert_eq!(before["buckets"], Value::Array(vec![]));

    // Without `bucket_s` buckets are minutes, as before.
    let minutes = hall.get("/v1/stats").body;
    for b in minutes["buckets"].as_array().unwrap() {
        let start: DateTime<Utc> = b["start"].as_str().unwrap().parse().unwrap();
        assert_eq!(start.timestamp() % 60, 0);
    }
}

#[test]
fn stats_refuse_a_bucket_width_out_of_range() {
    let hall = TestHall::start();
    for bad in ["0", "-60", "86401", "sixty"] {
        let r = hall.get(&format!("/v1/stats?bucket_s={bad}"));
        assert_eq!(r.status, 400, "bucket_s={bad}: {:?}", r.body);
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("bucket_s"), "bucket_s={bad}: {message}");
    }
    let r = hall.get("/v1/stats?until=yesterday");
    assert_eq!(r.status, 400, "{:?}", r.body);
}

#[test]
fn health_names_the_token_file_without_auth() {
    let hall = TestHall::start();
    let h = hall.get_noauth("/health");
    assert_eq!(h.status, 200);
    let file = h.body["token_file"].as_str().unwrap();
    let expected = hall.data().join("api-token");
    assert_eq!(
        std::fs::canonicalize(file).unwrap(),
        std::fs::canonicalize(expected).unwrap()
    );
}
