//! Onboarding (docs/mcp.md, "Onboarding (import)"): put the MCP servers a user already
//! configured in Claude Desktop, Cursor or VS Code behind the hall.
//!
//! Three steps, none of which prints anything (the CLI's `proctor mcp import` and the desktop
//! app both drive them):
//!
//! 1. [`discover`]: the client configuration files that exist, in their usual places per OS
//!    ([`Locations`]), or a file the user names ([`ClientFile::given`]).
//! 2. [`plan`]: for each server entry, a worker record (`mcp.<name>`, species `wrk.mcp.<name>`,
//!    capability `cap.mcp.<name>`, its command or URL, every tool mapped to that capability for
//!    review, secrets turned into `"$NAME"` references to the hall's environment), a routing rule
//!    for the capability when none names it, and the client file with the imported entries
//!    replaced by one entry launching `proctor mcp --data-dir <dir>`. Reads only.
//! 3. [`apply`]: writes the records into the registry dir, the rules into the rules file, and each
//!    client file after a backup (`<file>.proctor-backup-<timestamp>`), each write atomic. The
//!    hall hot-reloads registry and rules.
//!
//! Running it again changes nothing: entries that already launch `proctor mcp` are not imported,
//! a record that exists for the same server is kept as it is (the user may have narrowed its
//! tools), and a rule is only added for a capability no rule names.
//!
//! All the imported entries of one client file become *one* `proctor` entry: every `proctor mcp`
//! offers all of the hall's tools, so one entry per imported server would show each tool once per
//! entry.

use crate::config::ConfigFile;
use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Name of the entry that launches `proctor mcp` in a client file.
pub const ENTRY_NAME: &str = "proctor";
/// Prefix of worker ids (and, after `wrk.` / `cap.`, of species and capability ids).
pub const ID_PREFIX: &str = "mcp.";

/// An MCP client whose configuration the importer knows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    /// Claude Desktop: `claude_desktop_config.json`.
    Claude,
    /// Cursor: `~/.cursor/mcp.json`.
    Cursor,
    /// VS Code: the user's `mcp.json` and `settings.json`.
    Vscode,
}

impl Client {
    pub const ALL: [Client; 3] = [Client::Claude, Client::Cursor, Client::Vscode];

    pub fn as_str(self) -> &'static str {
        match self {
            Client::Claude => "claude",
            Client::Cursor => "cursor",
            Client::Vscode => "vscode",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Client::Claude => "Claude Desktop",
            Client::Cursor => "Cursor",
            Client::Vscode => "VS Code",
        }
    }

    pub fn parse(text: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// How a client file lists its servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// `{"mcpServers": {name: {"command", "args", "env"} | {"url", "headers"}}}` (Claude Desktop,
    /// Cursor, Claude Code).
    McpServers,
    /// VS Code's `mcp.json`: `{"servers": {name: {"type", "command", "args", "env", "url", "headers"}}}`.
    VscodeMcp,
    /// VS Code's `settings.json`: `{"mcp": {"servers": {...}}}`.
    VscodeSettings,
}

impl Shape {
    /// The key path of the servers object.
    pub fn path(self) -> &'static [&'static str] {
        match self {
            Shape::McpServers => &["mcpServers"],
            Shape::VscodeMcp => &["servers"],
            Shape::VscodeSettings => &["mcp", "servers"],
        }
    }

    fn vscode(self) -> bool {
        matches!(self, Shape::VscodeMcp | Shape::VscodeSettings)
    }
}

/// Where clients keep their configuration: the user's home and per-OS config dir (Linux
/// `~/.config`, macOS `~/Library/Application Support`, Windows `%APPDATA%`).
#[derive(Debug, Clone)]
pub struct Locations {
    pub home: PathBuf,
    pub config_dir: PathBuf,
}

impl Locations {
    /// This user's locations, or `None` when the system has no home directory.
    pub fn from_env() -> Option<Locations> {
        Some(Locations {
            home: dirs::home_dir()?,
            config_dir: dirs::config_dir()?,
        })
    }

    /// Every file a client may keep its servers in, existing or not.
    pub fn candidates(&self, only: Option<Client>) -> Vec<ClientFile> {
        let mut files = Vec::new();
        let want = |c: Client| only.is_none_or(|o| o == c);
        if want(Client::Claude) {
            files.push(ClientFile::found(
                Client::Claude,
                self.config_dir
                    .join("Claude")
                    .join("claude_desktop_config.json"),
            ));
        }
        if want(Client::Cursor) {
            files.push(ClientFile::found(
                Client::Cursor,
                self.home.join(".cursor").join("mcp.json"),
            ));
        }
        if want(Client::Vscode) {
            let user = self.config_dir.join("Code").join("User");
            files.push(ClientFile::found(Client::Vscode, user.join("mcp.json")));
            files.push(ClientFile::found(
                Client::Vscode,
                user.join("settings.json"),
            ));
        }
        files
    }
}

/// A client configuration file to import from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ClientFile {
    /// Which client it belongs to, when known.
    pub client: Option<Client>,
    pub path: PathBuf,
    /// Named by the user: a file without MCP servers is then an error, not just nothing to do.
    pub given: bool,
}

impl ClientFile {
    fn found(client: Client, path: PathBuf) -> ClientFile {
        ClientFile {
            client: Some(client),
            path,
            given: false,
        }
    }

    /// A file the user names; `client` when they said whose it is, else guessed from the path.
    pub fn given(path: PathBuf, client: Option<Client>) -> ClientFile {
        let client = client.or_else(|| {
            let text = path.to_string_lossy();
            if text.contains("Claude") || text.contains("claude_desktop_config") {
                Some(Client::Claude)
            } else if text.contains(".cursor") {
                Some(Client::Cursor)
            } else if text.contains("Code") && text.contains("User") {
                Some(Client::Vscode)
            } else {
                None
            }
        });
        ClientFile {
            client,
            path,
            given: true,
        }
    }
}

/// The client files among `locations`' candidates that exist.
pub fn discover(locations: &Locations, only: Option<Client>) -> Vec<ClientFile> {
    locations
        .candidates(only)
        .into_iter()
        .filter(|f| f.path.is_file())
        .collect()
}

/// Where the import writes: a hall's data dir, its registry dir and rules file, and the `proctor`
/// binary the rewritten client entries launch.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Target {
    pub data_dir: PathBuf,
    pub registry_dir: PathBuf,
    pub rules_file: PathBuf,
    /// Absolute path of the `proctor` command line (the client launches `<it> mcp --data-dir D`).
    pub proctor_command: PathBuf,
}

impl Target {
    /// The data dir's own settings (`registry_dir`, `rules_file` in its config.toml, else the
    /// defaults); nothing is created. `proctor_command` must be absolute: clients launch it with
    /// their own working directory and `PATH`.
    pub fn for_data_dir(data_dir: &Path, proctor_command: PathBuf) -> Result<Target, ImportError> {
        let data_dir = absolute(data_dir)?;
        if !proctor_command.is_absolute() {
            return Err(ImportError::Usage(format!(
                "the proctor command must be an absolute path, not {}",
                proctor_command.display()
            )));
        }
        let cfg_path = data_dir.join(crate::config::CONFIG_FILE);
        let file = match std::fs::read_to_string(&cfg_path) {
            Ok(text) => toml::from_str::<ConfigFile>(&text).map_err(|e| ImportError::BadFile {
                path: cfg_path.clone(),
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ConfigFile::default(),
            Err(e) => return Err(ImportError::io(&cfg_path, e)),
        };
        let abs = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                data_dir.join(p)
            }
        };
        Ok(Target {
            registry_dir: abs(&file.registry_dir),
            rules_file: abs(&file.rules_file),
            data_dir,
            proctor_command,
        })
    }

