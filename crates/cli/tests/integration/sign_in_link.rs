//! `proctor serve` prints a single-use sign-in link on stdout (never in its log), whose code
//! gives the API token once; `--no-sign-in-link` prints none.

use crate::support::proctor_process;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

fn serve(dir: &Path, extra: &[&str]) -> (Child, BufReader<ChildStdout>) {
    let mut child = proctor_process()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    (child, out)
}

fn line(out: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    line.trim().to_string()
}

fn session(url: &str, code: &str) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .post(format!("{url}/v1/session"))
        .send_json(json!({"code": code}))
        .unwrap();
    (r.status().as_u16(), r.body_mut().read_json().unwrap())
}

fn stop(mut child: Child) -> String {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    log
}

#[test]
fn the_printed_link_signs_in_once_and_stays_out_of_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (child, mut out) = serve(dir.path(), &[]);
    let url = line(&mut out)
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let link = line(&mut out);
    let link = link
        .strip_prefix("sign in: ")
        .unwrap_or_else(|| panic!("{link:?}"));
    let (base, code) = link.split_once("/#signin=").unwrap();
    assert_eq!(base, url);
    assert_eq!(code.len(), 43);
    let token = std::fs::read_to_string(dir.path().join("api-token")).unwrap();
    assert!(!link.contains(token.trim()));
    let (status, body) = session(&url, code);
    assert_eq!((status, body["token"].as_str()), (200, Some(token.trim())));
    let (status, body) = session(&url, code);
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("SIGN_IN_CODE_USED"))
    );
    let log = stop(child);
    assert!(!log.contains(code), "the code is not logged: {log}");
}

#[test]
fn no_sign_in_link_prints_none_and_accepts_no_code() {
    let dir = tempfile::tempdir().unwrap();
    let (child, mut out) = serve(dir.path(), &["--no-sign-in-link"]);
    let url = line(&mut out)
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let (status, body) = session(&url, "anything");
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("SIGN_IN_CODE_UNKNOWN"))
    );
    stop(child);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(!rest.contains("sign in"), "{rest}");
}
