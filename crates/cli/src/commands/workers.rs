//! `proctor workers ...`: inspect worker registry records (offline) or a running hall.

use crate::exit::CliResult;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Score each registry record of a directory (WCP-Basic/Standard/Full) and say what is
    /// missing for the next level.
    Check(crate::commands::workers_check::Args),
    /// List the workers of a running hall with their health.
    List(crate::commands::client::HallArgs),
}

pub fn run(cmd: Command) -> CliResult {
    match cmd {
        Command::Check(args) => crate::commands::workers_check::run(args),
        Command::List(args) => crate::commands::client::list_workers(args),
    }
}
