//! `proctor hall key`: the public key that signs this hall's receipts and ledger checkpoints.

use std::path::PathBuf;
use std::process::ExitCode;

use super::anchor::{hall_in, hall_key};
use super::common::data_dir_or_default;
use crate::exit::{outln, CliResult};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Print the hall's public key (the hall creates its key pair on first start).
    #[command(
        after_help = "Exit codes:\n  0  printed\n  2  no per-user data dir and no --data-dir\n  3  no hall in the data dir, or it has no key yet"
    )]
    Key(Args),
}

#[derive(clap::Args)]
pub struct Args {
    /// The hall's data dir [default: the per-user data dir].
    #[arg(long, value_name = "DIR", env = "PROCTOR_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Print {"algorithm","name","key_id","public_key","verifier_key"} (as GET /v1/hall/key).
    #[arg(long)]
    json: bool,
}

pub fn run(command: Command) -> CliResult {
    let Command::Key(args) = command;
    let config = hall_in(&data_dir_or_default(args.data_dir.as_deref())?)?;
    let key = hall_key(&config)?;
    let public = key.public();
    if args.json {
        outln!("{}", serde_json::to_string(public).expect("serializable"))?;
    } else {
        outln!("name          {}", public.name)?;
        outln!("key id        {}", public.key_id)?;
        outln!("public key    {} ({})", public.public_key, public.algorithm)?;
        outln!("verifier key  {}", public.verifier_key)?;
    }
    Ok(ExitCode::SUCCESS)
}
