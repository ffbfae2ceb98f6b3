//! `GET /metrics` (docs/observability.md): a real hall, real routes and an MCP call, then the
//! exposition text parsed strictly (every sample of a declared family, every label quoted and
//! escaped as the format says) and its numbers checked against what was done.

use crate::common;

use common::{call, connect, fixture, route_input, wait_for, worker_record, TestHall};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

/// A hall with the MCP fixture as worker `org.fx.server`: `echo` is allowed (`cap.fx.tools` has a
/// rule), `add` is denied (`cap.fx.nomatch` has none). `config` is the rest of config.toml.
pub fn mcp_hall(config: &str) -> TestHall {
    let rules = r#"{"rules": [
      {"rule_id": "rr_doc", "match": {"capability_id": "cap.doc.summarize"},
       "decision": {"candidate_workers_ranked": [{"worker_species_id": "wrk.doc.summarizer"}]}},
      {"rule_id": "rr_tools", "match": {"capability_id": "cap.fx.tools"},
       "decision": {"candidate_workers_ranked": [{"worker_species_id": "wrk.fx.server"}]}}
    ]}"#;
    let record = json!({
        "worker_id": "org.fx.server", "worker_species_id": "wrk.fx.server",
        "capabilities": ["cap.fx.tools", "cap.fx.nomatch"], "risk_tier": "low",
        "mcp": {"command": fixture(), "tools": {"echo": "cap.fx.tools", "add": "cap.fx.nomatch"}}
    });
    let config = format!("[mcp]\ntenant_id = \"fx\"\n{config}\n");
    TestHall::start_with(|dir: &Path| {
        std::fs::write(dir.join("rules.json"), rules).unwrap();
        std::fs::write(dir.join("config.toml"), config).unwrap();
        std::fs::create_dir_all(dir.join("registry")).unwrap();
        std::fs::write(dir.join("registry/fx.json"), record.to_string()).unwrap();
    })
}

