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
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        d.seq.to_string(),
        d.hash.clone(),
        f.time()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, false),
        f.decision_id.clone(),
        f.correlation_id.clone(),
        f.tenant_id.clone(),
        f.capability_id.clone(),
        f.matched_rule_id.clone(),
        opt(&f.worker),
        f.env.clone(),
        f.data_label.clone(),
        f.qos_class.clone(),
        f.denied.to_string(),
        opt(&f.deny_code),
        opt(&f.deny_message),
        f.dry_run.to_string(),
        opt(&f.artifact_hash),
        f.ts_micros.to_string(),
    ]
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
