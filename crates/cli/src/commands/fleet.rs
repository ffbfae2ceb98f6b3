//! `proctor fleet verify`: every hall's chains in the fleet's central store re-verified
//! (docs/fleet.md, "Verifying the fleet"): the chain walk is the `fleet` crate's, the signed
//! checkpoints are opened with the hall's own note code against each hall's registered key.

use std::process::ExitCode;

use fleet::verify::{FleetReport, NoteVerifier};
use hall::anchor::{Checkpoint, HallPublicKey};

use crate::exit::{outln, CliError, CliResult};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Re-verify every hall's decision and linked-record chains and signed checkpoints in the
    /// central PostgreSQL.
    #[command(
        after_help = "Exit codes:\n  0  every hall's chains verified\n  1  a chain is broken (the hall and the first bad seq are named)\n  3  a bad --database-url\n  4  the database cannot be reached or read"
    )]
    Verify(Args),
}

#[derive(clap::Args)]
pub struct Args {
    /// The central store: `postgresql://user:password@host:port/dbname`.
    #[arg(long, value_name = "URL", env = "PROCTOR_FLEET_DATABASE_URL")]
    database_url: String,
    /// Print {"halls": [{"hall_id", "records", "head_seq", "ok", "first_bad_seq", "message"}]}.
    #[arg(long)]
    json: bool,
}

/// Signed checkpoints opened by the hall's own code (anchor/note.rs).
struct HallNotes;

impl NoteVerifier for HallNotes {
    fn open(&self, note: &str, verifier_key: &str) -> Result<(i64, String), String> {
        let key = HallPublicKey::parse_verifier_key(verifier_key)
            .map_err(|e| format!("the registered verifier key is unusable: {e}"))?;
        let checkpoint = Checkpoint::open(note, &key).map_err(|e| e.to_string())?;
        Ok((checkpoint.size, checkpoint.hash))
    }
}

pub fn run(command: Command) -> CliResult {
    let Command::Verify(args) = command;
    let config =
        fleet::dsn::parse(&args.database_url).map_err(|e| CliError::bad_input(e.to_string()))?;
    let database = fleet::dsn::redacted(&config);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(format!("cannot start runtime: {e}")))?;
    let report = runtime.block_on(async {
        let client = fleet::dsn::connect(&config)
            .await
            .map_err(|e| CliError::runtime(format!("{database}: {e}")))?;
        fleet::verify::verify_all(&client, &HallNotes)
            .await
            .map_err(|e| CliError::runtime(format!("{database}: {e}")))
    })?;
    print(&report, args.json)?;
    if report.ok() {
        Ok(ExitCode::SUCCESS)
    } else {
        let broken: Vec<String> = report
            .halls
            .iter()
            .filter(|h| !h.ok)
            .map(|h| match h.first_bad_seq {
                Some(seq) => format!("hall {} at seq {seq}: {}", h.hall_id, h.message),
                None => format!("hall {}: {}", h.hall_id, h.message),
            })
            .collect();
        Err(CliError::check_failed(format!(
            "fleet chain broken: {}",
            broken.join("; ")
        )))
    }
}

fn print(report: &FleetReport, json: bool) -> Result<(), CliError> {
    if json {
        outln!("{}", serde_json::to_string(report).expect("serializable"))?;
        return Ok(());
    }
    if report.halls.is_empty() {
        outln!("no halls have shipped to this store")?;
    }
    for hall in &report.halls {
        let verdict = if hall.ok { "ok" } else { "BROKEN" };
        outln!("{verdict:6} {}  {}", hall.hall_id, hall.message)?;
    }
    Ok(())
}
