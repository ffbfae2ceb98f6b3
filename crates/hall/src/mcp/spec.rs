//! The `mcp` block of a worker record (docs/mcp.md): how the hall reaches the worker's MCP server
//! and which of its tools are offered, under which capability. Validated on enroll and on every
//! registry load, with errors naming the field; a record that fails never lands.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The tool-map key that maps every tool not named otherwise to one capability.
pub const WILDCARD: &str = "*";

/// How the hall reaches the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A child process speaking MCP on stdin/stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, Setting>,
        cwd: Option<PathBuf>,
    },
    /// A Streamable HTTP endpoint.
    Http {
        url: String,
        headers: BTreeMap<String, Setting>,
    },
}

impl Transport {
    pub fn kind(&self) -> &'static str {
        match self {
            Transport::Stdio { .. } => "stdio",
            Transport::Http { .. } => "http",
        }
    }
}

/// An environment variable or header value: written out, or a reference (`"$NAME"`) to the
/// hall's own environment, read when the server starts. Values are never logged or shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    Literal(String),
    FromEnv(String),
}

impl Setting {
    fn parse(text: &str) -> Setting {
        match text.strip_prefix('$') {
            Some(name) if is_env_name(name) => Setting::FromEnv(name.to_string()),
            _ => Setting::Literal(text.to_string()),
        }
    }

    /// The value, read from the hall's environment for a reference. The error names the
    /// variable, never a value.
    pub fn resolve(&self, field: &str) -> Result<String, String> {
        match self {
            Setting::Literal(v) => Ok(v.clone()),
            Setting::FromEnv(name) => std::env::var(name).map_err(|_| {
                format!("{field} refers to ${name}, which is not set in the hall's environment")
            }),
        }
    }

    /// What the API and UI may show: a reference as written, a literal as a placeholder.
    pub fn display(&self) -> String {
        match self {
            Setting::Literal(_) => "(set in the record)".into(),
            Setting::FromEnv(name) => format!("${name}"),
        }
    }
}

/// How a tool call's arguments are kept in the ledger.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RecordArguments {
    /// The arguments as sent.
    Full,
    /// Only their SHA-256 (for tools whose arguments hold secrets).
    Hash,
}

/// When a call's outcome record is made durable, relative to answering the client. The decision
/// is always durable before the call is forwarded.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RecordOutcome {
    /// The client is answered at once; the outcome is queued first and committed in the next
    /// group commit (a crash in that window loses only the outcome, never the decision).
    AfterAnswer,
    /// The answer waits for the outcome's fsync; an outcome that cannot be recorded withholds
    /// the result (what is answered is audited), at one more fsync of latency per call.
    BeforeAnswer,
}

/// A validated `mcp` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpSpec {
    pub transport: Transport,
    /// Downstream tool name → capability id. Only mapped tools are offered or callable.
    pub tools: BTreeMap<String, String>,
    /// The `"*"` entry: the capability of every other tool.
    pub other_tools: Option<String>,
    /// Overrides the hall's `[mcp] record_arguments` for this server.
    pub record_arguments: Option<RecordArguments>,
}

impl McpSpec {
    /// The capability a downstream tool is offered under, or `None` (not offered: default deny).
    pub fn capability_of(&self, tool: &str) -> Option<&str> {
        self.tools
            .get(tool)
            .or(self.other_tools.as_ref())
            .map(String::as_str)
    }

    /// Parse the record's `mcp` block; `Ok(None)` when it has none. `capabilities` are the
    /// record's own: a tool may only map to one the worker declares.
    pub fn from_record(record: &Map<String, Value>) -> Result<Option<McpSpec>, String> {
        let Some(block) = record.get("mcp") else {
            return Ok(None);
        };
        let declared: Vec<&str> = record
            .get("capabilities")
            .and_then(Value::as_array)
            .map(|caps| caps.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        parse(block, &declared).map(Some)
    }
}

/// Longest tool name MCP allows.
const MAX_TOOL_NAME: usize = 128;

fn parse(block: &Value, declared: &[&str]) -> Result<McpSpec, String> {
    let obj = block
        .as_object()
        .ok_or("mcp must be an object: {\"command\": ...} or {\"url\": ...}, plus \"tools\"")?;
    const KNOWN: [&str; 8] = [
        "command",
        "args",
        "env",
        "cwd",
        "url",
        "headers",
        "tools",
        "record_arguments",
    ];
    if let Some(unknown) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!(
            "mcp.{unknown}: unknown field (expected one of {})",
            KNOWN.join(", ")
        ));
    }
    let transport = match (obj.get("command"), obj.get("url")) {
        (Some(_), Some(_)) => {
            return Err(
                "mcp: give either command (stdio) or url (Streamable HTTP), not both".into(),
            )
        }
        (None, None) => {
            return Err("mcp: command (stdio) or url (Streamable HTTP) is required".into())
        }
        (Some(command), None) => {
            if let Some(key) = ["url", "headers"].iter().find(|k| obj.contains_key(**k)) {
                return Err(format!("mcp.{key}: only for a url server, not a command"));
            }
            Transport::Stdio {
                command: non_blank(command, "mcp.command")?,
                args: strings(obj.get("args"), "mcp.args")?,
                env: settings(obj.get("env"), "mcp.env", is_env_name, secret_env_name)?,
                cwd: match obj.get("cwd") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(PathBuf::from(non_blank(v, "mcp.cwd")?)),
                },
            }
        }
        (None, Some(url)) => {
            if let Some(key) = ["args", "env", "cwd"]
                .iter()
                .find(|k| obj.contains_key(**k))
            {
                return Err(format!("mcp.{key}: only for a command server, not a url"));
            }
            let url = non_blank(url, "mcp.url")?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "mcp.url: {url:?} is not an http:// or https:// URL"
                ));
            }
            Transport::Http {
                url,
                headers: settings(
                    obj.get("headers"),
                    "mcp.headers",
                    is_header_name,
                    secret_header,
                )?,
            }
        }
    };
    let (tools, other_tools) = tool_map(obj.get("tools"), declared)?;
    let record_arguments = match obj.get("record_arguments") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value(v.clone())
                .map_err(|_| "mcp.record_arguments: must be \"full\" or \"hash\"".to_string())?,
        ),
    };
    Ok(McpSpec {
        transport,
        tools,
        other_tools,
        record_arguments,
    })
}

