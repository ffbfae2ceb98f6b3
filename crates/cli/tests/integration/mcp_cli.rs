//! The MCP command line as real processes: `proctor mcp import` on each client's file shape,
//! `proctor approvals` and `proctor mcp tools` against a real `proctor serve`, `proctor mcp` (the
//! stdio bridge) with no hall and with one, and the whole path: import a client's server, serve
//! it, call its tool through the bridge, hold a call for a person and approve it.

use crate::support::{
    assert_contains, json_of, proctor, proctor_process, serve_on, stderr_of, stdout_of, Ran,
    Running,
};
use assert_cmd::Command;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// Every wait in these tests ends by then.
const DEADLINE: Duration = Duration::from_secs(60);

fn proctor_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("proctor")
        .canonicalize()
        .unwrap()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A token file as the hall writes one: `text`, readable by its owner only.
fn write_token(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// The files of a directory tree with their bytes, to check that a run wrote nothing.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".proctor-backup-"))
        .collect();
    out.sort();
    out
}

/// The records of a registry dir: each valid as the hall validates records.
fn records(data_dir: &Path) -> Vec<Value> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(data_dir.join("registry"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let record = read_json(p);
            hall::live::validate_record(&record)
                .unwrap_or_else(|e| panic!("{}: invalid record: {e}", p.display()));
            assert_eq!(
                p.file_name().unwrap().to_string_lossy(),
                format!("{}.json", record["worker_id"].as_str().unwrap())
            );
            record
        })
        .collect()
}

/// The data dir's rules: valid, without shadowed rules, and routing each capability to
/// its species.
fn check_rules(data_dir: &Path, routes: &[(&str, &str)]) -> Value {
    let doc = read_json(&data_dir.join("rules.json"));
    let rules = wcp::RuleSet::from_json(&doc).expect("valid rules");
    assert!(
        rules.shadow_warnings().is_empty(),
        "{:?}",
        rules.shadow_warnings()
    );
    for (cap, species) in routes {
        let rule = doc["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["match"]["capability_id"] == *cap)
            .unwrap_or_else(|| panic!("no rule for {cap}: {doc}"));
        assert_eq!(
            rule["decision"]["candidate_workers_ranked"][0]["worker_species_id"],
            *species
        );
    }
    doc
}

fn import(file: Option<&Path>, data_dir: &Path) -> Command {
    let mut cmd = proctor();
    cmd.args(["mcp", "import"]);
    if let Some(f) = file {
        cmd.arg(f);
    }
    cmd.arg("--data-dir").arg(data_dir);
    cmd
}

#[test]
fn import_a_claude_desktop_file_then_again_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("Claude/claude_desktop_config.json");
    let original = r#"{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/docs"]},
    "GitHub": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
               "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_000111222333444555666777888999aaabbb", "LOG_LEVEL": "debug"}},
    "remote": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer sekrit-bearer-value"}}
  },
  "zzz": [1, 2, 3]
}
"#;
    write(&file, original);
    let data = tmp.path().join("hall");

    // A dry run prints the plan and writes nothing.
    let before = snapshot(tmp.path());
    let out = import(Some(&file), &data).arg("--dry-run").passes();
    assert_contains(&stdout_of(&out), "import as mcp.github");
    assert!(stdout_of(&out).contains("dry run: nothing written"));
    assert_eq!(snapshot(tmp.path()), before, "a dry run wrote something");
    // Without --yes and no terminal to ask on: refused, nothing written.
    let out = import(Some(&file), &data).exits(2);
    assert_contains(&stderr_of(&out), "--yes");
    assert_eq!(snapshot(tmp.path()), before);

    let out = import(Some(&file), &data).arg("--yes").passes();
    let text = stdout_of(&out);
    // The user is told which variables the hall's environment must now provide.
    assert!(text.contains("GITHUB_PERSONAL_ACCESS_TOKEN"), "{text}");
    assert!(text.contains("REMOTE_AUTHORIZATION"), "{text}");
    assert!(
        !text.contains("ghp_000111") && !text.contains("sekrit"),
        "a secret was printed: {text}"
    );

    // The backup is the original, byte for byte.
    let b = backups(file.parent().unwrap());
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(std::fs::read_to_string(&b[0]).unwrap(), original);
    // The entries are replaced by one that launches `proctor mcp` for this data dir; the other
    // keys are untouched, in their order.
    let doc = read_json(&file);
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["globalShortcut", "mcpServers", "zzz"]);
    assert_eq!(doc["globalShortcut"], "Ctrl+Space");
    assert_eq!(doc["zzz"], json!([1, 2, 3]));
    let data = data.canonicalize().unwrap();
    assert_eq!(
        doc["mcpServers"],
        json!({"proctor": {"command": proctor_path().to_string_lossy(),
                           "args": ["mcp", "--data-dir", data.to_string_lossy()]}})
    );
    // Records: valid, every tool mapped to the server's capability for review, secrets as
    // references.
    let recs = records(&data);
    let ids: Vec<&str> = recs
        .iter()
        .map(|r| r["worker_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["mcp.filesystem", "mcp.github", "mcp.remote"]);
    let github = &recs[1];
    assert_eq!(github["worker_species_id"], "wrk.mcp.github");
    assert_eq!(github["capabilities"], json!(["cap.mcp.github"]));
    assert_eq!(github["mcp"]["command"], "npx");
    assert_eq!(github["mcp"]["tools"], json!({"*": "cap.mcp.github"}));
    assert_eq!(
        github["mcp"]["env"],
        json!({"GITHUB_PERSONAL_ACCESS_TOKEN": "$GITHUB_PERSONAL_ACCESS_TOKEN", "LOG_LEVEL": "debug"})
    );
    assert_eq!(
        recs[2]["mcp"],
        json!({"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "$REMOTE_AUTHORIZATION"},
               "tools": {"*": "cap.mcp.remote"}})
    );
    for (path, bytes) in snapshot(&data) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("ghp_000111") && !text.contains("sekrit"),
            "{} holds a secret",
            path.display()
        );
    }
    check_rules(
        &data,
        &[
            ("cap.mcp.filesystem", "wrk.mcp.filesystem"),
            ("cap.mcp.github", "wrk.mcp.github"),
            ("cap.mcp.remote", "wrk.mcp.remote"),
        ],
    );

    // Again: nothing to do, nothing written, no new backup.
    let before = snapshot(tmp.path());
    let out = import(Some(&file), &data).arg("--yes").passes();
    assert_contains(&stdout_of(&out), "nothing to do");
    assert_eq!(
        snapshot(tmp.path()),
        before,
        "the second run changed something"
    );
}

