//! What several commands share: the ledger they read (`--db` / `--data-dir`, [`DbArg`]), the
//! mapping of ledger errors to exit codes ([`ledger_error`]), and how a stored decision and
//! untrusted text are shown ([`record_json`], [`time`], [`printable`]).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use chrono::SecondsFormat;
use ledger::{LedgerError, OpenOptions, SqliteBackend, StoredDecision};

use crate::exit::CliError;

/// `--db` / `--data-dir`, shared by every ledger command.
#[derive(clap::Args, Debug)]
pub struct DbArg {
    /// The ledger file [default: the ledger of the hall in --data-dir].
    #[arg(long, value_name = "PATH", env = ledger::DB_ENV)]
    pub db: Option<PathBuf>,
    /// The hall whose ledger to use when --db is not given [default: the per-user data dir].
    #[arg(long, value_name = "DIR", env = "PROCTOR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

impl DbArg {
    pub fn path(&self) -> Result<PathBuf, CliError> {
        if let Some(db) = &self.db {
            return Ok(db.clone());
        }
        let data_dir = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => hall::config::default_data_dir()
                .map_err(|e| CliError::usage(format!("{e}, or pass --db PATH / set PROCTOR_DB")))?,
        };
        Ok(match existing_hall(&data_dir)? {
            Some(config) => config.ledger_path,
            None => data_dir.join(hall::config::ConfigFile::default().ledger_path),
        })
    }

    /// Open for reading only: readers never create or migrate a ledger.
    pub fn open_read_only(&self) -> Result<SqliteBackend, CliError> {
        SqliteBackend::open(self.path()?, OpenOptions::read_only()).map_err(|e| self.error(e))
    }

    /// [`ledger_error`], plus where to look when the ledger file does not exist: a hall that
    /// runs with another data dir than the one these flags name is the usual cause.
    pub fn error(&self, e: LedgerError) -> CliError {
        let hint = match (&e, &self.db, &self.data_dir) {
            (LedgerError::NotFound { .. }, Some(_), _) => {
                " (check --db / PROCTOR_DB; `proctor serve` writes its ledger under its data dir)"
                    .to_string()
            }
            (LedgerError::NotFound { .. }, None, Some(dir)) => format!(
                " (has a hall run with data dir {}? if your hall uses another one, pass \
                 --data-dir DIR or set PROCTOR_DATA_DIR)",
                dir.display()
            ),
            (LedgerError::NotFound { .. }, None, None) => format!(
                " (no hall has recorded a decision in the default data dir{}; if your hall uses \
                 another one, pass --data-dir DIR or set PROCTOR_DATA_DIR)",
                hall::config::default_data_dir()
                    .map(|d| format!(" {}", d.display()))
                    .unwrap_or_default()
            ),
            _ => String::new(),
        };
        let err = ledger_error(e);
        CliError::new(err.kind, format!("{}{hint}", err.message))
    }
}

/// The data dir given (`--data-dir` / `PROCTOR_DATA_DIR`), or the per-user default.
pub fn data_dir_or_default(given: Option<&Path>) -> Result<PathBuf, CliError> {
    match given {
        Some(dir) => Ok(dir.to_path_buf()),
        None => hall::config::default_data_dir().map_err(|e| CliError::usage(e.to_string())),
    }
}

/// The configuration of the hall whose data dir is `data_dir`, if a hall was initialised there
/// (its `config.toml` exists). A command that only reads never initialises a new hall.
pub fn existing_hall(data_dir: &Path) -> Result<Option<hall::Config>, CliError> {
    if !data_dir.join(hall::config::CONFIG_FILE).is_file() {
        return Ok(None);
    }
    let (config, _) =
        hall::Config::load_or_init(data_dir).map_err(|e| CliError::bad_input(e.to_string()))?;
    Ok(Some(config))
}

/// Ledger errors to exit codes: the file's fault is bad input, the caller's flags are usage,
/// everything else is a runtime failure.
pub fn ledger_error(e: LedgerError) -> CliError {
    use LedgerError::*;
    match e {
        NotFound { .. }
        | NotADatabase { .. }
        | IsADirectory { .. }
        | ForeignDatabase { .. }
        | FutureSchema { .. }
        | BadRecord(_)
        | DuplicateDecision(_) => CliError::bad_input(e.to_string()),
        BadCursor(_) | BadQuery(_) => CliError::usage(e.to_string()),
        _ => CliError::runtime(e.to_string()),
    }
}

/// When a stored decision was made, as people read it (RFC 3339, milliseconds, UTC).
pub fn time(d: &StoredDecision) -> String {
    d.fields.time().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `{"seq":…,"hash":…,"decision":<the exact stored JSON>}` without re-serializing it.
pub fn record_json(d: &StoredDecision) -> String {
    format!(
        r#"{{"seq":{},"hash":"{}","decision":{}}}"#,
        d.seq, d.hash, d.json
    )
}

/// `s` for a terminal: its control characters (C0, DEL, C1) escaped Rust-style (`\u{1b}`,
/// `\n`). A ledger holds whatever an agent sent, and an ESC in an id would otherwise drive the
/// reader's terminal. Human output only: JSON output stays byte-exact.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}
