//! `proctor route`: decide capability requests offline, from files, with the WCP core.
//!
//! Input is one RouteInput JSON document or JSONL (one request per line); output is one
//! RouteDecision JSON per request, in order, streamed through a buffered stdout. A request
//! that cannot be parsed yields an error object on its own output line and the run goes on.
//! A JSONL input's lines are decided in batches, on worker threads when there is more than one
//! batch (`--threads`; route_lines.rs), and printed in input order.

use super::route_lines::route_lines;
use super::route_sink::Sink;
use crate::exit::{CliError, CliResult};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use wcp::{
    parse_route_input, parse_route_input_owned, DeclarativeGate, Env, HallConfig, IdSource,
    Registry, RouteDecision, RouteInput, Router, RuleSet, UuidV4Ids,
};

const ROUTE_HELP: &str = "\
Examples:
  proctor route --cap cap.doc.summarize --env dev --data-label INTERNAL --tenant acme
  proctor route --rules examples/rules.json --registry examples/registry --input examples/input.json
  cat requests.jsonl | proctor route --rules rules.json --registry workers/ --input -

Without --rules, the request is decided as the hall in --data-dir (or $PROCTOR_DATA_DIR, or the
per-user default) decides it: with that hall's rules file, registry directory, hall config,
policy gate, egress allowlists and operator controls (each of --registry, --hall-config,
--policy-gate and --egress-allowlist still wins over the hall's). With --rules, only the files
given are used (no --registry: no workers).

Short form defaults: --env dev, --data-label PUBLIC, --tenant-risk low, --qos P2, --tenant local,
a fresh UUID v4 correlation id, an empty request.

Exit codes:
  0  every request was decided (allowed or denied)
  2  usage error (bad flags, or a short-form value the request parser rejects)
  3  bad input file: unreadable or invalid rules, registry directory, hall config or policy gate
     file; or at least one input line could not be parsed (its output line is an error object,
     every other line is still decided)
  4  I/O error while reading input or writing output, or (with --db) a decision that could not
     be recorded: its line is a DENY_LEDGER_UNAVAILABLE error object instead of the decision";

#[derive(clap::Args)]
#[command(after_help = ROUTE_HELP)]
pub struct Args {
    /// Rules file (docs/wcp.md, "Rules") [default: the rules of the hall in --data-dir].
    #[arg(long, env = "PROCTOR_RULES", value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Directory of worker registry records (`*.json`, loaded in sorted order) [default: with
    /// --rules, none; without, the registry of the hall in --data-dir].
    #[arg(long, env = "PROCTOR_REGISTRY", value_name = "DIR")]
    pub registry: Option<PathBuf>,
    /// The hall whose rules, registry and settings decide when --rules is not given [default:
    /// the per-user data dir].
    #[arg(long, value_name = "DIR", env = "PROCTOR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Hall-wide floor (a HallConfig JSON object); without it the "no config" floors apply.
    #[arg(long, value_name = "FILE")]
    pub hall_config: Option<PathBuf>,
    /// Declarative policy gate (`{"rules": [...], "default": [decision, version, reason]}`).
    #[arg(long, value_name = "FILE")]
    pub policy_gate: Option<PathBuf>,
    /// Egress destinations allowed in one environment for RESTRICTED data (privilege
    /// envelope policy, docs/wcp.md), e.g. `prod=api.example.com,s3.amazonaws.com`. Repeatable.
    #[arg(long, value_name = "ENV=HOST[,HOST...]", value_parser = parse_egress)]
    pub egress_allowlist: Vec<(Env, Vec<String>)>,
    /// Record every decision in this ledger before printing it (with its evidence receipt).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Requests: a RouteInput JSON file or JSONL, `-` for stdin.
    #[arg(
        long,
        value_name = "FILE|-",
        conflicts_with = "cap",
        required_unless_present = "cap"
    )]
    pub input: Option<String>,
    /// Threads that decide a JSONL input larger than one read (the output keeps the input's
    /// order, byte for byte; 1: all on one thread) [default: the number of CPUs]. With --db,
    /// one thread.
    #[arg(long, value_name = "N")]
    pub threads: Option<NonZeroUsize>,
    #[command(flatten)]
    pub short: ShortForm,
}