#[test]
fn import_finds_cursor_and_vscode_files_in_their_places() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let config = home.join(".config");
    let cursor = home.join(".cursor/mcp.json");
    write(
        &cursor,
        r#"{"mcpServers": {"notes": {"command": "/usr/bin/notes-mcp", "args": ["--stdio"], "env": {"NOTES_API_KEY": "abc"}}}}"#,
    );
    let vscode_mcp = config.join("Code/User/mcp.json");
    write(
        &vscode_mcp,
        r#"{"inputs": [{"id": "tok", "type": "promptString", "password": true}],
            "servers": {"db": {"type": "stdio", "command": "/usr/bin/db-mcp", "env": {"DB_TOKEN": "${input:tok}", "HOME_DIR": "${env:HOME}"}},
                        "legacy": {"type": "sse", "url": "https://example.com/sse"}}}"#,
    );
    let settings = config.join("Code/User/settings.json");
    let settings_text = "{\n    // the user's settings\n    \"editor.fontSize\": 13,\n    \"mcp\": {\n        \"servers\": {\n            \"search\": {\"type\": \"http\", \"url\": \"http://127.0.0.1:9/mcp\"},\n        },\n    },\n}\n";
    write(&settings, settings_text);
    let data = tmp.path().join("hall");
    let run = |client: &str| {
        let mut cmd = import(None, &data);
        cmd.args(["--client", client, "--yes"])
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", &config);
        cmd.passes()
    };

    // Cursor only: the VS Code files are not touched.
    let vscode_before = (
        std::fs::read(&vscode_mcp).unwrap(),
        std::fs::read(&settings).unwrap(),
    );
    let out = run("cursor");
    assert_contains(&stdout_of(&out), "Cursor");
    let doc = read_json(&cursor);
    assert_eq!(doc["mcpServers"]["proctor"]["args"][0], "mcp");
    assert!(doc["mcpServers"].get("notes").is_none());
    assert_eq!(backups(cursor.parent().unwrap()).len(), 1);
    assert_eq!(
        (
            std::fs::read(&vscode_mcp).unwrap(),
            std::fs::read(&settings).unwrap()
        ),
        vscode_before
    );
    let notes = read_json(&data.join("registry/mcp.notes.json"));
    assert_eq!(notes["mcp"]["env"]["NOTES_API_KEY"], "$NOTES_API_KEY");

    // VS Code: both files; the entry keeps VS Code's shape; an SSE server stays as it was.
    let out = run("vscode");
    let text = stdout_of(&out);
    assert!(text.contains("legacy: skipped"), "{text}");
    assert!(
        text.contains("comments"),
        "the dropped comments are said: {text}"
    );
    let doc = read_json(&vscode_mcp);
    assert_eq!(doc["inputs"][0]["id"], "tok");
    let servers: Vec<&String> = doc["servers"].as_object().unwrap().keys().collect();
    assert_eq!(servers, ["proctor", "legacy"]);
    assert_eq!(doc["servers"]["proctor"]["type"], "stdio");
    assert_eq!(
        doc["servers"]["proctor"]["command"],
        proctor_path().to_string_lossy().as_ref()
    );
    // VS Code reads both files: one proctor entry (in mcp.json), the other file's server moved.
    let doc = read_json(&settings);
    assert_eq!(doc["editor.fontSize"], 13);
    assert_eq!(doc["mcp"]["servers"], json!({}));
    let backup = backups(settings.parent().unwrap())
        .into_iter()
        .find(|b| b.to_string_lossy().contains("settings.json"))
        .expect("a backup of settings.json");
    assert_eq!(std::fs::read_to_string(backup).unwrap(), settings_text);
    let db = read_json(&data.join("registry/mcp.db.json"));
    assert_eq!(
        db["mcp"]["env"],
        json!({"DB_TOKEN": "$TOK", "HOME_DIR": "$HOME"})
    );
    let search = read_json(&data.join("registry/mcp.search.json"));
    assert_eq!(search["mcp"]["url"], "http://127.0.0.1:9/mcp");
    records(&data);
    check_rules(
        &data,
        &[
            ("cap.mcp.notes", "wrk.mcp.notes"),
            ("cap.mcp.db", "wrk.mcp.db"),
            ("cap.mcp.search", "wrk.mcp.search"),
        ],
    );

    // Everything again: nothing changes.
    let before = snapshot(tmp.path());
    let mut cmd = import(None, &data);
    let out = cmd
        .arg("--yes")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", &config)
        .passes();
    assert_contains(&stdout_of(&out), "nothing to do");
    assert_eq!(snapshot(tmp.path()), before);
}

