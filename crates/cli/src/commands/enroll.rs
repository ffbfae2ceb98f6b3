//! `proctor enroll FILE`: send a worker registry record to a running hall.

use super::client::{print_json, Client, HallArgs};
use crate::exit::{CliError, CliResult};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The worker registry record (JSON; its fields: docs/wcp.md, "Worker registry records").
    pub file: PathBuf,
    #[command(flatten)]
    pub hall: HallArgs,
}

pub fn run(args: Args) -> CliResult {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| CliError::bad_input(format!("{}: {e}", args.file.display())))?;
    let record: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        CliError::bad_input(format!("{}: not valid JSON: {e}", args.file.display()))
    })?;
    let reply = Client::from_args(&args.hall)?.post("/v1/workers", &record)?;
    if !(200..300).contains(&reply.status) {
        return Err(reply.into_error());
    }
    print_json(&reply.body)?;
    Ok(ExitCode::SUCCESS)
}
