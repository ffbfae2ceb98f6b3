//! Evidence receipt: `artifact_hash` (SPEC.md §1.11), byte-exact with the reference's
//! `sha256(json.dumps(model_dump(), sort_keys=True))`.
//!
//! The Python dump ([`crate::pyjson`], default separators) is written into one buffer and
//! hashed in one call: no intermediate document (`Value`) is built.

use crate::input::RouteInput;
use crate::pyjson::{self, Format};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// Lowercase hex SHA-256 of the RouteInput as the reference serializes it.
pub fn artifact_hash(input: &RouteInput) -> String {
    // Many small writes land in a plain buffer (cheaper than as many hasher updates); a
    // typical request's preimage is a few hundred bytes.
    let mut preimage = Vec::with_capacity(1024);
    write_route_input(&mut preimage, input).expect("writing to a Vec cannot fail");
    lower_hex(&Sha256::digest(&preimage))
}

/// Lowercase hex digits of `bytes` (what `format!("{:x}", digest)` writes).
fn lower_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// The exact bytes hashed by [`artifact_hash`], for debugging and tests.
pub fn artifact_preimage(input: &RouteInput) -> Vec<u8> {
    let mut out = Vec::new();
    write_route_input(&mut out, input).expect("writing to a Vec cannot fail");
    out
}

fn write_route_input<W: Write>(w: &mut W, inp: &RouteInput) -> io::Result<()> {
    // The 13 fields in sorted key order, written directly rather than through a `Value`.
    w.write_all(b"{\"blast_radius\": ")?;
    write_opt_object(w, inp.blast_radius.as_ref())?;
    w.write_all(b", \"blast_score\": ")?;
    match inp.blast_score {
        Some(s) => pyjson::write_integer(w, s.unsigned_abs(), s < 0)?,
        None => w.write_all(b"null")?,
    }
    w.write_all(b", \"capability_id\": ")?;
    pyjson::write_str(w, &inp.capability_id)?;
    w.write_all(b", \"correlation_id\": ")?;
    pyjson::write_str(w, &inp.correlation_id)?;
    w.write_all(b", \"data_label\": ")?;
    pyjson::write_str(w, inp.data_label.as_str())?;
    w.write_all(b", \"dry_run\": ")?;
    w.write_all(if inp.dry_run { b"true" } else { b"false" })?;
    w.write_all(b", \"env\": ")?;
    pyjson::write_str(w, inp.env.as_str())?;
    w.write_all(b", \"privilege_context\": ")?;
    write_opt_object(w, inp.privilege_context.as_ref())?;
    w.write_all(b", \"qos_class\": ")?;
    pyjson::write_str(w, inp.qos_class.as_str())?;
    w.write_all(b", \"request\": ")?;
    pyjson::write_object(w, &inp.request, Format::DEFAULT)?;
    w.write_all(b", \"tenant_credential\": ")?;
    match &inp.tenant_credential {
        Some(s) => pyjson::write_str(w, s)?,
        None => w.write_all(b"null")?,
    }
    w.write_all(b", \"tenant_id\": ")?;
    pyjson::write_str(w, &inp.tenant_id)?;
    w.write_all(b", \"tenant_risk\": ")?;
    pyjson::write_str(w, inp.tenant_risk.as_str())?;
    w.write_all(b"}")
}

fn write_opt_object<W: Write>(w: &mut W, m: Option<&Map<String, Value>>) -> io::Result<()> {
    match m {
        Some(m) => pyjson::write_object(w, m, Format::DEFAULT),
        None => w.write_all(b"null"),
    }
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

    proptest::proptest! {
        /// A float read from the wire is exactly the float Python reads (correctly rounded), so
        /// the preimage carries Python's repr of it. serde_json's default parser is off by one
        /// ULP on some inputs; the workspace enables its `float_roundtrip` feature for this.
        #[test]
        fn floats_from_the_wire_hash_as_python_reads_them(bits in proptest::num::u64::ANY) {
            let f = f64::from_bits(bits);
            proptest::prop_assume!(f.is_finite());
            let mut repr = String::new();
            crate::py::write_float_repr(&mut repr, f);
            let text = format!(
                r#"{{"capability_id": "c", "env": "dev", "data_label": "PUBLIC", "tenant_risk": "low",
                "qos_class": "P2", "tenant_id": "t", "correlation_id": "x", "request": {{"f": {repr}}}}}"#
            );
            let wire: Value = serde_json::from_str(&text).unwrap();
            let pre = String::from_utf8(artifact_preimage(&parse_route_input(&wire).unwrap())).unwrap();
            let want = format!(r#""request": {{"f": {repr}}}"#);
            proptest::prop_assert!(pre.contains(&want), "{} not in {}", want, pre);
        }
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
