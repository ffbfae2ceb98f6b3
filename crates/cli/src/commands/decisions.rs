//! `proctor decisions list|count|show|export|import|prune`: browse, audit and export the decision
//! ledger. The `--db` flag and what other ledger commands share are in `common`.

use std::borrow::Cow;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hall::queries::syntax;
use ledger::{
    CountRequest, Filter, Format, ImportMark, Ledger, LedgerBackend, LedgerError, NewRecord,
    OpenOptions, PageRequest, SqliteBackend, StoredDecision,
};

use super::common::{ledger_error, printable, record_json, time, DbArg};
use crate::exit::{outln, CliError, CliResult, Written};

const DECISIONS_HELP: &str = "\
The ledger file is --db PATH, else $PROCTOR_DB, else the ledger of the hall whose data dir is
--data-dir, $PROCTOR_DATA_DIR or the per-user default (e.g. ~/.local/share/proctor, whose ledger
is ledger/decisions.sqlite), the same file `proctor serve` writes.

Exit codes:
  0  success
  1  `show`: no decision with that id
  2  bad flags, a malformed --cursor, --since/--until or --query
  3  the ledger file is missing, not a ledger, from a newer proctor, or an import line is invalid
  4  the database could not be read or written (locked, full, corrupt)";

#[derive(clap::Subcommand)]
#[command(after_help = DECISIONS_HELP)]
pub enum Command {
    /// List decisions, newest first, one page at a time.
    List(ListArgs),
    /// How many decisions match the filters (exact; --budget-ms bounds the time it may take).
    Count(CountArgs),
    /// Show one decision by its decision_id.
    Show(ShowArgs),
    /// Export every matching decision as CSV or JSONL (newest first).
    Export(ExportArgs),
    /// Record RouteDecision JSON lines from a file ("-" for stdin) in the ledger, each marked
    /// as imported (source, importer, time).
    Import(ImportArgs),
    /// Remove decisions older than N days (at least 1 unless --force), keeping a checkpoint so
    /// the rest still verifies.
    Prune(PruneArgs),
}

/// History filters, shared by `list`, `export` and their JSON consumers.
#[derive(clap::Args, Debug, Default)]
pub struct FilterArgs {
    /// Decisions at or after this time (RFC 3339, or a UTC date YYYY-MM-DD).
    #[arg(long, value_parser = syntax::parse_time)]
    since: Option<DateTime<Utc>>,
    /// Decisions before this time (RFC 3339, or a UTC date YYYY-MM-DD).
    #[arg(long, value_parser = syntax::parse_time)]
    until: Option<DateTime<Utc>>,
    #[arg(long)]
    tenant: Option<String>,
    #[arg(long)]
    capability: Option<String>,
    /// Selected worker species.
    #[arg(long)]
    worker: Option<String>,
    /// Matched rule id (also PRE_ROUTING, NO_MATCH).
    #[arg(long)]
    rule: Option<String>,
    #[arg(long)]
    correlation: Option<String>,
    /// Denied decisions only.
    #[arg(long, conflicts_with = "allowed")]
    denied: bool,
    /// Allowed decisions only.
    #[arg(long)]
    allowed: bool,
    /// A deny code, e.g. DENY_NO_MATCHING_RULE.
    #[arg(long)]
    deny_code: Option<String>,
    #[arg(long)]
    env: Option<String>,
    #[arg(long)]
    data_label: Option<String>,
    /// Dry runs only (true) or real decisions only (false).
    #[arg(long, value_name = "BOOL")]
    dry_run: Option<bool>,
    /// Free text over ids, codes and deny messages; every word must match; `word*` = prefix.
    #[arg(long, short = 's')]
    search: Option<String>,
    /// A query in the explorer's syntax, e.g. 'tenant:hooli env:prod denied "free text"'
    /// (docs/API.md "Query syntax"); it adds to the other flags and must agree with them.
    #[arg(long, short = 'q')]
    query: Option<String>,
}

