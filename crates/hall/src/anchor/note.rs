//! Checkpoints as C2SP signed notes in the tlog-checkpoint layout:
//!
//! ```text
//! proctor-hall/<key fingerprint>      origin (= the hall key's name)
//! 1234                                tree size: the number of records (the head's seq)
//! <base64 32 bytes>                   the chain hash of record 1234 (the genesis at 0)
//! time 2026-12-06T17:50:00.000000Z    extension line: when it was signed
//!
//! — proctor-hall/<fingerprint> <base64(4-byte key id ‖ Ed25519 signature of the text above)>
//! ```
//!
//! The hash line is the ledger's chain head, which commits to every record before it (not an
//! RFC 6962 Merkle root: docs/ledger.md, "Anchoring").

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};

use super::key::{HallKey, HallPublicKey};

/// The signature line's prefix: U+2014 EM DASH and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// Far more than a checkpoint needs; a larger file is not one of ours.
const MAX_NOTE_BYTES: usize = 64 * 1024;

/// The ledger's state as of one signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// How many records the ledger held: the head's seq (seqs are dense from 1).
    pub size: i64,
    /// The head's chain hash, hex (the genesis when `size` is 0).
    pub hash: String,
    pub time: DateTime<Utc>,
}

impl Checkpoint {
    /// The signed note, ready to write.
    pub fn sign(&self, key: &HallKey) -> String {
        let name = &key.public().name;
        let hash = hex::decode(&self.hash).expect("a chain hash is hex");
        let text = format!(
            "{name}\n{}\n{}\ntime {}\n",
            self.size,
            B64.encode(hash),
            self.time.to_rfc3339_opts(SecondsFormat::Micros, true)
        );
        let mut sig = key.public().key_id_bytes().to_vec();
        sig.extend_from_slice(&key.sign(text.as_bytes()));
        format!("{text}\n{SIG_PREFIX}{name} {}\n", B64.encode(sig))
    }

    /// Parse a signed note and check it is `key`'s checkpoint, signed by `key`.
    pub fn open(note: &str, key: &HallPublicKey) -> Result<Checkpoint, NoteError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(NoteError::Malformed("larger than any checkpoint".into()));
        }
        let malformed = |why: &str| NoteError::Malformed(why.to_string());
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| malformed("no blank line before the signatures"))?;
        let (text, sigs) = (&note[..=split], &note[split + 2..]);
        let mut ours = None;
        let mut signers = Vec::new();
        for line in sigs.lines() {
            let (name, sig) = line
                .strip_prefix(SIG_PREFIX)
                .and_then(|l| l.split_once(' '))
                .ok_or_else(|| malformed("a signature line is not `— <name> <signature>`"))?;
            let sig = B64
                .decode(sig)
                .map_err(|_| malformed("a signature is not base64"))?;
            let (id, sig) = sig.split_at_checked(4).unwrap_or((&sig, &[]));
            if name == key.name && id == key.key_id_bytes() {
                ours = Some(<[u8; 64]>::try_from(sig).map_err(|_| NoteError::BadSignature)?);
            } else {
                signers.push(format!("{name} (key id {})", hex::encode(id)));
            }
        }
        let Some(sig) = ours else {
            return Err(NoteError::OtherSigner(signers.join(", ")));
        };
        if !key.verifies(text.as_bytes(), &sig) {
            return Err(NoteError::BadSignature);
        }
        parse_text(text, &key.name)
    }
}

fn parse_text(text: &str, origin: &str) -> Result<Checkpoint, NoteError> {
    let malformed = |why: String| NoteError::Malformed(why);
    let mut lines = text.lines();
    if lines.next() != Some(origin) {
        return Err(malformed(format!("its origin line is not {origin}")));
    }
    let size: i64 = lines
        .next()
        .and_then(|l| l.parse().ok())
        .filter(|s| *s >= 0)
        .ok_or_else(|| malformed("its size line is not a record count".into()))?;
    let hash = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .filter(|h| h.len() == 32)
        .ok_or_else(|| malformed("its hash line is not a base64 SHA-256".into()))?;
    let time = lines
        .find_map(|l| l.strip_prefix("time "))
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .ok_or_else(|| malformed("it has no `time` line".into()))?;
    Ok(Checkpoint {
        size,
        hash: hex::encode(hash),
        time: time.with_timezone(&Utc),
    })
}

/// Why a file is not a checkpoint of this hall.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("not a signed checkpoint: {0}")]
    Malformed(String),
    /// Signed, but not by this hall's key (by these signers).
    #[error("not signed by this hall's key (signed by: {0})")]
    OtherSigner(String),
    #[error("its signature by this hall's key does not verify (the checkpoint was altered)")]
    BadSignature,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> (tempfile::TempDir, HallKey) {
        let dir = tempfile::tempdir().unwrap();
        let key = HallKey::load_or_create(dir.path()).unwrap();
        (dir, key)
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            size: 42,
            hash: "ab".repeat(32),
            time: "2026-12-06T17:50:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn signs_the_tlog_checkpoint_layout_and_opens_it() {
        let (_d, key) = key();
        let note = checkpoint().sign(&key);
        let name = &key.public().name;
        let expected_text = format!(
            "{name}\n42\n{}\ntime 2026-12-06T17:50:00.000000Z\n\n\u{2014} {name} ",
            B64.encode([0xab; 32])
        );
        assert!(note.starts_with(&expected_text), "{note}");
        let sig = B64
            .decode(note.trim_end().rsplit(' ').next().unwrap())
            .unwrap();
        assert_eq!(sig.len(), 4 + 64);
        assert_eq!(sig[..4], key.public().key_id_bytes());
        assert_eq!(Checkpoint::open(&note, key.public()).unwrap(), checkpoint());
    }

    #[test]
    fn another_key_or_an_edit_is_refused() {
        let (_d, ours) = key();
        let (_e, theirs) = key();
        let note = checkpoint().sign(&theirs);
        assert!(matches!(
            Checkpoint::open(&note, ours.public()),
            Err(NoteError::OtherSigner(s)) if s.contains(&theirs.public().name)
        ));
        let edited = checkpoint().sign(&ours).replacen("\n42\n", "\n41\n", 1);
        assert_eq!(
            Checkpoint::open(&edited, ours.public()),
            Err(NoteError::BadSignature)
        );
        assert!(matches!(
            Checkpoint::open("", ours.public()),
            Err(NoteError::Malformed(_))
        ));
    }
}
