//! The decision query language, shared by `GET /v1/decisions?q=`, `GET /v1/decisions/summary`
//! and `proctor decisions list|export --query` (docs/API.md "Query syntax"):
//! `tenant:hooli env:prod denied code:DENY_POLICY_GATE "free text"`. Field names are the CLI's
//! flag names (a few have short aliases); bare words and quoted phrases are free text. One parser,
//! so the UI, the API and the CLI read a query the same way; an error names the token.

use chrono::{DateTime, NaiveDate, Utc};
use ledger::Filter;
use std::fmt;

/// The longest query read, in bytes: a typed query, not a document.
pub const MAX_QUERY_LEN: usize = 4096;
/// The longest value of one field, as the API's id parameters.
const MAX_VALUE_LEN: usize = 256;

/// What a query got wrong, and where: the token as typed and its 1-based character column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub token: String,
    pub column: usize,
    pub reason: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.token.is_empty() {
            return f.write_str(&self.reason);
        }
        write!(
            f,
            "`{}` (column {}): {}",
            self.token, self.column, self.reason
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Tenant,
    Capability,
    Worker,
    Rule,
    Correlation,
    DenyCode,
    Env,
    DataLabel,
    DryRun,
    Since,
    Until,
}

/// Field names, the CLI flag's first, then its alias.
const KEYS: &[(&str, Key)] = &[
    ("tenant", Key::Tenant),
    ("capability", Key::Capability),
    ("cap", Key::Capability),
    ("worker", Key::Worker),
    ("rule", Key::Rule),
    ("correlation", Key::Correlation),
    ("corr", Key::Correlation),
    ("deny-code", Key::DenyCode),
    ("code", Key::DenyCode),
    ("env", Key::Env),
    ("data-label", Key::DataLabel),
    ("label", Key::DataLabel),
    ("dry-run", Key::DryRun),
    ("since", Key::Since),
    ("until", Key::Until),
];

/// One whitespace-separated token: where it starts (char column, 1-based) and its text.
struct Token<'a> {
    column: usize,
    raw: &'a str,
}

impl Token<'_> {
    fn error(&self, reason: impl Into<String>) -> SyntaxError {
        SyntaxError {
            token: self.raw.to_string(),
            column: self.column,
            reason: reason.into(),
        }
    }
}

/// Split on whitespace outside double quotes; an unclosed quote is an error.
fn tokens(input: &str) -> Result<Vec<Token<'_>>, SyntaxError> {
    let mut out = Vec::new();
    let mut chars = input.char_indices().enumerate().peekable();
    while let Some(&(column, (start, c))) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut quoted = false;
        let mut end = input.len();
        while let Some(&(_, (at, c))) = chars.peek() {
            if c.is_whitespace() && !quoted {
                end = at;
                break;
            }
            quoted ^= c == '"';
            chars.next();
        }
        let token = Token {
            column: column + 1,
            raw: &input[start..end],
        };
        if quoted {
            return Err(token.error("a quote is not closed"));
        }
        out.push(token);
    }
    Ok(out)
}

/// `"…"` → its inside; a quote anywhere else is an error (quotes wrap a whole value or phrase).
fn unquote<'a>(token: &Token<'_>, text: &'a str) -> Result<&'a str, SyntaxError> {
    let inner = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if text.len() >= 2 => inner,
        _ => text,
    };
    if inner.contains('"') {
        return Err(token.error("quotes must wrap a whole value or phrase"));
    }
    Ok(inner)
}

/// Read a query into the filter it means (free text in `text`). Never panics.
pub fn parse(input: &str) -> Result<Filter, SyntaxError> {
    if input.len() > MAX_QUERY_LEN {
        return Err(SyntaxError {
            token: String::new(),
            column: 0,
            reason: format!(
                "the query is {} bytes long; the limit is {MAX_QUERY_LEN}",
                input.len()
            ),
        });
    }
    let mut filter = Filter::default();
    let mut text: Vec<&str> = Vec::new();
    let mut seen: Vec<Key> = Vec::new();
    for token in tokens(input)? {
        if token.raw.starts_with('"') {
            text.push(unquote(&token, token.raw)?);
            continue;
        }
        let Some((name, value)) = token.raw.split_once(':') else {
            let word = unquote(&token, token.raw)?;
            match word {
                "denied" | "allowed" => set_outcome(&mut filter, &token, word == "denied")?,
                _ => text.push(word),
            }
            continue;
        };
        let Some(&(_, key)) = KEYS.iter().find(|(k, _)| *k == name) else {
            let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
            return Err(token.error(format!(
                "unknown field `{name}` (fields: {}; quote text that holds a colon)",
                known.join(", ")
            )));
        };
        if seen.contains(&key) {
            return Err(token.error(format!("`{name}` is given twice")));
        }
        seen.push(key);
        let value = unquote(&token, value)?;
        if value.trim().is_empty() {
            return Err(token.error(format!("`{name}:` needs a value")));
        }
        if value.len() > MAX_VALUE_LEN {
            return Err(token.error(format!("the value is longer than {MAX_VALUE_LEN} bytes")));
        }
        if value.chars().any(char::is_control) {
            return Err(token.error("the value contains control characters"));
        }
        set(&mut filter, &token, key, value)?;
    }
    filter.text = (!text.is_empty()).then(|| text.join(" "));
    Ok(filter)
}

