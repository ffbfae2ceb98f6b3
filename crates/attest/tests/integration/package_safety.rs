//! Proctor's walking rules: symlinks stay inside the root, special files and non-UTF-8 names
//! are refused with the path named, files changing mid-hash are caught, and the hash does
//! not depend on the order the filesystem lists entries in.

#![cfg(unix)]

use crate::support;

use attest::{package_hash, package_hash_with, AttestError, HashOptions};
use proptest::prelude::*;
use std::os::unix::fs::symlink;
use support::{temp_tree, write_tree};

#[test]
fn symlink_inside_the_root_is_followed_under_its_own_name() {
    let dir = temp_tree(&[("real/a.txt", b"A")]);
    symlink("real", dir.path().join("alias")).unwrap();
    symlink("real/a.txt", dir.path().join("b.txt")).unwrap();

    let expected = temp_tree(&[("real/a.txt", b"A"), ("alias/a.txt", b"A"), ("b.txt", b"A")]);
    assert_eq!(
        package_hash(dir.path()).unwrap(),
        package_hash(expected.path()).unwrap()
    );
}

#[test]
fn symlink_escaping_the_root_refuses_the_package() {
    let outside = temp_tree(&[("secret.txt", b"s")]);
    for target in [
        outside.path().join("secret.txt"),
        "../".repeat(8).into(),
        outside.path().to_path_buf(),
    ] {
        let dir = temp_tree(&[("ok.txt", b"ok")]);
        symlink(&target, dir.path().join("link")).unwrap();
        let err = package_hash(dir.path()).unwrap_err();
        assert!(
            matches!(err, AttestError::SymlinkEscape { .. }),
            "{target:?}: {err}"
        );
        assert!(
            err.to_string().contains("link"),
            "error names the link: {err}"
        );
    }
}

#[test]
fn relative_traversal_through_a_subdirectory_is_caught() {
    let dir = temp_tree(&[("sub/ok.txt", b"ok")]);
    symlink("../".repeat(12) + "etc/passwd", dir.path().join("sub/p")).unwrap();
    assert!(matches!(
        package_hash(dir.path()),
        Err(AttestError::SymlinkEscape { .. })
    ));
}

#[test]
fn dangling_and_looping_symlinks_refuse_the_package() {
    let dir = tempfile::tempdir().unwrap();
    symlink("nowhere", dir.path().join("dangling")).unwrap();
    let err = package_hash(dir.path()).unwrap_err();
    assert!(
        matches!(err, AttestError::Unreadable { .. }) && err.to_string().contains("dangling"),
        "{err}"
    );

    let dir = temp_tree(&[("a/f", b"f")]);
    symlink("..", dir.path().join("a/up")).unwrap();
    let err = package_hash(dir.path()).unwrap_err();
    assert!(matches!(err, AttestError::SymlinkLoop(_)), "{err}");
}

#[test]
fn excluded_entries_are_never_followed() {
    let dir = temp_tree(&[("a.txt", b"a")]);
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    symlink("/etc", dir.path().join(".git/escape")).unwrap();
    symlink("/etc/passwd", dir.path().join("x.pyc")).unwrap();
    let clean = temp_tree(&[("a.txt", b"a")]);
    assert_eq!(
        package_hash(dir.path()).unwrap(),
        package_hash(clean.path()).unwrap()
    );
}

#[test]
fn fifo_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let err = package_hash(dir.path()).unwrap_err();
    assert!(
        matches!(err, AttestError::SpecialFile { kind: "FIFO", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("pipe"));
}

#[test]
fn socket_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();
    let err = package_hash(dir.path()).unwrap_err();
    assert!(
        matches!(err, AttestError::SpecialFile { kind: "socket", .. }),
        "{err}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn non_utf8_file_name_is_refused_with_its_lossy_path() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(OsStr::from_bytes(b"bad-\xff.txt")), b"x").unwrap();
    let err = package_hash(dir.path()).unwrap_err();
    assert!(matches!(err, AttestError::NonUtf8Name(_)), "{err}");
    assert!(err.to_string().contains("bad-\u{fffd}.txt"), "{err}");

    // Names the reference skips before encoding them (excluded suffix) do not matter.
    let dir = temp_tree(&[("ok.txt", b"ok")]);
    std::fs::write(dir.path().join(OsStr::from_bytes(b"\xfe.pyc")), b"x").unwrap();
    assert!(package_hash(dir.path()).is_ok());
}

#[test]
fn file_growing_while_hashed_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.bin");
    write_tree(dir.path(), &[("log.bin", &vec![1u8; 1024 * 1024])]);
    let appended = std::sync::Once::new();
    let grow = |_: attest::Progress| {
        appended.call_once(|| {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            f.write_all(b"more").unwrap();
        })
    };
    let err = package_hash_with(
        dir.path(),
        HashOptions {
            threads: 1,
            ..Default::default()
        },
        Some(&grow),
    )
    .unwrap_err();
    assert!(matches!(err, AttestError::FileChanged { .. }), "{err}");
    assert!(err.to_string().contains("log.bin"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Creating the same files in any order (so directory listings differ) gives one hash.
    #[test]
    fn hash_is_independent_of_creation_order(order in Just((0..12usize).collect::<Vec<_>>()).prop_shuffle()) {
        let names = ["a", "a-b", "a/b", "a/b/c", "A", "é", "e\u{301}", "z/y", "a.b/c", "0", "_", "~"];
        let files: Vec<(String, Vec<u8>)> = names
            .iter()
            .map(|n| (format!("{n}/f"), n.as_bytes().to_vec()))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let shuffled: Vec<(&str, &[u8])> = order.iter().map(|&i| (files[i].0.as_str(), files[i].1.as_slice())).collect();
        write_tree(dir.path(), &shuffled);
        let reference = tempfile::tempdir().unwrap();
        let sorted: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (p.as_str(), c.as_slice())).collect();
        write_tree(reference.path(), &sorted);
        prop_assert_eq!(package_hash(dir.path()).unwrap(), package_hash(reference.path()).unwrap());
    }
}

#[test]
fn unreadable_file_refuses_the_package() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_tree(&[("secret.bin", b"s")]);
    let path = dir.path().join("secret.bin");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&path).is_ok() {
        // Root (CAP_DAC_OVERRIDE) reads anything: the case cannot be produced here.
        eprintln!("skipped: running with permission to read mode-000 files");
        return;
    }
    let err = package_hash(dir.path()).unwrap_err();
    assert!(matches!(err, AttestError::Unreadable { .. }), "{err}");
    assert!(err.to_string().contains("secret.bin"));
}
