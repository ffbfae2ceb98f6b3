//! RFC 6962 (Certificate Transparency; RFC 9162 §2.1) Merkle trees: what a batch of records is
//! signed as, so one signature covers the whole batch and each record proves its place in it
//! with an audit path (docs/ledger.md, "Signed receipts").
//!
//! `leaf = SHA-256(0x00 ‖ bytes)`, `node = SHA-256(0x01 ‖ left ‖ right)`; a tree of `n > 1`
//! leaves splits at the largest power of two below `n`, and the empty tree's root is
//! SHA-256 of nothing. The distinct leaf and node prefixes keep a leaf from passing for a node.

use sha2::{Digest, Sha256};

pub use crate::chain::Hash;

/// SHA-256(0x00 ‖ the parts, concatenated): a leaf whose bytes come in pieces, hashed without
/// joining them first.
pub fn leaf_hash(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

/// SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// A whole tree, every level kept, so each leaf's audit path is a lookup per level.
///
/// Built level by level, pairing neighbours and carrying an odd last node up unchanged: the
/// same tree as RFC 6962's split at the largest power of two (its last, smaller subtree is
/// exactly the nodes carried up), without recursion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// `levels[0]` are the leaf hashes; the last level holds the root alone (none when empty).
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    pub fn new(leaves: Vec<Hash>) -> Tree {
        let mut levels = vec![leaves];
        while let Some(below) = levels.last().filter(|l| l.len() > 1) {
            let above = below
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node_hash(left, right),
                    [alone] => *alone,
                    _ => unreachable!("chunks of two"),
                })
                .collect();
            levels.push(above);
        }
        Tree { levels }
    }

    /// How many leaves.
    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    pub fn root(&self) -> Hash {
        match self.levels.last().and_then(|top| top.first()) {
            Some(root) => *root,
            None => Sha256::digest([]).into(),
        }
    }

    /// The audit path of leaf `index` (RFC 9162 §2.1.3.1): the sibling at every level that has
    /// one, bottom up. `None` past the last leaf.
    pub fn audit_path(&self, index: u64) -> Option<Vec<Hash>> {
        let mut at = usize::try_from(index).ok()?;
        if at >= self.levels[0].len() {
            return None;
        }
        let mut path = Vec::with_capacity(self.levels.len());
        for level in &self.levels[..self.levels.len() - 1] {
            if let Some(sibling) = level.get(at ^ 1) {
                path.push(*sibling);
            }
            at /= 2;
        }
        Some(path)
    }
}

/// Why an audit path cannot lead anywhere (checked before any hashing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    OutOfRange { index: u64, size: u64 },
    #[error(
        "the audit path has {given} hashes, but leaf {index} of a tree of {size} leaves needs {needs}"
    )]
    WrongLength {
        index: u64,
        size: u64,
        given: usize,
        needs: usize,
    },
}

/// How many hashes the audit path of leaf `index` in a tree of `size` leaves has.
fn path_len(index: u64, size: u64) -> usize {
    let (mut at, mut last, mut len) = (index, size - 1, 0);
    while last > 0 {
        if at & 1 == 1 || at != last {
            len += 1;
        }
        at >>= 1;
        last >>= 1;
    }
    len
}

