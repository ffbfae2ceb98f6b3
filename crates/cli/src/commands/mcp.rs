//! `proctor mcp`: the MCP face of a hall on the command line (docs/mcp.md, "Command line").
//!
//! - `proctor mcp [flags]`: an MCP server on stdio that forwards to the hall owning the data dir
//!   (`mcp_bridge`), for clients that launch their tools (Claude Desktop, Cursor, VS Code).
//! - `proctor mcp tools`: what a client sees: the offered tools, their capability and server.
//! - `proctor mcp import [FILE]`: put the MCP servers a client already has behind the hall
//!   (`mcp_import`, over `hall::mcp::import`).

use crate::commands::client::{print_json, Client, HallArgs};
use crate::exit::{outln, CliError, CliResult};
use serde_json::Value;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub bridge: BridgeArgs,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// List the tools a client of the hall sees, with their capability and MCP server.
    Tools(ToolsArgs),
    /// Put the MCP servers configured in Claude Desktop, Cursor or VS Code (or FILE) behind the
    /// hall: a worker record and routing rule each, and the client's entry rewritten (after a
    /// backup) to launch `proctor mcp`.
    Import(crate::commands::mcp_import::Args),
}

/// `proctor mcp`'s own flags: where the hall is, and the routing conditions of this session
/// (default: `[mcp]` in the hall's config.toml).
#[derive(clap::Args, Clone)]
pub struct BridgeArgs {
    #[command(flatten)]
    pub hall: HallArgs,
    /// Tenant id the calls are routed for.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Environment the calls are routed in.
    #[arg(long, value_enum, ignore_case = true)]
    pub env: Option<EnvArg>,
    /// Label of the data the calls carry.
    #[arg(long, value_enum, ignore_case = true)]
    pub data_label: Option<DataLabelArg>,
    /// Risk tier of the tenant.
    #[arg(long, value_enum, ignore_case = true)]
    pub tenant_risk: Option<TenantRiskArg>,
    /// Quality-of-service class.
    #[arg(long, value_enum, ignore_case = true)]
    pub qos: Option<QosArg>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum EnvArg {
    Dev,
    Stage,
    Prod,
    Edge,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DataLabelArg {
    #[value(name = "PUBLIC")]
    Public,
    #[value(name = "INTERNAL")]
    Internal,
    #[value(name = "RESTRICTED")]
    Restricted,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum TenantRiskArg {
    Low,
    Medium,
    High,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum QosArg {
    #[value(name = "P0")]
    P0,
    #[value(name = "P1")]
    P1,
    #[value(name = "P2")]
    P2,
    #[value(name = "P3")]
    P3,
}

impl EnvArg {
    pub fn wire(self) -> wcp::Env {
        match self {
            EnvArg::Dev => wcp::Env::Dev,
            EnvArg::Stage => wcp::Env::Stage,
            EnvArg::Prod => wcp::Env::Prod,
            EnvArg::Edge => wcp::Env::Edge,
        }
    }
}

impl DataLabelArg {
    pub fn wire(self) -> wcp::DataLabel {
        match self {
            DataLabelArg::Public => wcp::DataLabel::Public,
            DataLabelArg::Internal => wcp::DataLabel::Internal,
            DataLabelArg::Restricted => wcp::DataLabel::Restricted,
        }
    }
}

impl TenantRiskArg {
    pub fn wire(self) -> wcp::TenantRisk {
        match self {
            TenantRiskArg::Low => wcp::TenantRisk::Low,
            TenantRiskArg::Medium => wcp::TenantRisk::Medium,
            TenantRiskArg::High => wcp::TenantRisk::High,
        }
    }
}

impl QosArg {
    pub fn wire(self) -> wcp::QosClass {
        match self {
            QosArg::P0 => wcp::QosClass::P0,
            QosArg::P1 => wcp::QosClass::P1,
            QosArg::P2 => wcp::QosClass::P2,
            QosArg::P3 => wcp::QosClass::P3,
        }
    }
}

#[derive(clap::Args)]
pub struct ToolsArgs {
    /// A JSON array of `{name, capability_id, worker_id, description}` instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub hall: HallArgs,
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        None => crate::commands::mcp_bridge::run(args.bridge),
        Some(Command::Tools(a)) => tools(a),
        Some(Command::Import(a)) => crate::commands::mcp_import::run(a),
    }
}

/// `proctor mcp tools`: the tools as `GET /v1/mcp` lists them, less the shadowed ones (a name
/// two servers offer is offered by the first). Servers that have not started yet are started
/// first by listing the tools over `/mcp`, as a client's first `tools/list` does.
fn tools(args: ToolsArgs) -> CliResult {
    let client = Client::from_args(&args.hall)?;
    let mut view = get_view(&client)?;
    let idle = servers(&view).any(|s| s["status"]["state"] == "idle");
    if idle {
        let endpoint = view["endpoint"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}/mcp", client.base()));
        let located = crate::commands::client::locate(&args.hall)?;
        if let Err(e) = crate::commands::mcp_bridge::list_once(&endpoint, &located.token) {
            eprintln!("proctor: warning: could not start the idle MCP servers: {e}");
        }
        view = get_view(&client)?;
    }
    let shadowed: Vec<(String, String, String)> = view["shadowed"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["tool"].as_str().unwrap_or("").to_string(),
                s["worker_id"].as_str().unwrap_or("").to_string(),
                s["offered_by"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut offered = Vec::new();
    for server in servers(&view) {
        let worker = server["worker_id"].as_str().unwrap_or("");
        for tool in server["tools"].as_array().into_iter().flatten() {
            let name = tool["name"].as_str().unwrap_or("");
            if shadowed.iter().any(|(t, w, _)| t == name && w == worker) {
                continue;
            }
            offered.push(serde_json::json!({
                "name": name,
                "capability_id": tool["capability_id"],
                "worker_id": worker,
                "description": tool["description"],
            }));
        }
    }
    offered.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    if args.json {
        print_json(&Value::Array(offered))?;
        return Ok(ExitCode::SUCCESS);
    }
    if offered.is_empty() {
        outln!("no tools are offered")?;
    } else {
        let width = |key: &str| {
            offered
                .iter()
                .map(|t| t[key].as_str().unwrap_or("").chars().count())
                .max()
                .unwrap_or(0)
                .max(key.len())
        };
        let (wn, wc, ww) = (width("name"), width("capability_id"), width("worker_id"));
        outln!(
            "{:<wn$}  {:<wc$}  {:<ww$}  DESCRIPTION",
            "TOOL",
            "CAPABILITY",
            "SERVER"
        )?;
        for t in &offered {
            let description: String = t["description"]
                .as_str()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(80)
                .collect();
            outln!(
                "{:<wn$}  {:<wc$}  {:<ww$}  {}",
                t["name"].as_str().unwrap_or(""),
                t["capability_id"].as_str().unwrap_or(""),
                t["worker_id"].as_str().unwrap_or(""),
                description
            )?;
        }
    }
    for (tool, worker, by) in &shadowed {
        outln!("shadowed: {tool} of {worker} (the one of {by} is offered)")?;
    }
    for server in servers(&view) {
        let worker = server["worker_id"].as_str().unwrap_or("");
        let unmapped: Vec<&str> = server["unmapped_tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if !unmapped.is_empty() {
            outln!(
                "not offered (no capability in the record's mcp.tools): {worker}: {}",
                unmapped.join(", ")
            )?;
        }
        let state = server["status"]["state"].as_str().unwrap_or("?");
        if state != "ready" {
            let error = server["status"]["error"]
                .as_str()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            outln!("server {worker} is {state}{error}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn get_view(client: &Client) -> Result<Value, CliError> {
    let reply = client.get("/v1/mcp")?;
    if reply.status != 200 {
        return Err(reply.into_error());
    }
    Ok(reply.body)
}

fn servers(view: &Value) -> impl Iterator<Item = &Value> {
    view["servers"].as_array().into_iter().flatten()
}