    /// The client entry that launches `proctor mcp` for this hall.
    pub fn entry(&self, shape: Shape) -> Value {
        let mut entry = Map::new();
        if shape.vscode() {
            entry.insert("type".into(), json!("stdio"));
        }
        entry.insert(
            "command".into(),
            json!(self.proctor_command.to_string_lossy()),
        );
        entry.insert(
            "args".into(),
            json!(["mcp", "--data-dir", self.data_dir.to_string_lossy()]),
        );
        Value::Object(entry)
    }
}

fn absolute(path: &Path) -> Result<PathBuf, ImportError> {
    match path.canonicalize() {
        Ok(p) => Ok(p),
        Err(_) => std::path::absolute(path).map_err(|e| ImportError::io(path, e)),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file that cannot be used as it is (malformed JSON, unexpected shape).
    #[error("{}: {message}", path.display())]
    BadFile { path: PathBuf, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file changed between the plan and its application.
    #[error("{}: changed since the import was planned; plan it again", path.display())]
    Changed { path: PathBuf },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Hall(#[from] crate::HallError),
}

impl ImportError {
    fn io(path: &Path, source: std::io::Error) -> ImportError {
        ImportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What the import will do (and, after [`apply`], did).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Plan {
    pub target: Target,
    pub files: Vec<FilePlan>,
    /// Routing rules to add (one per new capability no rule names).
    pub rules: Vec<RulePlan>,
    /// Variables the hall's environment must now provide: the secrets that were written in the
    /// client files are references in the records.
    pub env_needed: Vec<EnvNeeded>,
}

impl Plan {
    /// Whether applying would write anything.
    pub fn has_changes(&self) -> bool {
        self.files.iter().any(|f| f.rewrite.is_some())
            || self.rules.iter().any(|r| r.add)
            || self.records().next().is_some()
    }

    /// Files that could not be read or understood.
    pub fn errors(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.files
            .iter()
            .filter_map(|f| Some((f.path.as_path(), f.error.as_deref()?)))
    }

    /// The records to write: `(path, record)`, each once.
    fn records(&self) -> impl Iterator<Item = (&Path, &Value)> {
        let mut seen = BTreeSet::new();
        self.files
            .iter()
            .flat_map(|f| &f.servers)
            .filter(|s| {
                s.status == ServerStatus::Import && s.record_status == Some(RecordStatus::New)
            })
            .filter_map(|s| Some((s.record_path.as_deref()?, s.record.as_ref()?)))
            .filter(move |(p, _)| seen.insert(p.to_path_buf()))
    }
}

/// One client file.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FilePlan {
    pub client: Option<Client>,
    pub path: PathBuf,
    pub shape: Option<Shape>,
    /// Why this file cannot be imported (it is left as it is).
    pub error: Option<String>,
    pub servers: Vec<ServerPlan>,
    /// How the file changes, if it does.
    pub rewrite: Option<Rewrite>,
    pub warnings: Vec<String>,
    #[serde(skip)]
    original_sha256: Option<String>,
}

/// A client file's change: the imported entries removed, one entry launching `proctor mcp`
/// in the place of the first.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Rewrite {
    /// Entries taken out (now served through the hall).
    pub removed: Vec<String>,
    /// The entry that launches `proctor mcp` (added, or already there: in this file, or in
    /// another file of the same client when `entry_added` is false and no entry is named here).
    pub entry_name: String,
    pub entry: Value,
    pub entry_added: bool,
    /// The whole file as it will be written.
    #[serde(skip)]
    text: String,
    /// Set by [`apply`]: where the original was copied.
    pub backup: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServerStatus {
    /// Put behind the hall.
    Import,
    /// The entry already launches `proctor mcp`.
    AlreadyProctor,
    /// Left in the client as it is; `reason` says why.
    Skipped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Written by the import.
    New,
    /// A record for the same server exists: kept as it is.
    Exists,
}

/// One server entry of a client file.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ServerPlan {
    /// Its name in the client file.
    pub name: String,
    pub status: ServerStatus,
    pub reason: Option<String>,
    pub transport: Option<String>,
    pub worker_id: Option<String>,
    pub worker_species_id: Option<String>,
    pub capability_id: Option<String>,
    pub record_path: Option<PathBuf>,
    pub record: Option<Value>,
    pub record_status: Option<RecordStatus>,
    /// Values turned into references to the hall's environment.
    pub references: Vec<EnvNeeded>,
}

impl ServerPlan {
    fn skipped(name: &str, status: ServerStatus, reason: String) -> ServerPlan {
        ServerPlan {
            name: name.to_string(),
            status,
            reason: Some(reason),
            transport: None,
            worker_id: None,
            worker_species_id: None,
            capability_id: None,
            record_path: None,
            record: None,
            record_status: None,
            references: Vec::new(),
        }
    }
}

/// A routing rule for an imported capability.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RulePlan {
    pub capability_id: String,
    pub worker_species_id: String,
    /// Whether the rule is added (else `rule_id` names the rule that already routes it).
    pub add: bool,
    pub rule_id: String,
    pub rule: Option<Value>,
}

/// A variable the hall's environment must provide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct EnvNeeded {
    /// The variable (`"$NAME"` in the record).
    pub name: String,
    pub worker_id: String,
    /// Where it is used: `mcp.env.<VAR>` or `mcp.headers.<Header>`.
    pub field: String,
    /// What to set it to.
    pub note: String,
}

/// What [`apply`] wrote.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Applied {
    pub records_written: Vec<PathBuf>,
    pub rules_added: Vec<String>,
    pub files_rewritten: Vec<PathBuf>,
    /// `(file, backup)`.
    pub backups: Vec<(PathBuf, PathBuf)>,
    /// The data dir was new: the hall's config, token, registry and rules were created.
    pub initialized: Vec<PathBuf>,
}

// ---------------------------------------------------------------------------------------------
// plan

/// Plan the import of `files` into `target`. Reads only; a file that cannot be read or
/// understood is a [`FilePlan::error`], and the others are planned as usual.
pub fn plan(files: &[ClientFile], target: &Target) -> Plan {
    plan_selected(files, target, &|_, _| true)
}

