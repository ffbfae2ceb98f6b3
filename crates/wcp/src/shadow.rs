//! Shadow-rule detection (SPEC.md §2.1): which rules can never fire because an earlier rule
//! matches everything they match. Runs once per rule-set load; prod/edge requests are denied
//! while any warning exists.
//!
//! Equality here is Python's (`1 == 1.0 == true`) and JSON `null` counts as an absent
//! condition, as in the reference. All match keys count, not only the five routing keys.
//!
//! It sees a rule only as its id and its raw `match` object ([`MatchOf`]); `rules` calls it
//! when it compiles a rule set, so this module does not depend on `rules`.

use crate::py::{py_eq, repr};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `{"shadower", "shadowed", "reason"}`: rule `shadowed` is unreachable behind `shadower`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowWarning {
    pub shadower: String,
    pub shadowed: String,
    pub reason: String,
}

/// A rule as shadow detection sees it: its `rule_id` and its raw `match` object.
pub type MatchOf<'a> = (&'a str, &'a Map<String, Value>);

/// Every ordered pair (earlier, later) of `rules` (in file order) yields at most one warning,
/// in pair order.
pub fn detect_shadow_rules(rules: &[MatchOf<'_>]) -> Vec<ShadowWarning> {
    let mut warnings = Vec::new();
    for (i, early) in rules.iter().enumerate() {
        for late in &rules[i + 1..] {
            if let Some(reason) = shadow_reason(early, late) {
                warnings.push(ShadowWarning {
                    shadower: early.0.to_string(),
                    shadowed: late.0.to_string(),
                    reason,
                });
            }
        }
    }
    warnings
}

fn shadow_reason(early: &MatchOf<'_>, late: &MatchOf<'_>) -> Option<String> {
    let (&(eid, e), &(lid, l)) = (early, late);
    let equal = maps_eq(e, l);
    if equal && eid != lid {
        return Some(format!(
            "identical match conditions — rule '{lid}' will never be reached"
        ));
    }
    if !equal && semantically_shadows(e, l) {
        return Some(format!(
            "rule '{eid}' match={} semantically subsumes '{lid}' match={} (early rule matches a superset of inputs — late rule unreachable)",
            map_repr(e),
            map_repr(l)
        ));
    }
    let structural = !e.is_empty()
        && !equal
        && e.iter()
            .all(|(k, v)| py_eq(l.get(k).unwrap_or(&Value::Null), v));
    structural.then(|| {
        format!(
            "rule '{eid}' match={} subsumes '{lid}' match={}",
            map_repr(e),
            map_repr(l)
        )
    })
}

fn maps_eq(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| py_eq(v, w)))
}

fn map_repr(m: &Map<String, Value>) -> String {
    repr(&Value::Object(m.clone()))
}

/// `dict.get`: a JSON null reads as absent.
fn get<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).filter(|v| !v.is_null())
}

fn is_any(v: &Value) -> bool {
    v.get("any") == Some(&Value::Bool(true))
}

/// Every input the late match accepts, the early match accepts too.
fn semantically_shadows(early: &Map<String, Value>, late: &Map<String, Value>) -> bool {
    early.keys().chain(late.keys()).all(|field| {
        let e = get(early, field);
        match get(late, field) {
            None => e.is_none() || e.is_some_and(is_any),
            Some(l) => covers(e, l),
        }
    })
}

/// The early condition accepts a superset of what the late condition accepts.
fn covers(early: Option<&Value>, late: &Value) -> bool {
    let Some(early) = early else { return true };
    if is_any(early) || py_eq(early, late) {
        return true;
    }
    let Some(early_in) = early.get("in").filter(|_| early.is_object()) else {
        return false;
    };
    let early_set = as_items(early_in);
    if let Value::String(_) = late {
        return early_set.iter().any(|x| py_eq(x, late));
    }
    match late.get("in").filter(|_| late.is_object()) {
        Some(late_in) => as_items(late_in)
            .iter()
            .all(|x| early_set.iter().any(|y| py_eq(x, y))),
        None => false,
    }
}