/// A single request given by flags.
#[derive(clap::Args)]
pub struct ShortForm {
    /// Capability id of a single request given by flags.
    #[arg(long, value_name = "CAPABILITY_ID")]
    pub cap: Option<String>,
    #[arg(long, default_value = "dev", requires = "cap")]
    pub env: String,
    #[arg(long, default_value = "PUBLIC", requires = "cap")]
    pub data_label: String,
    #[arg(long, default_value = "low", requires = "cap")]
    pub tenant_risk: String,
    #[arg(long, default_value = "P2", requires = "cap")]
    pub qos: String,
    #[arg(long, default_value = "local", requires = "cap")]
    pub tenant: String,
    /// Default: a fresh UUID v4.
    #[arg(long, requires = "cap")]
    pub correlation_id: Option<String>,
    /// The request payload as a JSON object.
    #[arg(long, value_name = "JSON", requires = "cap")]
    pub request: Option<String>,
    #[arg(long, requires = "cap")]
    pub blast_score: Option<i64>,
    /// Decide without dispatching (marks the decision and its telemetry).
    #[arg(long, requires = "cap")]
    pub dry_run: bool,
}

pub fn run(args: Args) -> CliResult {
    let router = build_router(&args)?;
    let ledger = args.db.as_deref().map(open_ledger).transpose()?;
    // The sink buffers whole lines itself (route_sink.rs).
    let mut sink = Sink::new(io::stdout().lock(), ledger);
    let bad_lines = match (&args.input, &args.short.cap) {
        (Some(input), _) => {
            let threads = args.threads.map_or_else(
                || thread::available_parallelism().map_or(1, NonZeroUsize::get),
                NonZeroUsize::get,
            );
            route_stream(&router, open_input(input)?, &mut sink, threads)?
        }
        (None, Some(_)) => {
            let input = short_form_input(&args.short)?;
            sink.decision(decide(&router, &input))?;
            0
        }
        (None, None) => {
            return Err(CliError::usage(
                "give --input FILE|- or --cap CAPABILITY_ID",
            ))
        }
    };
    let unrecorded = sink.finish()?;
    if unrecorded > 0 {
        return Err(CliError::runtime(format!(
            "{unrecorded} decision(s) could not be recorded in the ledger and were withheld \
             (DENY_LEDGER_UNAVAILABLE lines)"
        )));
    }
    if bad_lines > 0 {
        return Err(CliError::bad_input(format!(
            "{bad_lines} input line(s) could not be parsed (see their error objects)"
        )));
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens (creating if needed) the ledger that `--db` names.
fn open_ledger(path: &Path) -> Result<ledger::Ledger, CliError> {
    ledger::Ledger::open(path).map_err(super::common::ledger_error)
}

/// The one place `proctor route` makes a decision (recording it is `route_sink`'s).
pub fn decide(router: &Router, input: &RouteInput) -> RouteDecision {
    router.decide(input)
}

/// What a router is built from: the files given by flags, or the hall's.
struct Sources {
    rules: PathBuf,
    registry: Option<PathBuf>,
    hall_config: Option<HallConfig>,
    policy_gate: Option<PathBuf>,
    egress_allowlist: BTreeMap<Env, Vec<String>>,
    controls_present_extra: Vec<String>,
}

impl Sources {
    fn of(args: &Args) -> Result<Sources, CliError> {
        let hall_config = args
            .hall_config
            .as_deref()
            .map(load_hall_config)
            .transpose()?;
        let mut sources = match &args.rules {
            Some(rules) => Sources {
                rules: rules.clone(),
                registry: args.registry.clone(),
                hall_config,
                policy_gate: args.policy_gate.clone(),
                egress_allowlist: BTreeMap::new(),
                controls_present_extra: Vec::new(),
            },
            None => {
                let hall = hall_sources(args.data_dir.as_deref())?;
                Sources {
                    rules: hall.rules,
                    registry: args.registry.clone().or(hall.registry),
                    hall_config: hall_config.or(hall.hall_config),
                    policy_gate: args.policy_gate.clone().or(hall.policy_gate),
                    egress_allowlist: hall.egress_allowlist,
                    controls_present_extra: hall.controls_present_extra,
                }
            }
        };
        for (env, hosts) in &args.egress_allowlist {
            sources.egress_allowlist.insert(*env, hosts.clone());
        }
        Ok(sources)
    }
}

/// The rules, registry and routing settings of the hall in `data_dir` (its config.toml, or a
/// new hall's defaults when there is none yet): what `proctor serve` would decide with.
fn hall_sources(data_dir: Option<&Path>) -> Result<Sources, CliError> {
    let data_dir = match data_dir {
        Some(dir) => dir.to_path_buf(),
        None => hall::config::default_data_dir().map_err(|e| {
            CliError::usage(format!("{e}, or pass --rules FILE (and --registry DIR)"))
        })?,
    };
    let sources = match super::common::existing_hall(&data_dir)? {
        Some(config) => Sources {
            rules: config.rules_file,
            registry: Some(config.registry_dir),
            hall_config: config.file.hall_config,
            policy_gate: config.policy_gate_file,
            egress_allowlist: config.file.egress_allowlist,
            controls_present_extra: config.file.controls_present_extra,
        },
        None => {
            let defaults = hall::config::ConfigFile::default();
            Sources {
                rules: data_dir.join(defaults.rules_file),
                registry: Some(data_dir.join(defaults.registry_dir)),
                hall_config: None,
                policy_gate: None,
                egress_allowlist: BTreeMap::new(),
                controls_present_extra: Vec::new(),
            }
        }
    };
    if !sources.rules.exists() {
        return Err(CliError::usage(format!(
            "no --rules given, and the hall in {} has no rules file ({} does not exist): pass \
             --rules FILE (and --registry DIR), or --data-dir DIR / PROCTOR_DATA_DIR naming your \
             hall's data dir",
            data_dir.display(),
            sources.rules.display()
        )));
    }
    Ok(sources)
}

fn build_router(args: &Args) -> Result<Router, CliError> {
    let sources = Sources::of(args)?;
    let rules = load_rules(&sources.rules)?;
    for w in rules.shadow_warnings() {
        eprintln!(
            "proctor: warning: rule {:?} shadows {:?}: prod/edge requests will be denied ({})",
            w.shadower, w.shadowed, w.reason
        );
    }
    let mut registry = match &sources.registry {
        // A hall without workers yet has no registry directory: no workers, as in the hall.
        Some(dir) if args.registry.is_some() || dir.exists() => load_registry(dir)?,
        _ => Registry::new(),
    };
    registry.add_controls_present(sources.controls_present_extra.iter().cloned());
    for (env, hosts) in &sources.egress_allowlist {
        registry.set_egress_allowlist(*env, hosts.clone());
    }
    let registry = Arc::new(registry);
    let mut router = Router::new(Arc::new(rules), registry.clone())
        .with_hall_config(sources.hall_config)
        .with_privilege_policy(registry.clone());
    // Route-time attestation (used when the hall config requires it): registered hashes from
    // the records, live hashes of their `source_file` / `package_dir`, relative to the directory.
    if let Some(dir) = &sources.registry {
        let cache = Arc::new(attest::HashCache::default());
        router = router.with_worker_hashes(Arc::new(attest::LiveHashes::from_registry(
            &registry, dir, cache,
        )));
    }
    if let Some(path) = &sources.policy_gate {
        let gate = DeclarativeGate::from_json(&read_json(path)?)
            .map_err(|e| CliError::bad_input(format!("{}: {e}", path.display())))?;
        router = router.with_policy_gate(Arc::new(gate));
    }
    Ok(router)
}

/// Reads and validates a rules file.
pub(crate) fn load_rules(path: &Path) -> Result<RuleSet, CliError> {
    RuleSet::from_json(&read_json(path)?)
        .map_err(|e| CliError::bad_input(format!("{}: {e}", path.display())))
}

/// Enrolls every `*.json` record of a directory in sorted filename order. Unreadable or
/// invalid records are skipped with a warning, as the reference's loader does.
pub(crate) fn load_registry(dir: &Path) -> Result<Registry, CliError> {
    let mut registry = Registry::new();
    for (path, record) in read_record_dir(dir)? {
        match record {
            Ok(v) => {
                if let Err(e) = registry.enroll(&v) {
                    eprintln!("proctor: warning: skipping {}: {e}", path.display());
                }
            }
            Err(e) => eprintln!("proctor: warning: skipping {}: {e}", path.display()),
        }
    }
    for w in registry.warnings() {
        eprintln!("proctor: warning: {w}");
    }
    Ok(registry)
}

/// A record file's parsed JSON, or why it could not be read.
pub(crate) type RecordFile = Result<Value, String>;

/// The `*.json` files of a directory (sorted) with their parsed contents or the read error.
pub(crate) fn read_record_dir(dir: &Path) -> Result<Vec<(PathBuf, RecordFile)>, CliError> {
    let entries = fs::read_dir(dir)
        .map_err(|e| CliError::bad_input(format!("registry directory {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    paths.sort();
    Ok(paths
        .into_iter()
        .map(|p| {
            let parsed = fs::read_to_string(&p)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("not valid JSON: {e}")));
            (p, parsed)
        })
        .collect())
}

/// `ENV=HOST[,HOST...]`.
fn parse_egress(text: &str) -> Result<(Env, Vec<String>), String> {
    let (env, hosts) = text.split_once('=').ok_or("expected ENV=HOST[,HOST...]")?;
    let env =
        Env::parse(env).ok_or_else(|| format!("unknown env {env:?} (dev, stage, prod, edge)"))?;
    Ok((
        env,
        hosts
            .split(',')
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect(),
    ))
}

/// A HallConfig object; unknown keys are errors here (a misspelt floor would silently keep
/// its default).
fn load_hall_config(path: &Path) -> Result<HallConfig, CliError> {
    let value = read_json(path)?;
    let bad = |msg: String| {
        CliError::bad_input(format!(
            "{}: not a valid hall config: {msg}",
            path.display()
        ))
    };
    let known = serde_json::to_value(HallConfig::default()).unwrap_or_default();
    if let (Some(given), Some(known)) = (value.as_object(), known.as_object()) {
        if let Some(key) = given.keys().find(|k| !known.contains_key(*k)) {
            return Err(bad(format!("unknown key {key:?}")));
        }
    }
    serde_json::from_value(value).map_err(|e| bad(e.to_string()))
}

/// Reads a JSON file; unreadable or malformed files are bad input (exit 3).
pub(crate) fn read_json(path: &Path) -> Result<Value, CliError> {
    let text = fs::read_to_string(path)
        .map_err(|e| CliError::bad_input(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| CliError::bad_input(format!("{}: not valid JSON: {e}", path.display())))
}

fn open_input(input: &str) -> Result<Box<dyn BufRead>, CliError> {
    if input == "-" {
        return Ok(Box::new(BufReader::with_capacity(1 << 16, io::stdin())));
    }
    let file = fs::File::open(input).map_err(|e| CliError::bad_input(format!("{input}: {e}")))?;
    // Opening a directory succeeds on Unix; only the first read would fail, as a bare I/O error.
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(CliError::bad_input(format!(
            "{input}: is a directory, not a file of requests"
        )));
    }
    Ok(Box::new(BufReader::with_capacity(1 << 16, file)))
}

/// Decides every request of a JSON document or a JSONL stream (its lines on up to `threads`
/// threads); returns the number of lines that could not be parsed.
fn route_stream(
    router: &Router,
    mut reader: Box<dyn BufRead>,
    sink: &mut Sink<impl Write>,
    threads: usize,
) -> Result<usize, CliError> {
    // Lines are bytes: a line that is not UTF-8 is one bad line, not the end of the run.
    let mut line = Vec::new();
    let mut number = 0;
    // Skip leading blank lines to find the first request.
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(CliError::io)? == 0 {
            return Ok(0);
        }
        number += 1;
        if !is_blank(&line) {
            break;
        }
    }
    // One line that is not a JSON value on its own: the input is a single (multi-line) document.
    if serde_json::from_slice::<Value>(&line).is_err() {
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).map_err(CliError::io)?;
        let whole = [line.as_slice(), rest.as_slice()].concat();
        match serde_json::from_slice::<Value>(&whole) {
            // A JSON array of requests: one output line per element.
            Ok(Value::Array(items)) => {
                let mut bad = 0;
                for item in items {
                    bad += decide_value(router, item, number, sink)?;
                }
                return Ok(bad);
            }
            Ok(v) => return decide_value(router, v, number, sink),
            Err(_) => {}
        }
        // Not one document either: treat it as JSONL whose first line is bad.
        let mut bad = decide_line(router, &line, number, sink)?;
        for text in rest.split(|&b| b == b'\n') {
            number += 1;
            bad += decide_line(router, text, number, sink)?;
        }
        return Ok(bad);
    }
    let bad = decide_line(router, &line, number, sink)?;
    Ok(bad + route_lines(router, reader, number + 1, sink, threads)?)
}

fn is_blank(text: &[u8]) -> bool {
    text.iter().all(u8::is_ascii_whitespace)
}

/// Where a decided line goes: the sink (stdout, or the ledger first), or the output buffer of
/// a batch decided on a worker thread (route_lines.rs).
pub(super) trait Emit {
    fn decision(&mut self, decision: RouteDecision) -> Result<(), CliError>;
    /// A line that is not a decision (an error object).
    fn ready(&mut self, value: &Value) -> Result<(), CliError>;
}

/// Blank lines are skipped; anything else produces exactly one output line.
pub(super) fn decide_line(
    router: &Router,
    text: &[u8],
    number: usize,
    sink: &mut impl Emit,
) -> Result<usize, CliError> {
    if is_blank(text) {
        return Ok(0);
    }
    // Most lines are canonical requests: read without an intermediate `Value` (wcp::wire).
    if let Some(input) = wcp::wire::parse_canonical_route_input(text) {
        sink.decision(decide(router, &input))?;
        return Ok(0);
    }
    match serde_json::from_slice::<Value>(text) {
        Ok(v) => decide_value(router, v, number, sink),
        Err(e) => {
            sink.ready(
                &json!({"error": {"code": "invalid_json", "line": number, "message": format!("not valid JSON: {e}")}}),
            )?;
            Ok(1)
        }
    }
}

fn decide_value(
    router: &Router,
    v: Value,
    number: usize,
    sink: &mut impl Emit,
) -> Result<usize, CliError> {
    match parse_route_input_owned(v) {
        Ok(input) => {
            sink.decision(decide(router, &input))?;
            Ok(0)
        }
        Err(e) => {
            let error = json!({"code": "invalid_input", "line": number, "message": e.message, "invalid_fields": e.invalid_fields});
            sink.ready(&json!({ "error": error }))?;
            Ok(1)
        }
    }
}

fn short_form_input(s: &ShortForm) -> Result<RouteInput, CliError> {
    let request: Value = match &s.request {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| CliError::usage(format!("--request: not valid JSON: {e}")))?,
        None => json!({}),
    };
    let v = json!({
        "capability_id": s.cap,
        "env": s.env,
        "data_label": s.data_label,
        "tenant_risk": s.tenant_risk,
        "qos_class": s.qos,
        "tenant_id": s.tenant,
        "correlation_id": s.correlation_id.clone().unwrap_or_else(|| UuidV4Ids.new_id()),
        "request": request,
        "blast_score": s.blast_score,
        "dry_run": s.dry_run,
    });
    parse_route_input(&v).map_err(|e| CliError::usage(e.message))
}
