//! `proctor mcp import [FILE]`: onboarding from the command line, over `hall::mcp::import`
//! (discover, plan, apply). Prints the plan, asks before writing (unless `--yes`, or when stdin
//! is not a terminal, where it refuses without `--yes`), then writes.

use crate::exit::{outln, CliError, CliResult};
use hall::mcp::import::{self, Client, ClientFile, Plan, RecordStatus, ServerStatus, Target};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ClientArg {
    /// Claude Desktop (claude_desktop_config.json).
    Claude,
    /// Cursor (~/.cursor/mcp.json).
    Cursor,
    /// VS Code (the user's mcp.json and settings.json).
    Vscode,
}

impl ClientArg {
    fn client(self) -> Client {
        match self {
            ClientArg::Claude => Client::Claude,
            ClientArg::Cursor => Client::Cursor,
            ClientArg::Vscode => Client::Vscode,
        }
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// A client configuration file to import from (default: Claude Desktop's, Cursor's and VS
    /// Code's, where they are found).
    pub file: Option<PathBuf>,
    /// The hall's data dir (default: the per-OS user data dir).
    #[arg(long, env = "PROCTOR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Only this client's configuration (with FILE: whose file it is).
    #[arg(long, value_enum)]
    pub client: Option<ClientArg>,
    /// Only the server entry of this name (repeat for more; default: every one).
    #[arg(long = "server", value_name = "NAME")]
    pub servers: Vec<String>,
    /// Print the plan and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write without asking.
    #[arg(long)]
    pub yes: bool,
    /// Print the plan (and what was written) as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> CliResult {
    let data_dir = super::common::data_dir_or_default(args.data_dir.as_deref())?;
    let proctor = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| {
            CliError::runtime(format!("cannot find the proctor binary's own path: {e}"))
        })?;
    let target = Target::for_data_dir(&data_dir, proctor).map_err(import_error)?;
    let only = args.client.map(ClientArg::client);
    let files = match &args.file {
        Some(file) => {
            if !file.is_file() {
                return Err(CliError::bad_input(format!(
                    "{}: no such file",
                    file.display()
                )));
            }
            let file = std::path::absolute(file).map_err(CliError::io)?;
            vec![ClientFile::given(file, only)]
        }
        None => {
            let locations = import::Locations::from_env().ok_or_else(|| {
                CliError::usage("no home directory on this system: name the client file to import")
            })?;
            let found = import::discover(&locations, only);
            if found.is_empty() {
                let looked: Vec<String> = locations
                    .candidates(only)
                    .iter()
                    .map(|f| f.path.display().to_string())
                    .collect();
                return Err(CliError::bad_input(format!(
                    "no MCP client configuration found (looked at {}); name the file: proctor mcp import FILE",
                    looked.join(", ")
                )));
            }
            found
        }
    };
    let mut plan = if args.servers.is_empty() {
        import::plan(&files, &target)
    } else {
        import::plan_selected(&files, &target, &|_, name| {
            args.servers.iter().any(|s| s == name)
        })
    };
    if !args.servers.is_empty() {
        let known: Vec<&str> = plan
            .files
            .iter()
            .flat_map(|f| &f.servers)
            .map(|s| s.name.as_str())
            .collect();
        if let Some(missing) = args.servers.iter().find(|s| !known.contains(&s.as_str())) {
            return Err(CliError::usage(format!(
                "--server {missing}: no such entry (found: {})",
                known.join(", ")
            )));
        }
    }
    let errors: Vec<String> = plan
        .errors()
        .map(|(p, e)| format!("{}: {e}", p.display()))
        .collect();
    // A file the user named must be right before anything is written.
    if args.file.is_some() && !errors.is_empty() {
        return Err(CliError::bad_input(errors.join("; ")));
    }
    if args.json && (args.dry_run || !plan.has_changes()) {
        crate::commands::client::print_json(
            &serde_json::to_value(&plan).expect("plan serializes"),
        )?;
    } else if !args.json {
        print_plan(&plan)?;
    }
    let failed = || -> CliResult {
        if errors.is_empty() {
            Ok(ExitCode::SUCCESS)
        } else {
            Err(CliError::bad_input(errors.join("; ")))
        }
    };
    if !plan.has_changes() {
        if !args.json {
            outln!("nothing to do: every server found already goes through the hall")?;
        }
        return failed();
    }
    if args.dry_run {
        if !args.json {
            outln!("dry run: nothing written")?;
        }
        return failed();
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::usage(
                "not writing without confirmation: run again with --yes (or --dry-run to only see the plan)",
            ));
        }
        eprint!("Write these changes? [y/N] ");
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(CliError::io)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES") {
            eprintln!("nothing written");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let applied = import::apply(&mut plan).map_err(import_error)?;
    if args.json {
        crate::commands::client::print_json(
            &serde_json::json!({"plan": plan, "applied": applied}),
        )?;
    } else {
        for path in &applied.initialized {
            outln!("created {}", path.display())?;
        }
        for path in &applied.records_written {
            outln!("wrote {}", path.display())?;
        }
        if !applied.rules_added.is_empty() {
            outln!(
                "added rule(s) {} to {}",
                applied.rules_added.join(", "),
                plan.target.rules_file.display()
            )?;
        }
        for (file, backup) in &applied.backups {
            outln!("rewrote {} (backup: {})", file.display(), backup.display())?;
        }
        outln!(
            "done: restart the client(s) so they launch `proctor mcp`; the hall (`proctor serve --data-dir {}` or the desktop app) must be running",
            plan.target.data_dir.display()
        )?;
    }
    failed()
}