type ToolMap = (BTreeMap<String, String>, Option<String>);

fn tool_map(value: Option<&Value>, declared: &[&str]) -> Result<ToolMap, String> {
    let obj = match value {
        Some(Value::Object(obj)) if !obj.is_empty() => obj,
        Some(Value::Object(_)) | None => return Err(
            "mcp.tools: required, a non-empty object {\"<tool name>\": \"<capability id>\"} (only mapped tools are offered)".into(),
        ),
        Some(_) => return Err("mcp.tools: must be an object {\"<tool name>\": \"<capability id>\"}".into()),
    };
    let mut tools = BTreeMap::new();
    let mut other = None;
    for (name, cap) in obj {
        let field = format!("mcp.tools.{name}");
        let cap = non_blank(cap, &field)?;
        if !declared.contains(&cap.as_str()) {
            return Err(format!(
                "{field}: maps to {cap}, which is not one of this worker's capabilities"
            ));
        }
        if name == WILDCARD {
            other = Some(cap);
            continue;
        }
        if !is_tool_name(name) {
            return Err(format!(
                "{field}: not an MCP tool name (1-{MAX_TOOL_NAME} of A-Z a-z 0-9 _ - .)"
            ));
        }
        tools.insert(name.clone(), cap);
    }
    Ok((tools, other))
}

fn non_blank(v: &Value, field: &str) -> Result<String, String> {
    match v {
        Value::String(s) if !s.trim().is_empty() && !s.contains('\0') => Ok(s.clone()),
        Value::String(_) => Err(format!("{field}: must not be blank")),
        _ => Err(format!("{field}: must be a string")),
    }
}

fn strings(v: Option<&Value>, field: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) if !s.contains('\0') => Ok(s.clone()),
                _ => Err(format!("{field}[{i}]: must be a string")),
            })
            .collect(),
        Some(_) => Err(format!("{field}: must be an array of strings")),
    }
}

/// `env` / `headers`: names checked by `valid_name`; a name `is_secret` says holds a secret
/// must be a `$NAME` reference, so no secret is ever written into a registry file.
fn settings(
    v: Option<&Value>,
    field: &str,
    valid_name: fn(&str) -> bool,
    is_secret: fn(&str) -> bool,
) -> Result<BTreeMap<String, Setting>, String> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(obj)) => obj,
        Some(_) => return Err(format!("{field}: must be an object of strings")),
    };
    let mut out = BTreeMap::new();
    for (name, value) in obj {
        let f = format!("{field}.{name}");
        if !valid_name(name) {
            return Err(format!("{f}: not a valid name"));
        }
        let Value::String(text) = value else {
            return Err(format!("{f}: must be a string"));
        };
        if text.contains(['\0', '\r', '\n']) {
            return Err(format!("{f}: must not contain NUL or line breaks"));
        }
        let setting = Setting::parse(text);
        if is_secret(name) && matches!(setting, Setting::Literal(_)) {
            return Err(format!(
                "{f}: looks like a secret; write it as a reference to the hall's environment (\"$NAME\"), not its value"
            ));
        }
        out.insert(name.clone(), setting);
    }
    Ok(out)
}

pub(crate) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_tool_name(name: &str) -> bool {
    (1..=MAX_TOOL_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Name parts that mark a secret: such an `env` or header value must be a reference.
pub(crate) const SECRET_NAME_PARTS: [&str; 9] = [
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "API-KEY",
];

pub(crate) fn secret_env_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|w| upper.contains(w))
}