/// The root that leaf `index` (hash `leaf`) of a tree of `size` leaves leads to along `path`:
/// RFC 9162 §2.1.3.2's verification walk, which knows nothing of how [`Tree`] is built. The
/// caller compares it with the root it trusts.
pub fn root_from_path(index: u64, size: u64, leaf: Hash, path: &[Hash]) -> Result<Hash, PathError> {
    if index >= size {
        return Err(PathError::OutOfRange { index, size });
    }
    let needs = path_len(index, size);
    if path.len() != needs {
        return Err(PathError::WrongLength {
            index,
            size,
            given: path.len(),
            needs,
        });
    }
    let (mut at, mut last, mut root) = (index, size - 1, leaf);
    for sibling in path {
        if at & 1 == 1 || at == last {
            root = node_hash(sibling, &root);
            // A left child that is the last node of its level has no sibling there: climb to
            // the level where it becomes a right child (or the top).
            if at & 1 == 0 {
                while at & 1 == 0 && at != 0 {
                    at >>= 1;
                    last >>= 1;
                }
            }
        } else {
            root = node_hash(&root, sibling);
        }
        at >>= 1;
        last >>= 1;
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962 §2.1 as written: MTH of a list, recursively, splitting at the largest power of
    /// two below n. Independent of [`Tree`]'s level-by-level build.
    fn mth(leaves: &[&[u8]]) -> Hash {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaf_hash(&[leaves[0]]),
            n => {
                let k = split(n);
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// The largest power of two smaller than `n` (n > 1).
    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// RFC 6962 §2.1.1 PATH(m, D[n]), recursively.
    fn rfc_path(m: usize, leaves: &[&[u8]]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = split(n);
        if m < k {
            let mut p = rfc_path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = rfc_path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    fn data(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("record {i}").into_bytes()).collect()
    }

    fn tree_of(data: &[Vec<u8>]) -> Tree {
        Tree::new(data.iter().map(|d| leaf_hash(&[d])).collect())
    }

    fn h(hex: &str) -> Hash {
        hex::decode(hex).unwrap().try_into().unwrap()
    }

    #[test]
    fn the_recursive_reference_splits_where_rfc_6962_says() {
        for (n, k) in [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8)] {
            assert_eq!(split(n), k, "n = {n}");
        }
    }

    #[test]
    fn known_answers_from_rfc_6962_definitions() {
        // The empty tree: SHA-256 of the empty string.
        assert_eq!(
            Tree::new(Vec::new()).root(),
            h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        // One empty leaf: SHA-256(0x00), the value Certificate Transparency's test vectors use.
        assert_eq!(
            Tree::new(vec![leaf_hash(&[])]).root(),
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        );
        // Two leaves: SHA-256(0x01 ‖ leaf0 ‖ leaf1), spelled out by hand.
        let (a, b) = (leaf_hash(&[b"a"]), leaf_hash(&[b"b"]));
        let mut bytes = vec![1u8];
        bytes.extend_from_slice(&a);
        bytes.extend_from_slice(&b);
        let two: Hash = Sha256::digest(&bytes).into();
        assert_eq!(Tree::new(vec![a, b]).root(), two);
        // Three (odd): the third leaf joins the root unchanged, hashed only at the top.
        let c = leaf_hash(&[b"c"]);
        assert_eq!(Tree::new(vec![a, b, c]).root(), node_hash(&two, &c));
    }

    #[test]
    fn roots_and_paths_match_the_recursive_definition_for_every_size_and_index() {
        let all = data(70);
        for n in 1..=all.len() {
            let d = &all[..n];
            let refs: Vec<&[u8]> = d.iter().map(|v| v.as_slice()).collect();
            let tree = tree_of(d);
            assert_eq!(tree.size(), n as u64);
            assert_eq!(tree.root(), mth(&refs), "root of {n}");
            for (m, bytes) in d.iter().enumerate() {
                let path = tree.audit_path(m as u64).unwrap();
                assert_eq!(path, rfc_path(m, &refs), "path of leaf {m} of {n}");
                let leaf = leaf_hash(&[bytes]);
                assert_eq!(
                    root_from_path(m as u64, n as u64, leaf, &path),
                    Ok(tree.root()),
                    "leaf {m} of {n}"
                );
            }
            assert_eq!(tree.audit_path(n as u64), None);
        }
    }

    #[test]
    fn a_path_proves_nothing_for_another_leaf_index_or_size() {
        let d = data(13);
        let tree = tree_of(&d);
        let root = tree.root();
        for m in 0..13u64 {
            let path = tree.audit_path(m).unwrap();
            let leaf = leaf_hash(&[&d[m as usize]]);
            // Another leaf's bytes.
            let other = leaf_hash(&[&d[((m + 1) % 13) as usize]]);
            assert_ne!(root_from_path(m, 13, other, &path), Ok(root));
            // Another index with the same path: refused for its length, or another root. (Not
            // another size: leaf 0's path is the same in trees of 12 and 13 leaves, so the size
            // must be trusted with the root; a batch signature covers both.)
            if m ^ 1 < 13 {
                assert_ne!(root_from_path(m ^ 1, 13, leaf, &path), Ok(root), "{m}");
            }
            // Any flipped bit of any path element.
            for e in 0..path.len() {
                let mut bad = path.clone();
                bad[e][e % 32] ^= 0x40;
                assert_ne!(root_from_path(m, 13, leaf, &bad), Ok(root));
            }
        }
    }

    #[test]
    fn malformed_paths_are_refused_with_what_is_wrong() {
        let tree = tree_of(&data(5));
        let leaf = tree.levels[0][4];
        assert_eq!(
            root_from_path(5, 5, leaf, &[]),
            Err(PathError::OutOfRange { index: 5, size: 5 })
        );
        // Leaf 4 of 5 has one sibling (the first four's subtree).
        let mut long = tree.audit_path(4).unwrap();
        assert_eq!(long.len(), 1);
        long.push(leaf);
        let err = root_from_path(4, 5, leaf, &long).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the audit path has 2 hashes, but leaf 4 of a tree of 5 leaves needs 1"
        );
        assert!(root_from_path(0, 5, leaf, &[]).is_err());
        assert_eq!(root_from_path(0, 1, leaf, &[]), Ok(leaf));
    }
}