impl FilterArgs {
    /// The ledger filter: the flags, then `--query` on top (a bad query is a usage error).
    pub fn to_filter(&self) -> Result<Filter, CliError> {
        let mut filter = Filter {
            since: self.since,
            until: self.until,
            tenant_id: self.tenant.clone(),
            capability_id: self.capability.clone(),
            worker: self.worker.clone(),
            rule_id: self.rule.clone(),
            correlation_id: self.correlation.clone(),
            denied: (self.denied || self.allowed).then_some(self.denied),
            deny_code: self.deny_code.clone(),
            env: self.env.clone(),
            data_label: self.data_label.clone(),
            dry_run: self.dry_run,
            text: self.search.clone(),
        };
        if let Some(query) = &self.query {
            syntax::parse(query)
                .and_then(|parsed| syntax::merge(&mut filter, parsed))
                .map_err(|e| CliError::usage(format!("--query: {e}")))?;
        }
        Ok(filter)
    }
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    filter: FilterArgs,
    /// Rows per page (1-10000).
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Continue after a previous page: the cursor it printed.
    #[arg(long)]
    cursor: Option<String>,
    /// One JSON object: {"records": [{"seq","hash","decision"}...], "next_cursor"}.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct CountArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    filter: FilterArgs,
    /// Stop counting after this many milliseconds and print the lower bound counted so far
    /// (marked `+`). Default: count to the end.
    #[arg(long, value_name = "MS")]
    budget_ms: Option<u64>,
    /// One JSON object: {"total": N, "exact": bool}.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    db: DbArg,
    /// The decision_id.
    id: String,
    /// Print {"seq","hash","decision"} with the decision's exact stored JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    filter: FilterArgs,
    #[arg(long, value_parser = ["csv", "jsonl"])]
    format: String,
    /// Write here instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    db: DbArg,
    /// One RouteDecision JSON object per line; "-" reads stdin. All lines are checked (valid,
    /// no decision id repeated or already recorded) before any is recorded. Each record gets an
    /// `imported` mark (source, importer, time), covered by its chain hash.
    file: PathBuf,
}

#[derive(clap::Args)]
pub struct PruneArgs {
    #[command(flatten)]
    db: DbArg,
    /// Remove decisions older than this many days (at least 1 without --force).
    #[arg(long, value_name = "DAYS")]
    older_than_days: u32,
    /// Allow --older-than-days below the floor of 1 day, which removes decisions the hall may
    /// have acknowledged moments ago.
    #[arg(long)]
    force: bool,
}

/// Retention's floor without `--force`: `--older-than-days 0` by mistake would delete decisions
/// acknowledged seconds earlier.
const MIN_RETENTION_DAYS: u32 = 1;

pub fn run(cmd: Command) -> CliResult {
    match cmd {
        Command::List(args) => list(args),
        Command::Count(args) => count(args),
        Command::Show(args) => show(args),
        Command::Export(args) => export(args),
        Command::Import(args) => import(args),
        Command::Prune(args) => prune(args),
    }
}

fn list(args: ListArgs) -> CliResult {
    let backend = args.db.open_read_only()?;
    let request = PageRequest {
        filter: args.filter.to_filter()?,
        limit: args.limit,
        cursor: args.cursor,
    };
    let page = backend.page(&request).map_err(ledger_error)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let records: Vec<String> = page.records.iter().map(record_json).collect();
        let cursor = serde_json::to_string(&page.next_cursor).expect("serializable");
        writeln!(
            out,
            r#"{{"records":[{}],"next_cursor":{cursor}}}"#,
            records.join(",")
        )
        .written()?;
        return Ok(ExitCode::SUCCESS);
    }
    print_table(&mut out, &page.records).written()?;
    match &page.next_cursor {
        Some(c) => writeln!(out, "next page: --cursor {c}"),
        None => writeln!(out, "(end of history)"),
    }
    .written()?;
    Ok(ExitCode::SUCCESS)
}