/// [`plan`], importing only the entries `selected(file, entry name)` accepts; the others are
/// [`ServerStatus::Skipped`] ("not selected") and stay in their client file.
pub fn plan_selected(
    files: &[ClientFile],
    target: &Target,
    selected: &dyn Fn(&ClientFile, &str) -> bool,
) -> Plan {
    let existing = existing_records(&target.registry_dir);
    let mut ids = IdAllocator {
        existing: &existing,
        planned: BTreeMap::new(),
    };
    let mut env_names = EnvNames::default();
    let mut seen_paths = BTreeSet::new();
    let files: Vec<&ClientFile> = files
        .iter()
        .filter(|f| seen_paths.insert(f.path.canonicalize().unwrap_or_else(|_| f.path.clone())))
        .collect();
    // One client reads all its files (VS Code: mcp.json and settings.json): it gets one entry
    // for this hall, in the first file that has or needs it.
    let mut served: BTreeSet<Client> = files
        .iter()
        .filter(|f| has_entry_for(&f.path, &target.data_dir))
        .filter_map(|f| f.client)
        .collect();
    let mut file_plans = Vec::new();
    for file in files {
        let has_entry = file.client.is_some_and(|c| served.contains(&c));
        let plan = plan_file(
            file,
            target,
            has_entry,
            &|name| selected(file, name),
            &mut ids,
            &mut env_names,
        );
        if let (Some(c), Some(_)) = (file.client, &plan.rewrite) {
            served.insert(c);
        }
        file_plans.push(plan);
    }
    let rules = plan_rules(&file_plans, &target.rules_file);
    let mut env_needed: Vec<EnvNeeded> = Vec::new();
    for s in file_plans.iter().flat_map(|f| &f.servers) {
        if s.status == ServerStatus::Import && s.record_status == Some(RecordStatus::New) {
            for r in &s.references {
                if !env_needed
                    .iter()
                    .any(|e| e.name == r.name && e.worker_id == r.worker_id)
                {
                    env_needed.push(r.clone());
                }
            }
        }
    }
    let (rules, rule_error) = match rules {
        Ok(rules) => (rules, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let mut plan = Plan {
        target: target.clone(),
        files: file_plans,
        rules,
        env_needed,
    };
    if let Some(e) = rule_error {
        // Without a valid rules file nothing is imported: the records would not be routable.
        for f in &mut plan.files {
            if f.rewrite.take().is_some()
                || f.servers.iter().any(|s| s.status == ServerStatus::Import)
            {
                f.error = Some(format!("not imported: {e}"));
                for s in &mut f.servers {
                    if s.status == ServerStatus::Import {
                        s.status = ServerStatus::Skipped;
                        s.reason = Some(e.clone());
                    }
                }
            }
        }
        plan.env_needed.clear();
    }
    plan
}

/// Records already in the registry dir, by worker id: (file, record).
fn existing_records(dir: &Path) -> BTreeMap<String, (PathBuf, Value)> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(record) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if let Some(id) = record.get("worker_id").and_then(Value::as_str) {
            out.entry(id.to_string()).or_insert((path, record));
        }
    }
    out
}

/// Worker ids: `mcp.<name>`, or `mcp.<name>-2`... when another server holds the name.
struct IdAllocator<'a> {
    existing: &'a BTreeMap<String, (PathBuf, Value)>,
    /// Planned in this run: worker id → transport block.
    planned: BTreeMap<String, Value>,
}

enum Allocated {
    /// A record for the same server exists: (id, its file, the record).
    Existing(String, PathBuf, Value),
    /// Planned earlier in this run (another client file with the same server).
    Planned(String),
    New(String),
}

impl IdAllocator<'_> {
    fn allocate(&mut self, base: &str, transport: &Value) -> Allocated {
        for n in 1.. {
            let id = if n == 1 {
                format!("{ID_PREFIX}{base}")
            } else {
                format!("{ID_PREFIX}{base}-{n}")
            };
            if let Some(t) = self.planned.get(&id) {
                if t == transport {
                    return Allocated::Planned(id);
                }
                continue;
            }
            if let Some((path, record)) = self.existing.get(&id) {
                if same_server(record, transport) {
                    return Allocated::Existing(id, path.clone(), record.clone());
                }
                continue;
            }
            self.planned.insert(id.clone(), transport.clone());
            return Allocated::New(id);
        }
        unreachable!("an unbounded search ends")
    }
}

/// Whether an existing record runs the same server: same transport fields in its `mcp` block
/// (its tool map may have been edited since).
fn same_server(record: &Value, transport: &Value) -> bool {
    let Some(mcp) = record.get("mcp").and_then(Value::as_object) else {
        return false;
    };
    let mut fields = mcp.clone();
    fields.shift_remove("tools");
    fields.shift_remove("record_arguments");
    let Some(t) = transport.as_object() else {
        return false;
    };
    fields.len() == t.len() && t.iter().all(|(k, v)| fields.get(k) == Some(v))
}

/// Whether a client file already has an entry launching `proctor mcp` for this hall.
fn has_entry_for(path: &Path, data_dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok((doc, _)) = parse_jsonc(&text) else {
        return false;
    };
    let Some(root) = doc.as_object() else {
        return false;
    };
    let Ok(Some(shape)) = detect_shape(root, path) else {
        return false;
    };
    servers_of(root, shape).is_some_and(|servers| {
        servers
            .values()
            .any(|e| launches_proctor(e) && launches_this_hall(e, data_dir))
    })
}

/// `has_entry`: another file of the same client already launches `proctor mcp` for this hall
/// (or will): imported entries are then only removed here.
fn plan_file(
    file: &ClientFile,
    target: &Target,
    has_entry: bool,
    selected: &dyn Fn(&str) -> bool,
    ids: &mut IdAllocator<'_>,
    env_names: &mut EnvNames,
) -> FilePlan {
    let mut fp = FilePlan {
        client: file.client,
        path: file.path.clone(),
        shape: None,
        error: None,
        servers: Vec::new(),
        rewrite: None,
        warnings: Vec::new(),
        original_sha256: None,
    };
    let bytes = match std::fs::read(&file.path) {
        Ok(b) => b,
        Err(e) => {
            fp.error = Some(format!("cannot read it: {e}"));
            return fp;
        }
    };
    fp.original_sha256 = Some(hex::encode(Sha256::digest(&bytes)));
    let Ok(text) = String::from_utf8(bytes) else {
        fp.error = Some("not UTF-8 text".into());
        return fp;
    };
    let (doc, had_comments) = match parse_jsonc(&text) {
        Ok(parsed) => parsed,
        Err(e) => {
            fp.error = Some(format!("not valid JSON: {e}"));
            return fp;
        }
    };
    if had_comments {
        fp.warnings.push(
            "it holds comments or trailing commas: they are not kept when it is rewritten (the backup keeps them)".into(),
        );
    }
    let Some(root) = doc.as_object() else {
        fp.error = Some("not a JSON object".into());
        return fp;
    };
    let shape = match detect_shape(root, &file.path) {
        Ok(Some(shape)) => shape,
        Ok(None) => {
            if file.given {
                fp.error = Some("no MCP servers here: expected \"mcpServers\" (Claude Desktop, Cursor), \"servers\" (VS Code mcp.json) or \"mcp\": {\"servers\"} (VS Code settings.json)".into());
            }
            return fp;
        }
        Err(e) => {
            fp.error = Some(e);
            return fp;
        }
    };
    fp.shape = Some(shape);
    let servers = servers_of(root, shape).expect("shape was detected");
    let mut proctor_entry: Option<String> = None;
    for (name, entry) in servers {
        let plan = if launches_proctor(entry) || selected(name) {
            plan_server(name, entry, target, ids, env_names, &mut fp.warnings)
        } else {
            ServerPlan::skipped(name, ServerStatus::Skipped, "not selected".into())
        };
        if plan.status == ServerStatus::AlreadyProctor
            && proctor_entry.is_none()
            && launches_this_hall(entry, &target.data_dir)
        {
            proctor_entry = Some(name.clone());
        }
        fp.servers.push(plan);
    }
    let removed: Vec<String> = fp
        .servers
        .iter()
        .filter(|s| s.status == ServerStatus::Import)
        .map(|s| s.name.clone())
        .collect();
    if removed.is_empty() {
        return fp;
    }
    // The new document: imported entries out, one `proctor` entry in the first one's place.
    let mut new_doc = doc.clone();
    let servers = servers_mut(&mut new_doc, shape).expect("shape was detected");
    let first = servers
        .keys()
        .position(|k| k == &removed[0])
        .expect("an imported entry is in the file");
    for name in &removed {
        servers.shift_remove(name);
    }
    let entry = target.entry(shape);
    let (entry_name, entry_added) = match proctor_entry {
        Some(name) => (name, false),
        None if has_entry => (ENTRY_NAME.to_string(), false),
        None => {
            let name = free_name(servers, ENTRY_NAME);
            servers.shift_insert(first.min(servers.len()), name.clone(), entry.clone());
            (name, true)
        }
    };
    let text = render(&new_doc, &text);
    fp.rewrite = Some(Rewrite {
        removed,
        entry_name,
        entry,
        entry_added,
        text,
        backup: None,
    });
    fp
}