/// Validation guarantees `in` holds an array of scalars.
fn as_items(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(rules: Value) -> Vec<(String, String)> {
        let rules = rules.as_array().unwrap();
        let matches: Vec<MatchOf<'_>> = rules
            .iter()
            .map(|r| {
                (
                    r["rule_id"].as_str().unwrap(),
                    r["match"].as_object().unwrap(),
                )
            })
            .collect();
        detect_shadow_rules(&matches)
            .iter()
            .map(|w| (w.shadower.clone(), w.shadowed.clone()))
            .collect()
    }

    fn p(a: &str, b: &str) -> (String, String) {
        (a.into(), b.into())
    }

    #[test]
    fn catch_all_first_shadows_everything_after_it() {
        let got = pairs(json!([
            {"rule_id": "all", "match": {}},
            {"rule_id": "x", "match": {"capability_id": "cap.x"}},
            {"rule_id": "y", "match": {"capability_id": {"in": ["cap.y"]}, "env": "prod"}}
        ]));
        assert_eq!(got, [p("all", "x"), p("all", "y")]);
    }

    #[test]
    fn catch_all_last_is_fine() {
        assert!(pairs(json!([
            {"rule_id": "x", "match": {"capability_id": "cap.x"}},
            {"rule_id": "all", "match": {"capability_id": {"any": true}}}
        ]))
        .is_empty());
    }

    #[test]
    fn duplicates_and_same_ids() {
        assert_eq!(
            pairs(
                json!([{"rule_id": "a", "match": {"env": "dev"}}, {"rule_id": "b", "match": {"env": "dev"}}])
            ),
            [p("a", "b")]
        );
        assert!(pairs(json!([{"rule_id": "a", "match": {"env": "dev"}}, {"rule_id": "a", "match": {"env": "dev"}}])).is_empty());
    }

    #[test]
    fn in_lists_cover_by_subset() {
        let got = pairs(json!([
            {"rule_id": "wide", "match": {"env": {"in": ["dev", "stage", "prod"]}}},
            {"rule_id": "narrow", "match": {"env": {"in": ["dev", "stage"]}}},
            {"rule_id": "literal", "match": {"env": "prod"}},
            {"rule_id": "other", "match": {"env": {"in": ["edge", "dev"]}}},
            {"rule_id": "any", "match": {"env": {"any": true}}}
        ]));
        assert_eq!(got, [p("wide", "narrow"), p("wide", "literal")]);
    }

    #[test]
    fn extra_early_constraint_does_not_shadow_but_unknown_keys_count() {
        assert!(pairs(json!([
            {"rule_id": "a", "match": {"capability_id": "cap.x", "env": "dev"}},
            {"rule_id": "b", "match": {"capability_id": "cap.x"}}
        ]))
        .is_empty());
        // A non-routing key still takes part: structurally {"team": "t"} is a subset.
        assert_eq!(
            pairs(json!([
                {"rule_id": "a", "match": {"team": "t"}},
                {"rule_id": "b", "match": {"team": "t", "capability_id": "cap.x"}}
            ])),
            [p("a", "b")]
        );
    }

    #[test]
    fn eq_operator_is_compared_structurally() {
        // {"eq": x} is no operator: only equal objects cover each other.
        assert_eq!(
            pairs(json!([
                {"rule_id": "a", "match": {"capability_id": {"eq": "cap.x"}}},
                {"rule_id": "b", "match": {"capability_id": {"eq": "cap.x"}, "env": "dev"}}
            ])),
            [p("a", "b")]
        );
        assert!(pairs(json!([
            {"rule_id": "a", "match": {"capability_id": {"in": ["cap.x"]}}},
            {"rule_id": "b", "match": {"capability_id": {"eq": "cap.x"}}}
        ]))
        .is_empty());
    }

    #[test]
    fn reason_texts_use_python_repr() {
        let (a, b) = (json!({"env": {"any": true}}), json!({"env": "dev"}));
        let warnings =
            detect_shadow_rules(&[("a", a.as_object().unwrap()), ("b", b.as_object().unwrap())]);
        assert_eq!(
            warnings[0].reason,
            "rule 'a' match={'env': {'any': True}} semantically subsumes 'b' match={'env': 'dev'} (early rule matches a superset of inputs — late rule unreachable)"
        );
    }
}
