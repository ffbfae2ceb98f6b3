//! `proctor verify-log`: walk the ledger's hash chains (decisions, then the linked records:
//! MCP call outcomes, approvals) and name the first bad record; then check the ledger against
//! the hall's latest signed checkpoint (hall::anchor), which names what the chain alone cannot
//! see: a cut tail, an emptied, missing or replaced file, acknowledged records lost.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use ledger::{
    Chain, LedgerBackend, LedgerError, OpenOptions, Progress, SqliteBackend, VerifyReport,
};

use hall::anchor::{check, AnchorProblem};

use super::anchor::{anchoring, Anchoring};
use super::common::data_dir_or_default;
use super::common::{existing_hall, DbArg};
use crate::exit::{outln, CliError, CliResult, Written};

#[derive(clap::Args)]
#[command(
    after_help = "The ledger of a hall (--data-dir, or no --db) is also checked against the hall's latest signed checkpoint (in <data dir>/checkpoints/ and the checkpoint_mirror dir): it must hold every record the hall acknowledged, with the same chain. A ledger named by --db alone is checked by its chains only.\n\nExit codes:\n  0  both chains (decisions, linked records) are intact, and the ledger holds what its checkpoint says\n  1  a chain is broken or the file is corrupt (the first bad record is named); or the ledger is missing, emptied, cut short or replaced, or a checkpoint is foreign (what is missing or foreign is named)\n  3  the ledger file is missing (and no checkpoint says it should exist), not a ledger, or from a newer proctor\n  4  the database could not be read"
)]
pub struct Args {
    #[command(flatten)]
    db: DbArg,
    /// Print the report as JSON: {"records_checked","last_seq","checkpoint","linked_records",
    /// "linked_last_seq","linked_checkpoint","linked_to_pruned","finding","anchor",
    /// "anchor_problem"}; a finding's "chain" says which chain ("decisions" or "linked");
    /// "anchor" is the signed checkpoint checked ({"path","size","hash","time"}, null if none),
    /// "anchor_problem" what it found missing or foreign (null if nothing).
    #[arg(long)]
    json: bool,
    /// Also run SQLite's structural check of every page and index (slower; finds damage in
    /// indexes, which the chain walk does not read).
    #[arg(long)]
    deep: bool,
}

pub fn run(args: Args) -> CliResult {
    let (report, anchored, problem) = match walk(&args) {
        Ok(walked) => walked,
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
        let mut json = serde_json::to_value(&report).expect("serializable");
        json["anchor"] = anchored.as_ref().map_or(serde_json::Value::Null, |a| {
            let cp = &a.latest.checkpoint;
            serde_json::json!({"path": a.latest.path, "size": cp.size, "hash": cp.hash, "time": cp.time})
        });
        json["anchor_problem"] = problem.as_ref().map(|p| p.to_string()).into();
        writeln!(out, "{json}").written()?;
    }
    if let Some(problem) = problem {
        return Err(anchor_failed(&problem));
    }
    match &report.finding {
        None => {
            if !args.json {
                print_intact(&mut out, &report).written()?;
                print_anchor(&mut out, anchored.as_ref(), &args.db).written()?;
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

/// The chain walk's report and the checkpoint it was checked against (with what that found
/// missing or foreign), or why there is no report (with the code `--json` prints).
type Walked = (VerifyReport, Option<Anchoring>, Option<AnchorProblem>);

fn walk(args: &Args) -> Result<Walked, (&'static str, CliError)> {
    let path = args.db.path().map_err(|e| ("LEDGER_NOT_FOUND", e))?;
    let anchored = match anchoring_of(&args.db).map_err(|e| ("LEDGER_ANCHOR", e))? {
        Ok(anchored) => anchored,
        Err(problem) => return Err(("LEDGER_ANCHOR", anchor_failed(&problem))),
    };
    if let Some(a) = &anchored {
        // Before opening: a missing or emptied file is what the checkpoint says is wrong.
        check::check_file(&path, &a.latest).map_err(|p| ("LEDGER_ANCHOR", anchor_failed(&p)))?;
    }
    // A file that cannot be read (e.g. torn by deleting its -wal after a crash) still gets
    // what its checkpoint says it must hold.
    let failed = |e: LedgerError| {
        let mut err = verify_error(&args.db, e.clone());
        if let Some(a) = &anchored {
            err.message = format!(
                "{}; the checkpoint {} says the hall acknowledged {} record(s)",
                err.message,
                a.latest.path.display(),
                a.latest.checkpoint.size
            );
        }
        (e.code(), err)
    };
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
    let problem = match &anchored {
        Some(a) => check::check_ledger(&backend, &a.latest)
            .map_err(failed)?
            .err(),
        None => None,
    };
    Ok((report, anchored, problem))
}

/// The anchoring of the hall whose ledger is checked: none for a ledger named by `--db` alone,
/// or a data dir with no hall (or a hall that never wrote a checkpoint).
fn anchoring_of(db: &DbArg) -> Result<Result<Option<Anchoring>, AnchorProblem>, CliError> {
    if db.db.is_some() && db.data_dir.is_none() {
        return Ok(Ok(None));
    }
    match existing_hall(&data_dir_or_default(db.data_dir.as_deref())?)? {
        Some(config) => anchoring(&config),
        None => Ok(Ok(None)),
    }
}

fn anchor_failed(problem: &AnchorProblem) -> CliError {
    CliError::check_failed(format!(
        "the ledger does not hold what the hall signed: {problem}"
    ))
}

fn print_anchor(
    out: &mut impl Write,
    anchored: Option<&Anchoring>,
    db: &DbArg,
) -> std::io::Result<()> {
    match anchored {
        Some(a) => {
            let cp = &a.latest.checkpoint;
            writeln!(
                out,
                "signed checkpoint matches: {} records as of {} ({}, signed by {})",
                cp.size,
                cp.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                a.latest.path.display(),
                a.key.name
            )
        }
        None if db.db.is_some() && db.data_dir.is_none() => writeln!(
            out,
            "no signed checkpoint checked: --db names a ledger without its hall (add --data-dir DIR to check it against that hall's checkpoints)"
        ),
        None => writeln!(
            out,
            "no signed checkpoint checked: the hall has not written one (it does when it starts)"
        ),
    }
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
