//! The hall's signed checkpoint files (`<data dir>/checkpoints/checkpoint` and the mirror's),
//! read as text for shipping. Only the size and head hash lines are read here, to know whether
//! the note is new and to store them beside it; its signature is checked where it is used
//! (`proctor fleet verify`, with the hall's code), never trusted from these lines.

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::ship::SignedNote;

/// Far more than a checkpoint needs (the hall's own limit is the same).
const MAX_NOTE_BYTES: u64 = 64 * 1024;

/// The newest (largest) readable note among `files`; unreadable or malformed ones are skipped
/// (a mirror on an unmounted disk), as the hall's own verification does.
pub fn newest(files: &[PathBuf]) -> Option<SignedNote> {
    files
        .iter()
        .filter_map(|path| {
            let len = std::fs::metadata(path).ok()?.len();
            if len > MAX_NOTE_BYTES {
                return None;
            }
            parse(&std::fs::read_to_string(path).ok()?)
        })
        .max_by_key(|n| n.size)
}

/// Lines 2 and 3 of a tlog checkpoint: the size and the base64 head hash.
fn parse(note: &str) -> Option<SignedNote> {
    let mut lines = note.lines().skip(1);
    let size: i64 = lines.next()?.parse().ok().filter(|s| *s >= 0)?;
    let head_hash = B64.decode(lines.next()?).ok().filter(|h| h.len() == 32)?;
    Some(SignedNote {
        size,
        head_hash,
        note: note.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_wellformed_note_wins() {
        let dir = tempfile::tempdir().unwrap();
        let hash = B64.encode([7u8; 32]);
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        let c = dir.path().join("c");
        std::fs::write(&a, format!("proctor-hall/x\n5\n{hash}\ntime t\n\n— sig\n")).unwrap();
        std::fs::write(&b, format!("proctor-hall/x\n9\n{hash}\ntime t\n\n— sig\n")).unwrap();
        std::fs::write(&c, "proctor-hall/x\n99\nnot base64\n").unwrap();
        let missing = dir.path().join("missing");
        let note = newest(&[a, b, c, missing]).unwrap();
        assert_eq!(note.size, 9);
        assert_eq!(note.head_hash, vec![7u8; 32]);
        assert!(note.note.starts_with("proctor-hall/x\n9\n"));
    }
}
