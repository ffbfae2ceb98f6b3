//! `proctor receipt verify`: check an evidence receipt offline: the hall's signature (over the
//! receipt's batch, and the record's inclusion proof in it; or, for a `proctor-receipt/v1`
//! receipt, over the receipt alone), and, with the hall's data dir, that its ledger still holds
//! that record.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hall::anchor::HallPublicKey;
use hall::EvidenceReceipt;
use ledger::{HashAt, LedgerBackend, OpenOptions, SqliteBackend};

use super::anchor::{hall_in, hall_key};
use super::common::data_dir_or_default;
use super::common::ledger_error;
use crate::exit::{outln, CliError, CliResult};

/// More than any route answer; a larger input is not one.
const MAX_INPUT: u64 = 16 * 1024 * 1024;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Check a receipt's signature against the hall's public key and, with the hall's data dir,
    /// that its ledger still holds the record (the same hash at that seq).
    #[command(
        after_help = "Exit codes:\n  0  the signature is the hall's, and the ledger (when checked) holds the record\n  1  the signature does not verify, or the ledger no longer holds the record\n  2  bad flags, or no key to check with\n  3  the input is not a receipt, or the hall, its key or its ledger cannot be found\n  4  the input or the ledger could not be read"
    )]
    Verify(Args),
}

#[derive(clap::Args)]
pub struct Args {
    /// A file holding the receipt JSON, or a whole route answer (a decision with its
    /// "evidence_receipt"); `-` reads it from stdin.
    receipt: PathBuf,
    /// The hall's data dir: its key checks the signature, and its ledger must still hold the
    /// record [default: the per-user data dir, unless --public-key is given].
    #[arg(long, value_name = "DIR", env = "PROCTOR_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The hall's verifier key (`proctor hall key` prints it), or a file holding it: check the
    /// signature with it, without the hall's data dir.
    #[arg(long, value_name = "KEY")]
    public_key: Option<String>,
    /// Print {"seq","hash","decision_id","key_name","format","batch","signature","ledger"};
    /// "batch" is the signed batch {"first_seq","size","root"} (null for a v1 receipt);
    /// "ledger" is "holds", "pruned" (removed by retention, so only the signature was checked)
    /// or null (not checked).
    #[arg(long)]
    json: bool,
}

pub fn run(command: Command) -> CliResult {
    let Command::Verify(args) = command;
    let receipt = read_receipt(&args.receipt)?;
    // With --public-key alone the check is offline; a data dir (given, or the default
    // without a key) also checks the ledger.
    let (key, config) = match (&args.public_key, &args.data_dir) {
        (Some(text), None) => (parse_key(text)?, None),
        (text, dir) => {
            let config = hall_in(&data_dir_or_default(dir.as_deref())?)?;
            let key = match text {
                Some(text) => parse_key(text)?,
                None => hall_key(&config)?.public().clone(),
            };
            (key, Some(config))
        }
    };
    receipt.verify_signature(&key).map_err(|why| {
        CliError::check_failed(format!(
            "receipt for seq {} is not valid: {why}",
            receipt.ledger_seq
        ))
    })?;
    let signature = receipt
        .signature
        .as_ref()
        .expect("a verified receipt is signed");
    let held = match &config {
        Some(config) => Some(ledger_holds(&config.ledger_path, &receipt)?),
        None => None,
    };
    if args.json {
        let out = serde_json::json!({
            "seq": receipt.ledger_seq,
            "hash": receipt.ledger_hash,
            "decision_id": receipt.decision_id,
            "key_name": key.name,
            "format": signature.format,
            "batch": signature.batch,
            "signature": "valid",
            "ledger": held,
        });
        outln!("{out}")?;
    } else {
        outln!(
            "receipt valid: seq {} (decision {}) signed by {}",
            receipt.ledger_seq,
            super::common::printable(&receipt.decision_id),
            key.name
        )?;
        if let Some(batch) = &signature.batch {
            outln!(
                "in a batch of {} record(s) from seq {}, Merkle root {}",
                batch.size,
                batch.first_seq,
                batch.root
            )?;
        }
        match held {
            Some("holds") => outln!("the ledger still holds this record")?,
            Some(_) => {
                outln!("the ledger's retention pruned this record: only the signature was checked")?
            }
            None => outln!("the ledger was not checked (no --data-dir)")?,
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_receipt(path: &Path) -> Result<EvidenceReceipt, CliError> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().take(MAX_INPUT).read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_INPUT).read_to_string(&mut text))
    };
    let shown = path.display();
    read.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CliError::bad_input(format!("{shown}: not found")),
        std::io::ErrorKind::InvalidData => CliError::bad_input(format!("{shown}: not UTF-8 text")),
        _ => CliError::runtime(format!("{shown}: {e}")),
    })?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::bad_input(format!("{shown}: not JSON: {e}")))?;
    let receipt = match value.get("evidence_receipt") {
        Some(inner) => inner.clone(),
        None => value,
    };
    serde_json::from_value(receipt).map_err(|e| {
        CliError::bad_input(format!(
            "{shown}: not an evidence receipt or a route answer holding one: {e}"
        ))
    })
}

fn parse_key(text: &str) -> Result<HallPublicKey, CliError> {
    let from_file = std::fs::read_to_string(text).ok();
    HallPublicKey::parse_verifier_key(from_file.as_deref().unwrap_or(text))
        .map_err(|e| CliError::usage(format!("--public-key: {e}")))
}

/// "holds" or "pruned"; a failure when the ledger holds another record, or none, at that seq.
fn ledger_holds(path: &Path, receipt: &EvidenceReceipt) -> Result<&'static str, CliError> {
    let backend = SqliteBackend::open(path, OpenOptions::read_only()).map_err(|e| match e {
        ledger::LedgerError::NotFound { .. } => CliError::check_failed(format!(
            "the ledger {} no longer exists, so it does not hold seq {}",
            path.display(),
            receipt.ledger_seq
        )),
        e => ledger_error(e),
    })?;
    let seq = receipt.ledger_seq;
    match backend.hash_at(seq).map_err(ledger_error)? {
        HashAt::Held(hash) if hash == receipt.ledger_hash => Ok("holds"),
        HashAt::Pruned => Ok("pruned"),
        HashAt::Held(hash) => Err(CliError::check_failed(format!(
            "the ledger {} holds another record at seq {seq} (hash {hash}, the receipt says {}): \
             the ledger was replaced or rewritten",
            path.display(),
            receipt.ledger_hash
        ))),
        HashAt::Missing => {
            let head = backend.head().map_err(ledger_error)?.seq;
            Err(CliError::check_failed(format!(
                "the ledger {} no longer holds seq {seq}: it ends at seq {head} (records were \
                 cut, or lost with its -wal file)",
                path.display()
            )))
        }
    }
}
