//! `proctor attest` and `proctor keys` through the real binary: exit codes, outputs, files.

use crate::support::{proctor, proctor_process, Ran};
use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

const BASIC_HASH: &str = "58ce8955ddf9eff5888e71b89f1d0e55486c36c24908191d611a4488fc686221";

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// A temp config dir and a copy of the `basic` vector package, isolated from the user's files.
struct Env {
    root: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let pkg = root.path().join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        let src = vectors().join("packages/basic");
        copy_tree(&src, &pkg);
        Self { root }
    }

    fn config(&self) -> PathBuf {
        self.root.path().join("config")
    }

    fn pkg(&self) -> PathBuf {
        self.root.path().join("pkg")
    }

    fn proctor(&self) -> Command {
        let mut cmd = proctor();
        cmd.env("PROCTOR_CONFIG_DIR", self.config())
            .env_remove("WCP_ATTEST_HMAC_KEY");
        cmd
    }

    fn new_key(&self, namespace: &str) {
        self.proctor()
            .args(["keys", "new", "--namespace", namespace])
            .assert()
            .success();
    }

    fn sign(&self, namespace: &str, worker_id: &str) -> assert_cmd::assert::Assert {
        self.proctor()
            .args(["attest", "sign"])
            .arg(self.pkg())
            .args(["--key", namespace, "--worker-id", worker_id])
            .args(["--species", "wrk.doc.summarizer", "--version", "1.2.3"])
            .assert()
    }

    fn verify(&self, extra: &[&str]) -> assert_cmd::assert::Assert {
        self.proctor()
            .args(["attest", "verify"])
            .arg(self.pkg())
            .args(extra)
            .assert()
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn hash_prints_the_canonical_hash_of_every_vector() {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(vectors().join("package_hash.json")).unwrap(),
    )
    .unwrap();
    for (name, case) in doc["cases"].as_object().unwrap() {
        let expected = format!("{}\n", case["hash"].as_str().unwrap());
        proctor()
            .args(["attest", "hash"])
            .arg(vectors().join("packages").join(name))
            .assert()
            .success()
            .stdout(expected);
    }
}

#[test]
fn hash_of_a_bad_tree_is_a_bad_input_naming_the_path() {
    let env = Env::new();
    env.proctor()
        .args(["attest", "hash", "/nonexistent/pkg"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("/nonexistent/pkg"));
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/passwd", env.pkg().join("escape")).unwrap();
        env.proctor()
            .args(["attest", "hash"])
            .arg(env.pkg())
            .assert()
            .code(3)
            .stderr(
                predicate::str::contains("escape")
                    .and(predicate::str::contains("outside the package root")),
            );
    }
}

#[test]
fn sign_then_verify_round_trip_and_tamper_detection() {
    let env = Env::new();
    env.new_key("org.example");
    env.sign("org.example", "org.example.summarizer.i-1")
        .success()
        .stdout(predicate::str::contains(BASIC_HASH));
    assert!(env.pkg().join("manifest.json").exists() && env.pkg().join("manifest.sig").exists());
    // Signing adds files that are excluded from the hash.
    env.proctor()
        .args(["attest", "hash"])
        .arg(env.pkg())
        .assert()
        .stdout(format!("{BASIC_HASH}\n"));

    env.verify(&[])
        .success()
        .stdout(predicate::str::starts_with("VALID"));
    let out = env
        .verify(&["--json"])
        .success()
        .get_output()
        .stdout
        .clone();
    let verdict: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(verdict["valid"], true);
    assert_eq!(verdict["details"]["scheme"], "ed25519");

    env.verify(&["--worker-id", "org.example.other"])
        .code(1)
        .stdout(predicate::str::contains("ATTEST_MANIFEST_ID_MISMATCH"));

    std::fs::write(env.pkg().join("requirements.lock"), b"evil==1.0\n").unwrap();
    let out = env.verify(&["--json"]).code(1).get_output().stdout.clone();
    let verdict: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(verdict["code"], "ATTEST_HASH_MISMATCH");
    assert_eq!(verdict["details"]["expected_hash"], BASIC_HASH);
}

