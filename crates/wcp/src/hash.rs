//! Evidence receipt: `artifact_hash` (SPEC.md §1.11), byte-exact with the reference's
//! `sha256(json.dumps(model_dump(), sort_keys=True))`.
//!
//! The Python dump is streamed straight into the hasher through a small stack buffer: no
//! intermediate document is built. Differences from serde_json that matter here: `", "` and
//! `": "` separators, keys sorted at every level, ASCII-only output with `\uXXXX` escapes
//! (surrogate pairs above U+FFFF) and Python float repr (`1e-05`, `1.0`).

use crate::input::RouteInput;
use crate::py::write_float_repr;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// Lowercase hex SHA-256 of the RouteInput as the reference serializes it.
pub fn artifact_hash(input: &RouteInput) -> String {
    let mut w = HashWriter::new();
    write_route_input(&mut w, input);
    let digest = w.finish();
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(HEX[usize::from(byte >> 4)] as char);
        hex.push(HEX[usize::from(byte & 0xf)] as char);
    }
    hex
}

/// The exact bytes hashed by [`artifact_hash`], for debugging and tests.
pub fn artifact_preimage(input: &RouteInput) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = HashWriter::new();
    w.tee = Some(&mut out);
    write_route_input(&mut w, input);
    w.finish();
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Buffers small writes so the hasher sees few, larger updates.
struct HashWriter<'a> {
    hasher: Sha256,
    buf: [u8; 256],
    len: usize,
    tee: Option<&'a mut Vec<u8>>,
}

impl<'a> HashWriter<'a> {
    fn new() -> Self {
        Self {
            hasher: Sha256::new(),
            buf: [0; 256],
            len: 0,
            tee: None,
        }
    }

    fn bytes(&mut self, data: &[u8]) {
        if self.len + data.len() > self.buf.len() {
            self.flush();
            if data.len() > self.buf.len() {
                self.update(data);
                return;
            }
        }
        self.buf[self.len..self.len + data.len()].copy_from_slice(data);
        self.len += data.len();
    }

    fn byte(&mut self, b: u8) {
        if self.len == self.buf.len() {
            self.flush();
        }
        self.buf[self.len] = b;
        self.len += 1;
    }

    fn flush(&mut self) {
        let (buf, len) = (self.buf, self.len);
        self.update(&buf[..len]);
        self.len = 0;
    }

    fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
        if let Some(t) = self.tee.as_deref_mut() {
            t.extend_from_slice(data);
        }
    }

    fn finish(mut self) -> [u8; 32] {
        self.flush();
        self.hasher.finalize().into()
    }
}

/// Lets integers be formatted straight into the hasher (`write!`), with no temporary string.
impl std::fmt::Write for HashWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

fn write_route_input(w: &mut HashWriter<'_>, inp: &RouteInput) {
    // The 13 fields in sorted key order.
    w.bytes(b"{\"blast_radius\": ");
    write_opt_object(w, inp.blast_radius.as_ref());
    w.bytes(b", \"blast_score\": ");
    match inp.blast_score {
        Some(s) => {
            let _ = write!(w, "{s}");
        }
        None => w.bytes(b"null"),
    }
    w.bytes(b", \"capability_id\": ");
    write_str(w, &inp.capability_id);
    w.bytes(b", \"correlation_id\": ");
    write_str(w, &inp.correlation_id);
    w.bytes(b", \"data_label\": ");
    write_str(w, inp.data_label.as_str());
    w.bytes(b", \"dry_run\": ");
    w.bytes(if inp.dry_run { b"true" } else { b"false" });
    w.bytes(b", \"env\": ");
    write_str(w, inp.env.as_str());
    w.bytes(b", \"privilege_context\": ");
    write_opt_object(w, inp.privilege_context.as_ref());
    w.bytes(b", \"qos_class\": ");
    write_str(w, inp.qos_class.as_str());
    w.bytes(b", \"request\": ");
    write_object(w, &inp.request);
    w.bytes(b", \"tenant_credential\": ");
    match &inp.tenant_credential {
        Some(s) => write_str(w, s),
        None => w.bytes(b"null"),
    }
    w.bytes(b", \"tenant_id\": ");
    write_str(w, &inp.tenant_id);
    w.bytes(b", \"tenant_risk\": ");
    write_str(w, inp.tenant_risk.as_str());
    w.byte(b'}');
}

fn write_opt_object(w: &mut HashWriter<'_>, m: Option<&Map<String, Value>>) {
    match m {
        Some(m) => write_object(w, m),
        None => w.bytes(b"null"),
    }
}

