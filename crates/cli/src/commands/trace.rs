//! `proctor trace CORRELATION_ID`: everything that happened under one correlation id, in
//! order: its decisions, plus the hall events (enrollments, health transitions, registry
//! and rules reloads) of that id and of the workers involved around the same time.

use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use ledger::{EventFilter, LedgerBackend, StoredDecision, StoredHallEvent};

use super::common::{ledger_error, printable, record_json, time, DbArg};
use crate::exit::{CliError, CliResult, Written};

/// How far around the decisions to look for the involved workers' events.
const CONTEXT_MINUTES: i64 = 5;

#[derive(clap::Args)]
#[command(
    after_help = "Exit codes:\n  0  printed the trace\n  1  nothing was recorded under that correlation id\n  3  the ledger file is missing or not a ledger\n  4  the database could not be read"
)]
pub struct Args {
    #[command(flatten)]
    db: DbArg,
    /// The correlation id the agent sent.
    correlation_id: String,
    /// One JSON object: {"correlation_id", "decisions": [...], "events": [...]}.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> CliResult {
    let backend = args.db.open_read_only()?;
    let decisions = backend.trace(&args.correlation_id).map_err(ledger_error)?;
    let events = related_events(&backend, &args.correlation_id, &decisions)?;
    if decisions.is_empty() && events.is_empty() {
        return Err(CliError::check_failed(format!(
            "nothing recorded under correlation id {:?}",
            args.correlation_id
        )));
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let decisions: Vec<String> = decisions.iter().map(record_json).collect();
        let events = serde_json::to_string(&events).expect("serializable");
        let id = serde_json::to_string(&args.correlation_id).expect("serializable");
        writeln!(
            out,
            r#"{{"correlation_id":{id},"decisions":[{}],"events":{events}}}"#,
            decisions.join(",")
        )
        .written()?;
        return Ok(ExitCode::SUCCESS);
    }
    print_timeline(&mut out, &decisions, &events).written()?;
    Ok(ExitCode::SUCCESS)
}

/// Events carrying the correlation id, plus those of the selected workers within
/// [`CONTEXT_MINUTES`] of the first and last decision; oldest first, no duplicates.
fn related_events(
    backend: &dyn LedgerBackend,
    correlation_id: &str,
    decisions: &[StoredDecision],
) -> Result<Vec<StoredHallEvent>, CliError> {
    let mut events = backend
        .events(&EventFilter {
            correlation_id: Some(correlation_id.into()),
            ..EventFilter::default()
        })
        .map_err(ledger_error)?;
    if let (Some(first), Some(last)) = (decisions.first(), decisions.last()) {
        let margin = Duration::minutes(CONTEXT_MINUTES);
        let mut workers: Vec<&str> = decisions
            .iter()
            .filter_map(|d| d.fields.worker.as_deref())
            .collect();
        workers.sort_unstable();
        workers.dedup();
        for worker in workers {
            let filter = EventFilter {
                worker_id: Some(worker.into()),
                since: Some(first.fields.time() - margin),
                until: Some(last.fields.time() + margin),
                ..EventFilter::default()
            };
            events.extend(backend.events(&filter).map_err(ledger_error)?);
        }
    }
    events.sort_by_key(|e| (e.event.at, e.id));
    events.dedup_by_key(|e| e.id);
    Ok(events)
}

fn print_timeline(
    out: &mut impl Write,
    decisions: &[StoredDecision],
    events: &[StoredHallEvent],
) -> std::io::Result<()> {
    enum Item<'a> {
        Decision(&'a StoredDecision),
        Event(&'a StoredHallEvent),
    }
    let at = |i: &Item<'_>| -> DateTime<Utc> {
        match i {
            Item::Decision(d) => d.fields.time(),
            Item::Event(e) => e.event.at,
        }
    };
    let mut items: Vec<Item<'_>> = decisions.iter().map(Item::Decision).collect();
    items.extend(events.iter().map(Item::Event));
    // Stable: decisions keep their recorded order when times tie.
    items.sort_by_key(|i| at(i));
    for item in &items {
        match item {
            Item::Decision(d) => {
                let f = &d.fields;
                let outcome = if f.denied {
                    format!("DENY {}", printable(f.deny_code.as_deref().unwrap_or("")))
                } else {
                    format!("ALLOW -> {}", printable(f.worker.as_deref().unwrap_or("-")))
                };
                let dry = if f.dry_run { " (dry run)" } else { "" };
                writeln!(
                    out,
                    "{}  decision #{} {}  {} {} rule={}  {outcome}{dry}",
                    time(d),
                    d.seq,
                    printable(&f.decision_id),
                    printable(&f.tenant_id),
                    printable(&f.capability_id),
                    printable(&f.matched_rule_id)
                )?;
            }
            Item::Event(e) => {
                let e = &e.event;
                writeln!(
                    out,
                    "{}  event {} worker={} {}",
                    e.at.to_rfc3339_opts(SecondsFormat::Millis, true),
                    printable(&e.kind),
                    printable(e.worker_id.as_deref().unwrap_or("-")),
                    printable(&e.details.to_string())
                )?;
            }
        }
    }
    writeln!(
        out,
        "{} decision(s), {} hall event(s)",
        decisions.len(),
        events.len()
    )
}