#[test]
fn import_some_servers_now_and_the_rest_later() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join(".cursor/mcp.json");
    write(
        &file,
        r#"{"mcpServers": {"a": {"command": "/bin/a-mcp"}, "b": {"command": "/bin/b-mcp", "args": ["-v"]}}}"#,
    );
    let data = tmp.path().join("hall");
    let out = import(Some(&file), &data)
        .args(["--server", "nope", "--yes"])
        .exits(2);
    assert_contains(
        &stderr_of(&out),
        "--server nope: no such entry (found: a, b)",
    );
    assert!(!data.exists());

    import(Some(&file), &data)
        .args(["--server", "b", "--yes"])
        .assert()
        .success();
    let doc = read_json(&file);
    let keys: Vec<&String> = doc["mcpServers"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["a", "proctor"],
        "b's place is taken by the proctor entry"
    );
    let ids: Vec<String> = records(&data)
        .iter()
        .map(|r| r["worker_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["mcp.b"]);

    // The rest later: the proctor entry is there already; a is only removed.
    import(Some(&file), &data).arg("--yes").assert().success();
    let doc = read_json(&file);
    let keys: Vec<&String> = doc["mcpServers"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["proctor"]);
    let ids: Vec<String> = records(&data)
        .iter()
        .map(|r| r["worker_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["mcp.a", "mcp.b"]);
    check_rules(
        &data,
        &[("cap.mcp.a", "wrk.mcp.a"), ("cap.mcp.b", "wrk.mcp.b")],
    );
    assert_eq!(backups(file.parent().unwrap()).len(), 2);
}

#[test]
fn a_malformed_or_foreign_client_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hall");
    let bad = tmp.path().join("claude_desktop_config.json");
    write(&bad, "{\"mcpServers\": {\"a\": {\"command\": \"x\"}");
    let out = import(Some(&bad), &data).arg("--yes").exits(3);
    let err = stderr_of(&out);
    assert!(err.contains(&bad.display().to_string()), "{err}");
    assert!(err.contains("not valid JSON"), "{err}");
    let foreign = tmp.path().join("package.json");
    write(
        &foreign,
        r#"{"name": "x", "version": "1.0.0", "dependencies": {}}"#,
    );
    let out = import(Some(&foreign), &data).arg("--yes").exits(3);
    assert_contains(&stderr_of(&out), "no MCP servers here");
    // A servers list that is not an object.
    write(&bad, r#"{"mcpServers": ["a"]}"#);
    let out = import(Some(&bad), &data).arg("--yes").exits(3);
    assert_contains(&stderr_of(&out), "\"mcpServers\" must be an object");
    assert!(!data.exists(), "nothing was written for a bad file");
    // A client flag that is not one of the three.
    import(Some(&bad), &data)
        .args(["--client", "emacs"])
        .assert()
        .code(2);
}

// ---------------------------------------------------------------------------------------------
// A real hall

struct Server {
    _child: Running,
}

impl Server {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut cmd = proctor_process();
        serve_on(&mut cmd, dir, &dir.with_extension("serve.log"))
            .stdin(Stdio::null())
            .envs(env.iter().copied());
        let mut child = Running(cmd.spawn().unwrap());
        let lines = lines_of(child.stdout.take().unwrap());
        let line = lines
            .recv_timeout(DEADLINE)
            .expect("proctor serve did not say where it listens in time");
        assert!(line.starts_with("listening on "), "{line}");
        Server { _child: child }
    }
}

/// A reader thread: each line of `stream`, as it comes.
fn lines_of(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A listing command of the hall of `dd`, run with `--json` and without: the JSON it printed
/// and its text (trimmed); both runs must succeed.
fn listed(command: &[&str], dd: &str) -> (Value, String) {
    let run = |json: bool| {
        let mut cmd = proctor();
        cmd.args(command);
        if json {
            cmd.arg("--json");
        }
        cmd.args(["--data-dir", dd]).passes()
    };
    let json = serde_json::from_slice::<Value>(&run(true).stdout).unwrap();
    (json, stdout_of(&run(false)).trim().to_string())
}

#[test]
fn approvals_and_tools_of_a_real_hall() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hall");
    let _server = Server::start(&data, &[]);
    let dd = data.to_str().unwrap();

    let (json, text) = listed(&["approvals", "list"], dd);
    assert_eq!(json, json!([]));
    assert_eq!(text, "no calls are waiting for approval");
    for verdict in ["approve", "deny"] {
        let out = proctor()
            .args([
                "approvals",
                verdict,
                "0b7e4a9e-0000-4000-8000-000000000000",
                "--note",
                "x",
                "--data-dir",
                dd,
            ])
            .exits(3);
        assert_contains(
            &stderr_of(&out),
            "no approval 0b7e4a9e-0000-4000-8000-000000000000",
        );
    }
    let (json, text) = listed(&["mcp", "tools"], dd);
    assert_eq!(json, json!([]));
    assert_eq!(text, "no tools are offered");
    // A wrong token is a usage error naming the token, not a crash.
    let wrong = tmp.path().join("wrong-token");
    write_token(&wrong, &"f".repeat(64));
    proctor()
        .args(["approvals", "list", "--data-dir", dd, "--token-file"])
        .arg(&wrong)
        .assert()
        .code(2);
}

// ---------------------------------------------------------------------------------------------
// The stdio bridge

/// `proctor mcp` driven through its stdin and stdout, as a client drives it.
struct Bridge {
    child: Running,
    stdin: Option<ChildStdin>,
    out: Receiver<String>,
    err_file: PathBuf,
}

impl Bridge {
    fn start(args: &[&str], err_file: PathBuf) -> Bridge {
        let child = proctor_process()
            .arg("mcp")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&err_file).unwrap())
            .spawn()
            .unwrap();
        let mut child = Running(child);
        let out = lines_of(child.stdout.take().unwrap());
        Bridge {
            stdin: child.stdin.take(),
            child,
            out,
            err_file,
        }
    }

    fn send(&mut self, msg: Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{msg}").unwrap();
        stdin.flush().unwrap();
    }

    /// The answer to request `id` (notifications before it are skipped; every line must be
    /// JSON-RPC).
    fn answer(&self, id: u64) -> Value {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let line = self.out.recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "no answer to request {id} in time; stderr: {}",
                    self.stderr()
                )
            });
            let msg: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not JSON-RPC on stdout: {line:?}: {e}"));
            assert_eq!(msg["jsonrpc"], "2.0", "{line}");
            if msg["id"] == id {
                return msg;
            }
            assert!(
                msg.get("method").is_some(),
                "an answer to another request: {line}"
            );
        }
    }

    fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.answer(id)
    }

    fn initialize(&mut self) -> Value {
        let init = self.request(
            1,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "mcp-cli-test", "version": "1.2.3"}}),
        );
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        init
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err_file).unwrap_or_default()
    }

    /// Close stdin: the bridge ends, with status 0.
    fn close(mut self) -> String {
        drop(self.stdin.take());
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "{status}; stderr: {}", self.stderr());
                return self.stderr();
            }
            assert!(
                Instant::now() < end,
                "proctor mcp did not end after stdin closed"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn the_bridge_without_a_hall_says_so_over_mcp_and_on_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("no-hall");
    std::fs::create_dir_all(&data).unwrap();
    let dd = data.to_str().unwrap();
    let mut bridge = Bridge::start(
        &["--data-dir", dd, "--env", "stage", "--qos", "P1"],
        tmp.path().join("err1"),
    );
    let init = bridge.initialize();
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");
    assert_eq!(
        init["result"]["capabilities"]["tools"]["listChanged"], true,
        "{init}"
    );
    let expected = format!(
        "no Proctor hall is running for data dir {dd}: start `proctor serve --data-dir {dd}` or the Proctor desktop app"
    );
    for (id, method, params) in [
        (2, "tools/list", json!({})),
        (3, "tools/call", json!({"name": "echo", "arguments": {}})),
        (4, "tools/list", json!({})),
    ] {
        let answer = bridge.request(id, method, params);
        assert_eq!(answer["error"]["message"], expected, "{answer}");
        assert!(answer.get("result").is_none());
    }
    let stderr = bridge.close();
    assert_eq!(
        stderr.matches(&expected).count(),
        1,
        "said once on stderr: {stderr}"
    );

    // A hall that ran there but is gone (its hall.url answers nothing): connection refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    std::fs::write(data.join("hall.url"), format!("http://127.0.0.1:{port}\n")).unwrap();
    write_token(&data.join("api-token"), &"a".repeat(64));
    let mut bridge = Bridge::start(&["--data-dir", dd], tmp.path().join("err2"));
    bridge.initialize();
    let answer = bridge.request(2, "tools/list", json!({}));
    let message = answer["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(
        message.starts_with(&format!("no Proctor hall is running for data dir {dd} (nothing answers at http://127.0.0.1:{port})")),
        "{message}"
    );
    bridge.close();

    // Flags are checked before anything runs.
    for bad in [
        ["--env", "production"],
        ["--data-label", "SECRET"],
        ["--tenant-risk", "extreme"],
        ["--qos", "P9"],
    ] {
        proctor()
            .args(["mcp", "--data-dir", dd])
            .args(bad)
            .assert()
            .code(2);
    }
}

