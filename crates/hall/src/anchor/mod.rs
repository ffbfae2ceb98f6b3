//! The ledger anchored outside its own file (docs/ledger.md, "Anchoring"). The hash chain
//! proves records were not edited in place; it cannot prove the file is complete, or the same
//! file. So the hall signs, with a key of its own ([`HallKey`]):
//! - every batch of records the ledger made durable together, once, over the Merkle root of
//!   their (seq, record hash, decision id), with each evidence receipt's inclusion proof
//!   (`receipt.rs`): on the task of the batch's first caller, never on the ledger writer's
//!   thread;
//! - a checkpoint (record count, head hash) about every second while decisions arrive and at
//!   shutdown, written apart from the ledger ([`CheckpointStore`]), and to the
//!   `checkpoint_mirror` dir when one is configured.
//!
//! A hall refuses to start on a ledger that no longer holds what its latest checkpoint says
//! ([`check`]); `proctor verify-log` runs the same checks offline.

pub mod check;
mod key;
mod note;
pub mod store;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use ledger::{Batch, BatchRecord, LedgerBackend, Receipt};

pub use check::AnchorProblem;
pub use key::{HallKey, HallPublicKey};
pub use note::{Checkpoint, NoteError};
pub use store::{CheckpointStore, Found};

use crate::config::Config;
use crate::error::HallError;
use crate::receipt::ReceiptSignature;

/// How often a running hall writes a checkpoint while decisions arrive.
pub const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// What a running hall holds to sign receipts and write checkpoints.
pub struct Anchor {
    key: HallKey,
    store: CheckpointStore,
    /// The newest acknowledged record: what the next checkpoint says.
    acknowledged: Mutex<Receipt>,
    /// The size of the last checkpoint written; held while one is written, so writes never
    /// overlap or go backwards.
    written: Mutex<i64>,
    /// The mirror's last write failed (logged once until it works again).
    mirror_failing: AtomicBool,
}

impl Anchor {
    /// The hall's key (created on first start) and its latest checkpoint. Refuses, before the
    /// ledger is opened, a ledger file that is missing or emptied while a checkpoint says it
    /// held records, a checkpoint not signed by this hall's key, and checkpoints deleted from
    /// under an existing key.
    pub fn open(config: &Config) -> Result<(Anchor, Option<Found>), HallError> {
        let had_key = HallKey::load(&config.data_dir)?.is_some();
        let store = CheckpointStore::of(config);
        if !had_key && store.any() {
            let key = HallKey::path(&config.data_dir);
            return Err(refuse(config, AnchorProblem::KeyMissing { key }));
        }
        let key = HallKey::load_or_create(&config.data_dir)?;
        let latest =
            latest(config, &store, key.public(), had_key).map_err(|p| refuse(config, p))?;
        if let Some(found) = &latest {
            check::check_file(&config.ledger_path, found).map_err(|p| refuse(config, p))?;
        }
        let anchor = Anchor {
            key,
            store,
            acknowledged: Mutex::new(Receipt {
                seq: -1,
                hash: String::new(),
                batch: None,
            }),
            written: Mutex::new(-1),
            mirror_failing: AtomicBool::new(false),
        };
        Ok((anchor, latest))
    }

    /// Once the ledger is open: check it against `latest`, then anchor where it stands now.
    pub fn start(
        &self,
        config: &Config,
        backend: &dyn LedgerBackend,
        latest: Option<&Found>,
    ) -> Result<(), HallError> {
        let failed = |e: ledger::LedgerError| HallError::LedgerUnavailable(e.to_string());
        if let Some(found) = latest {
            check::check_ledger(backend, found)
                .map_err(failed)?
                .map_err(|p| refuse(config, p))?;
        }
        *self.acknowledged.lock().expect("anchor lock") = backend.head().map_err(failed)?;
        self.checkpoint()
    }

    pub fn public(&self) -> &HallPublicKey {
        self.key.public()
    }

