//! `proctor rules check FILE`: validate a rules file and report shadowed rules.

use crate::commands::route::{load_rules, read_json};
use crate::exit::{outln, CliError, CliResult};
use std::path::PathBuf;
use std::process::ExitCode;

const RULES_HELP: &str = "\
Exit codes:
  0  the rules are valid and no rule is shadowed
  1  the rules are valid but some rules are shadowed (every prod/edge request would be denied
     with DENY_SHADOW_RULES_DETECTED)
  3  the file is unreadable, not JSON, or not a valid rules file (the message names the rule
     and the JSON path)";

#[derive(clap::Subcommand)]
pub enum Command {
    /// Parse and validate a rules file, then report shadowed rules.
    #[command(after_help = RULES_HELP)]
    Check {
        /// The rules file.
        file: PathBuf,
    },
}

pub fn run(cmd: Command) -> CliResult {
    let Command::Check { file } = cmd;
    read_json(&file)?;
    let rules = load_rules(&file)?;
    let warnings = rules.shadow_warnings();
    outln!("{}: {} rule(s), valid", file.display(), rules.rules().len())?;
    for w in warnings {
        outln!(
            "shadowed: rule {:?} is shadowed by rule {:?}: {}",
            w.shadowed,
            w.shadower,
            w.reason
        )?;
    }
    if warnings.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    Err(CliError::check_failed(format!(
        "{} shadowed rule pair(s): prod/edge requests would all be denied (DENY_SHADOW_RULES_DETECTED); move broader rules after narrower ones",
        warnings.len()
    )))
}
