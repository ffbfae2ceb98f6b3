//! The canonical package hash (SPEC.md §3.1) and plain file hashing.
//!
//! Files are streamed in fixed-size chunks (constant memory whatever their size) and hashed
//! on several threads that pull from a shared work queue, biggest files first so one large
//! file does not finish last on a single core. The per-file digests are then folded into
//! the package digest in canonical order on the calling thread, so the result never
//! depends on scheduling.

use crate::error::{AttestError, Result};
use crate::walk::{list_package, PackageFile, Stamp};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Bytes read per `read` call: large enough to keep SHA-256 busy, small enough to stay
/// cache-friendly and report progress often.
const CHUNK: usize = 256 * 1024;

/// How far a hashing run has got; handed to the progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub files_total: usize,
}

/// A progress callback. Called from the hashing threads, so it must be cheap and `Sync`.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Sync);

/// Knobs for [`package_hash_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct HashOptions<'a> {
    /// Hashing threads; 0 means one per available core.
    pub threads: usize,
    /// Set by someone else to stop the run ([`AttestError::Cancelled`]): checked between files
    /// and between chunks of a file, so a run stops within one chunk's read.
    pub cancel: Option<&'a AtomicBool>,
}

/// The result of hashing a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageDigest {
    /// Lowercase hex SHA-256 of the concatenated records.
    pub hash: String,
    pub files: usize,
    pub bytes: u64,
}

/// The canonical hash of the package at `root` with default options and no progress.
pub fn package_hash(root: &Path) -> Result<String> {
    Ok(package_hash_with(root, HashOptions::default(), None)?.hash)
}

/// The canonical hash of the package at `root`.
pub fn package_hash_with(
    root: &Path,
    options: HashOptions,
    progress: Option<ProgressFn<'_>>,
) -> Result<PackageDigest> {
    hash_listed(&list_package(root)?, options, progress)
}

/// Hashes files already listed by [`list_package`]. Each file is checked against its listed
/// size and mtime, so the digest describes exactly that listing (the live-hash cache keys on it).
pub(crate) fn hash_listed(
    files: &[PackageFile],
    options: HashOptions,
    progress: Option<ProgressFn<'_>>,
) -> Result<PackageDigest> {
    let bytes_total = files.iter().map(|f| f.stamp.size).sum();
    let records = file_records(files, options, progress)?;
    Ok(PackageDigest {
        hash: records_hash(&records),
        files: files.len(),
        bytes: bytes_total,
    })
}

/// One file's part in the package hash (SPEC.md §3.1 step 4): path, size, SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRecord {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// The per-file records of files listed by [`list_package`], in canonical order.
pub(crate) fn file_records(
    files: &[PackageFile],
    options: HashOptions,
    progress: Option<ProgressFn<'_>>,
) -> Result<Vec<FileRecord>> {
    let bytes_total = files.iter().map(|f| f.stamp.size).sum();
    let digests = hash_files(files, options, progress, bytes_total)?;
    Ok(files
        .iter()
        .zip(&digests)
        .map(|(file, digest)| FileRecord {
            path: file.rel.clone(),
            size: file.stamp.size,
            sha256: hex::encode(digest),
        })
        .collect())
}

/// The package hash of records in canonical order: SHA-256 of `<rel>\n<size>\n<sha256>\n` each.
pub fn records_hash(records: &[FileRecord]) -> String {
    let mut package = Sha256::new();
    for r in records {
        package.update(format!("{}\n{}\n{}\n", r.path, r.size, r.sha256).as_bytes());
    }
    hex::encode(package.finalize())
}

/// Plain lowercase hex SHA-256 of one file's bytes (the reference's `source_file` hash),
/// streamed, with the same change detection as package hashing.
pub fn file_sha256(path: &Path) -> Result<String> {
    file_sha256_listed(path, regular_file_stamp(path)?)
}

