//! The ledger: an append-only chain of entries where each entry's hash covers
//! the previous hash and the entry's canonical bytes, plus checkpoints that
//! sign a Merkle root over a range with the deployment's Ed25519 key.
//! Verification names the first entry or checkpoint that does not agree.
//!
//! The canonical encoding (version 1) is frozen: changing a byte of it breaks
//! every chain already written. Add a new version instead.
//!
//! The chain is also a transparency log (RFC 9162, C2SP): [`merkle`] holds
//! the tree over the entries (leaf `i` is entry `seq = i + 1`, its leaf input
//! the entry's chain hash), what a store keeps to answer proofs with O(log n)
//! lookups, and proof verification; [`note`] holds the signed tree heads
//! (C2SP checkpoints in signed notes) that witnesses can cosign.

pub mod merkle;
pub mod note;

pub use merkle::{
    verify_consistency, verify_inclusion, CompactRange, FetchError, NodeCountMismatch, NodeId, NodeRef, NodeSource,
    ProofError,
};
pub use note::{NoteError, NoteSignature, NoteSigner, NoteVerifier, SignedNote, TreeHead, VerifiedTreeHead};

use ed25519_dalek::{Signer, Verifier as _};
use sha2::{Digest, Sha256};
use std::fmt;

pub use ed25519_dalek::{SigningKey, VerifyingKey};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The hash that precedes the first entry.
pub const GENESIS: Hash = [0; 32];

/// Version byte of the canonical entry encoding.
pub const ENTRY_FORMAT: u8 = 1;

/// Version byte of the signed checkpoint message.
pub const CHECKPOINT_FORMAT: u8 = 1;

/// What is recorded, before the chain gives it a place and a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Microseconds since the Unix epoch.
    pub recorded_at: i64,
    /// Who caused it, e.g. `staff:u-7`.
    pub actor: String,
    /// Site it happened at.
    pub site: String,
    /// Event kind, e.g. `unit_released`.
    pub kind: String,
    /// The event's payload bytes, hashed exactly as stored.
    pub payload: Vec<u8>,
}

/// A chained entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position, from 1, without gaps.
    pub seq: u64,
    /// The record.
    pub record: Record,
    /// Hash of the entry before (GENESIS for the first).
    pub prev_hash: Hash,
    /// SHA-256 over `prev_hash` and the canonical bytes.
    pub hash: Hash,
}

fn put_field(out: &mut Vec<u8>, bytes: &[u8]) {
    // Lengths never exceed u32 in practice; saturating keeps the encoding total.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The frozen canonical bytes of an entry (format 1):
/// `"CTL" 0x01 seq:u64be recorded_at:i64be` then actor, site, kind and
/// payload, each as `len:u32be bytes`.
pub fn canonical_bytes(seq: u64, record: &Record) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + record.actor.len() + record.site.len() + record.kind.len() + record.payload.len());
    out.extend_from_slice(b"CTL");
    out.push(ENTRY_FORMAT);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&record.recorded_at.to_be_bytes());
    put_field(&mut out, record.actor.as_bytes());
    put_field(&mut out, record.site.as_bytes());
    put_field(&mut out, record.kind.as_bytes());
    put_field(&mut out, &record.payload);
    out
}

/// The hash of an entry at `seq` following `prev_hash`.
pub fn entry_hash(prev_hash: &Hash, seq: u64, record: &Record) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(canonical_bytes(seq, record));
    hasher.finalize().into()
}

/// The head of a chain: the last sequence number and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Last sequence number (0 when empty).
    pub seq: u64,
    /// Hash of the last entry (GENESIS when empty).
    pub hash: Hash,
}

impl Head {
    /// The head of an empty chain.
    pub const EMPTY: Head = Head { seq: 0, hash: GENESIS };

    /// Chains `record` after this head and moves the head to it.
    pub fn append(&mut self, record: Record) -> Entry {
        let seq = self.seq + 1;
        let hash = entry_hash(&self.hash, seq, &record);
        let entry = Entry { seq, record, prev_hash: self.hash, hash };
        *self = Head { seq, hash };
        entry
    }
}

