//! The canonical package hash against the reference vectors, Proctor's safety rules, and
//! tamper sensitivity.

use crate::support;

use attest::walk::list_package;
use attest::{package_hash, package_hash_with, AttestError, HashOptions};
use std::sync::Mutex;
use support::*;

const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[test]
fn every_public_vector_hashes_like_the_reference() {
    let cases = package_vectors();
    assert_eq!(cases.len(), 6, "all six vector packages are present");
    for case in &cases {
        let dir = materialize(case);
        let listed: Vec<String> = list_package(dir.path())
            .unwrap()
            .into_iter()
            .map(|f| f.rel)
            .collect();
        assert_eq!(listed, case.included, "file order of {}", case.name);
        for threads in [1, 2, 4] {
            let digest = package_hash_with(
                dir.path(),
                HashOptions {
                    threads,
                    ..Default::default()
                },
                None,
            )
            .unwrap();
            assert_eq!(
                digest.hash, case.hash,
                "hash of {} with {threads} threads",
                case.name
            );
        }
    }
}

#[test]
fn on_disk_vector_trees_hash_the_same() {
    for case in package_vectors() {
        let on_disk = vectors_dir().join("packages").join(&case.name);
        assert_eq!(package_hash(&on_disk).unwrap(), case.hash, "{}", case.name);
    }
}

#[test]
fn empty_package_hashes_to_sha256_of_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(package_hash(dir.path()).unwrap(), EMPTY);
}

#[test]
fn exclusions_apply_to_relative_components_only() {
    // The reference tests absolute components, so a package under `__pycache__/` would
    // hash as empty; Proctor must not.
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("__pycache__").join("pkg");
    write_tree(&root, &[("a.txt", b"hello")]);
    assert_ne!(package_hash(&root).unwrap(), EMPTY);
}

fn hash_of(files: &[(&str, &[u8])]) -> String {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), files);
    package_hash(dir.path()).unwrap()
}

#[test]
fn any_content_or_name_change_changes_the_hash() {
    let base: &[(&str, &[u8])] = &[("a.txt", b"alpha"), ("d/b.bin", b"\x00\x01\x02")];
    let original = hash_of(base);
    let variants: [&[(&str, &[u8])]; 4] = [
        &[("a.txt", b"alphA"), ("d/b.bin", b"\x00\x01\x02")], // one byte
        &[
            ("a.txt", b"alpha"),
            ("d/b.bin", b"\x00\x01\x02"),
            ("c", b""),
        ], // file added
        &[("a.txt", b"alpha")],                               // file removed
        &[("a.txt", b"alpha"), ("d/c.bin", b"\x00\x01\x02")], // renamed
    ];
    for files in variants {
        assert_ne!(hash_of(files), original, "{files:?}");
    }
}

#[cfg(unix)]
#[test]
fn mode_only_change_is_not_covered_by_the_hash() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_tree(&[("run.sh", b"echo hi\n")]);
    let before = package_hash(dir.path()).unwrap();
    std::fs::set_permissions(
        dir.path().join("run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    assert_eq!(
        package_hash(dir.path()).unwrap(),
        before,
        "SPEC §3.1 hashes names, sizes and bytes only"
    );
}

#[test]
fn deep_trees_hash_without_overflowing() {
    let dir = tempfile::tempdir().unwrap();
    let deep: String = (0..200).map(|i| format!("d{i}/")).collect::<String>() + "leaf.txt";
    write_tree(dir.path(), &[(deep.as_str(), b"deep")]);
    let files = list_package(dir.path()).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].rel, deep);
}

#[test]
fn progress_reports_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let big = vec![7u8; 3 * 1024 * 1024 + 5];
    write_tree(dir.path(), &[("big.bin", &big), ("small.txt", b"abc")]);
    let seen = Mutex::new(Vec::new());
    let digest = package_hash_with(
        dir.path(),
        HashOptions {
            threads: 2,
            ..Default::default()
        },
        Some(&|p| seen.lock().unwrap().push(p)),
    )
    .unwrap();
    let seen = seen.into_inner().unwrap();
    let last = seen.iter().max_by_key(|p| p.bytes_done).unwrap();
    assert_eq!(last.bytes_done, big.len() as u64 + 3);
    assert_eq!(last.bytes_total, digest.bytes);
    assert_eq!(last.files_total, 2);
    assert!(seen.len() > 2, "large files report progress per chunk");
}

#[test]
fn a_missing_root_is_an_error_naming_it() {
    let err = package_hash(std::path::Path::new("/nonexistent/pkg")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/pkg"), "{err}");
}

#[test]
fn a_file_as_root_is_refused() {
    let dir = temp_tree(&[("f", b"x")]);
    assert!(matches!(
        package_hash(&dir.path().join("f")),
        Err(AttestError::NotADirectory(_))
    ));
}

#[test]
fn a_cancelled_run_stops_with_cancelled_and_an_uncancelled_one_finishes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), vec![b'a'; 1 << 20]).unwrap();
    std::fs::write(dir.path().join("b.txt"), b"b").unwrap();
    let stop = std::sync::atomic::AtomicBool::new(true);
    let options = HashOptions {
        threads: 1,
        cancel: Some(&stop),
    };
    let err = package_hash_with(dir.path(), options, None).unwrap_err();
    assert!(matches!(err, attest::AttestError::Cancelled), "{err}");
    stop.store(false, std::sync::atomic::Ordering::Relaxed);
    let digest = package_hash_with(dir.path(), options, None).unwrap();
    assert_eq!(digest.hash, attest::package_hash(dir.path()).unwrap());
}