fn set_outcome(filter: &mut Filter, token: &Token<'_>, denied: bool) -> Result<(), SyntaxError> {
    match filter.denied {
        Some(d) if d == denied => Err(token.error("given twice")),
        Some(_) => Err(token.error("`denied` and `allowed` exclude each other")),
        None => {
            filter.denied = Some(denied);
            Ok(())
        }
    }
}

fn set(filter: &mut Filter, token: &Token<'_>, key: Key, value: &str) -> Result<(), SyntaxError> {
    let owned = || Some(value.to_string());
    match key {
        Key::Tenant => filter.tenant_id = owned(),
        Key::Capability => filter.capability_id = owned(),
        Key::Worker => filter.worker = owned(),
        Key::Rule => filter.rule_id = owned(),
        Key::Correlation => filter.correlation_id = owned(),
        Key::DenyCode => filter.deny_code = owned(),
        Key::Env => {
            let env = wcp::Env::parse(value)
                .ok_or_else(|| token.error(format!("env is one of {}", names(wcp::Env::ALL))))?;
            filter.env = Some(env.as_str().to_string());
        }
        Key::DataLabel => {
            let label = wcp::DataLabel::parse(value).ok_or_else(|| {
                token.error(format!(
                    "data label is one of {}",
                    names(wcp::DataLabel::ALL)
                ))
            })?;
            filter.data_label = Some(label.as_str().to_string());
        }
        Key::DryRun => {
            let flag = value
                .parse()
                .map_err(|_| token.error("dry-run is true or false"))?;
            filter.dry_run = Some(flag);
        }
        Key::Since => filter.since = Some(parse_time(value).map_err(|e| token.error(e))?),
        Key::Until => filter.until = Some(parse_time(value).map_err(|e| token.error(e))?),
    }
    Ok(())
}

fn names<T: fmt::Display>(all: &[T]) -> String {
    all.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}

/// An RFC 3339 time, or a UTC date (its midnight): the query's and the CLI flags' times.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
        .map_err(|_| {
            format!("{s:?} is not an RFC 3339 time (2026-02-26T10:11:12Z) or a date (2026-02-26)")
        })
}