/// Lowercase hex of a hash, for messages and storage.
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// What is wrong with the chain at one entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// An entry is missing or out of order.
    #[error("entry {found}: expected entry {expected} here; entries are missing, reordered or inserted")]
    Sequence {
        /// Sequence number that should come next.
        expected: u64,
        /// Sequence number found.
        found: u64,
    },
    /// The entry does not point at the hash of the entry before it.
    #[error("entry {seq}: its previous-hash does not match entry {}: the chain was cut or entries were swapped", seq.saturating_sub(1))]
    Link {
        /// Entry.
        seq: u64,
    },
    /// The entry's content does not produce its hash.
    #[error("entry {seq}: content does not match its hash (stored {stored}, computed {computed}): the entry was edited")]
    Content {
        /// Entry.
        seq: u64,
        /// Hash stored.
        stored: String,
        /// Hash computed from the content.
        computed: String,
    },
}

impl ChainError {
    /// The sequence number of the entry at fault.
    pub fn seq(&self) -> u64 {
        match self {
            ChainError::Sequence { found, .. } => *found,
            ChainError::Link { seq } | ChainError::Content { seq, .. } => *seq,
        }
    }
}

/// Walks a chain entry by entry, from the start.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    head: Head,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier { head: Head::EMPTY }
    }
}

impl ChainVerifier {
    /// Checks the next entry. After an error the verifier stays where it was,
    /// so the caller reports the first fault.
    pub fn check(&mut self, entry: &Entry) -> Result<(), ChainError> {
        let expected = self.head.seq + 1;
        if entry.seq != expected {
            return Err(ChainError::Sequence { expected, found: entry.seq });
        }
        let computed = entry_hash(&entry.prev_hash, entry.seq, &entry.record);
        if computed != entry.hash {
            return Err(ChainError::Content { seq: entry.seq, stored: to_hex(&entry.hash), computed: to_hex(&computed) });
        }
        if entry.prev_hash != self.head.hash {
            return Err(ChainError::Link { seq: entry.seq });
        }
        self.head = Head { seq: entry.seq, hash: entry.hash };
        Ok(())
    }

    /// A verifier that continues after entry `seq` with hash `hash`, used to
    /// keep walking past a fault so every fault is reported.
    pub fn resume(seq: u64, hash: Hash) -> ChainVerifier {
        ChainVerifier { head: Head { seq, hash } }
    }

    /// The last entry accepted.
    pub fn head(&self) -> Head {
        self.head
    }
}

/// Merkle root (RFC 6962 shape: 0x00-prefixed leaves, 0x01-prefixed nodes,
/// split at the largest power of two) over entry hashes. Empty input hashes to
/// SHA-256 of nothing. This is the transparency log's tree hash
/// ([`merkle::tree_hash`] of the entries' leaf hashes); range checkpoints use
/// it over their range.
pub fn merkle_root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => Sha256::digest([]).into(),
        [leaf] => {
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(leaf);
            h.finalize().into()
        }
        _ => {
            let split = leaves.len().next_power_of_two() / 2;
            let (left, right) = leaves.split_at(split);
            let mut h = Sha256::new();
            h.update([1u8]);
            h.update(merkle_root(left));
            h.update(merkle_root(right));
            h.finalize().into()
        }
    }
}

/// A signed statement that entries `from_seq..=to_seq` have the given root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// First entry covered.
    pub from_seq: u64,
    /// Last entry covered.
    pub to_seq: u64,
    /// Hash of entry `to_seq`.
    pub to_hash: Hash,
    /// Merkle root over the hashes of the covered entries.
    pub root: Hash,
    /// When signed, microseconds since the epoch.
    pub signed_at: i64,
    /// The signing key's public half.
    pub public_key: [u8; 32],
    /// Ed25519 signature over [`Checkpoint::message`].
    pub signature: [u8; 64],
}

impl Checkpoint {
    /// The frozen signed message (format 1).
    pub fn message(from_seq: u64, to_seq: u64, to_hash: &Hash, root: &Hash, signed_at: i64) -> Vec<u8> {
        let mut m = Vec::with_capacity(3 + 1 + 8 * 3 + 64);
        m.extend_from_slice(b"CTC");
        m.push(CHECKPOINT_FORMAT);
        m.extend_from_slice(&from_seq.to_be_bytes());
        m.extend_from_slice(&to_seq.to_be_bytes());
        m.extend_from_slice(to_hash);
        m.extend_from_slice(root);
        m.extend_from_slice(&signed_at.to_be_bytes());
        m
    }