fn free_name(servers: &Map<String, Value>, base: &str) -> String {
    if !servers.contains_key(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|n| !servers.contains_key(n))
        .expect("an unbounded search ends")
}

fn detect_shape(root: &Map<String, Value>, path: &Path) -> Result<Option<Shape>, String> {
    let check = |shape: Shape| -> Result<Option<Shape>, String> {
        match servers_of(root, shape) {
            Some(_) => Ok(Some(shape)),
            None => Err(format!(
                "\"{}\" must be an object of servers",
                shape.path().join(".")
            )),
        }
    };
    if root.contains_key("mcpServers") {
        return check(Shape::McpServers);
    }
    if let Some(mcp) = root.get("mcp") {
        if mcp.get("servers").is_some() {
            return check(Shape::VscodeSettings);
        }
    }
    if root.contains_key("servers") {
        // VS Code's mcp.json; another file with a `servers` key must be named as one.
        let is_mcp_json = path.file_name().is_some_and(|n| n == "mcp.json");
        if is_mcp_json || root.len() <= 2 {
            return check(Shape::VscodeMcp);
        }
    }
    Ok(None)
}

fn servers_of(root: &Map<String, Value>, shape: Shape) -> Option<&Map<String, Value>> {
    let mut v = root.get(shape.path()[0])?;
    for key in &shape.path()[1..] {
        v = v.get(key)?;
    }
    v.as_object()
}

fn servers_mut(doc: &mut Value, shape: Shape) -> Option<&mut Map<String, Value>> {
    let mut v = doc;
    for key in shape.path() {
        v = v.get_mut(key)?;
    }
    v.as_object_mut()
}

/// Whether an entry launches `proctor mcp` (any data dir).
fn launches_proctor(entry: &Value) -> bool {
    let Some(command) = entry.get("command").and_then(Value::as_str) else {
        return false;
    };
    let base = command
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(command)
        .to_ascii_lowercase();
    let base = base.strip_suffix(".exe").unwrap_or(&base);
    let first_arg = entry
        .get("args")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str);
    base == "proctor" && first_arg == Some("mcp")
}

/// Whether an entry launches `proctor mcp` for this data dir.
fn launches_this_hall(entry: &Value, data_dir: &Path) -> bool {
    let args: Vec<&str> = entry
        .get("args")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let dir = args
        .iter()
        .position(|a| *a == "--data-dir")
        .and_then(|i| args.get(i + 1).copied())
        .or_else(|| args.iter().find_map(|a| a.strip_prefix("--data-dir=")));
    match dir {
        Some(d) => {
            Path::new(d)
                .canonicalize()
                .unwrap_or_else(|_| PathBuf::from(d))
                == data_dir
        }
        None => false,
    }
}

fn plan_server(
    name: &str,
    entry: &Value,
    target: &Target,
    ids: &mut IdAllocator<'_>,
    env_names: &mut EnvNames,
    warnings: &mut Vec<String>,
) -> ServerPlan {
    let skip = |reason: String| ServerPlan::skipped(name, ServerStatus::Skipped, reason);
    let Some(obj) = entry.as_object() else {
        return skip("the entry is not an object".into());
    };
    if launches_proctor(entry) {
        let mut plan = ServerPlan::skipped(
            name,
            ServerStatus::AlreadyProctor,
            "already launches `proctor mcp`".into(),
        );
        if !launches_this_hall(entry, &target.data_dir) {
            plan.reason = Some("already launches `proctor mcp` (for another data dir)".into());
        }
        return plan;
    }
    if obj.contains_key("envFile") {
        return skip(
            "it reads an envFile, which the hall does not: move its variables into \"env\" first"
                .into(),
        );
    }
    let kind = obj.get("type").and_then(Value::as_str);
    if matches!(kind, Some("sse")) {
        return skip(
            "a legacy SSE server: the hall reaches servers on stdio or Streamable HTTP only".into(),
        );
    }
    let base = sanitize(name);
    // The transport block of the record, secrets as references.
    let mut references = Vec::new();
    let mut transport = Map::new();
    let worker_hint = format!("{ID_PREFIX}{base}");
    let transport_kind;
    match (
        obj.get("command"),
        obj.get("url").or_else(|| obj.get("serverUrl")),
    ) {
        (Some(Value::String(command)), _) if !command.trim().is_empty() => {
            transport_kind = "stdio";
            transport.insert("command".into(), json!(command));
            match obj.get("args") {
                None | Some(Value::Null) => {}
                Some(Value::Array(args)) if args.iter().all(Value::is_string) => {
                    if !args.is_empty() {
                        transport.insert("args".into(), Value::Array(args.clone()));
                    }
                }
                Some(_) => return skip("\"args\" is not a list of strings".into()),
            }
            match obj.get("env") {
                None | Some(Value::Null) => {}
                Some(Value::Object(env)) => {
                    let mut out = Map::new();
                    for (var, value) in env {
                        let Some(value) = value.as_str() else {
                            return skip(format!("env.{var} is not a string"));
                        };
                        if !super::spec::is_env_name(var) {
                            return skip(format!("env.{var}: not a valid variable name"));
                        }
                        let setting =
                            env_names.setting(&base, var, var, value, is_secret_env(var, value));
                        if let Some((ref_name, note)) = setting.reference {
                            references.push(EnvNeeded {
                                name: ref_name,
                                worker_id: worker_hint.clone(),
                                field: format!("mcp.env.{var}"),
                                note,
                            });
                        }
                        out.insert(var.clone(), json!(setting.value));
                    }
                    if !out.is_empty() {
                        transport.insert("env".into(), Value::Object(out));
                    }
                }
                Some(_) => return skip("\"env\" is not an object".into()),
            }
            if let Some(cwd) = obj.get("cwd").and_then(Value::as_str) {
                if !cwd.trim().is_empty() {
                    transport.insert("cwd".into(), json!(cwd));
                }
            }
            if !command.contains(['/', '\\']) && which(command).is_none() {
                warnings.push(format!(
                    "{name}: `{command}` is not on this PATH: the hall must find it on its own PATH (or write its absolute path in the record)"
                ));
            }
            let vars = [command.as_str()]
                .into_iter()
                .chain(
                    obj.get("args")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str),
                )
                .any(|a| a.contains("${"));
            if vars {
                warnings.push(format!(
                    "{name}: its command or args use ${{...}} variables, which the hall does not expand: edit the record"
                ));
            }
        }
        (_, Some(Value::String(url)))
            if url.starts_with("http://") || url.starts_with("https://") =>
        {
            transport_kind = "http";
            transport.insert("url".into(), json!(url));
            match obj.get("headers") {
                None | Some(Value::Null) => {}
                Some(Value::Object(headers)) => {
                    let mut out = Map::new();
                    for (header, value) in headers {
                        let Some(value) = value.as_str() else {
                            return skip(format!("headers.{header} is not a string"));
                        };
                        let var = env_var_for(&base, header);
                        let setting = env_names.setting(
                            &base,
                            header,
                            &var,
                            value,
                            is_secret_header(header, value),
                        );
                        if let Some((ref_name, note)) = setting.reference {
                            references.push(EnvNeeded {
                                name: ref_name,
                                worker_id: worker_hint.clone(),
                                field: format!("mcp.headers.{header}"),
                                note,
                            });
                        }
                        out.insert(header.clone(), json!(setting.value));
                    }
                    if !out.is_empty() {
                        transport.insert("headers".into(), Value::Object(out));
                    }
                }
                Some(_) => return skip("\"headers\" is not an object".into()),
            }
        }
        (_, Some(Value::String(url))) => {
            return skip(format!("url {url:?} is not an http:// or https:// URL"));
        }
        _ => return skip("neither a \"command\" nor a \"url\"".into()),
    }
    let transport = Value::Object(transport);
    let (worker_id, record_status, record_path, record) = match ids.allocate(&base, &transport) {
        Allocated::Existing(id, path, record) => (id, RecordStatus::Exists, path, record),
        Allocated::Planned(id) => {
            let path = target.registry_dir.join(format!("{id}.json"));
            let record = build_record(&id, &transport);
            (id, RecordStatus::New, path, record)
        }
        Allocated::New(id) => {
            let path = target.registry_dir.join(format!("{id}.json"));
            let record = build_record(&id, &transport);
            (id, RecordStatus::New, path, record)
        }
    };
    for r in &mut references {
        r.worker_id = worker_id.clone();
    }
    if record_status == RecordStatus::New {
        if let Err(e) = crate::live::validate_record(&record) {
            return skip(format!("its record would be invalid: {e}"));
        }
    }
    let suffix = worker_id.strip_prefix(ID_PREFIX).unwrap_or(&worker_id);
    let species = record
        .get("worker_species_id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("wrk.{ID_PREFIX}{suffix}"));
    let capability = record
        .get("capabilities")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("cap.{ID_PREFIX}{suffix}"));
    ServerPlan {
        name: name.to_string(),
        status: ServerStatus::Import,
        reason: None,
        transport: Some(transport_kind.into()),
        worker_id: Some(worker_id),
        worker_species_id: Some(species),
        capability_id: Some(capability),
        record_path: Some(record_path),
        record: Some(record),
        record_status: Some(record_status),
        references,
    }
}