fn count(args: CountArgs) -> CliResult {
    let backend = args.db.open_read_only()?;
    // Without a budget, a day: a count that long would be a ledger this tool was not made for.
    let budget = Duration::from_millis(args.budget_ms.unwrap_or(86_400_000));
    let request = CountRequest {
        filter: args.filter.to_filter()?,
        budget,
    };
    let count = backend.count(&request).map_err(ledger_error)?;
    let text = match args.json {
        true => serde_json::to_string(&count).expect("serializable"),
        false if count.exact => count.total.to_string(),
        false => format!(
            "{}+ (at least: the count stopped after {} ms)",
            count.total,
            budget.as_millis()
        ),
    };
    writeln!(std::io::stdout().lock(), "{text}").written()?;
    Ok(ExitCode::SUCCESS)
}

/// The history table: the columns a person scans first.
pub fn print_table(out: &mut impl Write, records: &[StoredDecision]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>8}  {:<24}  {:<7}  {:<14}  {:<20}  {:<32}  DECISION ID",
        "SEQ", "TIME (UTC)", "OUTCOME", "TENANT", "CAPABILITY", "WORKER / DENY CODE"
    )?;
    for d in records {
        let f = &d.fields;
        let outcome = match (f.denied, f.dry_run) {
            (true, false) => "DENY",
            (true, true) => "DENY*",
            (false, false) => "ALLOW",
            (false, true) => "ALLOW*",
        };
        let detail = if f.denied {
            f.deny_code.as_deref()
        } else {
            f.worker.as_deref()
        };
        writeln!(
            out,
            "{:>8}  {:<24}  {:<7}  {:<14}  {:<20}  {:<32}  {}",
            d.seq,
            time(d),
            outcome,
            clip(&printable(&f.tenant_id), 14),
            clip(&printable(&f.capability_id), 20),
            clip(&printable(detail.unwrap_or("-")), 32),
            printable(&f.decision_id)
        )?;
    }
    if records.iter().any(|d| d.fields.dry_run) {
        writeln!(out, "(* dry run)")?;
    }
    Ok(())
}

fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut t: String = s.chars().take(width - 1).collect();
    t.push('…');
    t
}

fn show(args: ShowArgs) -> CliResult {
    let backend = args.db.open_read_only()?;
    let Some(d) = backend.get(&args.id).map_err(ledger_error)? else {
        return Err(CliError::check_failed(format!(
            "no decision with id {:?} in the ledger",
            args.id
        )));
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", record_json(&d)).written()?;
        return Ok(ExitCode::SUCCESS);
    }
    let f = &d.fields;
    let pretty = serde_json::from_str::<serde_json::Value>(&d.json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| d.json.clone());
    // JSON escapes C0 controls in strings but not DEL or C1 (e.g. U+009B, a CSI).
    let pretty: Vec<Cow<'_, str>> = pretty.split('\n').map(printable).collect();
    let imported = d.import_mark().map_or(String::new(), |m| {
        format!(
            "\n  IMPORTED from {} by {} at {} (not decided by this ledger's hall)",
            printable(&m.source),
            printable(&m.importer),
            printable(&m.imported_at)
        )
    });
    writeln!(
        out,
        "decision {}\n  seq {}  hash {}\n  time {}  {}{imported}\n\n{}",
        printable(&f.decision_id),
        d.seq,
        d.hash,
        time(&d),
        if f.denied {
            format!("DENIED {}", printable(f.deny_code.as_deref().unwrap_or("")))
        } else {
            "ALLOWED".into()
        },
        pretty.join("\n"),
    )
    .written()?;
    Ok(ExitCode::SUCCESS)
}

