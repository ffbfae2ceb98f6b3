//! `[fleet]` in config.toml: this hall ships its ledger to a fleet's central PostgreSQL
//! (docs/fleet.md). The shipping itself is the `fleet` crate's; this module reads the
//! configuration, names the hall (its id, key and hostname) and starts and stops the shipper
//! with the hall.

use serde::{Deserialize, Serialize};

use crate::anchor::{CheckpointStore, HallPublicKey};
use crate::config::Config;
use crate::error::HallError;

/// `[fleet]`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {
    /// `postgresql://user:password@host:port/dbname` (or libpq's `key=value` form). Its
    /// password is never logged or shown.
    pub database_url: String,
    /// This hall's id in the fleet; absent: generated once into `<data dir>/fleet/hall_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hall_id: Option<String>,
}

/// Debug output (a logged config) shows the database without its password.
impl std::fmt::Debug for FleetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let database = fleet::dsn::parse(&self.database_url)
            .map(|c| fleet::dsn::redacted(&c))
            .unwrap_or_else(|_| "<invalid>".into());
        f.debug_struct("FleetConfig")
            .field("database", &database)
            .field("hall_id", &self.hall_id)
            .finish()
    }
}

impl FleetConfig {
    /// A bad URL or hall id stops the start with an error naming the key.
    pub fn validate(&self) -> Result<(), String> {
        fleet::dsn::parse(&self.database_url).map_err(|e| format!("fleet.database_url: {e}"))?;
        if let Some(id) = &self.hall_id {
            fleet::identity::check_hall_id(id).map_err(|e| format!("fleet.hall_id: {e}"))?;
        }
        Ok(())
    }
}

/// Start shipping when `[fleet]` is configured. Only a bad configuration or an unwritable
/// `<data dir>/fleet` fails the start; PostgreSQL being away never does.
pub(crate) fn start(
    config: &Config,
    key: &HallPublicKey,
) -> Result<Option<fleet::Shipper>, HallError> {
    let Some(fleet_config) = &config.file.fleet else {
        return Ok(None);
    };
    let fleet_err = |e: fleet::FleetError| HallError::Config(e.to_string());
    let hall_id = fleet::identity::hall_id(&config.data_dir, fleet_config.hall_id.as_deref())
        .map_err(fleet_err)?;
    let identity = fleet::HallIdentity {
        hall_id,
        public_key: key.public_key.clone(),
        key_name: key.name.clone(),
        verifier_key: key.verifier_key.clone(),
        name: fleet::identity::hostname(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let shipper = fleet::Shipper::start(fleet::ShipperConfig {
        database_url: fleet_config.database_url.clone(),
        data_dir: config.data_dir.clone(),
        ledger_path: config.ledger_path.clone(),
        checkpoint_files: CheckpointStore::of(config).files().to_vec(),
        identity,
        batch: fleet::shipper::DEFAULT_BATCH,
        poll: fleet::shipper::DEFAULT_POLL,
        interval: fleet::shipper::DEFAULT_INTERVAL,
    })
    .map_err(fleet_err)?;
    tracing::info!(
        hall_id = %shipper.status().hall_id.unwrap_or_default(),
        database = %shipper.status().database.unwrap_or_default(),
        "shipping the ledger to the fleet's central store"
    );
    Ok(Some(shipper))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_errors_never_show_the_password() {
        let config = FleetConfig {
            database_url: "postgresql://proctor:s3cret@db:5432/fleet".into(),
            hall_id: None,
        };
        assert!(!format!("{config:?}").contains("s3cret"));
        config.validate().unwrap();
        let bad = FleetConfig {
            database_url: "postgresql://proctor:s3cret@db:port/fleet".into(),
            hall_id: Some("ok".into()),
        };
        let err = bad.validate().unwrap_err();
        assert!(err.starts_with("fleet.database_url"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        let bad_id = FleetConfig {
            hall_id: Some("has space".into()),
            ..config
        };
        assert!(bad_id.validate().unwrap_err().starts_with("fleet.hall_id"));
    }
}