    /// Signs a checkpoint over `entries` (their hashes, in order, starting at `from_seq`).
    pub fn sign(key: &SigningKey, from_seq: u64, hashes: &[Hash], signed_at: i64) -> Option<Checkpoint> {
        let to_hash = *hashes.last()?;
        let to_seq = from_seq.checked_add(u64::try_from(hashes.len()).ok()?)?.checked_sub(1)?;
        let root = merkle_root(hashes);
        let signature = key.sign(&Checkpoint::message(from_seq, to_seq, &to_hash, &root, signed_at));
        Some(Checkpoint {
            from_seq,
            to_seq,
            to_hash,
            root,
            signed_at,
            public_key: key.verifying_key().to_bytes(),
            signature: signature.to_bytes(),
        })
    }

    /// Checks the checkpoint against the entry hashes of its range and the
    /// deployment's public key.
    pub fn verify(&self, trusted: &VerifyingKey, hashes: &[Hash]) -> Result<(), CheckpointError> {
        let at = (self.from_seq, self.to_seq);
        if self.public_key != trusted.to_bytes() {
            return Err(CheckpointError::UnknownKey { range: at, key: to_hex(&self.public_key) });
        }
        let expected_len = self.to_seq.checked_sub(self.from_seq).and_then(|d| d.checked_add(1));
        if expected_len != u64::try_from(hashes.len()).ok() {
            return Err(CheckpointError::Range { range: at, entries: hashes.len() });
        }
        if hashes.last() != Some(&self.to_hash) || merkle_root(hashes) != self.root {
            return Err(CheckpointError::Root { range: at });
        }
        let signature = ed25519_dalek::Signature::from_bytes(&self.signature);
        let message = Checkpoint::message(self.from_seq, self.to_seq, &self.to_hash, &self.root, self.signed_at);
        trusted
            .verify(&message, &signature)
            .map_err(|_| CheckpointError::Signature { range: at })
    }
}