/// The worker record of an imported server: every tool offered under its one capability, for
/// the user to review (`mcp.tools` may name tools one by one instead).
fn build_record(worker_id: &str, transport: &Value) -> Value {
    let suffix = worker_id.strip_prefix(ID_PREFIX).unwrap_or(worker_id);
    let capability = format!("cap.{ID_PREFIX}{suffix}");
    let mut mcp = transport.as_object().cloned().unwrap_or_default();
    let mut tools = Map::new();
    tools.insert(super::spec::WILDCARD.into(), json!(capability));
    mcp.insert("tools".into(), Value::Object(tools));
    json!({
        "worker_id": worker_id,
        "worker_species_id": format!("wrk.{ID_PREFIX}{suffix}"),
        "capabilities": [capability],
        "mcp": mcp,
    })
}

/// A client's server name as an id part: lower case, `a-z 0-9 _ -`, at most 64 characters.
pub fn sanitize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_matches('-').chars().take(64).collect();
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "server".into()
    } else {
        out
    }
}

/// A header's variable: `<SERVER>_<HEADER>`, upper case.
fn env_var_for(server: &str, header: &str) -> String {
    let raw = format!("{server}_{header}");
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Name words that mark a secret. A superset of what the record validation insists on
/// (`spec.rs`), so every record the import writes validates.
fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const WORDS: [&str; 8] = [
        "KEY",
        "PASS",
        "PAT",
        "AUTH",
        "AUTHORIZATION",
        "COOKIE",
        "SESSION",
        "DSN",
    ];
    super::spec::secret_env_name(name)
        || upper
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| WORDS.contains(&word))
}

/// Values that look like a credential whatever their name.
fn is_secret_value(value: &str) -> bool {
    const PREFIXES: [&str; 14] = [
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "github_pat_",
        "glpat-",
        "sk-",
        "sk_live_",
        "xoxb-",
        "xoxp-",
        "AKIA",
        "Bearer ",
        "Basic ",
        "eyJ",
    ];
    if PREFIXES.iter().any(|p| value.starts_with(p)) {
        return true;
    }
    // A URL with a password in it.
    if let Some(rest) = value.split_once("://").map(|(_, r)| r) {
        let authority = rest.split('/').next().unwrap_or("");
        if authority.contains('@') && authority.split('@').next().is_some_and(|u| u.contains(':')) {
            return true;
        }
        return false;
    }
    // A long random-looking token: no spaces or path separators, letters and digits mixed.
    value.len() >= 24
        && !value.contains([' ', '/', '\\', '.'])
        && value.chars().any(|c| c.is_ascii_digit())
        && value.chars().any(|c| c.is_ascii_alphabetic())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=+".contains(c))
}

fn is_secret_env(name: &str, value: &str) -> bool {
    is_secret_name(name) || is_secret_value(value)
}

fn is_secret_header(name: &str, value: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "authorization" | "proxy-authorization" | "cookie"
    ) || lower.contains("api-key")
        || is_secret_name(name)
        || is_secret_value(value)
}

/// A value as the record holds it: written out, or a reference with what the hall's
/// environment must hold.
struct SettingOut {
    value: String,
    reference: Option<(String, String)>,
}

/// Variable names chosen in this run, so two servers needing different values under one name
/// get different variables.
#[derive(Default)]
struct EnvNames {
    /// name → sha256 of the value it must hold (`None`: the client read it from its own env).
    taken: BTreeMap<String, Option<String>>,
}

impl EnvNames {
    /// `field` is the env var or header name, `var` the variable a secret goes to by default.
    fn setting(
        &mut self,
        server: &str,
        field: &str,
        var: &str,
        value: &str,
        secret: bool,
    ) -> SettingOut {
        // Already a reference: `$NAME`, or VS Code's / Cursor's `${env:NAME}`.
        if let Some(name) = value
            .strip_prefix("${env:")
            .and_then(|r| r.strip_suffix('}'))
            .or_else(|| {
                value
                    .strip_prefix('$')
                    .filter(|n| super::spec::is_env_name(n))
            })
        {
            if super::spec::is_env_name(name) {
                self.taken.entry(name.to_string()).or_insert(None);
                return SettingOut {
                    value: format!("${name}"),
                    reference: Some((
                        name.to_string(),
                        format!("the client read {field} from its environment's {name}; the hall now does"),
                    )),
                };
            }
        }
        if let Some(input) = value
            .strip_prefix("${input:")
            .and_then(|r| r.strip_suffix('}'))
        {
            // One VS Code input is one value, whichever servers use it.
            let name = self.claim(
                server,
                env_var_for("", input).trim_start_matches('_'),
                Some(format!("input:{input}")),
            );
            return SettingOut {
                value: format!("${name}"),
                reference: Some((
                    name,
                    format!("VS Code asked for {field} (input {input:?}); set it in the hall's environment"),
                )),
            };
        }
        let partial = value.contains("${");
        if !secret && !partial {
            return SettingOut {
                value: value.to_string(),
                reference: None,
            };
        }
        let digest = hex::encode(Sha256::digest(value.as_bytes()));
        let name = self.claim(server, var, Some(digest));
        let note = if partial {
            format!("{field} uses ${{...}} variables in the client file, which the hall does not expand: set {name} to the whole value")
        } else {
            format!("the secret value of {field}, which was written in the client file (its backup still holds it)")
        };
        SettingOut {
            value: format!("${name}"),
            reference: Some((name, note)),
        }
    }