/// One `echo` (allowed, answered) and one `add` (denied) through the gateway; with `meta`, the
/// `echo` call carries it as its `_meta`. Returns their decision ids.
pub fn two_mcp_calls(hall: &TestHall, meta: Option<rmcp::model::MetaObject>) -> [String; 2] {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = connect(hall).await;
        let mut echo = call("echo", json!({"text": "hi"}));
        echo.meta = meta.map(rmcp::model::RequestMetaObject);
        let answered = client.call_tool(echo).await.unwrap();
        assert_ne!(answered.is_error, Some(true), "{answered:?}");
        let refused = client
            .call_tool(call("add", json!({"a": 1, "b": 2})))
            .await
            .unwrap();
        assert_eq!(refused.is_error, Some(true), "{refused:?}");
        client.cancel().await.unwrap();
        [answered, refused].map(|r| {
            r.meta.unwrap()["proctor"]["decision_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
    })
}

#[test]
fn metrics_count_routes_decisions_health_and_mcp_calls_and_need_the_token() {
    let hall = mcp_hall("");
    // Three more workers: one healthy, one degraded, one never heard from (offline).
    for (id, status) in [
        ("org.m.ok", Some("ok")),
        ("org.m.slow", Some("degraded")),
        ("org.m.silent", None),
    ] {
        assert_eq!(hall.post("/v1/workers", &worker_record(id)).status, 201);
        if let Some(status) = status {
            let hb = hall.post(
                &format!("/v1/workers/{id}/heartbeat"),
                &json!({"status": status}),
            );
            assert_eq!(hb.status, 200, "{}", hb.body);
        }
    }
    for i in 0..3 {
        let r = hall.post("/v1/route", &route_input(&format!("m-{i}")));
        assert_eq!(r.body["denied"], false, "{}", r.body);
    }
    let mut unknown = route_input("m-x");
    unknown["capability_id"] = json!("cap.not.routed");
    for _ in 0..2 {
        assert_eq!(hall.post("/v1/route", &unknown).body["denied"], true);
    }
    two_mcp_calls(&hall, None);

    // The token is required: the capabilities and workers it names are this hall's business.
    let refused = hall.get_noauth("/metrics");
    assert_eq!(refused.status, 401, "{:?}", refused.body);
    assert_eq!(
        refused.body["error"]["code"], "UNAUTHORIZED",
        "{:?}",
        refused.body
    );
    let wrong = hall.request(
        "GET",
        "/metrics",
        Some("Bearer not-the-token-at-all-0123456789abcdef"),
        None,
    );
    assert_eq!(wrong.status, 401);

    // The MCP call's outcome is observed as its record is queued, a moment after its answer.
    let m = wait_for("both MCP calls in the metrics", || {
        let m = scrape(&hall);
        let calls = m.sum("proctor_mcp_call_duration_seconds_count", &[]);
        (calls == 2.0).then_some(m)
    });

    // Decisions by outcome, deny code and capability: 3 + 2 routes, 2 MCP calls.
    let decisions = "proctor_decisions_total";
    let allowed = [("outcome", "allowed"), ("deny_code", "none")];
    assert_eq!(
        m.sum(
            decisions,
            &[&allowed[..], &[("capability", "cap.doc.summarize")]].concat()
        ),
        3.0
    );
    assert_eq!(
        m.sum(
            decisions,
            &[&allowed[..], &[("capability", "cap.fx.tools")]].concat()
        ),
        1.0
    );
    let no_rule = [
        ("outcome", "denied"),
        ("deny_code", "DENY_NO_MATCHING_RULE"),
    ];
    assert_eq!(
        m.sum(
            decisions,
            &[&no_rule[..], &[("capability", "cap.not.routed")]].concat()
        ),
        2.0
    );
    assert_eq!(
        m.sum(
            decisions,
            &[&no_rule[..], &[("capability", "cap.fx.nomatch")]].concat()
        ),
        1.0
    );
    assert_eq!(m.sum(decisions, &[]), 7.0);
    assert_eq!(m.series(decisions).len(), 4, "{:?}", m.series(decisions));

    // Route latency: one observation per decision, in cumulative buckets.
    let route = "proctor_route_duration_seconds";
    assert_eq!(m.sum(&format!("{route}_count"), &[]), 7.0);
    assert!(m.sum(&format!("{route}_sum"), &[]) > 0.0);
    m.assert_histogram(route, 7.0);

    // MCP call latency by server, tool and outcome.
    let mcp = "proctor_mcp_call_duration_seconds";
    let server = ("server", "org.fx.server");
    for (tool, outcome) in [("echo", "ok"), ("add", "denied")] {
        let labels = [server, ("tool", tool), ("outcome", outcome)];
        assert_eq!(m.sum(&format!("{mcp}_count"), &labels), 1.0, "{tool}");
    }
    m.assert_histogram(mcp, 2.0);

    // Worker health: 1 for each worker's state, 0 for its other three.
    let health = "proctor_worker_health";
    let fx_state = wait_for("the fixture's server to be ready", || {
        let m = scrape(&hall);
        let healthy = m.sum(
            health,
            &[("worker_id", "org.fx.server"), ("state", "healthy")],
        );
        (healthy == 1.0).then_some(m)
    });
    for (worker, state) in [
        ("org.m.ok", "healthy"),
        ("org.m.slow", "degraded"),
        ("org.m.silent", "offline"),
        ("org.fx.server", "healthy"),
    ] {
        assert_eq!(
            fx_state.sum(health, &[("worker_id", worker), ("state", state)]),
            1.0,
            "{worker}"
        );
        assert_eq!(
            fx_state.sum(health, &[("worker_id", worker)]),
            1.0,
            "{worker}: one state only"
        );
        assert_eq!(
            fx_state
                .series(health)
                .iter()
                .filter(|s| s.labels["worker_id"] == worker)
                .count(),
            4
        );
    }

    // The ledger's lag and the fleet outbox: states, read at scrape time. Nothing waits for a
    // commit once every answer is in; the indexer catches up when the hall is idle.
    assert_eq!(m.sum("proctor_ledger_commit_queue", &[]), 0.0);
    assert_eq!(m.types["proctor_ledger_unindexed_records"], "gauge");
    wait_for("the indexer to catch up", || {
        (scrape(&hall).sum("proctor_ledger_unindexed_records", &[]) == 0.0).then_some(())
    });
    // Absent while `[fleet]` is not set: nothing is shipped.
    assert!(!m.types.contains_key("proctor_fleet_outbox_backlog"));
    assert!(m.series("proctor_fleet_outbox_backlog").is_empty());

    // A scrape takes no query parameters (like every operation without documented ones).
    assert_eq!(hall.get("/metrics?format=json").status, 400);
}

/// GET /metrics with the token, checked for its content type and parsed.
fn scrape(hall: &TestHall) -> Exposition {
    let reply = hall.get("/metrics");
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = reply.body.as_str().expect("a text body");
    Exposition::parse(text)
}

/// The text exposition format 0.0.4, parsed strictly: `# HELP` and `# TYPE` lines, then samples
/// `name{label="value",...} value`; a sample outside a declared family, a family declared twice,
/// a bad escape or an unparsable value fails the test.
struct Exposition {
    types: BTreeMap<String, String>,
    samples: Vec<Sample>,
}

#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

impl Exposition {
    fn parse(text: &str) -> Exposition {
        let mut types = BTreeMap::new();
        let mut samples = Vec::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            if let Some(comment) = line.strip_prefix("# ") {
                let mut parts = comment.splitn(3, ' ');
                let (keyword, name, rest) = (parts.next(), parts.next(), parts.next());
                let (name, rest) = (name.expect(line), rest.expect(line));
                match keyword {
                    Some("HELP") => assert!(!rest.trim().is_empty(), "{line}"),
                    Some("TYPE") => {
                        assert!(["counter", "gauge", "histogram"].contains(&rest), "{line}");
                        assert!(
                            types.insert(name.to_string(), rest.to_string()).is_none(),
                            "declared twice: {line}"
                        );
                    }
                    _ => panic!("unknown comment: {line}"),
                }
                continue;
            }
            let sample = parse_sample(line);
            let family =
                family_of(&sample.name, &types).unwrap_or_else(|| panic!("no TYPE for {line}"));
            assert!(samples.len() < 100_000, "{family}");
            samples.push(sample);
        }
        Exposition { types, samples }
    }

    fn series(&self, name: &str) -> Vec<&Sample> {
        self.samples.iter().filter(|s| s.name == name).collect()
    }

    /// The sum of `name`'s samples whose labels include `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let matching = |s: &&Sample| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        };
        self.series(name)
            .into_iter()
            .filter(matching)
            .map(|s| s.value)
            .sum()
    }

    /// Each series of histogram `name` has cumulative buckets ending in `+Inf` = its `_count`,
    /// and all of them together count `total` observations.
    fn assert_histogram(&self, name: &str, total: f64) {
        assert_eq!(self.types[name], "histogram");
        // Each series' labels but `le`, and its buckets as (upper bound, count).
        type Buckets = Vec<(f64, f64)>;
        let mut by_series: BTreeMap<Vec<(String, String)>, Buckets> = BTreeMap::new();
        for s in self.series(&format!("{name}_bucket")) {
            let mut labels = s.labels.clone();
            let le = labels.remove("le").expect("a bucket has `le`");
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            by_series
                .entry(labels.into_iter().collect())
                .or_default()
                .push((le, s.value));
        }
        let mut counted = 0.0;
        for (labels, buckets) in by_series {
            assert!(
                buckets
                    .windows(2)
                    .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                "{name} {labels:?}: {buckets:?}"
            );
            let (le, inf) = *buckets.last().unwrap();
            assert_eq!(le, f64::INFINITY);
            let labels: Vec<(&str, &str)> = labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            assert_eq!(
                self.sum(&format!("{name}_count"), &labels),
                inf,
                "{name} {labels:?}"
            );
            counted += inf;
        }
        assert_eq!(counted, total, "{name}");
    }
}

