//! The README's workflow, command for command, in a copy of `examples/`: the worker signed in
//! step 1 is the one enrolled in step 2, and routing in step 3 checks its signature (a
//! revoked key or a tampered file is refused at once).

use crate::support::{listening_url, proctor_process, Running};
use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;

struct Workflow {
    root: tempfile::TempDir,
}

impl Workflow {
    /// `examples/` copied into a temp dir (the repository's own copy is never signed), with the
    /// config and data dirs the README's shell would name.
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        copy_tree(&repo.join("examples"), &root.path().join("examples"));
        for generated in ["manifest.json", "manifest.sig"] {
            let _ = std::fs::remove_file(root.path().join("examples/worker").join(generated));
        }
        Workflow { root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    /// `proctor` as the README's shell runs it: from the copy's root, dirs from the environment.
    fn in_shell(&self) -> std::process::Command {
        let mut cmd = proctor_process();
        cmd.current_dir(self.root.path())
            .env("PROCTOR_CONFIG_DIR", self.path("config"))
            .env("PROCTOR_DATA_DIR", self.path("data"));
        cmd
    }

    /// `proctor ARGS` as typed in the README.
    fn proctor(&self, args: &str) -> Command {
        let mut cmd = Command::from_std(self.in_shell());
        cmd.args(args.split_whitespace());
        cmd
    }

    /// The hall, stopped when the returned child is dropped; its URL.
    fn serve(&self) -> (Running, String) {
        let mut child = Running(
            self.in_shell()
                .args(["serve", "--listen", "127.0.0.1:0"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let url = listening_url(&mut child).unwrap();
        (child, url)
    }

    /// Step 3's `curl`: `examples/input.json` to `/v1/route` with the hall's token.
    fn route(&self, url: &str) -> Value {
        let token = std::fs::read_to_string(self.path("data/api-token")).unwrap();
        let input: Value = serde_json::from_str(
            &std::fs::read_to_string(self.path("examples/input.json")).unwrap(),
        )
        .unwrap();
        ureq::post(format!("{url}/v1/route"))
            .header("Authorization", format!("Bearer {}", token.trim()))
            .send_json(input)
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn deny(d: &Value) -> (&str, &str) {
    let r = &d["deny_reason_if_denied"];
    (
        r["code"].as_str().unwrap_or_default(),
        r["attestation_reason"].as_str().unwrap_or_default(),
    )
}

#[test]
fn sign_enroll_route_checks_the_signature_of_the_signed_worker() {
    let w = Workflow::new();
    // 1. Sign the worker package and check it.
    w.proctor("keys new --namespace org.acme")
        .assert()
        .success();
    w.proctor(
        "attest sign examples/worker --key org.acme \
         --worker-id org.acme.doc-summarizer --species wrk.doc.summarizer --version 1.0.0",
    )
    .assert()
    .success();
    w.proctor("attest verify examples/worker")
        .assert()
        .success();

    // 2. Enroll the record of that very worker and let it report in.
    let (hall, url) = w.serve();
    w.proctor("enroll examples/registry/doc-summarizer.json")
        .assert()
        .success();
    w.proctor("heartbeat org.acme.doc-summarizer")
        .assert()
        .success();

    // 3. Route: allowed, and the decision says the worker's attestation was checked.
    let d = w.route(&url);
    assert_eq!(d["denied"], false, "{d}");
    assert_eq!(d["selected_worker_species_id"], "wrk.doc.summarizer");
    assert_eq!(d["worker_attestation_checked"], true);
    assert_eq!(d["worker_attestation_valid"], true);

    // A tampered file is refused at the next route, and named.
    let script = w.path("examples/worker/summarize.py");
    let original = std::fs::read_to_string(&script).unwrap();
    std::fs::write(&script, format!("{original}\n# tampered\n")).unwrap();
    let d = w.route(&url);
    assert_eq!(deny(&d), ("DENY_WORKER_TAMPERED", "tampered"), "{d}");
    let message = d["deny_reason_if_denied"]["message"].as_str().unwrap();
    assert!(message.contains("changed: summarize.py"), "{message}");
    std::fs::write(&script, original).unwrap();
    assert_eq!(w.route(&url)["denied"], false);

    // Revoking the key with the CLI stops routing at the next route.
    let manifest_sig: Value = serde_json::from_str(
        &std::fs::read_to_string(w.path("examples/worker/manifest.sig")).unwrap(),
    )
    .unwrap();
    let key_id = manifest_sig["key_id"].as_str().unwrap();
    w.proctor(&format!("keys revoke --key-id {key_id}"))
        .assert()
        .success();
    let d = w.route(&url);
    assert_eq!(
        deny(&d),
        ("DENY_WORKER_ATTESTATION_MISSING", "revoked_key"),
        "{d}"
    );
    drop(hall);
}