    /// Sign a receipt of the ledger's: its batch's signature, made by the first receipt of the
    /// batch to get here (which also marks the whole batch, durable as a whole, as acknowledged:
    /// the next checkpoint covers it), and its own inclusion proof. A receipt that came without
    /// a batch is signed as a batch of its own.
    pub fn sign_receipt(&self, receipt: &Receipt, decision_id: &str) -> ReceiptSignature {
        let alone;
        let batch = match &receipt.batch {
            Some(batch) => batch.as_ref(),
            None => {
                alone = Batch::new(vec![BatchRecord {
                    seq: receipt.seq,
                    hash: hex_hash(&receipt.hash),
                    decision_id: decision_id.to_string(),
                }])
                .expect("one record is a batch");
                &alone
            }
        };
        let value = batch.seal(|batch| {
            let signature = ReceiptSignature::sign_batch(&self.key, batch);
            let last = batch.records().last().expect("a batch is never empty");
            self.acknowledge(last.seq, hex::encode(last.hash));
            signature
        });
        ReceiptSignature::in_batch(self.key.public(), batch, receipt.seq, value)
            .expect("a receipt's batch holds its record")
    }

    fn acknowledge(&self, seq: i64, hash: String) {
        let mut acknowledged = self.acknowledged.lock().expect("anchor lock");
        if seq > acknowledged.seq {
            *acknowledged = Receipt {
                seq,
                hash,
                batch: None,
            };
        }
    }

    /// Write a checkpoint of the newest acknowledged record, if it moved since the last one.
    /// An error when the data dir's copy cannot be written; the mirror's failure is logged.
    /// Blocking (fsync): run it off the async runtime.
    pub fn checkpoint(&self) -> Result<(), HallError> {
        let mut written = self.written.lock().expect("anchor lock");
        let head = self.acknowledged.lock().expect("anchor lock").clone();
        if head.seq <= *written {
            return Ok(());
        }
        let note = Checkpoint {
            size: head.seq,
            hash: head.hash,
            time: chrono::Utc::now(),
        }
        .sign(&self.key);
        let mirror_error = self.store.write(&note)?;
        *written = head.seq;
        match mirror_error {
            Some(e) if !self.mirror_failing.swap(true, Ordering::Relaxed) => {
                tracing::error!(error = %e, "cannot copy the checkpoint to checkpoint_mirror");
            }
            None if self.mirror_failing.swap(false, Ordering::Relaxed) => {
                tracing::info!("checkpoints are copied to checkpoint_mirror again");
            }
            _ => {}
        }
        Ok(())
    }
}

/// The newest checkpoint of the hall in `config` signed by `key`. An error when a checkpoint
/// file is foreign or altered, or when none exists although the key did before (`key_existed`)
/// and no `proctor ledger reset` archived them: a hall writes its first checkpoint when it
/// first starts.
pub fn latest(
    config: &Config,
    store: &CheckpointStore,
    key: &HallPublicKey,
    key_existed: bool,
) -> Result<Option<Found>, AnchorProblem> {
    match store.latest(key)? {
        None if key_existed && !store.was_reset() => Err(AnchorProblem::CheckpointsMissing {
            key: HallKey::path(&config.data_dir),
            looked: store
                .files()
                .iter()
                .map(|f| f.display().to_string())
                .collect(),
        }),
        latest => Ok(latest),
    }
}

/// A chain hash as the ledger writes it in a receipt: 64 hex digits.
fn hex_hash(hex: &str) -> [u8; 32] {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(hex, &mut hash).expect("the ledger's receipts hold hex hashes");
    hash
}

/// The refusal to start, with the way to start over deliberately.
fn refuse(config: &Config, problem: AnchorProblem) -> HallError {
    HallError::Config(format!(
        "refusing to start: {problem}. Nothing was changed. If this is deliberate (the ledger \
         was moved or restored on purpose), start over with `proctor ledger reset --data-dir {}` \
         (it archives the checkpoints, never deletes them), then start the hall again",
        config.data_dir.display()
    ))
}
