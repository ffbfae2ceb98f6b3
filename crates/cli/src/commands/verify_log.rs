//! `proctor verify-log`: walk the ledger's hash chains (decisions, then the linked records:
//! MCP call outcomes, approvals) and name the first bad record.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use ledger::{
    Chain, LedgerBackend, LedgerError, OpenOptions, Progress, SqliteBackend, VerifyReport,
};

use super::common::DbArg;
use crate::exit::{outln, CliError, CliResult, Written};

#[derive(clap::Args)]
#[command(
    after_help = "Exit codes:\n  0  both chains (decisions, linked records) are intact\n  1  a chain is broken or the file is corrupt (the first bad record is named)\n  3  the ledger file is missing, not a ledger, or from a newer proctor\n  4  the database could not be read"
)]
pub struct Args {
    #[command(flatten)]
    db: DbArg,
    /// Print the report as JSON: {"records_checked","last_seq","checkpoint","linked_records",
    /// "linked_last_seq","linked_checkpoint","linked_to_pruned","finding"}; a finding's
    /// "chain" says which chain ("decisions" or "linked").
    #[arg(long)]
    json: bool,
    /// Also run SQLite's structural check of every page and index (slower; finds damage in
    /// indexes, which the chain walk does not read).
    #[arg(long)]
    deep: bool,
}

pub fn run(args: Args) -> CliResult {
    let report = match walk(&args) {
        Ok(report) => report,
        Err((code, err)) => {
            if args.json {
                // A script reading stdout gets an answer even when there is no report.
                let error = serde_json::json!({"error": {"code": code, "message": err.message}});
                outln!("{error}")?;
            }
            return Err(err);
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string(&report).expect("serializable")
        )
        .written()?;
    }
    match &report.finding {
        None => {
            if !args.json {
                print_intact(&mut out, &report).written()?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(finding) => {
            let chain = match finding.chain {
                Chain::Decisions => "ledger chain",
                Chain::Linked => "ledger linked-record chain",
            };
            Err(CliError::check_failed(format!(
                "{chain} broken at {} {}: {finding}",
                finding.chain.noun(),
                finding.seq
            )))
        }
    }
}

/// The chain walk's report, or why there is none (with the code `--json` prints).
fn walk(args: &Args) -> Result<VerifyReport, (&'static str, CliError)> {
    let failed = |e: LedgerError| (e.code(), verify_error(&args.db, e));
    let path = args.db.path().map_err(|e| ("LEDGER_NOT_FOUND", e))?;
    let backend = SqliteBackend::open(path, OpenOptions::read_only()).map_err(failed)?;
    if args.deep {
        let problems = backend.integrity_check().map_err(failed)?;
        if !problems.is_empty() {
            let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
            return Err((
                "LEDGER_CORRUPT",
                CliError::check_failed(format!(
                    "the ledger's files are damaged ({} problem(s)): {}",
                    problems.len(),
                    shown.join("; ")
                )),
            ));
        }
    }
    let show_progress = std::io::stderr().is_terminal();
    let mut progress = |p: Progress| {
        if show_progress && p.total > 0 {
            eprint!("\rverifying: {}/{} records", p.done, p.total);
        }
    };
    let report = backend.verify(&mut progress).map_err(failed)?;
    if show_progress {
        eprintln!();
    }
    Ok(report)
}

/// A file SQLite reports as corrupt fails the check (exit 1) rather than being a runtime error.
fn verify_error(db: &DbArg, e: LedgerError) -> CliError {
    match e {
        LedgerError::Corrupt { .. } => CliError::check_failed(e.to_string()),
        e => db.error(e),
    }
}

fn print_intact(out: &mut impl Write, report: &VerifyReport) -> std::io::Result<()> {
    let first = report.checkpoint.as_ref().map_or(0, |c| c.through_seq) + 1;
    match report.records_checked {
        0 => writeln!(out, "ledger intact: no records to verify")?,
        n => writeln!(
            out,
            "ledger intact: {n} records verified (seq {first}..={})",
            report.last_seq
        )?,
    }
    if let Some(c) = &report.checkpoint {
        writeln!(
            out,
            "records 1..={} were pruned; the chain continues from their checkpoint",
            c.through_seq
        )?;
    }
    let first = report
        .linked_checkpoint
        .as_ref()
        .map_or(0, |c| c.through_seq)
        + 1;
    match report.linked_records {
        0 => writeln!(out, "linked records intact: none to verify")?,
        n => writeln!(
            out,
            "linked records intact: {n} verified (seq {first}..={})",
            report.linked_last_seq
        )?,
    }
    if let Some(c) = &report.linked_checkpoint {
        writeln!(
            out,
            "linked records 1..={} were pruned with their decisions; the chain continues from their checkpoint",
            c.through_seq
        )?;
    }
    if report.linked_to_pruned > 0 {
        writeln!(
            out,
            "{} linked record(s) name a pruned decision (kept until a prune reaches them in order)",
            report.linked_to_pruned
        )?;
    }
    Ok(())
}
