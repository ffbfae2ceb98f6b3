//! Streamed export of any query as CSV (the filter columns) or JSONL (each decision's exact
//! JSON, one per line). Pages through the backend with keyset cursors, so memory stays
//! constant whatever the size of the ledger. Newest first, like the history screen.

use std::io::{BufWriter, Write};

use crate::backend::LedgerBackend;
use crate::error::{LedgerError, Result};
use crate::query::{Filter, PageRequest};
use crate::record::StoredDecision;

const EXPORT_PAGE: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl std::str::FromStr for Format {
    type Err = LedgerError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "csv" => Ok(Self::Csv),
            "jsonl" => Ok(Self::Jsonl),
            other => Err(LedgerError::BadQuery(format!(
                "unknown export format {other:?} (expected csv or jsonl)"
            ))),
        }
    }
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 18] = [
    "seq",
    "hash",
    "timestamp",
    "decision_id",
    "correlation_id",
    "tenant_id",
    "capability_id",
    "matched_rule_id",
    "worker",
    "env",
    "data_label",
    "qos_class",
    "denied",
    "deny_code",
    "deny_message",
    "dry_run",
    "artifact_hash",
    "ts_micros",
];

fn csv_row(d: &StoredDecision) -> [String; 18] {
    let f = &d.fields;
    // Ids and messages come from agents: never let a spreadsheet run them as formulas.
    let text = |v: &str| spreadsheet_safe(v).into_owned();
    let opt = |v: &Option<String>| v.as_deref().map(text).unwrap_or_default();
    [
        d.seq.to_string(),
        d.hash.clone(),
        f.time()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, false),
        text(&f.decision_id),
        text(&f.correlation_id),
        text(&f.tenant_id),
        text(&f.capability_id),
        text(&f.matched_rule_id),
        opt(&f.worker),
        text(&f.env),
        text(&f.data_label),
        text(&f.qos_class),
        f.denied.to_string(),
        opt(&f.deny_code),
        opt(&f.deny_message),
        f.dry_run.to_string(),
        opt(&f.artifact_hash),
        f.ts_micros.to_string(),
    ]
}

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a
/// leading `'`, the usual CSV-injection guard; every other value is written unchanged.
fn spreadsheet_safe(v: &str) -> std::borrow::Cow<'_, str> {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}").into()
    } else {
        v.into()
    }
}

/// Where rows go: the csv writer buffers and quotes; JSONL lines are written verbatim.
enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Jsonl(BufWriter<W>),
}

impl<W: Write> Sink<W> {
    fn new(format: Format, out: W) -> Result<Self> {
        Ok(match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(CSV_HEADER).map_err(csv_err)?;
                Self::Csv(Box::new(w))
            }
            Format::Jsonl => Self::Jsonl(BufWriter::new(out)),
        })
    }

    fn write(&mut self, d: &StoredDecision) -> Result<()> {
        match self {
            Self::Csv(w) => w.write_record(csv_row(d)).map_err(csv_err),
            Self::Jsonl(w) => w
                .write_all(d.json.as_bytes())
                .and_then(|()| w.write_all(b"\n"))
                .map_err(io_err),
        }
    }

    fn finish(self) -> Result<()> {
        match self {
            Self::Csv(mut w) => w.flush().map_err(io_err),
            Self::Jsonl(mut w) => w.flush().map_err(io_err),
        }
    }
}

fn csv_err(e: csv::Error) -> LedgerError {
    LedgerError::Export(e.to_string())
}

fn io_err(e: std::io::Error) -> LedgerError {
    LedgerError::Export(e.to_string())
}

/// Write every decision `filter` selects to `out`; `progress` gets the running count after
/// each page. Returns the number of decisions written.
pub fn export(
    backend: &dyn LedgerBackend,
    filter: &Filter,
    format: Format,
    out: impl Write,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let mut sink = Sink::new(format, out)?;
    let mut request = PageRequest::first(filter.clone(), EXPORT_PAGE);
    let mut written = 0u64;
    loop {
        let page = backend.page(&request)?;
        for d in &page.records {
            sink.write(d)?;
        }
        written += page.records.len() as u64;
        progress(written);
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => break,
        }
    }
    sink.finish()?;
    Ok(written)
}
