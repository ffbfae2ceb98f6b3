//! Who a hall is to the central store: a stable hall id per data dir (generated once into
//! `<data dir>/fleet/hall_id` unless `[fleet] hall_id` sets one), its public key and hostname.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::FleetError;

/// The directory under a data dir holding the fleet's local state (hall id, cursor).
pub const STATE_DIR: &str = "fleet";
const HALL_ID_FILE: &str = "hall_id";
const MAX_HALL_ID: usize = 128;

/// What a hall registers centrally (the `halls` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallIdentity {
    pub hall_id: String,
    /// The hall key's raw Ed25519 public key, base64 (`proctor hall key`'s `public_key`).
    pub public_key: String,
    pub key_name: String,
    /// The signed-note verifier key its checkpoints are checked against.
    pub verifier_key: String,
    /// The hostname.
    pub name: String,
    pub version: String,
}

/// `<data dir>/fleet`.
pub fn state_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(STATE_DIR)
}

/// The configured hall id when there is one (checked), else the data dir's, generated on first
/// use and written crash-safe.
pub fn hall_id(data_dir: &Path, configured: Option<&str>) -> Result<String, FleetError> {
    if let Some(id) = configured {
        check_hall_id(id)?;
        return Ok(id.to_string());
    }
    let path = state_dir(data_dir).join(HALL_ID_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let id = text.trim();
            check_hall_id(id).map_err(|e| FleetError::io(&path, e))?;
            Ok(id.to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let id = uuid_v4();
            write_atomic(&path, format!("{id}\n").as_bytes())?;
            Ok(id)
        }
        Err(e) => Err(FleetError::io(&path, e)),
    }
}

/// Hall ids are shown, logged and used as keys: short, printable, no whitespace.
pub fn check_hall_id(id: &str) -> Result<(), FleetError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_HALL_ID
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(())
    } else {
        Err(FleetError::Config(format!(
            "hall_id must be 1-{MAX_HALL_ID} characters of letters, digits, `-`, `_`, `.`, `:` \
             (got {id:?})"
        )))
    }
}

/// This machine's hostname, or `unknown`.
pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// A random (version 4) UUID from the OS's randomness, without another dependency.
fn uuid_v4() -> String {
    let mut bytes = [0u8; 16];
    let random = fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if random.is_err() {
        // No /dev/urandom (not Unix): the clock and the process id are unique enough per data dir.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes.copy_from_slice(&(nanos ^ u128::from(std::process::id()) << 96).to_be_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Write `bytes` to `path` so that a crash leaves the old file or the new one, never a torn
/// one: a temp file beside it, fsync, rename, fsync of the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FleetError> {
    let dir = path.parent().expect("state files live in a directory");
    fs::create_dir_all(dir).map_err(|e| FleetError::io(dir, e))?;
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| FleetError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_per_data_dir_and_overridable() {
        let dir = tempfile::tempdir().unwrap();
        let first = hall_id(dir.path(), None).unwrap();
        assert_eq!(first.len(), 36);
        assert_eq!(hall_id(dir.path(), None).unwrap(), first);
        let other = tempfile::tempdir().unwrap();
        assert_ne!(hall_id(other.path(), None).unwrap(), first);
        assert_eq!(
            hall_id(dir.path(), Some("ci-runner-7")).unwrap(),
            "ci-runner-7"
        );
        let bad = hall_id(dir.path(), Some("two words")).unwrap_err();
        assert!(bad.to_string().contains("hall_id"), "{bad}");
    }

    #[test]
    fn a_damaged_hall_id_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(&state_dir(dir.path()).join(HALL_ID_FILE), b"not ok\n").unwrap();
        let err = hall_id(dir.path(), None).unwrap_err().to_string();
        assert!(err.contains("hall_id"), "{err}");
    }
}
