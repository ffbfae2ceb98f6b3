//! placeholder: built by the WCP core issue.
use crate::exit::CliResult;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> CliResult {
    Err(crate::exit::CliError::runtime("not implemented yet"))
}