fn export(args: ExportArgs) -> CliResult {
    if let Some(path) = &args.output {
        refuse_ledger_output(path, &args.db.path()?)?;
    }
    let backend = args.db.open_read_only()?;
    let format: Format = args.format.parse().map_err(ledger_error)?;
    let filter = args.filter.to_filter()?;
    let show_progress = std::io::stderr().is_terminal();
    let mut progress = |n: u64| {
        if show_progress {
            eprint!("\rexported {n} decisions");
        }
    };
    let mut export_to =
        |out: &mut dyn Write| ledger::export(&backend, &filter, format, out, &mut progress);
    let written = match &args.output {
        Some(path) => write_replacing(path, |file| export_to(file).map_err(ledger_error))?,
        None => {
            let mut out = PipeWatch {
                out: std::io::stdout().lock(),
                closed: false,
            };
            match export_to(&mut out) {
                // `export … | head`: the reader has what it wanted (see `Written`).
                Err(_) if out.closed => return Ok(ExitCode::SUCCESS),
                written => written.map_err(ledger_error)?,
            }
        }
    };
    if show_progress {
        eprintln!();
    }
    if let Some(path) = &args.output {
        eprintln!("exported {written} decisions to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// A writer noting whether its reader went away (`EPIPE`), which the ledger's export error
/// does not say.
struct PipeWatch<W> {
    out: W,
    closed: bool,
}

impl<W: Write> PipeWatch<W> {
    fn note<T>(&mut self, r: std::io::Result<T>) -> std::io::Result<T> {
        self.closed |= r
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe);
        r
    }
}

impl<W: Write> Write for PipeWatch<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.out.write(buf);
        self.note(r)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.out.flush();
        self.note(r)
    }
}

/// An export written over the ledger (or its WAL, or its index) would destroy it: refuse any
/// output that is one of those files, by identity when it exists (hard links, symlinks) and
/// by resolved path when it does not yet.
fn refuse_ledger_output(output: &Path, db: &Path) -> Result<(), CliError> {
    let (out_id, out_path) = (file_id(output), resolved(output));
    for base in [db.to_path_buf(), ledger::index_path(db)] {
        for file in ledger::database_files(&base) {
            let same_id = out_id.is_some() && out_id == file_id(&file);
            let same_path = out_path.is_some() && out_path == resolved(&file);
            if same_id || same_path {
                return Err(CliError::usage(format!(
                    "refusing to export to {}: it is the ledger's own file {}",
                    output.display(),
                    file.display()
                )));
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &Path) -> Option<(u64, u64)> {
    None
}

/// `path` canonicalized, or its directory canonicalized when the file does not exist.
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = path.canonicalize() {
        return Some(p);
    }
    Some(dir_of(path).canonicalize().ok()?.join(path.file_name()?))
}

/// The directory `path` is in (`.` for a bare file name).
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Write `path` through a temp file in its directory, renamed over it only once `write`
/// succeeded: a failed export leaves no partial file and keeps a previous one intact (the temp
/// file is removed on drop). An existing output that is not a regular file (`/dev/null`, a
/// FIFO) cannot be renamed over and is written directly.
fn write_replacing<T>(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let cannot = |what: &str, e: std::io::Error| {
        CliError::runtime(format!("{}: cannot {what}: {e}", path.display()))
    };
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| cannot("open", e))?;
        return write(&mut file);
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".proctor-export.");
    // The permissions `File::create` would give (0o666 less the umask), not tempfile's 0o600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder
        .tempfile_in(dir_of(path))
        .map_err(|e| cannot("create a temp file beside", e))?;
    let value = write(tmp.as_file_mut())?;
    tmp.as_file().sync_all().map_err(|e| cannot("write", e))?;
    tmp.persist(path).map_err(|e| cannot("replace", e.error))?;
    Ok(value)
}

fn read_lines(file: &Path) -> Result<Vec<(usize, String)>, CliError> {
    let reader: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(file)
            .map_err(|e| CliError::bad_input(format!("{}: cannot read: {e}", file.display())))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut lines = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line =
            line.map_err(|e| CliError::bad_input(format!("{}:{}: {e}", file.display(), i + 1)))?;
        if !line.trim().is_empty() {
            lines.push((i + 1, line));
        }
    }
    Ok(lines)
}