/// Add a query's filter to one set by parameters or flags. Free text adds up (every word must
/// appear); a field set on both sides must agree, else the error names it.
pub fn merge(base: &mut Filter, query: Filter) -> Result<(), SyntaxError> {
    fn one<T: PartialEq + fmt::Debug>(
        name: &str,
        base: &mut Option<T>,
        query: Option<T>,
    ) -> Result<(), SyntaxError> {
        match (base.as_ref(), query) {
            (_, None) => Ok(()),
            (None, q) => {
                *base = q;
                Ok(())
            }
            (Some(b), Some(q)) if *b == q => Ok(()),
            (Some(b), Some(q)) => Err(SyntaxError {
                token: String::new(),
                column: 0,
                reason: format!(
                    "the query sets {name} to {q:?}, which contradicts {b:?} set outside it"
                ),
            }),
        }
    }
    let Filter {
        since,
        until,
        tenant_id,
        capability_id,
        worker,
        rule_id,
        correlation_id,
        denied,
        deny_code,
        env,
        data_label,
        dry_run,
        text,
    } = query;
    one("since", &mut base.since, since)?;
    one("until", &mut base.until, until)?;
    one("tenant", &mut base.tenant_id, tenant_id)?;
    one("capability", &mut base.capability_id, capability_id)?;
    one("worker", &mut base.worker, worker)?;
    one("rule", &mut base.rule_id, rule_id)?;
    one("correlation", &mut base.correlation_id, correlation_id)?;
    one("denied", &mut base.denied, denied)?;
    one("deny-code", &mut base.deny_code, deny_code)?;
    one("env", &mut base.env, env)?;
    one("data-label", &mut base.data_label, data_label)?;
    one("dry-run", &mut base.dry_run, dry_run)?;
    base.text = match (base.text.take(), text) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_every_field_and_free_text() {
        let f = parse(
            r#"tenant:hooli env:prod denied code:DENY_POLICY_GATE cap:cap.x worker:w
               label:RESTRICTED corr:abc rule:r1 dry-run:false since:2026-02-26 "free text" more"#,
        )
        .unwrap();
        assert_eq!(f.tenant_id.as_deref(), Some("hooli"));
        assert_eq!(f.env.as_deref(), Some("prod"));
        assert_eq!(f.denied, Some(true));
        assert_eq!(f.deny_code.as_deref(), Some("DENY_POLICY_GATE"));
        assert_eq!(f.capability_id.as_deref(), Some("cap.x"));
        assert_eq!(f.worker.as_deref(), Some("w"));
        assert_eq!(f.data_label.as_deref(), Some("RESTRICTED"));
        assert_eq!(f.correlation_id.as_deref(), Some("abc"));
        assert_eq!(f.rule_id.as_deref(), Some("r1"));
        assert_eq!(f.dry_run, Some(false));
        assert_eq!(f.since.unwrap().to_rfc3339(), "2026-02-26T00:00:00+00:00");
        assert_eq!(f.text.as_deref(), Some("free text more"));
    }

    #[test]
    fn quoted_values_and_times_with_colons() {
        let f = parse(r#"tenant:"acme corp" until:2026-02-26T10:11:12Z allowed "denied""#).unwrap();
        assert_eq!(f.tenant_id.as_deref(), Some("acme corp"));
        assert_eq!(f.until.unwrap().to_rfc3339(), "2026-02-26T10:11:12+00:00");
        assert_eq!(f.denied, Some(false));
        assert_eq!(f.text.as_deref(), Some("denied"));
        assert_eq!(parse("  ").unwrap(), Filter::default());
    }

    #[test]
    fn errors_name_the_token_and_its_column() {
        let cases = [
            (
                "tenant:a envv:prod",
                "envv:prod",
                10,
                "unknown field `envv`",
            ),
            (
                "env:prodd",
                "env:prodd",
                1,
                "env is one of dev, stage, prod, edge",
            ),
            ("label:pii", "label:pii", 1, "data label is one of PUBLIC"),
            ("x tenant:", "tenant:", 3, "needs a value"),
            ("tenant:a tenant:b", "tenant:b", 10, "given twice"),
            ("denied allowed", "allowed", 8, "exclude each other"),
            ("dry-run:maybe", "dry-run:maybe", 1, "true or false"),
            (
                "since:yesterday",
                "since:yesterday",
                1,
                "not an RFC 3339 time",
            ),
            (r#"a "open phrase"#, r#""open phrase"#, 3, "not closed"),
            (r#"tenant:a"b""#, r#"tenant:a"b""#, 1, "quotes must wrap"),
            ("é x:1", "x:1", 3, "unknown field `x`"),
        ];
        for (input, token, column, reason) in cases {
            let e = parse(input).unwrap_err();
            assert_eq!((e.token.as_str(), e.column), (token, column), "{input}");
            assert!(e.reason.contains(reason), "{input}: {}", e.reason);
            assert!(e.to_string().contains(token), "{e}");
        }
        let long = "a".repeat(MAX_QUERY_LEN + 1);
        assert!(parse(&long).unwrap_err().reason.contains("limit"));
    }

    #[test]
    fn merge_adds_up_and_refuses_contradictions() {
        let mut base = Filter {
            tenant_id: Some("hooli".into()),
            text: Some("one".into()),
            ..Filter::default()
        };
        merge(&mut base, parse("tenant:hooli env:dev two").unwrap()).unwrap();
        assert_eq!(base.env.as_deref(), Some("dev"));
        assert_eq!(base.text.as_deref(), Some("one two"));
        let e = merge(&mut base, parse("tenant:acme").unwrap()).unwrap_err();
        assert!(e.reason.contains("tenant"), "{e}");
    }

    proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,80}", noise in "[a-z:\" \\-]{0,40}") {
            let _ = parse(&input);
            let _ = parse(&noise);
            let _ = parse(&format!("{noise}{input}"));
        }
    }
}
