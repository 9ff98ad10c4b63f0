//! Order-free digests of sets of rows: the sum of the rows' hashes (mod
//! 2^128) and their count. Two sets with equal digests hold the same rows
//! whatever order they were read in, so `verify` can compare an index it
//! rebuilds while walking the ledger with the stored one by streaming both,
//! without holding either in memory.

use sha2::{Digest as _, Sha256};

/// A running digest of a multiset of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SetDigest {
    sum: u128,
    count: u64,
}

impl SetDigest {
    /// Adds one row, given as its fields.
    pub(crate) fn add(&mut self, fields: &[&str]) {
        let mut hasher = Sha256::new();
        for f in fields {
            hasher.update((f.len() as u64).to_be_bytes());
            hasher.update(f.as_bytes());
        }
        let hash = hasher.finalize();
        let mut low = [0u8; 16];
        low.copy_from_slice(&hash[..16]);
        self.sum = self.sum.wrapping_add(u128::from_be_bytes(low));
        self.count += 1;
    }

    /// How many rows were added.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_does_not_matter_but_every_row_does() {
        let (mut a, mut b, mut c) = (SetDigest::default(), SetDigest::default(), SetDigest::default());
        a.add(&["x", "1"]);
        a.add(&["y", "2"]);
        b.add(&["y", "2"]);
        b.add(&["x", "1"]);
        c.add(&["x", "1"]);
        c.add(&["y", "3"]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut split = SetDigest::default();
        split.add(&["x1", ""]);
        let mut joined = SetDigest::default();
        joined.add(&["x", "1"]);
        assert_ne!(split, joined, "field boundaries count");
    }
}