    /// `var`, unless it is taken for another value; then `<SERVER>_<var>`.
    fn claim(&mut self, server: &str, var: &str, digest: Option<String>) -> String {
        let candidates = [var.to_string(), env_var_for(server, var)];
        for name in &candidates {
            match self.taken.get(name) {
                None => {
                    self.taken.insert(name.clone(), digest);
                    return name.clone();
                }
                Some(d) if *d == digest && digest.is_some() => return name.clone(),
                Some(_) => {}
            }
        }
        let base = &candidates[1];
        (2..)
            .map(|n| format!("{base}_{n}"))
            .find(|n| {
                let free = !self.taken.contains_key(n);
                if free {
                    self.taken.insert(n.clone(), digest.clone());
                }
                free
            })
            .expect("an unbounded search ends")
    }
}

fn which(command: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        let candidate = dir.join(command);
        if candidate.is_file() {
            return Some(candidate);
        }
        if cfg!(windows) {
            for ext in ["exe", "cmd", "bat"] {
                let c = candidate.with_extension(ext);
                if c.is_file() {
                    return Some(c);
                }
            }
        }
        None
    })
}

// ---------------------------------------------------------------------------------------------
// rules

/// Read a rules document (absent: no rules yet).
fn read_rules(path: &Path) -> Result<Value, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let doc: Value = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not valid JSON: {e}", path.display()))?;
            wcp::RuleSet::from_json(&doc).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(doc)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(json!({"rules": []})),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The rule that routes an imported capability to its species.
fn new_rule(rule_id: &str, capability: &str, species: &str) -> Value {
    json!({
        "rule_id": rule_id,
        "match": {"capability_id": capability},
        "decision": {
            "candidate_workers_ranked": [{"worker_species_id": species, "score_hint": 1.0}],
            "required_controls_suggested": [],
            "escalation": {"policy_gate": false, "rationale": "MCP server imported by `proctor mcp import`: review"}
        }
    })
}

/// The rule naming `capability` literally (a string or an `in` list holding it), if any.
fn rule_naming(rules: &[Value], capability: &str) -> Option<String> {
    rules.iter().find_map(|r| {
        let cond = r.get("match")?.get("capability_id")?;
        let names = match cond {
            Value::String(s) => s == capability,
            Value::Object(o) => o
                .get("in")
                .and_then(Value::as_array)
                .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(capability))),
            _ => false,
        };
        names.then(|| {
            r.get("rule_id")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        })
    })
}

/// Whether a rule's capability condition passes every capability (absent, null, `{"any": true}`).
fn matches_any_capability(rule: &Value) -> bool {
    match rule.get("match").and_then(|m| m.get("capability_id")) {
        None | Some(Value::Null) => true,
        Some(Value::Object(o)) => o.get("any") == Some(&Value::Bool(true)),
        _ => false,
    }
}

/// Add a rule for each `(capability, species)` no rule names, before the first rule that
/// matches any capability (a catch-all placed earlier would take the request first, and would
/// shadow the new rule). Returns what was decided per capability.
fn merge_rules(doc: &mut Value, wanted: &[(String, String)]) -> Result<Vec<RulePlan>, String> {
    let before = wcp::RuleSet::from_json(doc)
        .map_err(|e| e.to_string())?
        .shadow_warnings()
        .len();
    let rules = doc
        .get_mut("rules")
        .and_then(Value::as_array_mut)
        .ok_or("\"rules\" is not a list")?;
    let mut out = Vec::new();
    for (capability, species) in wanted {
        if out
            .iter()
            .any(|r: &RulePlan| &r.capability_id == capability)
        {
            continue;
        }
        if let Some(rule_id) = rule_naming(rules, capability) {
            out.push(RulePlan {
                capability_id: capability.clone(),
                worker_species_id: species.clone(),
                add: false,
                rule_id,
                rule: None,
            });
            continue;
        }
        let ids: BTreeSet<&str> = rules
            .iter()
            .filter_map(|r| r.get("rule_id").and_then(Value::as_str))
            .collect();
        let base = capability.strip_prefix("cap.").unwrap_or(capability);
        let rule_id = if ids.contains(base) {
            (2..)
                .map(|n| format!("{base}-{n}"))
                .find(|id| !ids.contains(id.as_str()))
                .expect("an unbounded search ends")
        } else {
            base.to_string()
        };
        let rule = new_rule(&rule_id, capability, species);
        let at = rules
            .iter()
            .position(matches_any_capability)
            .unwrap_or(rules.len());
        rules.insert(at, rule.clone());
        out.push(RulePlan {
            capability_id: capability.clone(),
            worker_species_id: species.clone(),
            add: true,
            rule_id,
            rule: Some(rule),
        });
    }
    let after =
        wcp::RuleSet::from_json(doc).map_err(|e| format!("the new rules would be invalid: {e}"))?;
    if after.shadow_warnings().len() > before {
        let w = &after.shadow_warnings()[0];
        return Err(format!(
            "the new rules would shadow one another ({}: {}); add them by hand",
            w.shadowed, w.reason
        ));
    }
    Ok(out)
}

fn wanted_rules(files: &[FilePlan]) -> Vec<(String, String)> {
    files
        .iter()
        .flat_map(|f| &f.servers)
        .filter(|s| s.status == ServerStatus::Import)
        .filter_map(|s| Some((s.capability_id.clone()?, s.worker_species_id.clone()?)))
        .collect()
}

fn plan_rules(files: &[FilePlan], rules_file: &Path) -> Result<Vec<RulePlan>, String> {
    let wanted = wanted_rules(files);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut doc = read_rules(rules_file)?;
    merge_rules(&mut doc, &wanted)
}

// ---------------------------------------------------------------------------------------------
// apply

