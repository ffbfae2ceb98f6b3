//! How far each stream of a hall's ledger has been shipped: `<data dir>/fleet/cursor.json`,
//! advanced only after PostgreSQL committed the batch, written crash-safe. A crash between the
//! commit and the write ships that batch again, which the central store ignores (at least
//! once, idempotent on (hall id, seq)). On every connect the central store's own position wins
//! (the shipper asks it), so a cursor that is behind or ahead of a restored database heals.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::FleetError;
use crate::identity::{state_dir, write_atomic};

const CURSOR_FILE: &str = "cursor.json";

/// The last shipped position of every stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cursor {
    /// Decision seq.
    pub decisions: i64,
    /// Linked record seq.
    pub linked: i64,
    /// Hall event id.
    pub events: i64,
    /// Alert change number (the ledger's `alerts.change_seq`): alerts ship again when they
    /// change.
    pub alerts: i64,
    /// Size of the last signed checkpoint shipped.
    pub checkpoint: i64,
    /// Retention checkpoint ids of the decision and linked chains.
    pub retention_decisions: i64,
    pub retention_linked: i64,
}

/// The cursor file of one data dir.
#[derive(Debug, Clone)]
pub struct CursorFile {
    path: PathBuf,
}

impl CursorFile {
    pub fn of(data_dir: &Path) -> Self {
        Self {
            path: state_dir(data_dir).join(CURSOR_FILE),
        }
    }

    /// The saved cursor; none saved yet is the start of every stream.
    pub fn load(&self) -> Result<Cursor, FleetError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| FleetError::io(&self.path, format!("not a fleet cursor: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Cursor::default()),
            Err(e) => Err(FleetError::io(&self.path, e)),
        }
    }

    pub fn save(&self, cursor: &Cursor) -> Result<(), FleetError> {
        let json = serde_json::to_vec(cursor).expect("a cursor serializes");
        write_atomic(&self.path, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_and_loaded_and_a_damaged_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = CursorFile::of(dir.path());
        assert_eq!(file.load().unwrap(), Cursor::default());
        let cursor = Cursor {
            decisions: 42,
            events: 3,
            ..Cursor::default()
        };
        file.save(&cursor).unwrap();
        assert_eq!(file.load().unwrap(), cursor);
        std::fs::write(&file.path, b"{torn").unwrap();
        assert!(file.load().unwrap_err().to_string().contains("cursor.json"));
    }
}
