//! The reference's HMAC-SHA256 manifest signature (SPEC.md §3.3), kept for compatibility
//! with packages attested by other WCP implementations. New packages use Ed25519.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Lowercase hex HMAC-SHA256 of `message` under `secret`.
pub fn sign(secret: &[u8], message: &[u8]) -> String {
    hex::encode(mac(secret, message).finalize().into_bytes())
}

/// Whether `signature_hex` is the HMAC of `message`; compared in constant time.
pub fn verify(secret: &[u8], message: &[u8], signature_hex: &str) -> bool {
    // The reference compares lowercase hex strings, so uppercase hex is a mismatch there too.
    if signature_hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return false;
    }
    match hex::decode(signature_hex) {
        Ok(bytes) => mac(secret, message).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

fn mac(secret: &[u8], message: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_hmac() {
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"s3cret", b"{\"a\":1}", hashlib.sha256).hexdigest())'
        let sig = sign(b"s3cret", br#"{"a":1}"#);
        assert_eq!(
            sig,
            "5910e62016ef5034272c926c27071992a465c2335cecf41851bda071577f4f6d"
        );
        assert!(verify(b"s3cret", br#"{"a":1}"#, &sig));
        assert!(!verify(b"other", br#"{"a":1}"#, &sig));
        assert!(!verify(b"s3cret", br#"{"a":2}"#, &sig));
        assert!(!verify(b"s3cret", br#"{"a":1}"#, "zz"));
    }
}