/// The declared family a sample belongs to: its own name, or a histogram's without the suffix.
fn family_of<'a>(name: &'a str, types: &BTreeMap<String, String>) -> Option<&'a str> {
    if types.contains_key(name) {
        return Some(name);
    }
    ["_bucket", "_sum", "_count"]
        .iter()
        .filter_map(|suffix| name.strip_suffix(suffix))
        .find(|base| types.get(*base).map(String::as_str) == Some("histogram"))
}

fn parse_sample(line: &str) -> Sample {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let end = line
        .find(|c: char| !is_name(c))
        .unwrap_or_else(|| panic!("no value: {line}"));
    let (name, mut rest) = line.split_at(end);
    assert!(
        !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()),
        "{line}"
    );
    let mut labels = BTreeMap::new();
    if let Some(mut inner) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = inner.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = inner
                .find('=')
                .unwrap_or_else(|| panic!("label without `=`: {line}"));
            let key = &inner[..eq];
            assert!(
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
            let mut chars = inner[eq + 1..]
                .strip_prefix('"')
                .unwrap_or_else(|| panic!("unquoted: {line}"))
                .char_indices();
            let mut value = String::new();
            let close = loop {
                match chars.next() {
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => value.push(match chars.next() {
                        Some((_, '\\')) => '\\',
                        Some((_, '"')) => '"',
                        Some((_, 'n')) => '\n',
                        other => panic!("bad escape {other:?}: {line}"),
                    }),
                    Some((_, c)) => value.push(c),
                    None => panic!("unterminated label value: {line}"),
                }
            };
            assert!(
                labels.insert(key.to_string(), value).is_none(),
                "label twice: {line}"
            );
            inner = &inner[eq + 1..][close + 2..];
            inner = inner.strip_prefix(',').unwrap_or(inner);
        }
    }
    let value = rest
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("no space before the value: {line}"));
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|e| panic!("{e}: {line}")),
    };
    Sample {
        name: name.to_string(),
        labels,
        value,
    }
}

#[test]
fn the_parser_refuses_what_the_format_does_not_allow() {
    let ok =
        "# HELP a_total A.\n# TYPE a_total counter\na_total{k=\"v \\\"q\\\" \\\\ \\n\",x=\"\"} 2\n";
    let parsed = Exposition::parse(ok);
    assert_eq!(parsed.samples[0].labels["k"], "v \"q\" \\ \n");
    assert_eq!(parsed.sum("a_total", &[("x", "")]), 2.0);
    for bad in [
        "a_total 1\n",                                      // no TYPE
        "# TYPE a_total counter\na_total{k=v} 1\n",         // unquoted
        "# TYPE a_total counter\na_total{k=\"v\\x\"} 1\n",  // bad escape
        "# TYPE a_total counter\na_total one\n",            // not a number
        "# TYPE a_total counter\n# TYPE a_total counter\n", // declared twice
        "# TYPE a gauge\na_bucket{le=\"1\"} 1\n",           // not a histogram
    ] {
        assert!(
            std::panic::catch_unwind(|| Exposition::parse(bad)).is_err(),
            "{bad:?}"
        );
    }
}
