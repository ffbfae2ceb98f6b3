//! JSON text exactly as Python's `json.dumps(..., sort_keys=True)` writes it (ASCII-escaped),
//! compact (`separators=(",", ":")`) or pretty (`indent=2`). The reference signs and writes
//! manifests this way, so byte-compatibility depends on it.
//!
//! Floats are written by serde_json, which can differ from Python's `repr` for exponents;
//! manifests only hold strings, so this never matters here.

use serde_json::Value;

/// `json.dumps(value, sort_keys=True, separators=(",", ":"))`.
pub fn compact(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, None, 0);
    out
}

/// `json.dumps(value, sort_keys=True, indent=2)`.
pub fn pretty(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, Some(2), 0);
    out
}

fn write(out: &mut String, value: &Value, indent: Option<usize>, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            write_seq(out, '[', ']', items.iter(), indent, depth, |out, item| {
                write(out, item, indent, depth + 1)
            })
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            write_seq(
                out,
                '{',
                '}',
                entries.into_iter(),
                indent,
                depth,
                |out, (key, item)| {
                    write_str(out, key);
                    out.push_str(if indent.is_some() { ": " } else { ":" });
                    write(out, item, indent, depth + 1);
                },
            )
        }
    }
}

fn write_seq<T>(
    out: &mut String,
    open: char,
    close: char,
    items: impl ExactSizeIterator<Item = T>,
    indent: Option<usize>,
    depth: usize,
    mut each: impl FnMut(&mut String, T),
) {
    out.push(open);
    let empty = items.len() == 0;
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Some(width) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(width * (depth + 1)));
        }
        each(out, item);
    }
    if let (Some(width), false) = (indent, empty) {
        out.push('\n');
        out.push_str(&" ".repeat(width * depth));
    }
    out.push(close);
}

/// Python's `ensure_ascii` string escaping: everything outside printable ASCII becomes
/// `\uXXXX` (lowercase hex, UTF-16 surrogate pairs beyond the BMP).
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_matches_python() {
        // python3 -c 'import json; print(json.dumps({"b":[1,None,True],"a":"é\u007f😀\"\\\n"}, sort_keys=True, separators=(",",":")))'
        let v = json!({"b": [1, null, true], "a": "é\u{7f}😀\"\\\n"});
        assert_eq!(
            compact(&v),
            r#"{"a":"\u00e9\u007f\ud83d\ude00\"\\\n","b":[1,null,true]}"#
        );
    }

    #[test]
    fn pretty_matches_python() {
        // python3 -c 'import json; print(json.dumps({"z":{},"a":[],"m":{"k":[1,2]}}, sort_keys=True, indent=2))'
        let v = json!({"z": {}, "a": [], "m": {"k": [1, 2]}});
        let expected = "{\n  \"a\": [],\n  \"m\": {\n    \"k\": [\n      1,\n      2\n    ]\n  },\n  \"z\": {}\n}";
        assert_eq!(pretty(&v), expected);
    }
}