/// A client that hands the bridge a file for stdin and one for stdout, which the runtime cannot
/// poll (a pipe or a socket it can, `mcp_stdio`): every request is still answered, in order, and
/// the bridge ends at the file's end.
#[test]
fn the_bridge_reads_stdin_from_a_file_and_writes_stdout_to_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("no-hall");
    std::fs::create_dir_all(&data).unwrap();
    let requests = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "file-client", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}),
    ];
    let input = tmp.path().join("in.jsonl");
    let lines: Vec<String> = requests.iter().map(Value::to_string).collect();
    write(&input, &(lines.join("\n") + "\n"));
    let output = tmp.path().join("out.jsonl");
    let mut child = Running(
        proctor_process()
            .args(["mcp", "--data-dir", data.to_str().unwrap()])
            .stdin(std::fs::File::open(&input).unwrap())
            .stdout(std::fs::File::create(&output).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let status = child.wait_exit();
    assert!(status.success(), "{status:?}");
    let answers: Vec<Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert_eq!(answers[0]["id"], 1);
    assert_eq!(
        answers[0]["result"]["serverInfo"]["name"], "proctor",
        "{answers:?}"
    );
    assert_eq!(answers[1]["id"], 2);
    assert_contains(
        answers[1]["error"]["message"].as_str().unwrap_or_default(),
        "no Proctor hall is running",
    );
}

/// A minimal MCP server on stdio: one tool, `echo`, answering its text and the value of
/// ECHO_TOKEN it was started with.
const FAKE_SERVER: &str = r#"
import json, os, sys
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    msg = json.loads(line)
    if "id" not in msg:
        continue
    method, rid = msg.get("method"), msg["id"]
    if method == "initialize":
        result = {"protocolVersion": msg["params"]["protocolVersion"], "capabilities": {"tools": {}},
                  "serverInfo": {"name": "fake", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": [{"name": "echo", "description": "Echo the text back",
                             "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}]}
    elif method == "tools/call":
        text = msg["params"].get("arguments", {}).get("text", "")
        result = {"content": [{"type": "text", "text": "echo: %s (token %s)" % (text, os.environ.get("ECHO_TOKEN", "unset"))}]}
    elif method == "ping":
        result = {}
    else:
        print(json.dumps({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "no " + str(method)}}), flush=True)
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}), flush=True)
"#;

