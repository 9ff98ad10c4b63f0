//! Properties of the transparency log tree: proofs built the way a store
//! builds them (plan, fetch perfect nodes filled by `CompactRange::append`,
//! assemble) equal the RFC 9162 definitions and verify, and any change to a
//! proof, root, leaf, index or size is caught.

use celltrace_ledger::merkle::{
    self, assemble_proof, consistency_proof_nodes, inclusion_proof_nodes, node_ids, root_at, CompactRange, NodeId,
    NodeRef,
};
use celltrace_ledger::{verify_consistency, verify_inclusion, Hash, NodeCountMismatch, ProofError};
use proptest::prelude::*;
use std::collections::HashMap;

/// A log of `n` made-up leaves and every perfect node `append` returned.
struct Store {
    leaves: Vec<Hash>,
    nodes: HashMap<NodeId, Hash>,
    range: CompactRange,
}

impl Store {
    fn new(n: u64, seed: u64) -> Store {
        let mut store = Store { leaves: Vec::new(), nodes: HashMap::new(), range: CompactRange::new() };
        for i in 0..n {
            let mut input = seed.to_be_bytes().to_vec();
            input.extend_from_slice(&i.to_be_bytes());
            store.push(merkle::leaf_hash(&input));
        }
        store
    }

    fn push(&mut self, leaf: Hash) {
        let completed = self.range.append(leaf);
        assert_eq!(completed[0], (NodeId::new(0, self.leaves.len() as u64), leaf));
        for (id, hash) in completed {
            assert!(self.nodes.insert(id, hash).is_none(), "node {id:?} completed twice");
        }
        self.leaves.push(leaf);
    }

    /// A node source that serves only nodes inside the first `limit` leaves,
    /// so a proof for a past size provably uses nothing appended later.
    fn source(&self, limit: u64) -> impl Fn(u8, u64) -> Result<Hash, String> + '_ {
        move |level, index| {
            let id = NodeId::new(level, index);
            if id.leaf_range().is_none_or(|leaves| leaves.end > limit) {
                return Err(format!("{id:?} lies beyond tree size {limit}"));
            }
            self.nodes.get(&id).copied().ok_or_else(|| format!("{id:?} is not stored"))
        }
    }

    /// Runs a plan as an async store would: list the nodes, fetch them all,
    /// assemble.
    fn fetch(&self, plan: &[NodeRef], limit: u64) -> Vec<Hash> {
        let source = self.source(limit);
        let hashes: Vec<Hash> =
            node_ids(plan).iter().map(|id| source(id.level, id.index).expect("node is stored")).collect();
        assemble_proof(plan, &hashes).expect("one hash per node")
    }

    fn inclusion(&self, index: u64, size: u64) -> Vec<Hash> {
        let plan = inclusion_proof_nodes(index, size).expect("index < size");
        let proof = self.fetch(&plan, size);
        let direct = merkle::inclusion_proof(index, size, &self.source(size)).expect("stored");
        assert_eq!(proof, direct, "plan path and sync path agree");
        proof
    }

    fn consistency(&self, size1: u64, size2: u64) -> Vec<Hash> {
        let plan = consistency_proof_nodes(size1, size2).expect("0 < size1 <= size2");
        let proof = self.fetch(&plan, size2);
        let direct = merkle::consistency_proof(size1, size2, &self.source(size2)).expect("stored");
        assert_eq!(proof, direct, "plan path and sync path agree");
        proof
    }

    fn root(&self, size: u64) -> Hash {
        root_at(size, &self.source(size)).expect("frontier is stored")
    }
}

/// RFC 9162 §2.1.1 `MTH`, written from the definition.
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => merkle::empty_root(),
        1 => d[0],
        n => {
            let k = split(n);
            merkle::node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// The largest power of two below `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 9162 §2.1.3.1 `PATH(m, D[n])`.
fn rfc_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    if d.len() <= 1 {
        return Vec::new();
    }
    let k = split(d.len());
    let (mut path, other) = if m < k { (rfc_path(m, &d[..k]), &d[k..]) } else { (rfc_path(m - k, &d[k..]), &d[..k]) };
    path.push(mth(other));
    path
}

/// RFC 9162 §2.1.4.1 `SUBPROOF(m, D[n], b)`.
fn rfc_subproof(m: usize, d: &[Hash], whole: bool) -> Vec<Hash> {
    if m == d.len() {
        return if whole { Vec::new() } else { vec![mth(d)] };
    }
    let k = split(d.len());
    let (mut proof, other) = if m <= k {
        (rfc_subproof(m, &d[..k], whole), &d[k..])
    } else {
        (rfc_subproof(m - k, &d[k..], false), &d[..k])
    };
    proof.push(mth(other));
    proof
}

