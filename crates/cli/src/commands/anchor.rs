//! What the anchoring commands share (`hall key`, `ledger reset`, `receipt verify`,
//! `verify-log`): the hall a `--data-dir` names, its key and its latest signed checkpoint.

use std::path::Path;

use hall::anchor::{self, AnchorProblem, CheckpointStore, Found, HallKey, HallPublicKey};

use super::common::existing_hall;
use crate::exit::CliError;

/// The hall initialised in `data_dir` (never initialises one).
pub fn hall_in(data_dir: &Path) -> Result<hall::Config, CliError> {
    existing_hall(data_dir)?.ok_or_else(|| {
        CliError::bad_input(format!(
            "no hall in {} (no {}): pass the --data-dir your hall runs with",
            data_dir.display(),
            hall::config::CONFIG_FILE
        ))
    })
}

/// The hall key of `config`'s data dir; an error when the hall has none yet.
pub fn hall_key(config: &hall::Config) -> Result<HallKey, CliError> {
    HallKey::load(&config.data_dir)
        .map_err(|e| CliError::bad_input(e.to_string()))?
        .ok_or_else(|| {
            CliError::bad_input(format!(
                "the hall in {} has no key yet ({} is missing): a hall creates it when it first \
                 starts",
                config.data_dir.display(),
                HallKey::path(&config.data_dir).display()
            ))
        })
}

/// What anchors a hall's ledger: its key and its newest checkpoint (`None` for a hall that has
/// never run with checkpoints: no key and no checkpoint file).
pub struct Anchoring {
    pub key: HallPublicKey,
    pub latest: Found,
}

/// The anchoring of the hall in `config`, or the problem that makes it untrustworthy (a
/// foreign checkpoint, checkpoints deleted, or checkpoints without the key that signed them).
pub fn anchoring(
    config: &hall::Config,
) -> Result<Result<Option<Anchoring>, AnchorProblem>, CliError> {
    let store = CheckpointStore::of(config);
    let key = HallKey::load(&config.data_dir).map_err(|e| CliError::bad_input(e.to_string()))?;
    let Some(key) = key else {
        if !store.any() {
            return Ok(Ok(None));
        }
        // Checkpoints exist, so did a key: check them against a key nobody has (none verifies).
        return Ok(Err(AnchorProblem::KeyMissing {
            key: HallKey::path(&config.data_dir),
        }));
    };
    Ok(
        anchor::latest(config, &store, key.public(), true).map(|latest| {
            latest.map(|latest| Anchoring {
                key: key.public().clone(),
                latest,
            })
        }),
    )
}