/// What is wrong with a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// Signed by a key that is not the deployment's.
    #[error("checkpoint {}..{}: signed by key {key}, which is not this deployment's key", range.0, range.1)]
    UnknownKey {
        /// Range.
        range: (u64, u64),
        /// Key found.
        key: String,
    },
    /// The range does not match the entries present.
    #[error("checkpoint {}..{}: {entries} entries exist in that range", range.0, range.1)]
    Range {
        /// Range.
        range: (u64, u64),
        /// Entries found.
        entries: usize,
    },
    /// The entries in the range no longer produce the signed root.
    #[error("checkpoint {}..{}: the entries in this range no longer match the signed Merkle root", range.0, range.1)]
    Root {
        /// Range.
        range: (u64, u64),
    },
    /// The signature does not verify.
    #[error("checkpoint {}..{}: the signature is not valid", range.0, range.1)]
    Signature {
        /// Range.
        range: (u64, u64),
    },
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, to_hex(&self.hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(n: u8) -> Record {
        Record {
            recorded_at: 1_700_000_000_000_000 + i64::from(n),
            actor: "staff:nurse-1".into(),
            site: "clinic-a".into(),
            kind: "unit_released".into(),
            payload: vec![n; 3],
        }
    }

    fn chain(n: u8) -> Vec<Entry> {
        let mut head = Head::EMPTY;
        (0..n).map(|i| head.append(record(i))).collect()
    }

    /// Hash of `record(7)` as entry 1, computed once when format 1 was frozen.
    const PINNED_HASH: &str = "34db9ef1b633cd01d8cc80f6b7c7d12b71621cca4bd80e909de50e17d8ba4691";

    #[test]
    fn canonical_encoding_is_frozen() {
        // Changing this hash means old chains no longer verify: add a new format instead.
        let mut head = Head::EMPTY;
        let e = head.append(record(7));
        let bytes = canonical_bytes(1, &record(7));
        assert_eq!(&bytes[..4], b"CTL\x01");
        assert_eq!(bytes.len(), 4 + 8 + 8 + 4 * 4 + 13 + 8 + 13 + 3);
        assert_eq!(to_hex(&e.hash), PINNED_HASH);
    }

    #[test]
    fn a_clean_chain_verifies() {
        let mut v = ChainVerifier::default();
        for e in chain(10) {
            assert_eq!(v.check(&e), Ok(()));
        }
        assert_eq!(v.head().seq, 10);
    }

    #[test]
    fn an_edited_payload_is_named() {
        let mut entries = chain(5);
        entries[2].record.payload.push(1);
        let mut v = ChainVerifier::default();
        let err = entries.iter().try_for_each(|e| v.check(e)).unwrap_err();
        assert!(matches!(err, ChainError::Content { seq: 3, .. }), "{err}");
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let mut entries = chain(5);
        entries.remove(1);
        let mut v = ChainVerifier::default();
        let err = entries.iter().try_for_each(|e| v.check(e)).unwrap_err();
        assert_eq!(err, ChainError::Sequence { expected: 2, found: 3 });
    }

    #[test]
    fn swapped_entries_are_named_even_when_renumbered() {
        let entries = chain(5);
        // An attacker swaps the content of entries 2 and 3 and recomputes their hashes.
        let mut forged = vec![entries[0].clone()];
        let mut head = Head { seq: 1, hash: entries[0].hash };
        forged.push(head.append(entries[2].record.clone()));
        forged.push(head.append(entries[1].record.clone()));
        forged.push(entries[3].clone());
        let mut v = ChainVerifier::default();
        let err = forged.iter().try_for_each(|e| v.check(e)).unwrap_err();
        assert_eq!(err, ChainError::Link { seq: 4 });
    }

    #[test]
    fn checkpoints_sign_and_verify_and_catch_changes() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let entries = chain(9);
        let hashes: Vec<Hash> = entries.iter().map(|e| e.hash).collect();
        let cp = Checkpoint::sign(&key, 1, &hashes, 5).expect("non-empty");
        assert_eq!((cp.from_seq, cp.to_seq), (1, 9));
        assert_eq!(cp.verify(&key.verifying_key(), &hashes), Ok(()));
        let mut changed = hashes.clone();
        changed[4][0] ^= 1;
        assert_eq!(cp.verify(&key.verifying_key(), &changed), Err(CheckpointError::Root { range: (1, 9) }));
        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(matches!(cp.verify(&other.verifying_key(), &hashes), Err(CheckpointError::UnknownKey { .. })));
        let mut bad_sig = cp.clone();
        bad_sig.signature[0] ^= 1;
        assert_eq!(bad_sig.verify(&key.verifying_key(), &hashes), Err(CheckpointError::Signature { range: (1, 9) }));
        assert!(matches!(cp.verify(&key.verifying_key(), &hashes[..8]), Err(CheckpointError::Range { .. })));
    }

    #[test]
    fn merkle_root_distinguishes_order_and_size() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        assert_ne!(merkle_root(&[a, b]), merkle_root(&[b, a]));
        assert_ne!(merkle_root(&[a]), merkle_root(&[a, a]));
        assert_ne!(merkle_root(&[a]), a);
    }

    #[test]
    fn merkle_root_is_the_transparency_log_tree_hash() {
        let entries = chain(40);
        let hashes: Vec<Hash> = entries.iter().map(|e| e.hash).collect();
        let mut range = CompactRange::new();
        for n in 0..=hashes.len() {
            let leaves: Vec<Hash> = hashes[..n].iter().map(|h| merkle::leaf_hash(h)).collect();
            assert_eq!(merkle_root(&hashes[..n]), merkle::tree_hash(&leaves), "size {n}");
            assert_eq!(merkle_root(&hashes[..n]), range.root(), "size {n}");
            if let Some(h) = hashes.get(n) {
                range.append(merkle::leaf_hash(h));
            }
        }
    }

    proptest! {
        #[test]
        fn any_single_byte_change_is_detected(n in 2u8..20, at in 0usize..20, byte in 0usize..3) {
            let mut entries = chain(n);
            let at = at % entries.len();
            entries[at].record.payload[byte] ^= 0x55;
            let mut v = ChainVerifier::default();
            let err = entries.iter().try_for_each(|e| v.check(e));
            prop_assert_eq!(err.map_err(|e| e.seq()), Err(at as u64 + 1));
        }
    }
}