/// The calls waiting for approval in the hall of `dd`, from `approvals list --json`.
fn held(dd: &str) -> Value {
    json_of(
        &proctor()
            .args(["approvals", "list", "--json", "--data-dir", dd])
            .passes(),
    )
}

/// The first call waiting for approval in the hall of `dd`, once the bridge's call is held.
fn first_held(dd: &str, bridge: &Bridge) -> Value {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(a) = held(dd).as_array().unwrap().first() {
            return a.clone();
        }
        assert!(
            Instant::now() < end,
            "the call was not held for approval in time; {}",
            bridge.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn import_serve_call_through_the_bridge_and_approve_a_held_call() {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("fake_mcp.py");
    write(&script, FAKE_SERVER);
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| {
            std::process::Command::new(p)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("python3 is needed for the fake MCP server");
    let file = tmp.path().join("claude_desktop_config.json");
    write(
        &file,
        &json!({"mcpServers": {"echo": {"command": python, "args": [script.to_string_lossy()],
                "env": {"ECHO_TOKEN": "value-in-the-client-file"}}}})
        .to_string(),
    );
    let data = tmp.path().join("hall");
    let dd = data.to_str().unwrap().to_string();
    import(Some(&file), &data).arg("--yes").assert().success();
    // Calls in `stage` need a person: a policy gate, and the imported rule asks it.
    write(
        &data.join("gate.json"),
        r#"{"rules": [{"when": {"env": ["stage"]}, "result": ["REQUIRE_HUMAN", "policy.test", "a_person_decides"]}],
            "default": ["ALLOW", "policy.test", "ok"]}"#,
    );
    let cfg = std::fs::read_to_string(data.join("config.toml")).unwrap();
    std::fs::write(
        data.join("config.toml"),
        format!("policy_gate_file = \"gate.json\"\n{cfg}"),
    )
    .unwrap();
    let mut rules = read_json(&data.join("rules.json"));
    for rule in rules["rules"].as_array_mut().unwrap() {
        if rule["rule_id"] == "mcp.echo" {
            rule["decision"]["escalation"]["policy_gate"] = json!(true);
        }
    }
    std::fs::write(data.join("rules.json"), rules.to_string()).unwrap();
    // The secret comes from the hall's environment now.
    let _server = Server::start(&data, &[("ECHO_TOKEN", "value-in-the-hall-env")]);

    let out = proctor()
        .args(["mcp", "tools", "--json", "--data-dir", &dd])
        .passes();
    assert_eq!(
        json_of(&out),
        json!([{"name": "echo", "capability_id": "cap.mcp.echo", "worker_id": "mcp.echo", "description": "Echo the text back"}])
    );

    // Allowed (dev): answered by the server, with the decision in _meta.
    let mut bridge = Bridge::start(&["--data-dir", &dd], tmp.path().join("err-dev"));
    bridge.initialize();
    let tools = bridge.request(2, "tools/list", json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["echo"], "{tools}");
    let call = bridge.request(
        3,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "hi"}}),
    );
    assert_eq!(
        call["result"]["content"][0]["text"], "echo: hi (token value-in-the-hall-env)",
        "{call}"
    );
    assert!(
        call["result"]["_meta"]["proctor"]["decision_id"].is_string(),
        "{call}"
    );
    bridge.close();

    // Held (stage): waits for `proctor approvals approve`, then runs.
    let mut bridge = Bridge::start(
        &["--data-dir", &dd, "--env", "stage"],
        tmp.path().join("err-stage"),
    );
    bridge.initialize();
    bridge.send(json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                       "params": {"name": "echo", "arguments": {"text": "held"}}}));
    let approval = first_held(&dd, &bridge);
    for key in [
        "id",
        "decision_id",
        "capability_id",
        "tool",
        "worker_id",
        "requested_at",
        "expires_at",
    ] {
        assert!(approval[key].is_string(), "{key}: {approval}");
    }
    assert_eq!(approval["tool"], "echo");
    assert_eq!(approval["capability_id"], "cap.mcp.echo");
    assert_eq!(approval["worker_id"], "mcp.echo");
    assert_eq!(approval["client"], "mcp-cli-test/1.2.3");
    let id = approval["id"].as_str().unwrap();
    let out = proctor()
        .args(["approvals", "list", "--data-dir", &dd])
        .passes();
    assert_contains(&stdout_of(&out), id);
    let out = proctor()
        .args([
            "approvals",
            "approve",
            id,
            "--note",
            "looks fine",
            "--data-dir",
            &dd,
        ])
        .passes();
    let decided = json_of(&out);
    assert_eq!(decided["state"], "approved");
    assert_eq!(decided["verdict"]["note"], "looks fine");
    assert!(
        decided["verdict"]["by"]
            .as_str()
            .unwrap()
            .ends_with("(cli)"),
        "{decided}"
    );
    let call = bridge.answer(7);
    assert_eq!(
        call["result"]["content"][0]["text"], "echo: held (token value-in-the-hall-env)",
        "{call}"
    );
    // It ended: a second verdict is refused.
    let out = proctor()
        .args(["approvals", "deny", id, "--data-dir", &dd])
        .exits(3);
    assert_contains(&stderr_of(&out), "the deny was not recorded");

    // Denied by a person: a tool error with the code; the server never saw it.
    bridge.send(json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
                       "params": {"name": "echo", "arguments": {"text": "no"}}}));
    let id = first_held(&dd, &bridge)["id"].as_str().unwrap().to_string();
    proctor()
        .args(["approvals", "deny", &id, "--note", "no", "--data-dir", &dd])
        .assert()
        .success();
    let call = bridge.answer(8);
    assert_eq!(call["result"]["isError"], true, "{call}");
    let text = call["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("DENY_"), "{text}");
    assert!(!text.contains("echo: no"), "{text}");
    bridge.close();

    // Nothing pending now; --all lists both endings, newest first.
    assert_eq!(held(&dd), json!([]));
    let out = proctor()
        .args(["approvals", "list", "--all", "--json", "--data-dir", &dd])
        .passes();
    let all = json_of(&out);
    let states: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["denied", "approved"], "{all}");
    let out = proctor()
        .args(["approvals", "list", "--all", "--data-dir", &dd])
        .passes();
    let table = stdout_of(&out);
    assert!(
        table.starts_with("ID") && table.contains("STATE") && table.contains("denied"),
        "{table}"
    );
}
