//! `proctor approvals ...`: the tool calls a running hall holds for a person (docs/mcp.md):
//! list them, approve or deny one.

use crate::commands::client::{print_json, Client, HallArgs};
use crate::exit::{outln, CliError, CliResult};
use serde_json::{json, Value};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// List the calls waiting for a person (with --all, the recently ended ones too).
    List(ListArgs),
    /// Approve a held call: the hall forwards it and answers the client.
    Approve(VerdictArgs),
    /// Deny a held call: the client gets a tool error with the deny code.
    Deny(VerdictArgs),
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// A JSON array of the hall's approval objects instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also the approvals that ended (approved, denied, expired, cancelled), newest first.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub hall: HallArgs,
}

#[derive(clap::Args)]
pub struct VerdictArgs {
    /// The approval's id (from `proctor approvals list`).
    pub id: String,
    /// Why: kept with the verdict in the ledger.
    #[arg(long)]
    pub note: Option<String>,
    /// Who decides (default: $USER@<host> (cli)).
    #[arg(long)]
    pub by: Option<String>,
    #[command(flatten)]
    pub hall: HallArgs,
}

pub fn run(cmd: Command) -> CliResult {
    match cmd {
        Command::List(args) => list(args),
        Command::Approve(args) => verdict(args, "approve"),
        Command::Deny(args) => verdict(args, "deny"),
    }
}

fn list(args: ListArgs) -> CliResult {
    let client = Client::from_args(&args.hall)?;
    // Pending is the hall's default.
    let path = if args.all {
        "/v1/approvals?state=all"
    } else {
        "/v1/approvals"
    };
    let reply = client.get(path)?;
    if reply.status != 200 {
        return Err(reply.into_error());
    }
    let approvals = match reply.body.get("approvals") {
        Some(Value::Array(list)) => list.clone(),
        _ => {
            return Err(CliError::runtime(format!(
                "the hall at {} answered without an \"approvals\" list",
                client.base()
            )))
        }
    };
    if args.json {
        print_json(&Value::Array(approvals))?;
    } else {
        print_table(&approvals, args.all)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(approvals: &[Value], all: bool) -> Result<(), CliError> {
    if approvals.is_empty() {
        return outln!(
            "{}",
            if all {
                "no approvals"
            } else {
                "no calls are waiting for approval"
            }
        );
    }
    let now = chrono::Utc::now();
    let text = |a: &Value, key: &str| a[key].as_str().unwrap_or("").to_string();
    let mut rows = vec![[
        "ID".to_string(),
        "STATE".into(),
        "WAITING".into(),
        "EXPIRES IN".into(),
        "TOOL".into(),
        "CAPABILITY".into(),
        "WORKER".into(),
        "CODE".into(),
        "CLIENT".into(),
    ]];
    for a in approvals {
        let at = |key: &str| {
            a[key]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
        };
        let pending = a["state"] == "pending";
        let waiting = at("requested_at").map_or(String::new(), |t| seconds(now - t));
        let expires = match (pending, at("expires_at")) {
            (true, Some(t)) => seconds(t - now),
            _ => "-".into(),
        };
        rows.push([
            text(a, "id"),
            text(a, "state"),
            if pending { waiting } else { "-".into() },
            expires,
            text(a, "tool"),
            text(a, "capability_id"),
            text(a, "worker_id"),
            text(a, "deny_code"),
            text(a, "client"),
        ]);
    }
    let columns = 9;
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let line: Vec<String> = (0..columns)
            .filter(|c| all || *c != 1)
            .map(|c| format!("{:<w$}", row[c], w = widths[c]))
            .collect();
        outln!("{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

fn seconds(d: chrono::TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn verdict(args: VerdictArgs, verdict: &str) -> CliResult {
    let client = Client::from_args(&args.hall)?;
    let id = args.id.trim();
    if id.is_empty() || id.contains(['/', '?', '#']) {
        return Err(CliError::usage(format!(
            "{:?} is not an approval id",
            args.id
        )));
    }
    let mut body = json!({"verdict": verdict, "by": args.by.unwrap_or_else(who)});
    if let Some(note) = args.note {
        body["note"] = json!(note);
    }
    let reply = client.post(&format!("/v1/approvals/{id}"), &body)?;
    match reply.status {
        200 => {
            print_json(&reply.body)?;
            Ok(ExitCode::SUCCESS)
        }
        404 => Err(CliError::bad_input(format!(
            "no approval {id} in the hall at {} (see `proctor approvals list --all`)",
            client.base()
        ))),
        409 => {
            let detail = reply.body["error"]["message"].as_str().unwrap_or("");
            let detail = detail.strip_prefix("conflict: ").unwrap_or(detail);
            Err(CliError::bad_input(format!(
                "{}; the {verdict} was not recorded",
                if detail.is_empty() {
                    format!("approval {id} has already ended")
                } else {
                    detail.to_string()
                }
            )))
        }
        _ => Err(reply.into_error()),
    }
}

/// `$USER@<host> (cli)`: who gave a verdict from this command line.
fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host} (cli)")
}
