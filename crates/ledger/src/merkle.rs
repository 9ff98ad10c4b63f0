//! The transparency log's Merkle tree (RFC 9162 §2.1): leaf and node hashing,
//! the tree hash for any size, the compact range a store keeps while it
//! appends, proof planning (which stored nodes a proof needs), proof assembly
//! from fetched node hashes, and inclusion and consistency proof verification.
//!
//! In celltrace's tree, leaf `i` (from 0) is the ledger entry with `seq = i + 1`
//! and the leaf input is that entry's 32-byte chain hash, so its leaf hash is
//! `leaf_hash(&entry.hash)` = SHA-256(0x00 || entry hash). [`crate::merkle_root`]
//! computes the same tree hash over a slice of entry hashes.
//!
//! # Storage model
//!
//! A store keeps the hash of every *perfect* subtree, addressed by [`NodeId`]:
//! node `(level, index)` is the hash of leaves `[index·2^level, (index+1)·2^level)`;
//! level 0 holds the leaf hashes. [`CompactRange::append`] returns exactly the
//! nodes each new leaf completes (one per level it climbs), so a store writes
//! about two nodes per entry and never rehashes the past.
//!
//! Every root and proof for any size `n` up to the store's size is made from
//! O(log n) of these nodes, so a store answers with indexed lookups only:
//!
//! 1. plan: [`inclusion_proof_nodes`], [`consistency_proof_nodes`] or
//!    [`frontier`] say which proof elements are needed, as [`NodeRef`]s;
//! 2. fetch: [`node_ids`] flattens the plan into the stored nodes to read (one
//!    batched query, async or not);
//! 3. assemble: [`assemble_proof`] (or [`CompactRange::from_hashes`] for a root)
//!    turns the fetched hashes, in the same order, into the proof.
//!
//! [`inclusion_proof`], [`consistency_proof`] and [`root_at`] run the three
//! steps against a synchronous [`NodeSource`].

use crate::Hash;
use sha2::{Digest, Sha256};
use std::ops::Range;

mod verify;

pub use verify::{verify_consistency, verify_inclusion};

/// The hash of a leaf: SHA-256(0x00 || input).
pub fn leaf_hash(input: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(input);
    h.finalize().into()
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SHA-256 of no bytes.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The tree hash (RFC 9162 `MTH`) of a list of leaf *hashes*: the empty root
/// for none, the leaf hash for one, otherwise the node over the first `k`
/// leaves and the rest, `k` being the largest power of two below the count.
/// Linear in the number of leaves; stores use [`CompactRange`] or [`root_at`].
pub fn tree_hash(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes {
        [] => empty_root(),
        [leaf] => *leaf,
        _ => {
            // The largest power of two below the count.
            let k = 1usize << (usize::BITS - 1 - (leaf_hashes.len() - 1).leading_zeros());
            let (left, right) = leaf_hashes.split_at(k);
            node_hash(&tree_hash(left), &tree_hash(right))
        }
    }
}

/// The number of significant bits of `x` (0 for 0).
fn bit_len(x: u64) -> u32 {
    64 - x.leading_zeros()
}

/// A perfect subtree of the log: the hash of leaves
/// `[index·2^level, (index+1)·2^level)`. Level 0 nodes are leaf hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves (0..=63).
    pub level: u8,
    /// Position among the nodes of that level, from 0.
    pub index: u64,
}

impl NodeId {
    /// The node at `level`, `index`.
    pub const fn new(level: u8, index: u64) -> NodeId {
        NodeId { level, index }
    }

    /// The leaves the node covers, `None` for a node no tree can hold (a
    /// level above 63, or a range past `u64::MAX` leaves).
    pub fn leaf_range(&self) -> Option<Range<u64>> {
        let count = 1u64.checked_shl(u32::from(self.level))?;
        let begin = self.index.checked_mul(count)?;
        Some(begin..begin.checked_add(count)?)
    }
}

/// One element of a proof, as a store finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeRef {
    /// A perfect subtree: read its stored hash.
    Perfect(NodeId),
    /// A subtree on the right edge of the tree that is not perfect (its last
    /// leaf is the tree's last leaf). Its hash is made from the listed perfect
    /// subtrees, largest (leftmost) first, folded from the right:
    /// `node_hash(h0, node_hash(h1, … node_hash(h_{k-2}, h_{k-1})))`.
    Partial(Vec<NodeId>),
}

