//! `proctor ledger reset`: start a hall's anchoring over, deliberately. A hall refuses to start
//! on a ledger that no longer holds what its latest signed checkpoint says; this moves the
//! checkpoints aside (never deleting them) so the next start anchors the ledger as it is now.

use std::path::PathBuf;
use std::process::ExitCode;

use hall::anchor::CheckpointStore;

use super::anchor::hall_in;
use super::common::data_dir_or_default;
use crate::exit::{outln, CliError, CliResult};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Archive the hall's signed checkpoints (and its mirror's) so the hall starts on the ledger
    /// as it is now: after a ledger was deliberately moved, restored or deleted.
    #[command(
        after_help = "The ledger file itself is not touched: to begin an empty ledger, move it aside first.\n\nExit codes:\n  0  archived (or nothing to archive)\n  2  no per-user data dir and no --data-dir\n  3  no hall in the data dir\n  4  a checkpoint could not be moved"
    )]
    Reset(Args),
}

#[derive(clap::Args)]
pub struct Args {
    /// The hall's data dir [default: the per-user data dir].
    #[arg(long, value_name = "DIR", env = "PROCTOR_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

pub fn run(command: Command) -> CliResult {
    let Command::Reset(args) = command;
    let config = hall_in(&data_dir_or_default(args.data_dir.as_deref())?)?;
    let moved = CheckpointStore::of(&config)
        .archive()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    if moved.is_empty() {
        outln!("no checkpoints to archive; the hall anchors its ledger when it next starts")?;
    }
    for path in &moved {
        outln!("archived {}", path.display())?;
    }
    if !moved.is_empty() {
        outln!("the hall signs a checkpoint of its ledger as it is now when it next starts")?;
    }
    if !config.ledger_path.exists() {
        outln!(
            "the ledger {} does not exist: the hall starts a new one",
            config.ledger_path.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