fn write_object(w: &mut HashWriter<'_>, m: &Map<String, Value>) {
    if m.is_empty() {
        w.bytes(b"{}");
        return;
    }
    // Python sorts by code point; UTF-8 byte order is the same order.
    let mut entries: Vec<(&String, &Value)> = m.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    w.byte(b'{');
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            w.bytes(b", ");
        }
        write_str(w, k);
        w.bytes(b": ");
        write_value(w, v);
    }
    w.byte(b'}');
}

fn write_value(w: &mut HashWriter<'_>, v: &Value) {
    match v {
        Value::Null => w.bytes(b"null"),
        Value::Bool(true) => w.bytes(b"true"),
        Value::Bool(false) => w.bytes(b"false"),
        Value::Number(n) => {
            if n.is_f64() {
                let mut s = String::new();
                write_float_repr(&mut s, n.as_f64().unwrap_or(f64::NAN));
                w.bytes(s.as_bytes());
            } else {
                let _ = write!(w, "{n}");
            }
        }
        Value::String(s) => write_str(w, s),
        Value::Array(items) => {
            w.byte(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    w.bytes(b", ");
                }
                write_value(w, item);
            }
            w.byte(b']');
        }
        Value::Object(m) => write_object(w, m),
    }
}

/// A JSON string with `ensure_ascii=True` escaping.
fn write_str(w: &mut HashWriter<'_>, s: &str) {
    w.byte(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let plain = (' '..='~').contains(&c) && c != '"' && c != '\\';
        if plain {
            continue;
        }
        w.bytes(&bytes[start..i]);
        start = i + c.len_utf8();
        match c {
            '"' => w.bytes(b"\\\""),
            '\\' => w.bytes(b"\\\\"),
            '\n' => w.bytes(b"\\n"),
            '\r' => w.bytes(b"\\r"),
            '\t' => w.bytes(b"\\t"),
            '\u{8}' => w.bytes(b"\\b"),
            '\u{c}' => w.bytes(b"\\f"),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let u = *unit;
                    w.bytes(&[
                        b'\\',
                        b'u',
                        HEX[usize::from(u >> 12)],
                        HEX[usize::from((u >> 8) & 0xf)],
                        HEX[usize::from((u >> 4) & 0xf)],
                        HEX[usize::from(u & 0xf)],
                    ]);
                }
            }
        }
    }
    w.bytes(&bytes[start..]);
    w.byte(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::parse_route_input;
    use serde_json::json;

    fn input(extra: Value) -> RouteInput {
        let mut v = json!({"capability_id": "cap.doc.summarize", "env": "dev", "data_label": "PUBLIC",
               "tenant_risk": "low", "qos_class": "P2", "tenant_id": "acme", "correlation_id": "c-1"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        parse_route_input(&v).unwrap()
    }

    fn preimage(extra: Value) -> String {
        String::from_utf8(artifact_preimage(&input(extra))).unwrap()
    }

    #[test]
    fn skeleton_matches_python_dump() {
        assert_eq!(
            preimage(json!({})),
            r#"{"blast_radius": null, "blast_score": null, "capability_id": "cap.doc.summarize", "correlation_id": "c-1", "data_label": "PUBLIC", "dry_run": false, "env": "dev", "privilege_context": null, "qos_class": "P2", "request": {}, "tenant_credential": null, "tenant_id": "acme", "tenant_risk": "low"}"#
        );
    }

    #[test]
    fn python_float_repr_and_ascii_escapes() {
        // SPEC.md §6 #10.
        let p = preimage(json!({"request": {"x": "é", "f": 1e-05}}));
        assert!(
            p.contains(r#""request": {"f": 1e-05, "x": "\u00e9"}"#),
            "{p}"
        );
        let p = preimage(
            json!({"request": {"emoji": "😀", "ctl": "a\u{1}\u{7f}\"\\\n", "one": 1.0, "nested": {"b": [true, null], "a": -3}}}),
        );
        assert!(
            p.contains(r#""request": {"ctl": "a\u0001\u007f\"\\\n", "emoji": "\ud83d\ude00", "nested": {"a": -3, "b": [true, null]}, "one": 1.0}"#),
            "{p}"
        );
    }

    #[test]
    fn hash_is_sha256_of_preimage() {
        let inp = input(json!({"blast_score": "7", "dry_run": "yes"}));
        let pre = artifact_preimage(&inp);
        let want: String = Sha256::digest(&pre)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(artifact_hash(&inp), want);
        assert!(String::from_utf8(pre)
            .unwrap()
            .contains(r#""blast_score": 7, "capability_id""#));
    }

    #[test]
    fn long_values_cross_the_buffer() {
        let long = "x".repeat(1000);
        let inp = input(json!({"request": {"k": long}}));
        let pre = artifact_preimage(&inp);
        assert_eq!(
            pre.len(),
            preimage(json!({})).len() + r#""k": """#.len() + 1000
        );
    }
}
