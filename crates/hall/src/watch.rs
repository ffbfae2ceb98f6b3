//! Watching the rules file and the registry dir with `notify`, debounced: an editor's save burst
//! (write temp, rename, chmod...) becomes one reload, 200 ms after the last event.

use crate::events::Source;
use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Owns the OS watcher; dropping it stops watching.
pub struct FileWatcher {
    watcher: RecommendedWatcher,
    registry_dir: PathBuf,
}

impl FileWatcher {
    /// Watch the parents of both sources (editors replace files by rename, which a watch on the
    /// file itself would lose) and the registry dir itself. Returns the stream of sources that
    /// changed, already debounced.
    pub fn start(
        rules_file: &Path,
        registry_dir: &Path,
    ) -> notify::Result<(FileWatcher, mpsc::Receiver<BTreeSet<Source>>)> {
        let (raw_tx, raw_rx) = mpsc::channel::<Source>(256);
        let rules = rules_file.to_path_buf();
        let registry = registry_dir.to_path_buf();
        let mut watcher =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                let Ok(event) = res else { return };
                if !changes_content(&event.kind) {
                    return;
                }
                for path in &event.paths {
                    let source = if path == &rules {
                        Some(Source::Rules)
                    } else if path == &registry || path.parent() == Some(registry.as_path()) {
                        Some(Source::Registry)
                    } else {
                        None
                    };
                    if let Some(source) = source {
                        // A full channel already holds a pending reload of this kind: dropping is fine.
                        let _ = raw_tx.try_send(source);
                    }
                }
            })?;
        let mut dirs = BTreeSet::new();
        dirs.extend(rules_file.parent().map(Path::to_path_buf));
        dirs.extend(registry_dir.parent().map(Path::to_path_buf));
        for dir in dirs {
            watcher.watch(&dir, RecursiveMode::NonRecursive)?;
        }
        let mut fw = FileWatcher {
            watcher,
            registry_dir: registry_dir.to_path_buf(),
        };
        fw.rewatch_registry();
        Ok((fw, debounce(raw_rx)))
    }

    /// (Re-)attach to the registry dir: after it is deleted and created again, the old watch is
    /// gone. Failing (the dir is missing) is expected and harmless.
    pub fn rewatch_registry(&mut self) {
        let _ = self.watcher.unwatch(&self.registry_dir);
        let _ = self
            .watcher
            .watch(&self.registry_dir, RecursiveMode::NonRecursive);
    }
}

/// Opening and reading a file is an event too (inotify's IN_OPEN, IN_CLOSE_NOWRITE): the hall's
/// own reload reads the files it watches, so reacting to reads would reload forever. Only a
/// writer closing the file counts among the access events.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

fn debounce(mut raw: mpsc::Receiver<Source>) -> mpsc::Receiver<BTreeSet<Source>> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        while let Some(first) = raw.recv().await {
            let mut pending = BTreeSet::from([first]);
            loop {
                match tokio::time::timeout(DEBOUNCE, raw.recv()).await {
                    Ok(Some(s)) => {
                        pending.insert(s);
                    }
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            if tx.send(pending).await.is_err() {
                return;
            }
        }
    });
    rx
}
