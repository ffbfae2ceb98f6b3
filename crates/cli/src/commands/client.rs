//! A small blocking HTTP client for the commands that talk to a running hall (`enroll`,
//! `workers list`, `heartbeat`). The hall's address and token come from its data dir, so
//! `proctor serve` and these commands agree without flags.

use crate::exit::{outln, CliError};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// How long a command waits for the hall's whole answer.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Where the hall is and how to authenticate.
#[derive(clap::Args, Debug, Clone)]
pub struct HallArgs {
    /// The hall's data dir (default: the per-OS user data dir).
    #[arg(long, env = "PROCTOR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Base URL of the hall (default: from the data dir's config, e.g. http://127.0.0.1:8765).
    #[arg(long, env = "PROCTOR_URL")]
    pub url: Option<String>,
    /// File holding the API token (default: the data dir's `api-token`).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}

pub struct Client {
    base: String,
    token: String,
    token_hint: String,
    agent: ureq::Agent,
}

/// A reply: status and JSON body.
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// What to check when the hall refuses the token (`401`).
    token_hint: String,
}

/// A hall found from its data dir: where it listens and its token.
pub struct Located {
    pub base: String,
    pub token: String,
    /// Where the token came from, and what to check when the hall refuses it.
    pub token_hint: String,
}

/// The data dir these arguments name.
pub fn data_dir(args: &HallArgs) -> Result<PathBuf, CliError> {
    super::common::data_dir_or_default(args.data_dir.as_deref())
}

/// Find the hall of `args`' data dir: its address and token. Reads files only.
pub fn locate(args: &HallArgs) -> Result<Located, CliError> {
    let data_dir = data_dir(args)?;
    // Only an existing hall's config is read: a client never initialises a new hall.
    let (listen, default_token) = if data_dir.join(hall::config::CONFIG_FILE).is_file() {
        let (cfg, _) = hall::Config::load_or_init(&data_dir)
            .map_err(|e| CliError::bad_input(e.to_string()))?;
        (cfg.file.listen.to_string(), cfg.token_file)
    } else {
        (
            hall::config::DEFAULT_LISTEN.to_string(),
            data_dir.join("api-token"),
        )
    };
    // A running hall says where it listens (it may have been started with --listen).
    let running = std::fs::read_to_string(data_dir.join(hall::config::URL_FILE))
        .ok()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    let base = args
        .url
        .clone()
        .or(running)
        .unwrap_or_else(|| format!("http://{listen}"));
    let (token_file, read_hint, token_hint) = match &args.token_file {
        Some(file) => (
            file.clone(),
            "(the file given by --token-file)".to_string(),
            format!(
                "the token in {} (--token-file) is not this hall's",
                file.display()
            ),
        ),
        None => (
            default_token,
            format!(
                "(is a hall initialised in data dir {}? run `proctor serve`, pass --data-dir DIR \
                 / set PROCTOR_DATA_DIR to your hall's, or pass --token-file)",
                data_dir.display()
            ),
            format!(
                "the token of data dir {} is not this hall's: does the hall run with another \
                 data dir? pass --data-dir DIR / set PROCTOR_DATA_DIR, or --token-file",
                data_dir.display()
            ),
        ),
    };
    let token = hall::config::read_token_file(&token_file)
        .map_err(|e| CliError::usage(format!("{e} {read_hint}")))?;
    Ok(Located {
        base: base.trim_end_matches('/').to_string(),
        token,
        token_hint,
    })
}

impl Client {
    pub fn from_args(args: &HallArgs) -> Result<Self, CliError> {
        let Located {
            base,
            token,
            token_hint,
        } = locate(args)?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .build()
            .into();
        Ok(Self {
            base,
            token,
            token_hint,
            agent,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn get(&self, path: &str) -> Result<Reply, CliError> {
        let req = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", self.bearer());
        self.finish(req.call())
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Reply, CliError> {
        let req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", self.bearer());
        self.finish(req.send_json(body))
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    fn finish(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply, CliError> {
        let mut resp = result.map_err(|e| match e {
            // ureq's own words for this are "timeout: global".
            ureq::Error::Timeout(_) => CliError::runtime(format!(
                "the hall at {} did not answer within {} s (is it overloaded or stopped?)",
                self.base,
                TIMEOUT.as_secs()
            )),
            e => CliError::runtime(format!("cannot reach the hall at {}: {e}", self.base)),
        })?;
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_json::<Value>().map_err(|e| {
            CliError::runtime(format!(
                "hall at {} sent a non-JSON reply ({status}): {e}",
                self.base
            ))
        })?;
        Ok(Reply {
            status,
            body,
            token_hint: self.token_hint.clone(),
        })
    }
}

impl Reply {
    /// The hall's error as a CLI error: 4xx are the caller's input, the rest are runtime.
    pub fn into_error(self) -> CliError {
        let code = self.body["error"]["code"]
            .as_str()
            .unwrap_or("?")
            .to_string();
        let message = self.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let text = format!("hall answered {} {code}: {message}", self.status);
        match self.status {
            401 => CliError::usage(format!("{text} ({})", self.token_hint)),
            400..=499 => CliError::bad_input(text),
            _ => CliError::runtime(text),
        }
    }
}

/// Pretty JSON on stdout.
pub fn print_json(v: &Value) -> Result<(), CliError> {
    outln!(
        "{}",
        serde_json::to_string_pretty(v).expect("JSON value serializes")
    )
}

/// `proctor workers list`: the workers of a running hall with their health.
pub fn list_workers(args: HallArgs) -> crate::exit::CliResult {
    let reply = Client::from_args(&args)?.get("/v1/workers")?;
    if reply.status != 200 {
        return Err(reply.into_error());
    }
    print_json(&reply.body)?;
    Ok(std::process::ExitCode::SUCCESS)
}