/// Which side of the path each proof element sits on: all a verifier's
/// computation depends on besides the hashes themselves.
fn inclusion_shape(index: u64, size: u64) -> Option<Vec<bool>> {
    let plan = inclusion_proof_nodes(index, size).ok()?;
    Some(plan.iter().map(|r| r.ids()[0].leaf_range().expect("real node").start < index).collect())
}

/// The same for a consistency proof: whether the proof carries its seed, and
/// the side of each element relative to the old tree's last perfect subtree.
fn consistency_shape(size1: u64, size2: u64) -> Option<(bool, Vec<bool>)> {
    let plan = consistency_proof_nodes(size1, size2).ok()?;
    let seeded = !size1.is_power_of_two();
    let path = if seeded { &plan[1..] } else { &plan[..] };
    Some((seeded, path.iter().map(|r| r.ids()[0].leaf_range().expect("real node").start < size1).collect()))
}

fn flip(mut h: Hash, bit: usize) -> Hash {
    h[bit / 8 % 32] ^= 1 << (bit % 8);
    h
}

#[test]
fn compact_range_root_is_the_tree_hash_at_every_size() {
    let store = Store::new(300, 1);
    let mut range = CompactRange::new();
    for size in 0..=300usize {
        let root = mth(&store.leaves[..size]);
        assert_eq!(range.root(), root, "size {size}");
        assert_eq!(merkle::tree_hash(&store.leaves[..size]), root, "size {size}");
        assert_eq!(store.root(size as u64), root, "root_at {size}");
        if size < 300 {
            range.append(store.leaves[size]);
        }
    }
    // About two stored nodes per leaf: a store never holds more.
    assert_eq!(store.nodes.len(), 2 * 300 - 300usize.count_ones() as usize);
}

#[test]
fn proofs_equal_the_rfc_definitions_for_all_small_trees() {
    let store = Store::new(64, 2);
    for n in 1..=64usize {
        let d = &store.leaves[..n];
        let root = mth(d);
        for m in 0..n {
            let proof = store.inclusion(m as u64, n as u64);
            assert_eq!(proof, rfc_path(m, d), "inclusion {m} in {n}");
            assert_eq!(verify_inclusion(m as u64, n as u64, &d[m], &proof, &root), Ok(()), "{m} in {n}");
        }
        for m in 1..=n {
            let proof = store.consistency(m as u64, n as u64);
            assert_eq!(proof, rfc_subproof(m, d, true), "consistency {m} to {n}");
            assert_eq!(verify_consistency(m as u64, n as u64, &mth(&d[..m]), &root, &proof), Ok(()), "{m} to {n}");
        }
    }
}