#[cfg(unix)]
#[test]
fn sign_never_writes_through_a_planted_symlink() {
    // Signing used to write `manifest.tmp` in the package, following a symlink there.
    let env = Env::new();
    env.new_key("org.example");
    let victim = env.root.path().join("victim");
    std::fs::write(&victim, b"precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, env.pkg().join("manifest.tmp")).unwrap();
    env.sign("org.example", "org.example.summarizer.i-1")
        .success()
        .stdout(predicate::str::contains(BASIC_HASH));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(std::fs::symlink_metadata(env.pkg().join("manifest.tmp"))
        .unwrap()
        .file_type()
        .is_symlink());
    env.verify(&[])
        .success()
        .stdout(predicate::str::starts_with("VALID"));
    // No temp file is left behind in the package.
    let stray: Vec<_> = std::fs::read_dir(env.pkg())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") && n != "manifest.tmp")
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn a_closed_stdout_ends_output_commands_quietly() {
    // `proctor keys list | head -0`: println! panicked (exit 101) on the EPIPE. Now the
    // command ends as it would have, without a word: exit 0, or 1 for a failed check.
    let env = Env::new();
    env.new_key("org.example");
    let pkg = env.pkg().display().to_string();
    let rules = env.root.path().join("rules.json");
    std::fs::write(&rules, r#"{"rules": [{"rule_id": "ok"}]}"#).unwrap();
    let rules = rules.display().to_string();
    for (args, code) in [
        (vec!["keys", "list"], 0),
        (
            vec!["keys", "export", "--namespace", "org.example", "--public"],
            0,
        ),
        (vec!["attest", "hash", &pkg], 0),
        (vec!["attest", "verify", &pkg], 1), // not signed yet
        (vec!["rules", "check", &rules], 0),
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // closed before the command runs: every write fails with EPIPE
        let out = proctor_process()
            .env("PROCTOR_CONFIG_DIR", env.config())
            .args(&args)
            .stdout(writer)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    }
}

#[test]
fn a_worker_outside_the_key_namespace_cannot_be_signed() {
    let env = Env::new();
    env.new_key("org.example");
    env.sign("org.example", "org.evil.worker.i-1")
        .code(2)
        .stderr(predicate::str::contains("org.evil"));
    env.sign("org.example", "wrk.doc.summarizer").code(2);
    assert!(
        !env.pkg().join("manifest.sig").exists(),
        "nothing written on refusal"
    );
}

#[test]
fn verify_against_a_separate_trust_store_then_revocation() {
    let publisher = Env::new();
    publisher.new_key("org.example");
    publisher
        .sign("org.example", "org.example.summarizer.i-1")
        .success();
    let exported = publisher
        .proctor()
        .args(["keys", "export", "--public", "--namespace", "org.example"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();

    // A verifier with its own (empty) config.
    let verifier = tempfile::tempdir().unwrap();
    let trust = verifier.path().join("trust.json");
    let key_file = verifier.path().join("org.example.pub.json");
    std::fs::write(&key_file, &exported).unwrap();
    // `proctor` as the verifier runs it.
    let verifier_proctor = || {
        let mut cmd = proctor();
        cmd.env("PROCTOR_CONFIG_DIR", verifier.path().join("cfg"));
        cmd
    };
    let verify = |extra: &[&str]| {
        verifier_proctor()
            .args(["attest", "verify"])
            .arg(publisher.pkg())
            .args(extra)
            .assert()
    };
    verify(&[])
        .code(1)
        .stdout(predicate::str::contains("ATTEST_NAMESPACE_UNTRUSTED"));
    verify(&["--trust", trust.to_str().unwrap()])
        .code(3)
        .stderr(predicate::str::contains("trust.json"));

    verifier_proctor()
        .args(["keys", "import"])
        .arg(&key_file)
        .args(["--trust", trust.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("now trusted"));
    verify(&["--trust", trust.to_str().unwrap()]).success();

    let key_id = serde_json::from_slice::<serde_json::Value>(&exported).unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    verifier_proctor()
        .args([
            "keys",
            "revoke",
            "--key-id",
            &key_id,
            "--trust",
            trust.to_str().unwrap(),
        ])
        .assert()
        .success();
    verify(&["--trust", trust.to_str().unwrap()])
        .code(1)
        .stdout(predicate::str::contains("ATTEST_KEY_REVOKED"));
}

#[test]
fn package_revocation_is_enforced() {
    let env = Env::new();
    env.new_key("x.me");
    env.sign("x.me", "x.me.tool").success();
    env.proctor()
        .args(["keys", "revoke", "--package-hash", BASIC_HASH])
        .assert()
        .success();
    env.verify(&[])
        .code(1)
        .stdout(predicate::str::contains("ATTEST_PACKAGE_REVOKED"));
    env.proctor()
        .args(["keys", "revoke", "--package-hash", "nothex"])
        .assert()
        .code(3);
}

#[test]
fn keys_are_private_never_overwritten_never_printed() {
    let env = Env::new();
    env.new_key("org.example");
    let pem_path = env.config().join("keys/org.example.pem");
    let pem = std::fs::read_to_string(&pem_path).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();

    env.proctor()
        .args(["keys", "new", "--namespace", "org.example"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("refusing to overwrite"));
    assert_eq!(std::fs::read_to_string(&pem_path).unwrap(), pem);

    env.proctor()
        .args(["keys", "export", "--namespace", "org.example"])
        .assert()
        .code(2);
    for args in [
        vec!["keys", "list"],
        vec!["keys", "list", "--json"],
        vec!["keys", "export", "--public", "--namespace", "org.example"],
    ] {
        let out = env.proctor().args(&args).passes();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !all.contains(&body) && !all.contains("PRIVATE KEY"),
            "{args:?} leaked the key"
        );
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&pem_path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&pem_path, std::fs::Permissions::from_mode(0o644)).unwrap();
        env.sign("org.example", "org.example.summarizer.i-1")
            .code(3)
            .stderr(predicate::str::contains("chmod 600"));
    }
}

#[test]
fn bad_namespaces_are_usage_errors() {
    let env = Env::new();
    for ns in ["example", "org.", "org.a/../b", "com.example"] {
        env.proctor()
            .args(["keys", "new", "--namespace", ns])
            .assert()
            .code(2);
    }
}

#[test]
fn reference_hmac_manifests_verify_with_the_secret_from_an_env_var() {
    let env = Env::new();
    env.new_key("org.example");
    env.proctor()
        .env("MY_SECRET", "shared-secret")
        .args(["attest", "sign"])
        .arg(env.pkg())
        .args([
            "--key",
            "org.example",
            "--worker-id",
            "org.example.summarizer.i-1",
        ])
        .args([
            "--species",
            "wrk.doc.summarizer",
            "--version",
            "1.2.3",
            "--hmac-secret-env",
            "MY_SECRET",
        ])
        .assert()
        .success();
    // Without manifest.sig, the reference HMAC is what is checked.
    std::fs::remove_file(env.pkg().join("manifest.sig")).unwrap();
    env.verify(&[])
        .code(1)
        .stdout(predicate::str::contains("ATTEST_SIGNATURE_MISSING"));
    env.proctor()
        .env("MY_SECRET", "shared-secret")
        .args(["attest", "verify"])
        .arg(env.pkg())
        .args(["--hmac-secret-env", "MY_SECRET", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("hmac-sha256"));
    env.proctor()
        .env("WCP_ATTEST_HMAC_KEY", "wrong")
        .args(["attest", "verify"])
        .arg(env.pkg())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("ATTEST_SIG_INVALID"));
    env.verify(&["--hmac-secret-env", "UNSET_VAR_FOR_TEST"])
        .code(2);
}

#[test]
fn hash_json_reports_files_and_bytes() {
    let out = proctor()
        .args(["attest", "hash", "--json", "--threads", "1"])
        .arg(vectors().join("packages/basic"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["package_hash"], BASIC_HASH);
    assert_eq!(doc["files"], 4);
    assert_eq!(doc["bytes"], 90 + 92 + 34 + 75);
}

/// The README's first two steps fit together: the example package signs and verifies under the
/// ids of the registry record that step 2 enrolls (`examples/registry/doc-summarizer.json`).
#[test]
fn the_readme_example_worker_signs_as_the_enrolled_record() {
    let env = Env::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let pkg = env.root.path().join("worker");
    std::fs::create_dir_all(&pkg).unwrap();
    copy_tree(&root.join("examples/worker"), &pkg);
    for generated in ["manifest.json", "manifest.sig"] {
        let _ = std::fs::remove_file(pkg.join(generated));
    }
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("examples/registry/doc-summarizer.json")).unwrap(),
    )
    .unwrap();
    let worker_id = record["worker_id"].as_str().unwrap();
    let species = record["worker_species_id"].as_str().unwrap();
    let namespace = record["owner"].as_str().unwrap();
    env.new_key(namespace);
    env.proctor()
        .args(["attest", "sign"])
        .arg(&pkg)
        .args(["--key", namespace, "--worker-id", worker_id])
        .args(["--species", species, "--version", "1.0.0"])
        .assert()
        .success();
    env.proctor()
        .args(["attest", "verify"])
        .arg(&pkg)
        .args(["--worker-id", worker_id, "--species", species])
        .assert()
        .success();
}
