//! `proctor conformance decide|run`: check the router against WCP scenarios in the
//! `tests/vectors/route.jsonl` format (see tests/vectors/README.md).

use crate::exit::{CliError, CliResult};
use serde_json::json;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use wcp::scenario::{compare, Scenario};

const CONFORMANCE_HELP: &str = "\
`decide` writes exactly one line per input line: the RouteDecision, or
{\"input_valid\": false, \"invalid_fields\": [...], \"error\": \"...\"} when the parser rejects the input,
or {\"scenario_valid\": false, \"error\": \"...\"} when the scenario itself cannot be set up.

Exit codes:
  0  decide: every line was answered; run: every scenario matched its expected outcome
  1  run: some scenario did not match (each mismatch is printed)
  3  run: the file cannot be read
  4  I/O error";

#[derive(clap::Subcommand)]
pub enum Command {
    /// Read scenarios on stdin, write one decision JSON per line (the `expected` key is ignored).
    #[command(after_help = CONFORMANCE_HELP)]
    Decide,
    /// Run scenarios from a file and compare with their `expected` outcome.
    #[command(after_help = CONFORMANCE_HELP)]
    Run {
        /// A JSONL file of scenarios, e.g. tests/vectors/route.jsonl.
        file: PathBuf,
    },
}

pub fn run(cmd: Command) -> CliResult {
    match cmd {
        Command::Decide => decide(),
        Command::Run { file } => run_file(&file),
    }
}

fn decide() -> CliResult {
    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    // Lines are read as bytes so that a line that is not UTF-8 still gets its answer line.
    for line in stdin.split(b'\n') {
        let line = line.map_err(CliError::io)?;
        let answer = match std::str::from_utf8(&line).map(Scenario::from_line) {
            Ok(Ok(s)) => s.run().to_json(),
            Ok(Err(e)) => json!({"scenario_valid": false, "error": e.to_string()}),
            Err(e) => json!({"scenario_valid": false, "error": format!("line is not UTF-8: {e}")}),
        };
        serde_json::to_writer(&mut out, &answer).map_err(|e| CliError::runtime(e.to_string()))?;
        out.write_all(b"\n").map_err(CliError::io)?;
    }
    out.flush().map_err(CliError::io)?;
    Ok(ExitCode::SUCCESS)
}

fn run_file(file: &PathBuf) -> CliResult {
    let f = std::fs::File::open(file)
        .map_err(|e| CliError::bad_input(format!("{}: {e}", file.display())))?;
    let mut out = BufWriter::new(io::stdout().lock());
    let (mut passed, mut failed) = (0usize, 0usize);
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(CliError::io)?;
        if line.trim().is_empty() {
            continue;
        }
        let problems = match Scenario::from_line(&line) {
            Err(e) => vec![e.to_string()],
            Ok(s) => match &s.expected {
                None => vec!["no \"expected\" outcome".to_string()],
                Some(expected) => compare(expected, &s.run().observed()),
            },
        };
        if problems.is_empty() {
            passed += 1;
            continue;
        }
        failed += 1;
        let id = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| v.get("id").and_then(|x| x.as_str()).map(str::to_owned))
            .unwrap_or_else(|| format!("line {}", i + 1));
        for p in problems {
            writeln!(out, "FAIL {id}: {p}").map_err(CliError::io)?;
        }
    }
    if passed + failed == 0 {
        // Checking nothing must not pass for conformance (a wrong path, an empty export).
        return Err(CliError::bad_input(format!(
            "{}: no scenarios to run (the file is empty)",
            file.display()
        )));
    }
    writeln!(out, "{passed} passed, {failed} failed").map_err(CliError::io)?;
    out.flush().map_err(CliError::io)?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
