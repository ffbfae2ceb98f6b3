//! Time and decision ids enter the core only through these traits, so tests are
//! deterministic (ARCHITECTURE.md, "Invariants"). Defaults: the system clock and random UUID v4.

use chrono::{DateTime, Datelike, Timelike, Utc};
use std::sync::atomic::{AtomicU64, Ordering};

/// Source of decision and telemetry timestamps.
pub trait Clock: Send + Sync {
    /// Current time formatted like the reference (see [`format_timestamp`]).
    fn now_iso(&self) -> String;
}

/// Source of decision ids.
pub trait IdSource: Send + Sync {
    fn new_id(&self) -> String;
}

/// `datetime.isoformat()` of an aware UTC time: `2026-02-26T10:11:12.123456+00:00`, and no
/// fractional part at all when the microseconds are 0 (SPEC.md §6 #14).
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    // chrono reports a leap second as nanoseconds >= 1e9; Python has none, so clamp.
    let micros = (t.nanosecond() / 1_000).min(999_999);
    let (y, mo, d, h, mi, s) = (
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    );
    // Hand-formatted: strftime-style patterns are re-parsed on every call and this runs for
    // every decision; so does `format!`'s padding machinery, hence the digits written here.
    if !(0..=9999).contains(&y) {
        return if micros == 0 {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}+00:00")
        } else {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{micros:06}+00:00")
        };
    }
    let mut out = [0u8; 32];
    let mut at = 0;
    let mut put = |value: u32, width: usize, after: u8| {
        let mut v = value;
        for i in (0..width).rev() {
            out[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out[at + width] = after;
        at += width + 1;
    };
    put(y as u32, 4, b'-');
    put(mo, 2, b'-');
    put(d, 2, b'T');
    put(h, 2, b':');
    put(mi, 2, b':');
    if micros == 0 {
        put(s, 2, b'+');
    } else {
        put(s, 2, b'.');
        put(micros, 6, b'+');
    }
    let mut text = String::with_capacity(at + 5);
    text.push_str(std::str::from_utf8(&out[..at]).expect("ASCII digits"));
    text.push_str("00:00");
    text
}

/// The wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_iso(&self) -> String {
        format_timestamp(Utc::now())
    }
}

/// Always the same instant.
#[derive(Clone, Debug)]
pub struct FixedClock(pub String);

impl Clock for FixedClock {
    fn now_iso(&self) -> String {
        self.0.clone()
    }
}

/// Random UUID v4, lowercase hyphenated.
#[derive(Clone, Copy, Debug, Default)]
pub struct UuidV4Ids;

impl IdSource for UuidV4Ids {
    fn new_id(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }
}

/// `00000000-0000-4000-8000-000000000001`, `...002`, ...: UUID-shaped and predictable.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn new_id(&self) -> String {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        format!("00000000-0000-4000-8000-{n:012x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamp_format_and_zero_microsecond_quirk() {
        let t = Utc.with_ymd_and_hms(2026, 2, 26, 10, 11, 12).unwrap();
        assert_eq!(format_timestamp(t), "2026-02-26T10:11:12+00:00");
        let t = t + chrono::Duration::microseconds(123_456);
        assert_eq!(format_timestamp(t), "2026-02-26T10:11:12.123456+00:00");
        let t = t + chrono::Duration::nanoseconds(999);
        assert_eq!(format_timestamp(t), "2026-02-26T10:11:12.123456+00:00");
        let t =
            Utc.with_ymd_and_hms(7, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::microseconds(60);
        assert_eq!(format_timestamp(t), "0007-01-02T03:04:05.000060+00:00");
        let t = Utc.with_ymd_and_hms(12345, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(format_timestamp(t), "12345-12-31T23:59:59+00:00");
    }

    #[test]
    fn ids() {
        let id = UuidV4Ids.new_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, UuidV4Ids.new_id());
        let seq = SequentialIds::default();
        assert_eq!(seq.new_id(), "00000000-0000-4000-8000-000000000001");
    }
}
