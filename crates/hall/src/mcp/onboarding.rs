//! Onboarding from the UI: the MCP servers this user's clients (Claude Desktop, Cursor, VS Code)
//! already run, planned as workers of this hall ([`super::import`]), and put behind it on request.

use super::import::{self, Applied, ClientFile, Plan, Target};
use crate::error::HallError;
use crate::hall::Hall;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `POST /v1/mcp/import`: which client entries to put behind the hall.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    pub servers: Vec<ImportChoice>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportChoice {
    /// The client file, as the plan names it.
    pub path: PathBuf,
    /// The server's entry name in that file.
    pub name: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ImportResult {
    pub plan: Plan,
    pub applied: Applied,
}

/// The `proctor` command clients will launch: the one installed beside the running program (the
/// desktop app's package ships it), else the one on `PATH`.
fn proctor_command() -> PathBuf {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("proctor")));
    match beside {
        Some(path) if path.is_file() => path,
        _ => std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join("proctor"))
            .find(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("/usr/bin/proctor")),
    }
}

fn target(hall: &Hall) -> Result<Target, HallError> {
    Target::for_data_dir(&hall.config().data_dir, proctor_command())
        .map_err(|e| HallError::Config(e.to_string()))
}

fn discovered() -> Vec<ClientFile> {
    import::Locations::from_env()
        .map(|l| import::discover(&l, None))
        .unwrap_or_default()
}

impl Hall {
    /// `GET /v1/mcp/import`: what importing every server found would do (nothing is written).
    pub async fn import_plan(&self) -> Result<Plan, HallError> {
        let target = target(self)?;
        tokio::task::spawn_blocking(move || import::plan(&discovered(), &target))
            .await
            .map_err(|e| HallError::Config(format!("import task failed: {e}")))
    }

    /// `POST /v1/mcp/import`: import the chosen entries (records, rules, client files rewritten
    /// with a backup). The registry and rules reload as after any edit.
    pub async fn import_apply(&self, request: ImportRequest) -> Result<ImportResult, HallError> {
        if request.servers.is_empty() {
            return Err(HallError::InvalidSettings(
                "servers: choose at least one".into(),
            ));
        }
        let target = target(self)?;
        tokio::task::spawn_blocking(move || {
            let files = discovered();
            for choice in &request.servers {
                if !files.iter().any(|f| f.path == choice.path) {
                    return Err(HallError::NotFound(format!(
                        "{} is not a client configuration this hall found",
                        choice.path.display()
                    )));
                }
            }
            let chosen = |f: &ClientFile, name: &str| {
                request
                    .servers
                    .iter()
                    .any(|c| c.path == f.path && c.name == name)
            };
            let mut plan = import::plan_selected(&files, &target, &chosen);
            if let Some((path, error)) = plan.errors().next() {
                return Err(HallError::InvalidRecord(format!(
                    "{}: {error}",
                    path.display()
                )));
            }
            let applied = import::apply(&mut plan).map_err(|e| match e {
                import::ImportError::Changed { .. } => HallError::Conflict(e.to_string()),
                other => HallError::Config(other.to_string()),
            })?;
            Ok(ImportResult { plan, applied })
        })
        .await
        .map_err(|e| HallError::Config(format!("import task failed: {e}")))?
    }
}
