//! Where checkpoints live: `<data dir>/checkpoints/checkpoint`, apart from the ledger's own
//! directory, and the same file in the `checkpoint_mirror` dir when one is configured. Each is
//! replaced atomically (temp file, rename, fsync of the directory); verification takes the
//! newest (largest) of both.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::Utc;

use super::key::HallPublicKey;
use super::note::{Checkpoint, NoteError};
use crate::config::Config;
use crate::error::HallError;

/// The checkpoint directory inside the data dir.
pub const CHECKPOINT_DIR: &str = "checkpoints";
/// The file name of the latest checkpoint, in the data dir's checkpoint dir and in the mirror.
pub const CHECKPOINT_FILE: &str = "checkpoint";

/// The places a hall's checkpoints are written to and read from.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    /// The data dir's checkpoint file, then the mirror's.
    files: Vec<PathBuf>,
}

/// A checkpoint file that verified, and where it was found.
#[derive(Debug, Clone)]
pub struct Found {
    pub checkpoint: Checkpoint,
    pub path: PathBuf,
}

/// A checkpoint file that is not this hall's checkpoint.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {error}", path.display())]
pub struct Foreign {
    pub path: PathBuf,
    pub error: NoteError,
}

impl CheckpointStore {
    pub fn of(config: &Config) -> CheckpointStore {
        let mirror = config.file.checkpoint_mirror.as_deref().map(|m| {
            let dir = if m.is_absolute() {
                m.to_path_buf()
            } else {
                config.data_dir.join(m)
            };
            dir.join(CHECKPOINT_FILE)
        });
        let own = config.data_dir.join(CHECKPOINT_DIR).join(CHECKPOINT_FILE);
        CheckpointStore {
            files: std::iter::once(own).chain(mirror).collect(),
        }
    }

    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Write `note` to the data dir's place (an error if that fails), then to the mirror; the
    /// mirror's failure is returned apart, so it never keeps the data dir's checkpoint from
    /// moving on.
    pub fn write(&self, note: &str) -> Result<Option<HallError>, HallError> {
        let (own, mirror) = self.files.split_first().expect("the data dir's place");
        write_durably(own, note.as_bytes())?;
        Ok(mirror
            .iter()
            .find_map(|file| write_durably(file, note.as_bytes()).err()))
    }

    /// The newest checkpoint of `key` in any place (`None` when there is none at all). A file
    /// that exists but is not `key`'s checkpoint is an error: it names a foreign or altered file.
    /// A mirror that cannot be read (an unmounted disk) counts as holding none, as a deleted
    /// mirror file would; the data dir's own file must be readable.
    pub fn latest(&self, key: &HallPublicKey) -> Result<Option<Found>, Foreign> {
        let mut newest: Option<Found> = None;
        for (i, path) in self.files.iter().enumerate() {
            let text = match fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) if i > 0 => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot read the checkpoint mirror; using the data dir's checkpoint");
                    continue;
                }
                Err(e) => {
                    let error = NoteError::Malformed(format!("cannot read it: {e}"));
                    return Err(Foreign {
                        path: path.clone(),
                        error,
                    });
                }
            };
            let checkpoint = Checkpoint::open(&text, key).map_err(|error| Foreign {
                path: path.clone(),
                error,
            })?;
            if newest
                .as_ref()
                .is_none_or(|n| checkpoint.size > n.checkpoint.size)
            {
                newest = Some(Found {
                    checkpoint,
                    path: path.clone(),
                });
            }
        }
        Ok(newest)
    }

    /// Whether any place holds a checkpoint file (of any key).
    pub fn any(&self) -> bool {
        self.files.iter().any(|f| f.exists())
    }

    /// Whether the data dir's checkpoints were archived by `proctor ledger reset`.
    pub fn was_reset(&self) -> bool {
        let own = &self.files[0];
        let prefix = format!("{CHECKPOINT_FILE}.archived-");
        let dir = own.parent().and_then(|d| std::fs::read_dir(d).ok());
        dir.into_iter().flatten().flatten().any(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
        })
    }

    /// Move every checkpoint file aside (`checkpoint.archived-<UTC time>` beside it), never
    /// deleting one; returns where they went.
    pub fn archive(&self) -> Result<Vec<PathBuf>, HallError> {
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
        let mut moved = Vec::new();
        for file in self.files.iter().filter(|f| f.exists()) {
            let to = file.with_file_name(format!("{CHECKPOINT_FILE}.archived-{stamp}"));
            fs::rename(file, &to).map_err(|e| HallError::io(file, e))?;
            sync_dir(file)?;
            moved.push(to);
        }
        Ok(moved)
    }
}

/// Replace `file` atomically and make the rename itself durable.
fn write_durably(file: &Path, bytes: &[u8]) -> Result<(), HallError> {
    let dir = file.parent().expect("a checkpoint file has a directory");
    fs::create_dir_all(dir).map_err(|e| HallError::io(dir, e))?;
    attest::fsutil::write_atomic(file, bytes, Some(0o644)).map_err(|e| HallError::io(file, e))?;
    sync_dir(file)
}

fn sync_dir(file: &Path) -> Result<(), HallError> {
    let dir = file.parent().expect("a checkpoint file has a directory");
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| HallError::io(dir, e))
}
