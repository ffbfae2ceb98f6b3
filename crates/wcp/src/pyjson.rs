//! JSON text exactly as Python's `json.dumps(value, sort_keys=True)` writes it, for every
//! place where WCP hashes or signs Python-serialized bytes:
//!
//! - [`Format::DEFAULT`] (`", "` / `": "`): the `artifact_hash` evidence receipt (SPEC.md §1.11);
//! - [`Format::COMPACT`] (`separators=(",", ":")`): attestation signed bytes (§3.3) and the
//!   Hall API enrollment hash (§4.1);
//! - [`Format::PRETTY`] (`indent=2`): the attestation manifest file (§3.2).
//!
//! Differences from serde_json that matter: keys sorted at every level (by code point, which
//! is UTF-8 byte order), `ensure_ascii` escapes (`\u00e9`, surrogate pairs above U+FFFF,
//! `\u007f`), and Python's float `repr` (`1e-05`, `1.0`). Output goes to any [`io::Write`],
//! so a hasher can consume it with no intermediate document.

use crate::py::write_float_repr;
use serde_json::{Map, Value};
use std::io::{self, Write};

/// The `separators` and `indent` arguments of `json.dumps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    item_sep: &'static [u8],
    key_sep: &'static [u8],
    indent: Option<usize>,
}

impl Format {
    /// `json.dumps(v, sort_keys=True)`.
    pub const DEFAULT: Format = Format {
        item_sep: b", ",
        key_sep: b": ",
        indent: None,
    };
    /// `json.dumps(v, sort_keys=True, separators=(",", ":"))`.
    pub const COMPACT: Format = Format {
        item_sep: b",",
        key_sep: b":",
        indent: None,
    };
    /// `json.dumps(v, sort_keys=True, indent=2)`: with an indent Python's item separator
    /// drops its trailing space.
    pub const PRETTY: Format = Format {
        item_sep: b",",
        key_sep: b": ",
        indent: Some(2),
    };
}

/// The whole document as a string.
pub fn to_string(value: &Value, format: Format) -> String {
    let mut out = Vec::new();
    write_value(&mut out, value, format).expect("writing to a Vec cannot fail");
    // Every byte written is ASCII.
    String::from_utf8(out).expect("ensure_ascii output is ASCII")
}

/// Writes `value` (a top-level document).
pub fn write_value<W: Write>(out: &mut W, value: &Value, format: Format) -> io::Result<()> {
    value_at(out, value, format, 0)
}

/// Writes an object (a top-level document), keys sorted.
pub fn write_object<W: Write>(
    out: &mut W,
    map: &Map<String, Value>,
    format: Format,
) -> io::Result<()> {
    object_at(out, map, format, 0)
}

fn value_at<W: Write>(out: &mut W, value: &Value, format: Format, depth: usize) -> io::Result<()> {
    match value {
        Value::Null => out.write_all(b"null"),
        Value::Bool(true) => out.write_all(b"true"),
        Value::Bool(false) => out.write_all(b"false"),
        Value::Number(n) if n.is_f64() => {
            let mut s = String::new();
            write_float_repr(&mut s, n.as_f64().unwrap_or(f64::NAN));
            out.write_all(s.as_bytes())
        }
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => write_integer(out, u, false),
            (None, Some(i)) => write_integer(out, i.unsigned_abs(), i < 0),
            _ => write!(out, "{n}"),
        },
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                separate(out, format, depth + 1, i)?;
                value_at(out, item, format, depth + 1)?;
            }
            close(out, format, depth, items.is_empty(), b"]")
        }
        Value::Object(map) => object_at(out, map, format, depth),
    }
}