fn import(args: ImportArgs) -> CliResult {
    let lines = read_lines(&args.file)?;
    let at = |n: &usize, what: String| {
        CliError::bad_input(format!(
            "{}:{n}: {what} (nothing was recorded)",
            args.file.display()
        ))
    };
    let mark = ImportMark {
        source: import_source(&args.file),
        importer: importer(),
        imported_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        previous: None,
    };
    // Check every line first, duplicates included, so a bad file records nothing.
    let mut first_line = std::collections::HashMap::new();
    let mut ids = Vec::with_capacity(lines.len());
    let mut marked = Vec::with_capacity(lines.len());
    for (n, line) in &lines {
        let id = NewRecord::from_json(line.as_str())
            .map_err(|e| at(n, e.to_string()))?
            .fields
            .decision_id;
        if let Some(m) = first_line.insert(id.clone(), *n) {
            return Err(at(n, format!("decision {id} repeats line {m}")));
        }
        ids.push((*n, id));
        let line = ledger::mark_imported(line, &mark).map_err(|e| at(n, e.to_string()))?;
        marked.push((*n, line));
    }
    let ledger = Ledger::open(args.db.path()?).map_err(|e| args.db.error(e))?;
    for (n, id) in &ids {
        if ledger.backend().get(id).map_err(ledger_error)?.is_some() {
            ledger.close();
            return Err(at(
                n,
                LedgerError::DuplicateDecision(id.clone()).to_string(),
            ));
        }
    }
    let pending = marked
        .into_iter()
        .map(|(n, line)| ledger.submit(line).map(|p| (n, p)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ledger_error)?;
    let (mut first, mut last, mut count) = (None, 0, 0u64);
    for (n, receipt) in pending {
        let receipt = receipt
            .blocking_recv()
            .map_err(|_| ledger_error(LedgerError::Closed))?
            .map_err(|e| {
                let err = ledger_error(e);
                CliError::new(
                    err.kind,
                    format!(
                        "{}:{n}: {} ({count} earlier lines were recorded)",
                        args.file.display(),
                        err.message
                    ),
                )
            })?;
        first.get_or_insert(receipt.seq);
        last = receipt.seq;
        count += 1;
    }
    ledger.close();
    match first {
        Some(first) => {
            outln!("recorded {count} decisions (seq {first}..={last}), marked as imported")
        }
        None => outln!("recorded 0 decisions"),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// What an import mark names as the source: the file's full path, or `-` for stdin.
fn import_source(file: &Path) -> String {
    if file == Path::new("-") {
        return "-".into();
    }
    file.canonicalize()
        .unwrap_or_else(|_| file.to_path_buf())
        .display()
        .to_string()
}

/// The OS user running the import: `$USER (uid N)` (the uid is the one that counts).
fn importer() -> String {
    let name = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let uid = unsafe { libc::geteuid() };
        format!("{name} (uid {uid})")
    }
    #[cfg(not(unix))]
    name
}

fn prune(args: PruneArgs) -> CliResult {
    if args.older_than_days < MIN_RETENTION_DAYS && !args.force {
        return Err(CliError::usage(format!(
            "--older-than-days {} would remove decisions acknowledged moments ago; the floor is \
             {MIN_RETENTION_DAYS} day. Add --force to prune them anyway",
            args.older_than_days
        )));
    }
    let backend = SqliteBackend::open(
        args.db.path()?,
        OpenOptions {
            create: false,
            ..OpenOptions::default()
        },
    )
    .map_err(|e| args.db.error(e))?;
    // chrono's dates end about 262,000 years out: a bigger age would overflow (and panic).
    let cutoff = chrono::Duration::try_days(i64::from(args.older_than_days))
        .and_then(|age| Utc::now().checked_sub_signed(age))
        .ok_or_else(|| {
            CliError::usage(format!(
                "--older-than-days {} reaches before the earliest date proctor can represent",
                args.older_than_days
            ))
        })?;
    let report = backend.prune_before(cutoff).map_err(ledger_error)?;
    match report.through_seq {
        Some(seq) => outln!(
            "pruned {} decisions (through seq {seq}); checkpoint kept",
            report.pruned
        ),
        None => outln!("nothing to prune"),
    }?;
    Ok(ExitCode::SUCCESS)
}
