//! Listing the files of a package (SPEC.md §3.1 steps 1–3), safely.
//!
//! Proctor's rules, stricter than the reference's:
//! - exclusions are tested on the components of the path *relative to the root*;
//! - a symlink is followed only when its target stays inside the (canonical) root; an
//!   escaping, dangling or looping symlink refuses the whole package;
//! - sockets, FIFOs and devices refuse the package (reading a FIFO would block forever);
//! - excluded names are pruned before they are looked at, so nothing under `.git/` is
//!   ever opened or followed;
//! - an included file whose path is not valid UTF-8 refuses the package (see docs/attest.md:
//!   the reference cannot hash such a path either, it fails encoding it).

use crate::error::{AttestError, Result};
use std::ffi::OsStr;
use std::fs::{self, Metadata};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Path components that exclude a file at any depth (as a file or directory name).
pub const EXCLUDED_COMPONENTS: [&str; 6] = [
    ".git",
    "__pycache__",
    ".DS_Store",
    "manifest.json",
    "manifest.sig",
    "manifest.tmp",
];

/// What a file looked like when it was listed; compared again while hashing to notice a
/// file that changes under our feet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    pub size: u64,
    pub modified: Option<SystemTime>,
}

impl Stamp {
    pub fn of(meta: &Metadata) -> Self {
        Self {
            size: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// One file that takes part in the package hash.
#[derive(Debug, Clone)]
pub struct PackageFile {
    /// Relative path with `/` separators, as it appears in the hash record.
    pub rel: String,
    /// Where to read the bytes (the canonical target for a followed symlink).
    pub source: PathBuf,
    pub stamp: Stamp,
}

/// A directory still to be read, with the canonical paths of the directories above it
/// (to detect symlink loops).
struct PendingDir {
    read_from: PathBuf,
    shown_as: PathBuf,
    /// Relative path bytes (`/`-separated, empty for the root); UTF-8 is checked per file.
    rel: Vec<u8>,
    ancestors: Vec<PathBuf>,
}

/// Lists the files of the package at `root` in canonical hash order.
pub fn list_package(root: &Path) -> Result<Vec<PackageFile>> {
    let canonical_root = fs::canonicalize(root).map_err(|e| AttestError::RootUnreadable {
        path: root.to_path_buf(),
        reason: e.to_string(),
    })?;
    if !canonical_root.is_dir() {
        return Err(AttestError::NotADirectory(root.to_path_buf()));
    }
    let mut files = Vec::new();
    // An explicit stack, not recursion: deep trees must not overflow the thread stack.
    let mut pending = vec![PendingDir {
        read_from: canonical_root.clone(),
        shown_as: root.to_path_buf(),
        rel: Vec::new(),
        ancestors: vec![canonical_root.clone()],
    }];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir.read_from).map_err(|e| unreadable(&dir.shown_as, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| unreadable(&dir.shown_as, &e))?;
            let name = entry.file_name();
            if is_excluded_component(&name) {
                continue;
            }
            let shown_as = dir.shown_as.join(&name);
            let rel = join_rel(&dir.rel, name.as_encoded_bytes());
            let kind = entry.file_type().map_err(|e| unreadable(&shown_as, &e))?;

            let (read_from, meta) = if kind.is_symlink() {
                // Stat the target first: a link named `*.pyc` to a file is excluded (and so
                // never needs to be inside the root), one to a directory is walked.
                let meta = fs::metadata(&shown_as).map_err(|e| AttestError::Unreadable {
                    path: shown_as.clone(),
                    reason: format!("symlink cannot be resolved: {e}"),
                })?;
                if meta.is_file() && is_excluded_file_name(&name) {
                    continue;
                }
                (resolve_inside(&canonical_root, &shown_as)?, meta)
            } else {
                let meta = entry.metadata().map_err(|e| unreadable(&shown_as, &e))?;
                (entry.path(), meta)
            };

            if meta.is_dir() {
                let canonical = if kind.is_symlink() {
                    read_from.clone()
                } else {
                    dir.ancestors
                        .last()
                        .expect("root is always an ancestor")
                        .join(&name)
                };
                if dir.ancestors.contains(&canonical) {
                    return Err(AttestError::SymlinkLoop(shown_as));
                }
                let mut ancestors = dir.ancestors.clone();
                ancestors.push(canonical);
                pending.push(PendingDir {
                    read_from,
                    shown_as,
                    rel,
                    ancestors,
                });
            } else if meta.is_file() {
                if is_excluded_file_name(&name) {
                    continue;
                }
                files.push(PackageFile::new(rel, read_from, &shown_as, &meta)?);
            } else {
                return Err(AttestError::SpecialFile {
                    path: shown_as,
                    kind: special_kind(&meta),
                });
            }
        }
    }
    // Component-wise code-point order (SPEC §3.1 step 3): `a/b` before `a-b`. UTF-8 byte order
    // is code-point order, and reading `/` as the smallest byte (NUL never occurs in names)
    // turns component-wise comparison into a plain byte comparison.
    files.sort_unstable_by(|a, b| sort_key(&a.rel).cmp(sort_key(&b.rel)));
    Ok(files)
}

impl PackageFile {
    fn new(rel: Vec<u8>, source: PathBuf, shown_as: &Path, meta: &Metadata) -> Result<Self> {
        let rel = String::from_utf8(rel)
            .map_err(|_| AttestError::NonUtf8Name(shown_as.to_string_lossy().into_owned()))?;
        Ok(Self {
            rel,
            source,
            stamp: Stamp::of(meta),
        })
    }
}

fn sort_key(rel: &str) -> impl Iterator<Item = u8> + '_ {
    rel.bytes().map(|b| if b == b'/' { 0 } else { b })
}

fn join_rel(parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut rel = Vec::with_capacity(parent.len() + 1 + name.len());
    if !parent.is_empty() {
        rel.extend_from_slice(parent);
        rel.push(b'/');
    }
    rel.extend_from_slice(name);
    rel
}

fn is_excluded_component(name: &OsStr) -> bool {
    EXCLUDED_COMPONENTS
        .iter()
        .any(|excluded| name == OsStr::new(excluded))
}

/// `.pyc` files are excluded; a path ends with `.pyc` exactly when its last component does.
fn is_excluded_file_name(name: &OsStr) -> bool {
    name.as_encoded_bytes().ends_with(b".pyc")
}

/// Resolves a symlink and insists that its final target lies inside the package root.
fn resolve_inside(canonical_root: &Path, link: &Path) -> Result<PathBuf> {
    let target = fs::canonicalize(link).map_err(|e| AttestError::Unreadable {
        path: link.to_path_buf(),
        reason: format!("symlink cannot be resolved: {e}"),
    })?;
    if !target.starts_with(canonical_root) {
        return Err(AttestError::SymlinkEscape {
            path: link.to_path_buf(),
            target,
        });
    }
    Ok(target)
}

fn unreadable(path: &Path, err: &std::io::Error) -> AttestError {
    AttestError::Unreadable {
        path: path.to_path_buf(),
        reason: err.to_string(),
    }
}

#[cfg(unix)]
fn special_kind(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_fifo() {
        "FIFO"
    } else if kind.is_socket() {
        "socket"
    } else if kind.is_block_device() {
        "block device"
    } else if kind.is_char_device() {
        "character device"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_meta: &Metadata) -> &'static str {
    "special file"
}