fn object_at<W: Write>(
    out: &mut W,
    map: &Map<String, Value>,
    format: Format,
    depth: usize,
) -> io::Result<()> {
    // Small objects (nearly all of them) are sorted on the stack.
    const SMALL: usize = 16;
    static NULL: Value = Value::Null;
    let mut small = [("", &NULL); SMALL];
    let mut large = Vec::new();
    let entries: &mut [(&str, &Value)] = if map.len() <= SMALL {
        for (slot, (k, v)) in small.iter_mut().zip(map) {
            *slot = (k.as_str(), v);
        }
        &mut small[..map.len()]
    } else {
        large.extend(map.iter().map(|(k, v)| (k.as_str(), v)));
        &mut large
    };
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.write_all(b"{")?;
    for (i, &(key, item)) in entries.iter().enumerate() {
        separate(out, format, depth + 1, i)?;
        write_str(out, key)?;
        out.write_all(format.key_sep)?;
        value_at(out, item, format, depth + 1)?;
    }
    close(out, format, depth, map.is_empty(), b"}")
}

/// Before the `i`-th item of a container: the item separator, then the indent.
fn separate<W: Write>(out: &mut W, format: Format, depth: usize, i: usize) -> io::Result<()> {
    if i > 0 {
        out.write_all(format.item_sep)?;
    }
    newline(out, format, depth)
}

/// Closes a container; Python keeps empty ones on one line (`[]`, `{}`).
fn close<W: Write>(
    out: &mut W,
    format: Format,
    depth: usize,
    empty: bool,
    bracket: &[u8],
) -> io::Result<()> {
    if !empty {
        newline(out, format, depth)?;
    }
    out.write_all(bracket)
}

fn newline<W: Write>(out: &mut W, format: Format, depth: usize) -> io::Result<()> {
    if let Some(width) = format.indent {
        out.write_all(b"\n")?;
        for _ in 0..width * depth {
            out.write_all(b" ")?;
        }
    }
    Ok(())
}

/// An integer's decimal digits, as `{}` (and Python's `int.__repr__`) writes them, without the
/// formatting machinery.
pub fn write_integer<W: Write>(out: &mut W, magnitude: u64, negative: bool) -> io::Result<()> {
    let mut buf = [0u8; 21];
    let mut at = buf.len();
    let mut rest = magnitude;
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if negative {
        at -= 1;
        buf[at] = b'-';
    }
    out.write_all(&buf[at..])
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A JSON string with `ensure_ascii=True` escaping: everything outside printable ASCII becomes
/// `\uXXXX` (lowercase hex, UTF-16 surrogate pairs beyond the BMP). Runs of plain characters
/// are written in one call.
pub fn write_str<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    let bytes = s.as_bytes();
    if all_plain(bytes) {
        // Nothing to escape (the common case): the string as it is, in one call with its quotes.
        return write_quoted(out, bytes);
    }
    out.write_all(b"\"")?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if (' '..='~').contains(&c) && c != '"' && c != '\\' {
            continue;
        }
        out.write_all(&bytes[start..i])?;
        start = i + c.len_utf8();
        match c {
            '"' => out.write_all(b"\\\"")?,
            '\\' => out.write_all(b"\\\\")?,
            '\n' => out.write_all(b"\\n")?,
            '\r' => out.write_all(b"\\r")?,
            '\t' => out.write_all(b"\\t")?,
            '\u{8}' => out.write_all(b"\\b")?,
            '\u{c}' => out.write_all(b"\\f")?,
            c => {
                let mut units = [0u16; 2];
                for &unit in c.encode_utf16(&mut units).iter() {
                    out.write_all(&[
                        b'\\',
                        b'u',
                        HEX[usize::from(unit >> 12)],
                        HEX[usize::from((unit >> 8) & 0xf)],
                        HEX[usize::from((unit >> 4) & 0xf)],
                        HEX[usize::from(unit & 0xf)],
                    ])?;
                }
            }
        }
    }
    out.write_all(&bytes[start..])?;
    out.write_all(b"\"")
}