fn import_error(e: import::ImportError) -> CliError {
    match e {
        import::ImportError::Io { .. } | import::ImportError::Hall(_) => {
            CliError::runtime(e.to_string())
        }
        import::ImportError::Usage(_) => CliError::usage(e.to_string()),
        import::ImportError::BadFile { .. } | import::ImportError::Changed { .. } => {
            CliError::bad_input(e.to_string())
        }
    }
}

fn print_plan(plan: &Plan) -> Result<(), CliError> {
    outln!("hall data dir: {}", plan.target.data_dir.display())?;
    for file in &plan.files {
        let client = file.client.map_or("client file", |c| c.label());
        outln!("\n{client}: {}", file.path.display())?;
        if let Some(e) = &file.error {
            outln!("  error: {e}")?;
            continue;
        }
        if file.servers.is_empty() {
            outln!("  no MCP servers")?;
        }
        for s in &file.servers {
            match s.status {
                ServerStatus::Import => {
                    let worker = s.worker_id.as_deref().unwrap_or("?");
                    let record = match s.record_status {
                        Some(RecordStatus::Exists) => format!(
                            "record exists, kept: {}",
                            s.record_path
                                .as_ref()
                                .map_or(String::new(), |p| p.display().to_string())
                        ),
                        _ => format!(
                            "new record {}",
                            s.record_path
                                .as_ref()
                                .map_or(String::new(), |p| p.display().to_string())
                        ),
                    };
                    outln!(
                        "  {}: import as {worker} ({}, capability {}); {record}",
                        s.name,
                        s.transport.as_deref().unwrap_or("?"),
                        s.capability_id.as_deref().unwrap_or("?"),
                    )?;
                    if s.record_status == Some(RecordStatus::New) {
                        outln!(
                            "    every tool is offered under {}: review mcp.tools in the record to narrow it",
                            s.capability_id.as_deref().unwrap_or("?")
                        )?;
                    }
                }
                ServerStatus::AlreadyProctor => {
                    outln!(
                        "  {}: {}",
                        s.name,
                        s.reason.as_deref().unwrap_or("already through the hall")
                    )?;
                }
                ServerStatus::Skipped => {
                    outln!(
                        "  {}: skipped: {}",
                        s.name,
                        s.reason.as_deref().unwrap_or("")
                    )?;
                }
            }
        }
        if let Some(r) = &file.rewrite {
            let launch = format!(
                "`{} mcp --data-dir {}`",
                plan.target.proctor_command.display(),
                plan.target.data_dir.display()
            );
            if r.entry_added {
                outln!(
                    "  rewrite (after a backup): {} replaced by the entry {:?} launching {launch}",
                    r.removed.join(", "),
                    r.entry_name
                )?;
            } else {
                outln!(
                    "  rewrite (after a backup): {} removed; the client's entry {:?} launching {launch} serves them",
                    r.removed.join(", "),
                    r.entry_name
                )?;
            }
        }
        for w in &file.warnings {
            outln!("  warning: {w}")?;
        }
    }
    if !plan.rules.is_empty() {
        outln!("\nrules: {}", plan.target.rules_file.display())?;
        for r in &plan.rules {
            if r.add {
                outln!(
                    "  add rule {}: {} -> {}",
                    r.rule_id,
                    r.capability_id,
                    r.worker_species_id
                )?;
            } else {
                outln!(
                    "  {} is already routed by rule {}",
                    r.capability_id,
                    r.rule_id
                )?;
            }
        }
    }
    if !plan.env_needed.is_empty() {
        outln!("\nthe hall's environment must now provide (the records refer to them as $NAME):")?;
        for e in &plan.env_needed {
            outln!("  {} for {} {}: {}", e.name, e.worker_id, e.field, e.note)?;
        }
    }
    Ok(())
}
