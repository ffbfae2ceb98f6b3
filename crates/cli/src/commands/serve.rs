//! `proctor serve`: run a hall in the foreground with the HTTP API and the web UI.

use crate::exit::{CliError, CliResult};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::ValueEnum, Clone, Copy, Default)]
pub enum LogFormat {
    /// Human-readable `key=value` lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Where this hall keeps everything (default: the per-OS user data dir).
    #[arg(long, env = "PROCTOR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on (default: `listen` in config.toml, 127.0.0.1:8765).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Serve the fleet view instead of a hall: the same web UI, read-only, over the central
    /// PostgreSQL that halls ship to (docs/fleet.md, "Fleet view"). It takes the token,
    /// listen address and limits of --data-dir, and opens no hall there.
    #[arg(long, requires = "database_url")]
    pub fleet: bool,
    /// The fleet's central PostgreSQL, `postgresql://user:password@host:port/db` (with --fleet).
    #[arg(long, value_name = "URL", requires = "fleet")]
    pub database_url: Option<String>,
    /// Print no single-use sign-in link (by default one is printed on stdout: it opens the web
    /// UI signed in, once, within 10 minutes; docs/hall.md, "Signing in").
    #[arg(long)]
    pub no_sign_in_link: bool,
}

pub fn run(args: Args) -> CliResult {
    init_logs(args.log_format);
    let data_dir = super::common::data_dir_or_default(args.data_dir.as_deref())?;
    let (mut config, created) =
        hall::Config::load_or_init(&data_dir).map_err(|e| CliError::bad_input(e.to_string()))?;
    if let Some(listen) = args.listen {
        config.file.listen = listen;
    }
    if !listen_is_loopback(config.file.listen) {
        tracing::warn!(listen = %config.file.listen, "listening beyond loopback: anyone who can reach this address and has the token controls the hall");
    }
    for path in &created.paths {
        eprintln!("proctor: created {}", path.display());
    }
    for note in &created.notes {
        eprintln!("proctor: {note}");
    }
    if let (true, Some(url)) = (args.fleet, args.database_url.as_deref()) {
        return fleet::run(config, url);
    }
    eprintln!("proctor: data dir     {}", config.data_dir.display());
    eprintln!("proctor: ledger       {}", config.ledger_path.display());
    eprintln!("proctor: registry dir {}", config.registry_dir.display());
    eprintln!("proctor: rules file   {}", config.rules_file.display());
    eprintln!("proctor: api token    {}", config.token_file.display());
    eprintln!(
        "proctor: web UI       {}",
        config
            .ui_dir
            .as_ref()
            .map_or("(not configured)".to_string(), |d| d.display().to_string())
    );

    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| CliError::runtime(format!("cannot start runtime: {e}")))?;
    let sign_in = (!args.no_sign_in_link).then(|| Arc::new(hall::sign_in::SignInCodes::default()));
    runtime.block_on(async move {
        let listen = config.file.listen;
        // The hall first: it takes the data dir's lock, so a second hall on this dir is told
        // which one runs there rather than that its address is in use.
        let hall = hall::Hall::open(config)
            .await
            .map_err(|e| CliError::runtime(e.to_string()))?;
        eprintln!("proctor: hall key     {}", hall.hall_key().verifier_key);
        let listener = match hall::server::bind(listen).await {
            Ok(listener) => listener,
            Err(e) => {
                hall.close().await;
                return Err(CliError::runtime(e.to_string()));
            }
        };
        let addr = listener
            .local_addr()
            .map_err(|e| CliError::runtime(e.to_string()))?;
        // Listening for signals before anyone is told where the hall is.
        let shutdown = hall::server::shutdown_signal();
        hall::server::announce(&hall, addr).map_err(|e| CliError::runtime(e.to_string()))?;
        // A machine-readable line so scripts (and tests) can find an ephemeral port; then the
        // sign-in link, on stdout for the person who started the hall and never in the log
        // (stderr, which may be collected and shipped). One write: a script that reads the first
        // line and closes the pipe must not make a later write fail.
        let mut lines = format!("listening on http://{addr}\n");
        if let Some(codes) = &sign_in {
            let link = hall::sign_in::link(addr, &codes.issue());
            lines.push_str(&format!("sign in: {link}\n"));
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout
            .write_all(lines.as_bytes())
            .and_then(|()| stdout.flush());
        drop(stdout);
        hall::server::serve_with_sign_in(hall, listener, shutdown, sign_in)
            .await
            .map_err(|e| CliError::runtime(e.to_string()))
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `proctor serve --fleet`: the fleet view, kept apart from the hall's start above.
mod fleet {
    use crate::exit::{CliError, CliResult};
    use std::process::ExitCode;

    pub fn run(config: hall::Config, database_url: &str) -> CliResult {
        let view = hall::fleet_view::FleetView::new(&config, database_url)
            .map_err(|e| CliError::bad_input(e.to_string()))?;
        eprintln!("proctor: fleet view   {} (read-only)", view.store());
        eprintln!("proctor: api token    {}", config.token_file.display());
        let runtime = tokio::runtime::Runtime::new()
            .map_err(|e| CliError::runtime(format!("cannot start runtime: {e}")))?;
        runtime.block_on(async move {
            let listener = hall::server::bind(config.file.listen)
                .await
                .map_err(|e| CliError::runtime(e.to_string()))?;
            let addr = listener
                .local_addr()
                .map_err(|e| CliError::runtime(e.to_string()))?;
            let shutdown = hall::server::shutdown_signal();
            // As `proctor serve` prints it; no hall.url is written: client commands talk to
            // halls, and this is none.
            println!("listening on http://{addr}");
            hall::fleet_view::serve(view, listener, shutdown)
                .await
                .map_err(|e| CliError::runtime(e.to_string()))
        })?;
        Ok(ExitCode::SUCCESS)
    }
}

fn listen_is_loopback(addr: SocketAddr) -> bool {
    addr.ip().is_loopback()
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