/// Printable ASCII other than `"` and `\\`: the characters [`write_str`] copies unchanged.
/// Tested 16 bytes at a time without a branch per byte.
fn all_plain(bytes: &[u8]) -> bool {
    let plain = |b: u8| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\';
    let mut blocks = bytes.chunks_exact(16);
    blocks.all(|block| block.iter().fold(true, |acc, &b| acc & plain(b)))
        && blocks.remainder().iter().all(|&b| plain(b))
}

fn write_quoted<W: Write>(out: &mut W, bytes: &[u8]) -> io::Result<()> {
    const SMALL: usize = 126;
    if bytes.len() <= SMALL {
        let mut quoted = [b'"'; SMALL + 2];
        quoted[1..=bytes.len()].copy_from_slice(bytes);
        return out.write_all(&quoted[..bytes.len() + 2]);
    }
    out.write_all(b"\"")?;
    out.write_all(bytes)?;
    out.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_strings_take_the_short_way_with_the_same_bytes() {
        // Every printable ASCII character, at every position of short and long strings.
        let printable: Vec<char> = (0x20u8..0x7f).map(char::from).collect();
        for len in [0, 1, 15, 16, 17, 126, 127, 200] {
            for &c in &printable {
                let s: String = std::iter::repeat_n('a', len).chain([c]).collect();
                let mut fast = Vec::new();
                write_str(&mut fast, &s).unwrap();
                let escaped = match c {
                    '"' => "\\\"".to_string(),
                    '\\' => "\\\\".to_string(),
                    c => c.to_string(),
                };
                assert_eq!(
                    String::from_utf8(fast).unwrap(),
                    format!("\"{}{escaped}\"", "a".repeat(len))
                );
            }
        }
        assert!(!all_plain("é".as_bytes()) && !all_plain(b"\x7f") && !all_plain(b"\x1f"));
    }

    fn sample() -> Value {
        json!({"b": [1, null, true, 1e-05, 2.0], "a": "é\u{7f}😀\"\\\n", "z": {}, "y": []})
    }

    #[test]
    fn default_matches_python() {
        // python3 -c 'import json; print(json.dumps({"b":[1,None,True,1e-05,2.0],"a":"é\x7f😀\"\\\n","z":{},"y":[]}, sort_keys=True))'
        assert_eq!(
            to_string(&sample(), Format::DEFAULT),
            r#"{"a": "\u00e9\u007f\ud83d\ude00\"\\\n", "b": [1, null, true, 1e-05, 2.0], "y": [], "z": {}}"#
        );
    }

    #[test]
    fn compact_matches_python() {
        // Same value, separators=(",", ":").
        assert_eq!(
            to_string(&sample(), Format::COMPACT),
            r#"{"a":"\u00e9\u007f\ud83d\ude00\"\\\n","b":[1,null,true,1e-05,2.0],"y":[],"z":{}}"#
        );
    }

    #[test]
    fn pretty_matches_python() {
        // python3 -c 'import json; print(json.dumps({"z":{},"a":[],"m":{"k":[1,2.5]}}, sort_keys=True, indent=2))'
        let v = json!({"z": {}, "a": [], "m": {"k": [1, 2.5]}});
        let expected = "{\n  \"a\": [],\n  \"m\": {\n    \"k\": [\n      1,\n      2.5\n    ]\n  },\n  \"z\": {}\n}";
        assert_eq!(to_string(&v, Format::PRETTY), expected);
    }

    #[test]
    fn integers_as_display_writes_them() {
        for v in [0, 7, -1, 10, 4_294_967_296, i64::MAX, i64::MIN] {
            assert_eq!(to_string(&json!(v), Format::DEFAULT), v.to_string());
        }
        assert_eq!(
            to_string(&json!(u64::MAX), Format::DEFAULT),
            u64::MAX.to_string()
        );
    }

    #[test]
    fn control_characters_use_short_or_u_escapes() {
        let v = json!("\u{1}\u{8}\u{c}\t\r");
        assert_eq!(to_string(&v, Format::COMPACT), r#""\u0001\b\f\t\r""#);
    }
}