fn secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "authorization" | "proxy-authorization" | "cookie"
    ) || secret_env_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(mcp: Value) -> Result<Option<McpSpec>, String> {
        let record = json!({"capabilities": ["cap.doc.echo", "cap.doc.other"], "mcp": mcp});
        McpSpec::from_record(record.as_object().unwrap())
    }

    #[test]
    fn a_stdio_server_with_a_tool_map_and_a_wildcard() {
        let s = spec(json!({"command": "npx", "args": ["-y", "srv"], "env": {"API_KEY": "$MY_KEY", "MODE": "fast"},
            "tools": {"echo": "cap.doc.echo", "*": "cap.doc.other"}}))
        .unwrap()
        .unwrap();
        assert_eq!(s.capability_of("echo"), Some("cap.doc.echo"));
        assert_eq!(s.capability_of("anything"), Some("cap.doc.other"));
        let Transport::Stdio { env, .. } = &s.transport else {
            panic!("stdio")
        };
        assert_eq!(env["API_KEY"], Setting::FromEnv("MY_KEY".into()));
        assert_eq!(env["MODE"], Setting::Literal("fast".into()));
        assert_eq!(env["API_KEY"].display(), "$MY_KEY");
        assert_eq!(env["MODE"].display(), "(set in the record)");
    }

    #[test]
    fn without_a_wildcard_unmapped_tools_are_not_offered() {
        let s = spec(json!({"url": "http://127.0.0.1:9/mcp", "tools": {"echo": "cap.doc.echo"}}))
            .unwrap()
            .unwrap();
        assert_eq!(s.capability_of("echo"), Some("cap.doc.echo"));
        assert_eq!(s.capability_of("add"), None);
    }

    #[test]
    fn no_block_is_no_spec() {
        let record = json!({"capabilities": ["cap.doc.echo"]});
        assert_eq!(McpSpec::from_record(record.as_object().unwrap()), Ok(None));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (json!("npx"), "mcp must be an object"),
            (json!({"tools": {"a": "cap.doc.echo"}}), "mcp: command (stdio) or url"),
            (json!({"command": "x", "url": "http://a", "tools": {"a": "cap.doc.echo"}}), "mcp: give either command (stdio) or url (Streamable HTTP), not both"),
            (json!({"command": " ", "tools": {"a": "cap.doc.echo"}}), "mcp.command: must not be blank"),
            (json!({"command": "x", "args": ["a", 1], "tools": {"a": "cap.doc.echo"}}), "mcp.args[1]: must be a string"),
            (json!({"command": "x"}), "mcp.tools: required"),
            (json!({"command": "x", "tools": {}}), "mcp.tools: required"),
            (json!({"command": "x", "tools": {"a": "cap.not.declared"}}), "mcp.tools.a: maps to cap.not.declared, which is not one of this worker's capabilities"),
            (json!({"command": "x", "tools": {"a b": "cap.doc.echo"}}), "mcp.tools.a b: not an MCP tool name"),
            (json!({"command": "x", "tools": {"a": 3}}), "mcp.tools.a: must be a string"),
            (json!({"command": "x", "env": {"GITHUB_TOKEN": "ghp_literal"}, "tools": {"a": "cap.doc.echo"}}), "mcp.env.GITHUB_TOKEN: looks like a secret"),
            (json!({"command": "x", "env": {"1X": "v"}, "tools": {"a": "cap.doc.echo"}}), "mcp.env.1X: not a valid name"),
            (json!({"url": "http://a", "headers": {"Authorization": "Bearer abc"}, "tools": {"a": "cap.doc.echo"}}), "mcp.headers.Authorization: looks like a secret"),
            (json!({"url": "file:///etc/passwd", "tools": {"a": "cap.doc.echo"}}), "mcp.url: \"file:///etc/passwd\" is not an http"),
            (json!({"url": "http://a", "args": [], "tools": {"a": "cap.doc.echo"}}), "mcp.args: only for a command server"),
            (json!({"command": "x", "tools": {"a": "cap.doc.echo"}, "comand": 1}), "mcp.comand: unknown field"),
            (json!({"command": "x", "tools": {"a": "cap.doc.echo"}, "record_arguments": "some"}), "mcp.record_arguments: must be \"full\" or \"hash\""),
        ];
        for (block, expected) in cases {
            let err = spec(block.clone()).expect_err(&block.to_string());
            assert!(err.starts_with(expected), "{block}: {err}");
        }
    }

    #[test]
    fn a_reference_resolves_from_the_environment_and_a_missing_one_is_named() {
        std::env::set_var("PROCTOR_SPEC_TEST_SET", "value");
        assert_eq!(
            Setting::parse("$PROCTOR_SPEC_TEST_SET").resolve("mcp.env.X"),
            Ok("value".into())
        );
        let err = Setting::parse("$PROCTOR_SPEC_TEST_UNSET")
            .resolve("mcp.env.X")
            .unwrap_err();
        assert_eq!(
            err,
            "mcp.env.X refers to $PROCTOR_SPEC_TEST_UNSET, which is not set in the hall's environment"
        );
        assert_eq!(
            Setting::parse("$not a name"),
            Setting::Literal("$not a name".into())
        );
    }
}