impl NodeRef {
    /// The stored nodes this element is made of, left to right.
    pub fn ids(&self) -> &[NodeId] {
        match self {
            NodeRef::Perfect(id) => std::slice::from_ref(id),
            NodeRef::Partial(ids) => ids,
        }
    }
}

/// Why a proof was refused, or could not be requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// Leaf index asked for.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// The first tree is larger than the second: a log never shrinks.
    #[error("tree size {size1} is larger than tree size {size2}: a log never shrinks")]
    SizesOutOfOrder {
        /// Older size.
        size1: u64,
        /// Newer size.
        size2: u64,
    },
    /// A consistency proof from the empty tree was asked for: there is nothing
    /// it could prove, so none exists (RFC 9162 defines proofs for `0 < m`).
    #[error("no consistency proof exists from the empty tree (to size {size2})")]
    FromEmptyTree {
        /// Newer size.
        size2: u64,
    },
    /// The proof has the wrong number of hashes for these sizes.
    #[error("wrong proof length: {actual} given, these tree sizes need exactly {expected}")]
    WrongProofLength {
        /// Length the sizes determine.
        expected: usize,
        /// Length given.
        actual: usize,
    },
    /// The inclusion proof does not lead to the given root.
    #[error("the inclusion proof leads to a different root: the leaf is not at that index in that tree")]
    RootMismatch,
    /// The consistency proof does not rebuild the older root.
    #[error("the consistency proof does not rebuild the root of tree size {size1}")]
    FirstRootMismatch {
        /// Older size.
        size1: u64,
    },
    /// The consistency proof does not rebuild the newer root.
    #[error("the consistency proof does not rebuild the root of tree size {size2}: it does not extend size {size1}")]
    SecondRootMismatch {
        /// Older size.
        size1: u64,
        /// Newer size.
        size2: u64,
    },
    /// Two different roots were given for the same tree size: a fork.
    #[error("two different roots for tree size {size}")]
    RootsDiffer {
        /// The size both roots claim.
        size: u64,
    },
    /// A root other than [`empty_root`] was given for the empty tree.
    #[error("the root given for the empty tree is not the hash of nothing")]
    NotEmptyRoot,
}

/// Fetched hashes do not match the nodes that were asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{actual} node hashes were supplied for {expected} requested nodes")]
pub struct NodeCountMismatch {
    /// Nodes requested.
    pub expected: usize,
    /// Hashes supplied.
    pub actual: usize,
}

/// A proof could not be built from a [`NodeSource`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError<E> {
    /// The request is invalid (index out of range, sizes out of order…).
    #[error(transparent)]
    Request(#[from] ProofError),
    /// The source failed to produce a node (e.g. a store error or a node
    /// beyond the sizes it holds).
    #[error("reading a stored tree node: {0}")]
    Source(E),
}

/// Where stored perfect-subtree hashes come from (a database table, a map).
///
/// Any `Fn(u8, u64) -> Result<Hash, E>` closure is a `NodeSource`. An async
/// store uses the plan/assemble functions instead and fetches in one batch.
pub trait NodeSource {
    /// Why a node could not be read.
    type Error;