/// Carry out a plan: initialize the data dir if it is new, write the new records, add the rules
/// (against the rules file as it is now), then back up and rewrite each client file (refused
/// if it changed since the plan). Records and rules come first, so a client is only pointed at
/// the hall once the hall can serve its servers. Files with an error are left alone.
pub fn apply(plan: &mut Plan) -> Result<Applied, ImportError> {
    let mut applied = Applied::default();
    if !plan.has_changes() {
        return Ok(applied);
    }
    let target = &plan.target;
    if !target.data_dir.join(crate::config::CONFIG_FILE).exists() {
        let (_, created) = crate::Config::load_or_init(&target.data_dir)?;
        applied.initialized = created.paths;
    }
    // Records.
    let records: Vec<(PathBuf, Value)> = plan
        .records()
        .map(|(p, r)| (p.to_path_buf(), r.clone()))
        .collect();
    if !records.is_empty() {
        std::fs::create_dir_all(&target.registry_dir)
            .map_err(|e| ImportError::io(&target.registry_dir, e))?;
    }
    for (path, record) in records {
        let bytes = serde_json::to_vec_pretty(&record).expect("JSON value serializes");
        if let Ok(current) = std::fs::read(&path) {
            if serde_json::from_slice::<Value>(&current).ok().as_ref() == Some(&record) {
                continue;
            }
            return Err(ImportError::Changed { path });
        }
        crate::config::write_atomic(&path, &bytes, None)?;
        applied.records_written.push(path);
    }
    // Rules, merged into the file as it is now.
    let wanted = wanted_rules(&plan.files);
    if !wanted.is_empty() {
        let rules_file = &target.rules_file;
        let mut doc = read_rules(rules_file).map_err(|message| ImportError::BadFile {
            path: rules_file.clone(),
            message,
        })?;
        let merged = merge_rules(&mut doc, &wanted).map_err(|message| ImportError::BadFile {
            path: rules_file.clone(),
            message,
        })?;
        let added: Vec<String> = merged
            .iter()
            .filter(|r| r.add)
            .map(|r| r.rule_id.clone())
            .collect();
        if !added.is_empty() {
            let mut text = serde_json::to_string_pretty(&doc).expect("JSON value serializes");
            text.push('\n');
            crate::config::write_atomic(rules_file, text.as_bytes(), None)?;
            applied.rules_added = added;
        }
        plan.rules = merged;
    }
    // Client files.
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    for file in &mut plan.files {
        if file.error.is_some() {
            continue;
        }
        let Some(rewrite) = file.rewrite.as_mut() else {
            continue;
        };
        // Write through a symlink to the file it names (dotfile managers link these).
        let path = file
            .path
            .canonicalize()
            .map_err(|e| ImportError::io(&file.path, e))?;
        let current = std::fs::read(&path).map_err(|e| ImportError::io(&path, e))?;
        if Some(hex::encode(Sha256::digest(&current))) != file.original_sha256 {
            return Err(ImportError::Changed {
                path: file.path.clone(),
            });
        }
        let backup = free_backup(&path, &stamp);
        std::fs::copy(&path, &backup).map_err(|e| ImportError::io(&backup, e))?;
        let mode = file_mode(&path);
        attest::fsutil::write_atomic(&path, rewrite.text.as_bytes(), mode)
            .map_err(|e| ImportError::io(&path, e))?;
        rewrite.backup = Some(backup.clone());
        applied.backups.push((file.path.clone(), backup));
        applied.files_rewritten.push(file.path.clone());
    }
    Ok(applied)
}

fn free_backup(path: &Path, stamp: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let first = path.with_file_name(format!("{name}.proctor-backup-{stamp}"));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| path.with_file_name(format!("{name}.proctor-backup-{stamp}-{n}")))
        .find(|p| !p.exists())
        .expect("an unbounded search ends")
}

#[cfg(unix)]
fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> Option<u32> {
    None
}

// ---------------------------------------------------------------------------------------------
// JSON with comments

/// Parse JSON, tolerating `//` and `/* */` comments and trailing commas (VS Code's JSONC).
/// Returns the document and whether anything had to be dropped.
pub fn parse_jsonc(text: &str) -> Result<(Value, bool), String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match serde_json::from_str(text) {
        Ok(doc) => Ok((doc, false)),
        Err(strict) => {
            let stripped = strip_jsonc(text);
            if stripped == text {
                return Err(strict.to_string());
            }
            serde_json::from_str(&stripped)
                .map(|doc| (doc, true))
                .map_err(|_| strict.to_string())
        }
    }
}

