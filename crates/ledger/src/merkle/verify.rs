//! Proof verification exactly as RFC 9162 describes it: inclusion
//! (§2.1.3.2) and consistency (§2.1.4.2), with the edge cases (empty tree,
//! equal sizes, index out of range, proofs of the wrong length) named by
//! [`ProofError`]. Needs nothing but the proof, the sizes and the roots.

use super::{bit_len, empty_root, node_hash, ProofError};
use crate::Hash;

/// The number of hashes in the inclusion proof of `index` in a tree of
/// `size` leaves, `index < size`: a sibling per level below the point where
/// the paths to `index` and to the last leaf meet, then one per left sibling
/// on the right edge above it.
fn inclusion_len(index: u64, size: u64) -> usize {
    let inner = bit_len(index ^ (size - 1));
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// Verifies that `leaf_hash` is leaf `leaf_index` of the tree of `tree_size`
/// leaves whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if leaf_index >= tree_size {
        return Err(ProofError::IndexOutOfRange { index: leaf_index, size: tree_size });
    }
    let expected = inclusion_len(leaf_index, tree_size);
    let wrong_length = ProofError::WrongProofLength { expected, actual: proof.len() };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    // The RFC's algorithm, step by step: fn, sn and r.
    let (mut f, mut s, mut r) = (leaf_index, tree_size - 1, *leaf_hash);
    for p in proof {
        if s == 0 {
            return Err(wrong_length);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The number of hashes in the consistency proof from `size1` to `size2`,
/// `0 < size1 < size2`: the old tree's last perfect subtree unless it is the
/// whole old tree, then the path from that subtree to the new root.
fn consistency_len(size1: u64, size2: u64) -> usize {
    let level = size1.trailing_zeros();
    let index = (size1 - 1) >> level;
    let seed = usize::from(index != 0);
    seed + inclusion_len(index, ((size2 - 1) >> level) + 1)
}

/// Verifies that the tree of `size2` leaves with root `root2` extends the
/// tree of `size1` leaves with root `root1` (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots (the empty tree's root
/// being [`empty_root`]); a proof from size 0 to a larger size does not exist
/// ([`ProofError::FromEmptyTree`]).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength { expected: 0, actual: proof.len() });
        }
        if root1 != root2 {
            return Err(ProofError::RootsDiffer { size: size1 });
        }
        if size1 == 0 && *root1 != empty_root() {
            return Err(ProofError::NotEmptyRoot);
        }
        return Ok(());
    }
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree { size2 });
    }
    let expected = consistency_len(size1, size2);
    let wrong_length = ProofError::WrongProofLength { expected, actual: proof.len() };
    // Step 1 (an empty proof fails) is covered: `expected` is at least 1.
    if proof.len() != expected {
        return Err(wrong_length);
    }
    // Step 2: when size1 is a power of two the old root starts the path.
    let (seed, rest) = if size1.is_power_of_two() {
        (root1, proof)
    } else {
        match proof.split_first() {
            Some(split) => split,
            None => return Err(wrong_length),
        }
    };
    // Steps 3 and 4.
    let (mut f, mut s) = (size1 - 1, size2 - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    // Step 5.
    let (mut fr, mut sr) = (*seed, *seed);
    // Step 6.
    for c in rest {
        if s == 0 {
            return Err(wrong_length);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    // Step 7.
    if s != 0 {
        return Err(wrong_length);
    }
    if fr != *root1 {
        return Err(ProofError::FirstRootMismatch { size1 });
    }
    if sr != *root2 {
        return Err(ProofError::SecondRootMismatch { size1, size2 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{consistency_proof_nodes, inclusion_proof_nodes};

    #[test]
    fn proof_lengths_match_the_plans() {
        for size in 1..70u64 {
            for index in 0..size {
                let plan = inclusion_proof_nodes(index, size).expect("index < size");
                assert_eq!(plan.len(), inclusion_len(index, size), "{index} in {size}");
            }
            for size1 in 1..size {
                let plan = consistency_proof_nodes(size1, size).expect("0 < size1 < size2");
                assert_eq!(plan.len(), consistency_len(size1, size), "{size1} to {size}");
            }
        }
    }

    #[test]
    fn plans_work_at_the_largest_sizes() {
        let plan = inclusion_proof_nodes(u64::MAX - 1, u64::MAX).expect("in range");
        assert_eq!(plan.len(), inclusion_len(u64::MAX - 1, u64::MAX));
        let plan = consistency_proof_nodes(1 << 63, u64::MAX).expect("ordered");
        assert_eq!(plan.len(), consistency_len(1 << 63, u64::MAX));
        assert_eq!(consistency_proof_nodes(0, 5), Err(ProofError::FromEmptyTree { size2: 5 }));
        assert_eq!(consistency_proof_nodes(3, 3), Ok(vec![]));
    }
}