    /// The stored hash of the perfect subtree at `level`, `index`.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

impl<F, E> NodeSource for F
where
    F: Fn(u8, u64) -> Result<Hash, E>,
{
    type Error = E;

    fn node(&self, level: u8, index: u64) -> Result<Hash, E> {
        self(level, index)
    }
}

/// Folds subtree hashes listed left to right (largest first) into the hash of
/// the tree they make up (the empty tree for none).
fn fold_right(hashes: &[Hash]) -> Hash {
    match hashes.split_last() {
        None => empty_root(),
        Some((last, left)) => left.iter().rev().fold(*last, |right, h| node_hash(h, &right)),
    }
}

/// The perfect subtrees that make up leaves `[begin, end)`, left to right,
/// given that `begin` is a multiple of a power of two above `end - begin`
/// (true of every right-edge subtree and of `[0, size)`).
fn decompose(begin: u64, end: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut at = begin;
    let len = end - begin;
    for level in (0..64u8).rev() {
        if len >> level & 1 == 1 {
            out.push(NodeId::new(level, at >> level));
            at += 1 << level;
        }
    }
    out
}

/// The perfect subtrees whose hashes make up the root of the tree of `size`
/// leaves (one per set bit of `size`), left to right. Their fold from the
/// right is the root; this is also the frontier a [`CompactRange`] holds.
pub fn frontier(size: u64) -> Vec<NodeId> {
    decompose(0, size)
}

/// The path from the perfect node (`level`, `index`), which lies inside
/// `[0, size)`, up to the root of the tree of `size` leaves: the sibling of
/// each node on the way, bottom up.
fn path(level: u8, index: u64, size: u64, out: &mut Vec<NodeRef>) {
    // The last node on this level (possibly not perfect) holds leaf size - 1.
    let last = (size - 1) >> level;
    // Below this many levels, the paths to our node and to the last node are
    // apart, so siblings are on both sides; above, the path runs along the
    // tree's right edge, where only left siblings exist.
    let inner = bit_len(index ^ last);
    for step in 0..inner {
        // step < inner <= 64 - level, so the level fits in 0..=63.
        let lvl = level + step as u8;
        let sibling = (index >> step) ^ 1;
        let begin = sibling << lvl;
        if size - begin >= 1 << lvl {
            out.push(NodeRef::Perfect(NodeId::new(lvl, sibling)));
        } else {
            out.push(NodeRef::Partial(decompose(begin, size)));
        }
    }
    for step in inner..64 - u32::from(level) {
        let here = index >> step;
        if here & 1 == 1 {
            out.push(NodeRef::Perfect(NodeId::new(level + step as u8, here - 1)));
        }
    }
}

/// Which subtree hashes make the inclusion proof of leaf `index` in the tree
/// of `size` leaves (RFC 9162 §2.1.3.1), bottom up.
pub fn inclusion_proof_nodes(index: u64, size: u64) -> Result<Vec<NodeRef>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    path(0, index, size, &mut out);
    Ok(out)
}

/// Which subtree hashes make the consistency proof from tree size `size1` to
/// `size2` (RFC 9162 §2.1.4.1). Empty when the sizes are equal.
pub fn consistency_proof_nodes(size1: u64, size2: u64) -> Result<Vec<NodeRef>, ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == size2 {
        return Ok(Vec::new());
    }
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree { size2 });
    }
    // The old tree's smallest (rightmost) perfect subtree: its leaves are
    // [size1 - 2^level, size1). The proof starts with it, unless it is the
    // whole old tree (the verifier has that root already), and continues with
    // the path from it to the new root.
    let level = size1.trailing_zeros() as u8;
    let index = (size1 - 1) >> level;
    let mut out = Vec::new();
    if index != 0 {
        out.push(NodeRef::Perfect(NodeId::new(level, index)));
    }
    path(level, index, size2, &mut out);
    Ok(out)
}

/// All stored nodes a plan reads, in order: fetch these, then pass their
/// hashes in the same order to [`assemble_proof`].
pub fn node_ids(plan: &[NodeRef]) -> Vec<NodeId> {
    plan.iter().flat_map(|r| r.ids().iter().copied()).collect()
}

/// Builds the proof from a plan and the hashes of [`node_ids`]`(plan)`, in
/// that order: a perfect element is its hash, a partial one the fold of its
/// parts.
pub fn assemble_proof(plan: &[NodeRef], hashes: &[Hash]) -> Result<Vec<Hash>, NodeCountMismatch> {
    let expected: usize = plan.iter().map(|r| r.ids().len()).sum();
    if hashes.len() != expected {
        return Err(NodeCountMismatch { expected, actual: hashes.len() });
    }
    let mut rest = hashes;
    let mut proof = Vec::with_capacity(plan.len());
    for r in plan {
        let (these, tail) = rest.split_at(r.ids().len());
        rest = tail;
        proof.push(fold_right(these));
    }
    Ok(proof)
}

/// Reads the given stored nodes, in order.
fn read<S: NodeSource + ?Sized>(ids: &[NodeId], source: &S) -> Result<Vec<Hash>, S::Error> {
    ids.iter().map(|id| source.node(id.level, id.index)).collect()
}

/// Runs a plan against a synchronous source.
fn fetch<S: NodeSource + ?Sized>(plan: &[NodeRef], source: &S) -> Result<Vec<Hash>, S::Error> {
    plan.iter().map(|r| Ok(fold_right(&read(r.ids(), source)?))).collect()
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves, read from
/// `source` with O(log size) lookups.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    index: u64,
    size: u64,
    source: &S,
) -> Result<Vec<Hash>, FetchError<S::Error>> {
    let plan = inclusion_proof_nodes(index, size)?;
    fetch(&plan, source).map_err(FetchError::Source)
}