#[test]
fn edge_cases_are_named() {
    let store = Store::new(5, 3);
    let root = store.root(5);
    let empty = merkle::empty_root();
    assert_eq!(
        verify_inclusion(5, 5, &store.leaves[0], &[], &root),
        Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(
        verify_inclusion(0, 0, &store.leaves[0], &[], &empty),
        Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
    );
    let mut long = store.inclusion(1, 5);
    long.push(root);
    assert_eq!(
        verify_inclusion(1, 5, &store.leaves[1], &long, &root),
        Err(ProofError::WrongProofLength { expected: 3, actual: 4 })
    );
    assert_eq!(
        verify_inclusion(1, 5, &store.leaves[1], &long[..2], &root),
        Err(ProofError::WrongProofLength { expected: 3, actual: 2 })
    );
    assert_eq!(verify_inclusion(0, 1, &store.leaves[0], &[], &store.leaves[0]), Ok(()));
    assert_eq!(verify_inclusion(0, 1, &store.leaves[0], &[], &root), Err(ProofError::RootMismatch));

    assert_eq!(verify_consistency(0, 0, &empty, &empty, &[]), Ok(()));
    assert_eq!(verify_consistency(0, 0, &root, &root, &[]), Err(ProofError::NotEmptyRoot));
    assert_eq!(verify_consistency(5, 5, &root, &root, &[]), Ok(()));
    assert_eq!(verify_consistency(5, 5, &root, &empty, &[]), Err(ProofError::RootsDiffer { size: 5 }));
    assert_eq!(
        verify_consistency(5, 5, &root, &root, &[root]),
        Err(ProofError::WrongProofLength { expected: 0, actual: 1 })
    );
    assert_eq!(verify_consistency(0, 5, &empty, &root, &[]), Err(ProofError::FromEmptyTree { size2: 5 }));
    assert_eq!(verify_consistency(5, 4, &root, &root, &[]), Err(ProofError::SizesOutOfOrder { size1: 5, size2: 4 }));
    assert_eq!(
        verify_consistency(3, 5, &store.root(3), &root, &[]),
        Err(ProofError::WrongProofLength { expected: 4, actual: 0 })
    );
    let proof = store.consistency(3, 5);
    assert_eq!(verify_consistency(3, 5, &root, &root, &proof), Err(ProofError::FirstRootMismatch { size1: 3 }));
    assert_eq!(
        verify_consistency(3, 5, &store.root(3), &store.root(3), &proof),
        Err(ProofError::SecondRootMismatch { size1: 3, size2: 5 })
    );

    assert_eq!(inclusion_proof_nodes(5, 5), Err(ProofError::IndexOutOfRange { index: 5, size: 5 }));
    assert_eq!(consistency_proof_nodes(6, 5), Err(ProofError::SizesOutOfOrder { size1: 6, size2: 5 }));
    assert_eq!(consistency_proof_nodes(0, 5), Err(ProofError::FromEmptyTree { size2: 5 }));
    let plan = inclusion_proof_nodes(0, 7).expect("in range");
    assert_eq!(assemble_proof(&plan, &[root]), Err(NodeCountMismatch { expected: 4, actual: 1 }));
    assert_eq!(CompactRange::from_hashes(5, vec![root]), Err(NodeCountMismatch { expected: 2, actual: 1 }));
    let missing = |_: u8, _: u64| Err::<Hash, _>("gone");
    assert_eq!(merkle::inclusion_proof(1, 5, &missing), Err(merkle::FetchError::Source("gone")));
    assert_eq!(merkle::inclusion_proof(5, 5, &missing), Err(ProofError::IndexOutOfRange { index: 5, size: 5 }.into()));
    assert_eq!(root_at(0, &missing), Ok(empty));
}

#[test]
fn a_proof_binds_a_leaf_to_a_root_and_the_signed_head_binds_the_size() {
    // Leaf 0's proof in a tree of 4 has the same shape as in a tree of 3 (two
    // siblings on the right), so the RFC algorithm accepts it for either size
    // against the same root. Sizes are trusted from the signed tree head.
    let four = Store::new(4, 9);
    let proof = four.inclusion(0, 4);
    assert_eq!(inclusion_shape(0, 3), inclusion_shape(0, 4));
    assert_eq!(verify_inclusion(0, 3, &four.leaves[0], &proof, &four.root(4)), Ok(()));
    assert!(verify_inclusion(0, 5, &four.leaves[0], &proof, &four.root(4)).is_err());
}

#[test]
fn a_partial_right_edge_node_is_listed_by_its_parts() {
    // Leaf 0 of 7: the siblings are leaf 1, leaves 2-3, and leaves 4-6,
    // which is not perfect: leaves 4-5 then leaf 6.
    let plan = inclusion_proof_nodes(0, 7).expect("in range");
    assert_eq!(
        plan,
        vec![
            NodeRef::Perfect(NodeId::new(0, 1)),
            NodeRef::Perfect(NodeId::new(1, 1)),
            NodeRef::Partial(vec![NodeId::new(1, 2), NodeId::new(0, 6)]),
        ]
    );
    assert_eq!(node_ids(&plan).len(), 4);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn inclusion_proofs_verify_and_catch_every_change(
        n in 1u64..300,
        seed in any::<u64>(),
        at in any::<prop::sample::Index>(),
        other in any::<prop::sample::Index>(),
        element in any::<prop::sample::Index>(),
        bit in 0usize..256,
        other_size in 1u64..300,
    ) {
        let store = Store::new(n, seed);
        let (i, root) = (at.index(n as usize) as u64, store.root(n));
        let leaf = store.leaves[i as usize];
        let proof = store.inclusion(i, n);
        prop_assert_eq!(verify_inclusion(i, n, &leaf, &proof, &root), Ok(()));

        prop_assert!(verify_inclusion(i, n, &leaf, &proof, &flip(root, bit)).is_err());
        prop_assert!(verify_inclusion(i, n, &flip(leaf, bit), &proof, &root).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let e = element.index(bad.len());
            bad[e] = flip(bad[e], bit);
            prop_assert!(verify_inclusion(i, n, &leaf, &bad, &root).is_err());
            bad = proof.clone();
            bad.remove(e);
            prop_assert!(verify_inclusion(i, n, &leaf, &bad, &root).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert!(verify_inclusion(i, n, &leaf, &longer, &root).is_err());

        // Another index of the same tree never accepts this proof.
        let j = other.index(n as usize) as u64;
        if j != i {
            prop_assert!(verify_inclusion(j, n, &leaf, &proof, &root).is_err());
        }
        // Another size accepts it only where the path has exactly the same
        // shape, so the RFC computation is literally the same: a proof binds
        // a leaf to a root; the signed tree head binds the root to its size.
        if other_size != n {
            let same_shape = inclusion_shape(i, other_size) == inclusion_shape(i, n);
            prop_assert_eq!(verify_inclusion(i, other_size, &leaf, &proof, &root).is_ok(), same_shape);
        }
    }

    #[test]
    fn consistency_proofs_verify_and_catch_every_change(
        n in 1u64..300,
        seed in any::<u64>(),
        at in any::<prop::sample::Index>(),
        element in any::<prop::sample::Index>(),
        bit in 0usize..256,
        other_size in 1u64..300,
        bump in 1u64..8,
    ) {
        let store = Store::new(n, seed);
        let m = at.index(n as usize) as u64 + 1;
        let (root1, root2) = (store.root(m), store.root(n));
        let proof = store.consistency(m, n);
        prop_assert_eq!(verify_consistency(m, n, &root1, &root2, &proof), Ok(()));

        prop_assert!(verify_consistency(m, n, &flip(root1, bit), &root2, &proof).is_err());
        prop_assert!(verify_consistency(m, n, &root1, &flip(root2, bit), &proof).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let e = element.index(bad.len());
            bad[e] = flip(bad[e], bit);
            prop_assert!(verify_consistency(m, n, &root1, &root2, &bad).is_err());
            bad = proof.clone();
            bad.remove(e);
            prop_assert!(verify_consistency(m, n, &root1, &root2, &bad).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root2);
        prop_assert!(verify_consistency(m, n, &root1, &root2, &longer).is_err());

        // A tree that changed one old leaf is caught.
        if m < n {
            let mut forked = Store::new(0, 0);
            for (k, leaf) in store.leaves.iter().enumerate() {
                forked.push(if k as u64 == m - 1 { flip(*leaf, bit) } else { *leaf });
            }
            prop_assert!(verify_consistency(m, n, &root1, &forked.root(n), &forked.consistency(m, n)).is_err());
        }
        // Other sizes accept the proof only where its shape is unchanged (see
        // the inclusion property).
        for (m2, n2) in [(m, other_size), (other_size, n), (m + bump, n), (m, n + bump)] {
            if (m2, n2) != (m, n) && m2 != n2 && m != n {
                let same_shape = consistency_shape(m2, n2) == consistency_shape(m, n);
                prop_assert_eq!(verify_consistency(m2, n2, &root1, &root2, &proof).is_ok(), same_shape, "{} to {}", m2, n2);
            }
        }
    }

    #[test]
    fn a_range_rebuilt_from_stored_nodes_appends_identically(
        n in 0u64..300,
        cut in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let full = Store::new(n, seed);
        let k = cut.index(n as usize + 1) as u64;
        // Replay the first k leaves to know what was stored then.
        let mut original = CompactRange::new();
        for leaf in &full.leaves[..k as usize] {
            original.append(*leaf);
        }
        let mut rebuilt = CompactRange::from_nodes(k, &full.source(k)).expect("frontier is stored");
        prop_assert_eq!(&rebuilt, &original);
        let ids: Vec<NodeId> = rebuilt.nodes().iter().map(|(id, _)| *id).collect();
        let hashes: Vec<Hash> = rebuilt.nodes().iter().map(|(_, h)| *h).collect();
        prop_assert_eq!(ids, merkle::frontier(k));
        prop_assert_eq!(CompactRange::from_hashes(k, hashes).expect("count matches"), original.clone());
        for leaf in &full.leaves[k as usize..] {
            prop_assert_eq!(rebuilt.append(*leaf), original.append(*leaf));
            prop_assert_eq!(rebuilt.root(), original.root());
        }
        prop_assert_eq!(rebuilt.size(), n);
        prop_assert_eq!(rebuilt.root(), mth(&full.leaves));
    }
}
