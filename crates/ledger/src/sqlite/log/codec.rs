//! How a decision's JSON is stored: zstd-compressed with a dictionary trained on typical
//! decisions (examples/train_dictionary.rs). Decisions share almost all their keys and many
//! values, so a dictionary shrinks a ~2 KB decision to ~150-350 bytes; being trained, it also
//! carries entropy tables, so each record does not rebuild them (2-3× less CPU than the raw
//! two-decision dictionary of early files), which cuts the file size and the bytes every commit must
//! fsync. The dictionary is stored in the file (table `codec`), so a file stays readable
//! even if a later build ships a different dictionary. Compression runs on the callers'
//! threads (see `GroupCommitHooks::prepare`), not on the single writer.

use std::sync::Mutex;

use zstd::bulk::{Compressor, Decompressor};

/// The dictionary new files get. Files keep their own (table `codec`), so files created with
/// the earlier raw-content dictionary still decode.
pub const DICTIONARY: &[u8] = include_bytes!("dictionary-v2.zdict");
pub const CODEC_NAME: &str = "zstd+dictionary";
/// Level 1: the dictionary does most of the work; higher levels cost CPU for little gain.
const LEVEL: i32 = 1;
/// No decision is anywhere near this; a larger claimed size means a damaged record.
const MAX_JSON: u64 = 16 << 20;

/// Compressors are reused through small pools: creating one per record would allocate its
/// working memory every time.
pub struct Codec {
    dictionary: Vec<u8>,
    compressors: Mutex<Vec<Compressor<'static>>>,
    decompressors: Mutex<Vec<Decompressor<'static>>>,
}

impl Codec {
    pub fn new(dictionary: Vec<u8>) -> Self {
        Self {
            dictionary,
            compressors: Mutex::new(Vec::new()),
            decompressors: Mutex::new(Vec::new()),
        }
    }

    pub fn encode(&self, json: &[u8]) -> Result<Vec<u8>, String> {
        let pooled = self
            .compressors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        let mut c = match pooled {
            Some(c) => c,
            None => {
                Compressor::with_dictionary(LEVEL, &self.dictionary).map_err(|e| e.to_string())?
            }
        };
        // Into a scratch buffer sized for the worst case, then copied out at its real size: the
        // record keeps ~300 bytes, not the ~2.4 KB bound (fresh memory the system must zero).
        let mut scratch = Vec::with_capacity(zstd::zstd_safe::compress_bound(json.len()));
        let out = c
            .compress_to_buffer(json, &mut scratch)
            .map(|_| scratch.as_slice().to_vec())
            .map_err(|e| e.to_string());
        self.compressors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(c);
        out
    }

    /// The exact JSON text of a stored body; an error means the body was damaged.
    pub fn decode(&self, body: &[u8]) -> Result<String, String> {
        let size = match zstd::zstd_safe::get_frame_content_size(body) {
            Ok(Some(n)) if n <= MAX_JSON => n as usize,
            _ => return Err("the stored decision is not a valid compressed record".into()),
        };
        let pooled = self
            .decompressors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        let mut d = match pooled {
            Some(d) => d,
            None => Decompressor::with_dictionary(&self.dictionary).map_err(|e| e.to_string())?,
        };
        let out = d.decompress(body, size);
        self.decompressors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(d);
        let bytes = out.map_err(|e| format!("the stored decision cannot be decompressed: {e}"))?;
        String::from_utf8(bytes).map_err(|_| "the stored decision is not UTF-8".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_compresses_typical_decisions() {
        let codec = Codec::new(DICTIONARY.to_vec());
        for line in include_str!("typical-decisions.jsonl").lines() {
            let body = codec.encode(line.as_bytes()).unwrap();
            assert!(
                body.len() * 5 < line.len(),
                "{} -> {}",
                line.len(),
                body.len()
            );
            assert_eq!(codec.decode(&body).unwrap(), line);
        }
        assert!(codec.decode(b"not zstd").is_err());
    }
}