/// The stamp of a regular file (following symlinks); anything else is refused.
pub(crate) fn regular_file_stamp(path: &Path) -> Result<Stamp> {
    let meta = std::fs::metadata(path).map_err(|e| AttestError::io(path, e))?;
    if !meta.is_file() {
        return Err(AttestError::Unreadable {
            path: path.to_path_buf(),
            reason: "not a regular file".into(),
        });
    }
    Ok(Stamp::of(&meta))
}

/// [`file_sha256`] for a file whose stamp was already taken; fails if it no longer matches.
pub(crate) fn file_sha256_listed(path: &Path, stamp: Stamp) -> Result<String> {
    let mut buf = vec![0; CHUNK];
    Ok(hex::encode(hash_one(path, stamp, &mut buf, &|_| {}, None)?))
}

type FileDigest = [u8; 32];

fn hash_files(
    files: &[PackageFile],
    options: HashOptions,
    progress: Option<ProgressFn<'_>>,
    bytes_total: u64,
) -> Result<Vec<FileDigest>> {
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(files.len())
    .max(1);

    // Biggest first: a long file started last would leave the other cores idle.
    let mut queue: Vec<usize> = (0..files.len()).collect();
    queue.sort_by_key(|&i| std::cmp::Reverse(files[i].stamp.size));

    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let bytes_done = AtomicU64::new(0);
    let report = |n: usize| {
        let done = bytes_done.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if let Some(progress) = progress {
            progress(Progress {
                bytes_done: done,
                bytes_total,
                files_total: files.len(),
            });
        }
    };
    let worker = || {
        let mut buf = vec![0; CHUNK];
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let Some(&index) = queue.get(next.fetch_add(1, Ordering::Relaxed)) else {
                break;
            };
            let file = &files[index];
            let result = hash_one(&file.source, file.stamp, &mut buf, &report, options.cancel);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            done.push((index, result));
        }
        done
    };

    let results: Vec<(usize, Result<FileDigest>)> = if threads == 1 {
        worker()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("hashing thread panicked"))
                .collect()
        })
    };

    let mut digests = vec![None; files.len()];
    let mut first_error: Option<(usize, AttestError)> = None;
    for (index, result) in results {
        match result {
            Ok(digest) => digests[index] = Some(digest),
            // Report the error of the first file in canonical order, not whichever thread lost.
            Err(err) if first_error.as_ref().is_none_or(|(i, _)| index < *i) => {
                first_error = Some((index, err))
            }
            Err(_) => {}
        }
    }
    if let Some((_, err)) = first_error {
        return Err(err);
    }
    Ok(digests
        .into_iter()
        .map(|d| d.expect("every file hashed when none failed"))
        .collect())
}

/// Streams one file through SHA-256, failing if it is not the file that was listed.
fn hash_one(
    path: &Path,
    listed: Stamp,
    buf: &mut [u8],
    report: &dyn Fn(usize),
    cancel: Option<&AtomicBool>,
) -> Result<FileDigest> {
    let mut file = File::open(path).map_err(|e| AttestError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let stamp = |file: &File| {
        file.metadata()
            .map(|m| Stamp::of(&m))
            .map_err(|e| AttestError::io(path, e))
    };
    let changed = |detail: String| AttestError::FileChanged {
        path: path.to_path_buf(),
        detail,
    };

    if stamp(&file)? != listed {
        return Err(changed(
            "size or modification time differs from when the package was listed".into(),
        ));
    }
    let mut hasher = Sha256::new();
    let mut read_total = 0u64;
    loop {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(AttestError::Cancelled);
        }
        let n = match file.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(AttestError::Unreadable {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })
            }
        };
        hasher.update(&buf[..n]);
        read_total += n as u64;
        report(n);
    }
    if read_total != listed.size {
        return Err(changed(format!(
            "read {read_total} bytes, expected {}",
            listed.size
        )));
    }
    if stamp(&file)? != listed {
        return Err(changed(
            "size or modification time changed during the read".into(),
        ));
    }
    Ok(hasher.finalize().into())
}
