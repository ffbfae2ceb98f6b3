//! What the `proctor` CLI's test binaries (`integration`, `fleet_cli`) share: one way to run the
//! binary, one way to start `proctor serve` and stop it, one way to read what a run printed.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::process::{Child, ExitStatus, Output};
use std::time::Duration;

/// One rule, `cap.doc.summarize` to `wrk.doc.summarizer`: the hall most tests start.
pub const RULES: &str = r#"{"rules": [{"rule_id": "rr_doc", "match": {"capability_id": "cap.doc.summarize"},
  "decision": {"candidate_workers_ranked": [{"worker_species_id": "wrk.doc.summarizer"}]}}]}"#;

/// The variables from which `proctor` takes a ledger, a hall, its rules or its registry when no
/// flag names them. Every run a test starts clears them, so the hall of whoever runs the tests
/// is never read or written; a test that means one sets it with `.env(..)`, which wins.
const DEFAULTS_FROM_ENV: [&str; 6] = [
    "PROCTOR_DB",
    "PROCTOR_DATA_DIR",
    "PROCTOR_URL",
    "PROCTOR_RULES",
    "PROCTOR_REGISTRY",
    "PROCTOR_FLEET_DATABASE_URL",
];

/// The `proctor` binary, to run to its end.
pub fn proctor() -> Command {
    Command::from_std(proctor_process())
}

/// The `proctor` binary, to spawn and talk to while it runs.
pub fn proctor_process() -> std::process::Command {
    isolated(std::process::Command::new(assert_cmd::cargo::cargo_bin(
        "proctor",
    )))
}

/// The `proctor` binary started by `bash` after `prefix` (a `umask`, a `ulimit`), which then
/// applies to the binary alone.
pub fn proctor_after(prefix: &str) -> std::process::Command {
    let mut sh = std::process::Command::new("bash");
    sh.arg("-c")
        .arg(format!("{prefix}; exec \"$0\" \"$@\""))
        .arg(assert_cmd::cargo::cargo_bin("proctor"));
    isolated(sh)
}

fn isolated(mut cmd: std::process::Command) -> std::process::Command {
    for var in DEFAULTS_FROM_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// `serve --data-dir DIR --listen 127.0.0.1:0` on `cmd`, logging at info to `log`, stdout
/// piped for [`listening_url`].
pub fn serve_on<'c>(
    cmd: &'c mut std::process::Command,
    dir: &Path,
    log: &Path,
) -> &'c mut std::process::Command {
    serve_at(cmd, dir, "127.0.0.1:0", log)
}

/// [`serve_on`] listening at `listen`.
pub fn serve_at<'c>(
    cmd: &'c mut std::process::Command,
    dir: &Path,
    listen: &str,
    log: &Path,
) -> &'c mut std::process::Command {
    cmd.args(["serve", "--data-dir"])
        .arg(dir)
        .args(["--listen", listen])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
}

/// The first line `proctor serve` printed: the URL of `listening on URL`, or the line it
/// printed instead (empty when it exited first).
pub fn listening_url(child: &mut Child) -> Result<String, String> {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .unwrap();
    match line.trim().strip_prefix("listening on ") {
        Some(url) => Ok(url.to_string()),
        None => Err(line),
    }
}

/// A child that is killed and reaped when the test is done with it, even by a panic.
pub struct Running(pub Child);

impl Running {
    /// Sends `sig` (`-TERM`, `-KILL`) with kill(1).
    pub fn signal(&self, sig: &str) {
        let status = std::process::Command::new("kill")
            .args([sig, &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {sig}: {status}");
    }

    /// Its exit status, within 10 s.
    pub fn wait_exit(&mut self) -> ExitStatus {
        wait_exit(&mut self.0)
    }
}

impl Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `proctor serve` on a data dir, its log in `serve.log` there, killed when dropped.
pub struct Hall {
    pub child: Running,
    pub url: String,
    pub token: String,
}

impl Hall {
    /// Starts serving `dir`; a hall that does not start fails the test with its log.
    pub fn start(dir: &Path) -> Hall {
        Hall::start_as(proctor_process(), dir)
    }

    /// [`Hall::start`] through `cmd`: [`proctor_process`] or [`proctor_after`].
    pub fn start_as(mut cmd: std::process::Command, dir: &Path) -> Hall {
        let log = dir.join("serve.log");
        serve_on(&mut cmd, dir, &log);
        let mut child = Running(cmd.spawn().unwrap());
        let url = listening_url(&mut child).unwrap_or_else(|line| {
            panic!(
                "serve did not start: {line:?}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        Hall {
            url,
            token: token(dir),
            child,
        }
    }

    /// SIGTERM, then its exit, which must be a success: a graceful stop.
    pub fn stop(mut self) {
        self.child.signal("-TERM");
        let status = self.child.wait_exit();
        assert!(status.success(), "{status}");
    }
}

/// The exit status of `child`, which must end within 10 s.
pub fn wait_exit(child: &mut Child) -> ExitStatus {
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("proctor did not exit");
}

/// A temp data dir holding [`RULES`] as its rules file.
pub fn init_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.json"), RULES).unwrap();
    dir
}

/// The API token a hall wrote into its data dir.
pub fn token(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("api-token"))
        .unwrap()
        .trim()
        .to_string()
}

/// `proctor ARGS --db DB`, run to its end.
pub fn on_db(db: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    proctor().args(args).arg("--db").arg(db).assert()
}

/// A finished run, checked for its exit code (`assert_cmd`'s own `ok()` does not say why).
pub trait Ran {
    /// Runs to the end; exit 0 or the test fails. What it printed.
    fn passes(&mut self) -> Output;
    /// Runs to the end; exit `code` or the test fails. What it printed.
    fn exits(&mut self, code: i32) -> Output;
}

impl Ran for Command {
    fn passes(&mut self) -> Output {
        self.assert().success().get_output().clone()
    }

    fn exits(&mut self, code: i32) -> Output {
        self.assert().code(code).get_output().clone()
    }
}

pub fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails the test, showing `text`, unless `text` contains `part`.
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "expected {part:?} in:\n{text}");
}

/// The one JSON document a run printed on stdout.
pub fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", stdout_of(out)))
}
