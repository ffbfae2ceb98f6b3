//! The halls that ship to this store: when each last made contact, how far behind it is, and
//! how far its decision chain reaches centrally.

use super::{Reader, Result};
use chrono::{DateTime, TimeDelta, Utc};

/// A hall that has not made contact for this long is `late` ...
pub const LATE_AFTER: TimeDelta = TimeDelta::minutes(2);
/// ... and `silent` after this long: shut down, off the network, or its shipper failing.
pub const SILENT_AFTER: TimeDelta = TimeDelta::minutes(15);

/// A hall's health as the fleet sees it: from its last contact alone (its backlog is shown
/// beside it; a hall that ships is in contact even when behind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HallHealth {
    /// In contact within [`LATE_AFTER`].
    Live,
    Late,
    Silent,
    /// Registered, never shipped.
    Never,
}

impl HallHealth {
    pub fn at(last_contact: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        match last_contact.map(|t| now - t) {
            None => Self::Never,
            Some(quiet) if quiet <= LATE_AFTER => Self::Live,
            Some(quiet) if quiet <= SILENT_AFTER => Self::Late,
            Some(_) => Self::Silent,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Late => "late",
            Self::Silent => "silent",
            Self::Never => "never",
        }
    }
}

/// One row of the halls list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallRow {
    pub hall_id: String,
    /// Its hostname.
    pub name: String,
    pub public_key: String,
    pub version: String,
    pub registered_at: DateTime<Utc>,
    pub last_contact: Option<DateTime<Utc>>,
    /// Records it had not shipped at its last contact.
    pub backlog: i64,
    /// The newest decision seq shipped (`None`: none yet).
    pub head_seq: Option<i64>,
    pub health: HallHealth,
}

impl Reader {
    /// Every registered hall, by name, with its health as of `now`.
    pub async fn halls(&self, now: DateTime<Utc>) -> Result<Vec<HallRow>> {
        let client = self.client().await?;
        // head_seq: one backward step of the (hall_id, seq) index per partition and hall, not
        // a count over millions of rows.
        let rows = client
            .query(
                "SELECT h.hall_id, h.name, h.public_key, h.version, h.registered_at, \
                        h.last_contact, h.backlog, \
                        (SELECT max(d.seq) FROM decisions d WHERE d.hall_id = h.hall_id) AS head_seq \
                 FROM halls h ORDER BY h.name, h.hall_id",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let last_contact = r.get("last_contact");
                HallRow {
                    hall_id: r.get("hall_id"),
                    name: r.get("name"),
                    public_key: r.get("public_key"),
                    version: r.get("version"),
                    registered_at: r.get("registered_at"),
                    last_contact,
                    backlog: r.get("backlog"),
                    head_seq: r.get("head_seq"),
                    health: HallHealth::at(last_contact, now),
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_follows_the_last_contact() {
        let now = Utc::now();
        let ago = |m: i64| Some(now - TimeDelta::minutes(m));
        assert_eq!(HallHealth::at(ago(0), now), HallHealth::Live);
        assert_eq!(HallHealth::at(ago(2), now), HallHealth::Live);
        assert_eq!(HallHealth::at(ago(3), now), HallHealth::Late);
        assert_eq!(HallHealth::at(ago(16), now), HallHealth::Silent);
        assert_eq!(HallHealth::at(None, now), HallHealth::Never);
    }
}
