//! `proctor`: the command-line face of the hall. Each subcommand lives in its own module
//! under `commands/`; this file only wires them to clap and maps failures to exit codes.

mod commands;
mod exit;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Serving is allocation-heavy (HTTP, JSON, routing on many threads); mimalloc's per-thread
/// free lists cost much less CPU there than glibc malloc (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (for `route`: every decision was made, allowed or denied)
  1  the check failed (invalid attestation, broken ledger chain, conformance mismatch, rules errors)
  2  usage error (bad flags or arguments)
  3  bad input file (unreadable, malformed JSON, invalid rules or registry)
  4  runtime error (database, network or I/O failure)";

#[derive(Parser)]
#[command(name = "proctor", version, about = "A local governance hall for AI workers (WCP)", after_help = EXIT_CODES_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decide which worker may serve a capability request.
    Route(commands::route::Args),
    /// Validate a rules file.
    #[command(subcommand)]
    Rules(commands::rules::Command),
    /// Inspect worker registry records or the workers of a running hall.
    #[command(subcommand)]
    Workers(commands::workers::Command),
    /// Run a hall: HTTP API, live registry and rules, ledger, web UI.
    Serve(commands::serve::Args),
    /// Enroll a worker registry record in a running hall.
    Enroll(commands::enroll::Args),
    /// Report a worker heartbeat to a running hall.
    Heartbeat(commands::heartbeat::Args),
    /// Check the router against WCP conformance scenarios.
    #[command(subcommand)]
    Conformance(commands::conformance::Command),
    /// Browse, export and import the decision ledger.
    #[command(subcommand)]
    Decisions(commands::decisions::Command),
    /// Show everything recorded under one correlation id, in order.
    Trace(commands::trace::Args),
    /// Check the ledger's hash chain; names the first bad record.
    VerifyLog(commands::verify_log::Args),
    /// The hall's own signing key (receipts, ledger checkpoints).
    #[command(subcommand)]
    Hall(commands::hall_key::Command),
    /// Start a hall's ledger anchoring over, deliberately.
    #[command(subcommand)]
    Ledger(commands::ledger_reset::Command),
    /// Verify an evidence receipt offline.
    #[command(subcommand)]
    Receipt(commands::receipt::Command),
    /// Hash, sign and verify worker packages (attestation).
    #[command(subcommand)]
    Attest(commands::attest::Command),
    /// Manage namespace signing keys, trusted keys and revocations.
    #[command(subcommand)]
    Keys(commands::keys::Command),
    /// Serve the hall's governed MCP tools on stdio (for Claude Desktop, Cursor, VS Code...),
    /// list them, or import the MCP servers a client already has.
    Mcp(commands::mcp::Args),
    /// List, approve or deny the tool calls a running hall holds for a person.
    #[command(subcommand)]
    Approvals(commands::approvals::Command),
    /// The fleet's central store: re-verify every hall's shipped chains.
    #[command(subcommand)]
    Fleet(commands::fleet::Command),
}

fn main() -> ExitCode {
    // Every HTTPS client of this process (rmcp's, in `proctor mcp`) uses rustls' ring provider.
    hall::tls::install_crypto_provider();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Route(args) => commands::route::run(args),
        Command::Rules(cmd) => commands::rules::run(cmd),
        Command::Workers(cmd) => commands::workers::run(cmd),
        Command::Conformance(cmd) => commands::conformance::run(cmd),
        Command::Decisions(cmd) => commands::decisions::run(cmd),
        Command::Trace(args) => commands::trace::run(args),
        Command::VerifyLog(args) => commands::verify_log::run(args),
        Command::Hall(cmd) => commands::hall_key::run(cmd),
        Command::Ledger(cmd) => commands::ledger_reset::run(cmd),
        Command::Receipt(cmd) => commands::receipt::run(cmd),
        Command::Attest(cmd) => commands::attest::run(cmd),
        Command::Keys(cmd) => commands::keys::run(cmd),
        Command::Serve(args) => commands::serve::run(args),
        Command::Enroll(args) => commands::enroll::run(args),
        Command::Heartbeat(args) => commands::heartbeat::run(args),
        Command::Mcp(args) => commands::mcp::run(args),
        Command::Approvals(cmd) => commands::approvals::run(cmd),
        Command::Fleet(cmd) => commands::fleet::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) => err.report(),
    }
}
