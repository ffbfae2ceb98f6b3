//! placeholder: built by its issue.
use crate::exit::CliResult;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Not built yet.
    Todo,
}

pub fn run(_cmd: Command) -> CliResult {
    Err(crate::exit::CliError::runtime("not implemented yet"))
}