fn strip_jsonc(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            let ch_len = utf8_len(c);
            out.push_str(&text[i..i + ch_len]);
            if c == b'\\' && i + 1 < bytes.len() {
                let next_len = utf8_len(bytes[i + 1]);
                out.push_str(&text[i + 1..i + 1 + next_len]);
                i += 1 + next_len;
                continue;
            }
            if c == b'"' {
                in_string = false;
            }
            i += ch_len;
            continue;
        }
        match c {
            b'"' => {
                in_string = true;
                out.push('"');
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    if bytes[i] == b'\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
            }
            b',' => {
                // A trailing comma: the next significant character closes the container.
                let mut j = i + 1;
                loop {
                    while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if bytes.get(j) == Some(&b'/') && bytes.get(j + 1) == Some(&b'/') {
                        while j < bytes.len() && bytes[j] != b'\n' {
                            j += 1;
                        }
                        continue;
                    }
                    if bytes.get(j) == Some(&b'/') && bytes.get(j + 1) == Some(&b'*') {
                        j += 2;
                        while j < bytes.len()
                            && !(bytes[j] == b'*' && bytes.get(j + 1) == Some(&b'/'))
                        {
                            j += 1;
                        }
                        j = (j + 2).min(bytes.len());
                        continue;
                    }
                    break;
                }
                if !matches!(bytes.get(j), Some(b'}') | Some(b']')) {
                    out.push(',');
                }
                i += 1;
            }
            _ => {
                let ch_len = utf8_len(c);
                out.push_str(&text[i..i + ch_len]);
                i += ch_len;
            }
        }
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Pretty JSON indented like the original (its first indented line), with a final newline.
fn render(doc: &Value, original: &str) -> String {
    let indent: String = original
        .lines()
        .skip(1)
        .find(|l| l.starts_with([' ', '\t']))
        .map(|l| l.chars().take_while(|c| *c == ' ' || *c == '\t').collect())
        .unwrap_or_else(|| "  ".into());
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    serde::Serialize::serialize(doc, &mut ser).expect("JSON value serializes");
    let mut text = String::from_utf8(buf).expect("JSON is UTF-8");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(dir: &Path) -> Target {
        Target::for_data_dir(&dir.join("hall"), PathBuf::from("/usr/local/bin/proctor")).unwrap()
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_planned_record_is_valid_and_its_rule_routes_a_call_to_it() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("claude_desktop_config.json");
        write(
            &file,
            r#"{"mcpServers": {"GitHub Tools": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
            "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "LOG_LEVEL": "info"}}}}"#,
        );
        let t = target(tmp.path());
        let plan = plan(&[ClientFile::given(file.clone(), None)], &t);
        assert_eq!(plan.errors().count(), 0, "{plan:?}");
        let s = &plan.files[0].servers[0];
        assert_eq!(s.status, ServerStatus::Import);
        assert_eq!(s.worker_id.as_deref(), Some("mcp.github-tools"));
        let record = s.record.clone().unwrap();
        crate::live::validate_record(&record).expect("valid record");
        assert_eq!(
            record["mcp"]["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"],
            "$GITHUB_PERSONAL_ACCESS_TOKEN"
        );
        assert_eq!(record["mcp"]["env"]["LOG_LEVEL"], "info");
        assert_eq!(record["mcp"]["tools"]["*"], "cap.mcp.github-tools");
        assert!(
            !serde_json::to_string(&plan).unwrap().contains("ghp_"),
            "the secret never leaves the client file"
        );
        assert_eq!(plan.env_needed.len(), 1);
        assert_eq!(plan.files[0].client, Some(Client::Claude));

        // The rule routes the capability to the record's species.
        let mut doc = json!({"rules": [{"rule_id": "catch_all", "match": {"capability_id": {"any": true}},
            "decision": {"candidate_workers_ranked": [{"worker_species_id": "wrk.review.queue"}]}}]});
        let merged = merge_rules(
            &mut doc,
            &[("cap.mcp.github-tools".into(), "wrk.mcp.github-tools".into())],
        )
        .unwrap();
        assert!(merged[0].add);
        assert_eq!(
            doc["rules"][0]["rule_id"], "mcp.github-tools",
            "inserted before the catch-all"
        );
        let rules = wcp::RuleSet::from_json(&doc).unwrap();
        assert!(rules.shadow_warnings().is_empty());
        let mut registry = wcp::Registry::new();
        registry.enroll(&record).unwrap();
        let registry = std::sync::Arc::new(registry);
        let router =
            wcp::Router::new(rules.into(), registry.clone()).with_privilege_policy(registry);
        let input = wcp::parse_route_input(
            &json!({"capability_id": "cap.mcp.github-tools", "env": "dev",
            "data_label": "INTERNAL", "tenant_risk": "low", "qos_class": "P2", "tenant_id": "mcp",
            "correlation_id": "c-1"}),
        )
        .unwrap();
        let decision = serde_json::to_value(router.decide(&input)).unwrap();
        assert_eq!(decision["denied"], false, "{decision}");
        assert_eq!(
            decision["selected_worker_species_id"], "wrk.mcp.github-tools",
            "{decision}"
        );
        // A second merge finds the rule and adds nothing.
        let again = merge_rules(
            &mut doc,
            &[("cap.mcp.github-tools".into(), "wrk.mcp.github-tools".into())],
        )
        .unwrap();
        assert!(!again[0].add);
        assert_eq!(doc["rules"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn apply_rewrites_with_a_backup_and_a_second_run_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("Code/User/settings.json");
        let original = "{\n    // my settings\n    \"editor.fontSize\": 14,\n    \"mcp\": {\"servers\": {\n        \"fs\": {\"type\": \"stdio\", \"command\": \"/bin/cat\", \"args\": [\"/tmp\"]},\n        \"remote\": {\"type\": \"http\", \"url\": \"https://example.com/mcp\", \"headers\": {\"Authorization\": \"Bearer ${input:tok}\"}},\n        \"old\": {\"type\": \"sse\", \"url\": \"https://example.com/sse\"},\n    }},\n}\n";
        write(&file, original);
        let t = target(tmp.path());
        let files = [ClientFile::given(file.clone(), None)];
        let mut p = plan(&files, &t);
        assert_eq!(p.files[0].shape, Some(Shape::VscodeSettings));
        assert_eq!(p.files[0].warnings.len(), 1, "{:?}", p.files[0].warnings);
        let statuses: Vec<_> = p.files[0].servers.iter().map(|s| s.status).collect();
        assert_eq!(
            statuses,
            [
                ServerStatus::Import,
                ServerStatus::Import,
                ServerStatus::Skipped
            ]
        );
        let applied = apply(&mut p).unwrap();
        assert_eq!(applied.records_written.len(), 2);
        assert_eq!(applied.rules_added.len(), 2);
        assert!(
            !applied.initialized.is_empty(),
            "a new data dir is initialized"
        );
        let (_, backup) = &applied.backups[0];
        assert_eq!(std::fs::read_to_string(backup).unwrap(), original);
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(doc["editor.fontSize"], 14);
        let servers = doc["mcp"]["servers"].as_object().unwrap();
        assert_eq!(servers.keys().collect::<Vec<_>>(), ["proctor", "old"]);
        assert_eq!(servers["proctor"]["type"], "stdio");
        assert_eq!(
            servers["proctor"]["args"][2],
            t.data_dir.to_string_lossy().as_ref()
        );
        let remote: Value = serde_json::from_str(
            &std::fs::read_to_string(t.registry_dir.join("mcp.remote.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            remote["mcp"]["headers"]["Authorization"],
            "$REMOTE_AUTHORIZATION"
        );
        let rules = std::fs::read_to_string(&t.rules_file).unwrap();
        wcp::RuleSet::from_json(&serde_json::from_str(&rules).unwrap()).unwrap();

        let before: Vec<_> = [&file, &t.rules_file]
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        let mut again = plan(&files, &t);
        assert!(!again.has_changes(), "{again:?}");
        assert_eq!(
            again.files[0].servers[0].status,
            ServerStatus::AlreadyProctor
        );
        let applied = apply(&mut again).unwrap();
        assert!(applied.backups.is_empty() && applied.records_written.is_empty());
        let after: Vec<_> = [&file, &t.rules_file]
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        assert_eq!(before, after);
    }

    #[test]
    fn a_changed_file_is_not_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("mcp.json");
        write(&file, r#"{"mcpServers": {"a": {"command": "/bin/cat"}}}"#);
        let t = target(tmp.path());
        let mut p = plan(&[ClientFile::given(file.clone(), Some(Client::Cursor))], &t);
        write(
            &file,
            r#"{"mcpServers": {"a": {"command": "/bin/cat"}, "b": {"command": "/bin/cat"}}}"#,
        );
        let err = apply(&mut p).unwrap_err();
        assert!(matches!(err, ImportError::Changed { .. }), "{err}");
        assert!(std::fs::read_to_string(&file).unwrap().contains("\"b\""));
    }

    #[test]
    fn names_ids_and_secrets() {
        assert_eq!(
            sanitize("@modelcontextprotocol/server-github"),
            "modelcontextprotocol-server-github"
        );
        assert_eq!(sanitize("My Server.v2"), "my-server-v2");
        assert_eq!(sanitize("///"), "server");
        assert!(is_secret_env("GITHUB_TOKEN", "x"));
        assert!(is_secret_env("OPENAI_API_KEY", "x"));
        assert!(is_secret_env("DB_URL", "postgres://u:pw@host/db"));
        assert!(!is_secret_env("DB_URL", "postgres://host/db"));
        assert!(is_secret_env("SOMETHING", "sk-abc"));
        assert!(!is_secret_env("ALLOWED_DIRS", "/home/me/projects"));
        assert!(!is_secret_env("KEYBOARD_LAYOUT", "us"));
        let mut names = EnvNames::default();
        let a = names.setting("one", "API_KEY", "API_KEY", "first", true);
        let b = names.setting("two", "API_KEY", "API_KEY", "second", true);
        let c = names.setting("three", "API_KEY", "API_KEY", "first", true);
        assert_eq!(a.value, "$API_KEY");
        assert_eq!(b.value, "$TWO_API_KEY");
        assert_eq!(c.value, "$API_KEY", "the same value shares the variable");
        assert_eq!(
            names
                .setting("x", "HOME", "HOME", "${env:HOME}", false)
                .value,
            "$HOME"
        );
    }

    #[test]
    fn jsonc_comments_and_trailing_commas() {
        let (doc, dropped) =
            parse_jsonc("{\"a\": \"// not a comment\", /* c */ \"b\": [1, 2,], // x\n}").unwrap();
        assert!(dropped);
        assert_eq!(doc, json!({"a": "// not a comment", "b": [1, 2]}));
        assert!(parse_jsonc("{\"a\": }").is_err());
        assert_eq!(
            parse_jsonc("{\"a\": \"\\\"//\"}").unwrap(),
            (json!({"a": "\"//"}), false)
        );
    }
}
