//! `proctor enroll FILE`: send a worker registry record to a running hall.

use super::client::{print_json, Client, HallArgs};
use crate::exit::{CliError, CliResult};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The worker registry record (JSON; its fields: docs/wcp.md, "Worker registry records").
    /// A relative `attestation.package_dir` / `source_file` is taken from the file's directory.
    pub file: PathBuf,
    #[command(flatten)]
    pub hall: HallArgs,
}

pub fn run(args: Args) -> CliResult {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| CliError::bad_input(format!("{}: {e}", args.file.display())))?;
    let mut record: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        CliError::bad_input(format!("{}: not valid JSON: {e}", args.file.display()))
    })?;
    resolve_package_paths(&mut record, &args.file)?;
    let reply = Client::from_args(&args.hall)?.post("/v1/workers", &record)?;
    if !(200..300).contains(&reply.status) {
        return Err(reply.into_error());
    }
    print_json(&reply.body)?;
    Ok(ExitCode::SUCCESS)
}

/// A record file names its package relative to itself; the hall would resolve a relative path
/// against its registry dir, so the path is sent absolute (docs/attest.md).
fn resolve_package_paths(record: &mut serde_json::Value, file: &Path) -> Result<(), CliError> {
    let base = file.parent().unwrap_or(Path::new("."));
    let hashed = record.get("artifact_hash").is_some_and(|h| !h.is_null());
    for key in ["package_dir", "source_file"] {
        let Some(slot) = record.pointer_mut(&format!("/attestation/{key}")) else {
            continue;
        };
        let Some(path) = slot
            .as_str()
            .filter(|p| !p.is_empty() && Path::new(p).is_relative())
        else {
            continue;
        };
        if hashed {
            // Rewriting the path would change what `artifact_hash` covers.
            return Err(CliError::bad_input(format!(
                "{}: attestation.{key} {path:?} is relative and the record carries artifact_hash; write the path absolute",
                file.display()
            )));
        }
        let absolute = std::path::absolute(base.join(path))
            .map_err(|e| CliError::bad_input(format!("attestation.{key} {path:?}: {e}")))?;
        *slot = serde_json::Value::String(absolute.to_string_lossy().into_owned());
    }
    Ok(())
}