/// The consistency proof from tree size `size1` to `size2`, read from
/// `source` with O(log size2) lookups.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    size1: u64,
    size2: u64,
    source: &S,
) -> Result<Vec<Hash>, FetchError<S::Error>> {
    let plan = consistency_proof_nodes(size1, size2)?;
    fetch(&plan, source).map_err(FetchError::Source)
}

/// The root of the tree as it was at `size` leaves, from the stored perfect
/// subtrees of its frontier (one lookup per set bit of `size`).
pub fn root_at<S: NodeSource + ?Sized>(size: u64, source: &S) -> Result<Hash, S::Error> {
    Ok(CompactRange::from_nodes(size, source)?.root())
}

/// The right edge of a tree of `size` leaves: the hashes of its [`frontier`]
/// subtrees. Enough to append and to compute the root, in O(log size) space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    /// Frontier hashes, left to right (largest subtree first).
    hashes: Vec<Hash>,
}

impl CompactRange {
    /// The range of the empty tree.
    pub fn new() -> CompactRange {
        CompactRange::default()
    }

    /// Rebuilds the range of a tree of `size` leaves from the hashes of
    /// [`frontier`]`(size)`, in that order.
    pub fn from_hashes(size: u64, hashes: Vec<Hash>) -> Result<CompactRange, NodeCountMismatch> {
        let expected = size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(NodeCountMismatch { expected, actual: hashes.len() });
        }
        Ok(CompactRange { size, hashes })
    }

    /// Rebuilds the range of a tree of `size` leaves by reading its frontier
    /// nodes from a store (at most 64 lookups).
    pub fn from_nodes<S: NodeSource + ?Sized>(size: u64, source: &S) -> Result<CompactRange, S::Error> {
        let hashes = read(&frontier(size), source)?;
        Ok(CompactRange { size, hashes })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The frontier subtrees and their hashes, left to right.
    pub fn nodes(&self) -> Vec<(NodeId, Hash)> {
        frontier(self.size).into_iter().zip(self.hashes.iter().copied()).collect()
    }

    /// Appends a leaf, given its leaf hash (for a ledger entry,
    /// `leaf_hash(&entry.hash)`), and returns every perfect subtree it
    /// completes, bottom up: the leaf itself at level 0, then one node per
    /// level it climbs. A store persists all of them.
    ///
    /// # Panics
    ///
    /// If the tree already holds `u64::MAX` leaves.
    pub fn append(&mut self, leaf_hash: Hash) -> Vec<(NodeId, Hash)> {
        let index = self.size;
        let size = index.checked_add(1).expect("a tree holds at most u64::MAX leaves");
        let mut completed = vec![(NodeId::new(0, index), leaf_hash)];
        let mut hash = leaf_hash;
        // The new leaf merges with one frontier subtree per trailing 1 bit of
        // the old size (= trailing 0 bits of the new one).
        for level in 1..=size.trailing_zeros() {
            if let Some(left) = self.hashes.pop() {
                hash = node_hash(&left, &hash);
                // level <= 63 because size <= u64::MAX.
                completed.push((NodeId::new(level as u8, index >> level), hash));
            }
        }
        self.hashes.push(hash);
        self.size = size;
        completed
    }

    /// The tree hash of the leaves appended so far.
    pub fn root(&self) -> Hash {
        fold_right(&self.hashes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposition_covers_the_range_in_order() {
        assert_eq!(frontier(0), vec![]);
        assert_eq!(frontier(11), vec![NodeId::new(3, 0), NodeId::new(1, 4), NodeId::new(0, 10)]);
        assert_eq!(frontier(u64::MAX).len(), 64);
        assert_eq!(decompose(8, 11), vec![NodeId::new(1, 4), NodeId::new(0, 10)]);
        assert_eq!(NodeId::new(1, 4).leaf_range(), Some(8..10));
        assert_eq!(NodeId::new(63, 0).leaf_range(), Some(0..1 << 63));
        assert_eq!(NodeId::new(63, 1).leaf_range(), None);
        assert_eq!(NodeId::new(64, 0).leaf_range(), None);
    }
}
