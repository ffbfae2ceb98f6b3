//! `proctor workers check DIR`: the conformance level of each worker record (SPEC.md §1.13).

use crate::commands::route::read_record_dir;
use crate::exit::{outln, CliError, CliResult};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use wcp::{check_worker, Level};

const WORKERS_CHECK_HELP: &str = "\
Exit codes:
  0  every record was scored (and reached --require, if given)
  1  some record is below --require
  3  the directory is unreadable, or some file is not valid JSON (the others are still scored)";

#[derive(clap::Args)]
#[command(after_help = WORKERS_CHECK_HELP)]
pub struct Args {
    /// Directory of worker registry records (`*.json`).
    pub dir: PathBuf,
    /// Fail (exit 1) if any record is below this level.
    #[arg(long, value_enum)]
    pub require: Option<RequiredLevel>,
    /// One JSON object per record instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum RequiredLevel {
    Basic,
    Standard,
    Full,
}

impl From<RequiredLevel> for Level {
    fn from(l: RequiredLevel) -> Self {
        match l {
            RequiredLevel::Basic => Level::Basic,
            RequiredLevel::Standard => Level::Standard,
            RequiredLevel::Full => Level::Full,
        }
    }
}

pub fn run(args: Args) -> CliResult {
    let records = read_record_dir(&args.dir)?;
    let (mut unreadable, mut below) = (0, 0);
    for (path, record) in records {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                unreadable += 1;
                eprintln!("proctor: error: {}: {e}", path.display());
                continue;
            }
        };
        let report = check_worker(&record);
        if args
            .require
            .is_some_and(|r| report.achieved_level < Level::from(r))
        {
            below += 1;
        }
        let next = report.next_level();
        if args.json {
            let (next_level, missing) =
                next.map_or((None, Vec::new()), |(l, m)| (Some(l.as_str()), m));
            outln!(
                "{}",
                json!({"file": name, "worker_id": report.worker_id, "worker_species_id": report.worker_species_id,
                       "achieved_level": report.achieved_level, "next_level": next_level, "missing": missing})
            )?;
            continue;
        }
        outln!(
            "{name}: {} ({}): {}",
            report.worker_id,
            report.worker_species_id,
            report.achieved_level.as_str()
        )?;
        match next {
            Some((level, missing)) => {
                outln!("  missing for {}: {}", level.as_str(), missing.join("; "))?
            }
            None => outln!("  highest level reached")?,
        }
    }
    if unreadable > 0 {
        return Err(CliError::bad_input(format!(
            "{unreadable} record file(s) could not be read"
        )));
    }
    if below > 0 {
        return Err(CliError::check_failed(format!(
            "{below} record(s) below the required level"
        )));
    }
    Ok(ExitCode::SUCCESS)
}
