//! `proctor heartbeat WORKER_ID`: report a worker's heartbeat to a running hall.

use super::client::{print_json, Client, HallArgs};
use crate::exit::CliResult;
use serde_json::json;
use std::process::ExitCode;

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum Status {
    Ok,
    Degraded,
    Offline,
}

#[derive(clap::Args)]
pub struct Args {
    pub worker_id: String,
    /// What the worker reports about itself.
    #[arg(long, value_enum, default_value = "ok")]
    pub status: Status,
    /// Measured latency of the worker, in milliseconds.
    #[arg(long)]
    pub latency_ms: Option<f64>,
    #[command(flatten)]
    pub hall: HallArgs,
}

pub fn run(args: Args) -> CliResult {
    let status = match args.status {
        Status::Ok => "ok",
        Status::Degraded => "degraded",
        Status::Offline => "offline",
    };
    let mut body = json!({"status": status});
    if let Some(l) = args.latency_ms {
        body["latency_ms"] = json!(l);
    }
    let path = format!("/v1/workers/{}/heartbeat", encode_segment(&args.worker_id));
    let reply = Client::from_args(&args.hall)?.post(&path, &body)?;
    if reply.status != 200 {
        return Err(reply.into_error());
    }
    print_json(&reply.body)?;
    Ok(ExitCode::SUCCESS)
}

/// Percent-encode one path segment (ids may contain any character).
pub fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
