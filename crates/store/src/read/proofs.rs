//! Transparency-log reads: the newest signed tree head, and inclusion and
//! consistency proofs for any sizes the stored tree holds. Each proof is
//! planned by the ledger crate, its nodes fetched in one statement of
//! primary-key lookups, and assembled: nothing loads the ledger.

use super::Reader;
use crate::engine::seq_u64;
use crate::tlog::{arrange, bind_nodes, nodes_sql, tree_head_row, StoredTreeHead, TREE_HEAD_COLUMNS};
use crate::StoreError;
use celltrace_ledger::merkle::{assemble_proof, consistency_proof_nodes, frontier, inclusion_proof_nodes, node_ids};
use celltrace_ledger::{CompactRange, Hash, NodeId, NodeRef, ProofError};
use sqlx::Row;

/// Why a proof cannot be given for the sizes asked.
#[derive(Debug, thiserror::Error)]
pub enum ProofRequestError {
    /// The sizes or the entry are not a valid request (the message says why).
    #[error("{0}")]
    Invalid(String),
    /// A size beyond the ledger: no tree of that size exists (yet).
    #[error("{0}")]
    BeyondLedger(String),
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An inclusion proof: the audit path of entry `seq` (leaf `seq - 1`) in the
/// tree of `size` entries, bottom up, and the root it leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The entry.
    pub seq: u64,
    /// The tree size.
    pub size: u64,
    /// The entry's leaf hash, SHA-256(0x00 || entry hash).
    pub leaf_hash: Hash,
    /// The root of the tree of `size` entries.
    pub root: Hash,
    /// The sibling hashes, bottom up (RFC 9162 §2.1.3).
    pub hashes: Vec<Hash>,
}

/// A consistency proof between two tree sizes, with both roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The older size.
    pub from: u64,
    /// The newer size.
    pub to: u64,
    /// Root of the older tree.
    pub from_root: Hash,
    /// Root of the newer tree.
    pub to_root: Hash,
    /// The proof hashes (RFC 9162 §2.1.4).
    pub hashes: Vec<Hash>,
}

impl Reader {
    /// The newest signed tree head, if any was signed.
    pub async fn latest_tree_head(&self) -> Result<Option<StoredTreeHead>, StoreError> {
        // MAX over the primary key is one index seek on both backends.
        let sql = format!("SELECT {TREE_HEAD_COLUMNS} FROM tree_heads WHERE size = (SELECT MAX(size) FROM tree_heads)");
        self.sql(&sql).fetch_optional(self.pool()).await?.map(|r| tree_head_row(&r)).transpose()
    }

    /// The signed tree head of exactly `size` entries, if one was signed.
    pub async fn tree_head(&self, size: u64) -> Result<Option<StoredTreeHead>, StoreError> {
        let sql = format!("SELECT {TREE_HEAD_COLUMNS} FROM tree_heads WHERE size = $1");
        let size = crate::engine::seq_i64(size)?;
        self.sql(&sql).bind(size).fetch_optional(self.pool()).await?.map(|r| tree_head_row(&r)).transpose()
    }

    /// The stored hashes of `ids`, in that order, in one statement.
    async fn nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = nodes_sql(ids.len());
        let rows = bind_nodes(self.sql(&sql), ids)?.fetch_all(self.pool()).await?;
        arrange(ids, &rows)
    }

    /// The number of entries the stored tree holds (the ledger head).
    async fn tree_size(&self) -> Result<u64, StoreError> {
        let row = self.sql("SELECT seq FROM ledger_head WHERE id = 1").fetch_one(self.pool()).await?;
        seq_u64(row.try_get(0)?)
    }

    async fn checked_size(&self, size: u64, what: &str) -> Result<(), ProofRequestError> {
        let have = self.tree_size().await?;
        if size > have {
            return Err(ProofRequestError::BeyondLedger(format!("{what} {size} is larger than the ledger, which holds {have} entries")));
        }
        Ok(())
    }

    /// The inclusion proof of entry `seq` in the tree of `size` entries.
    pub async fn inclusion_proof(&self, seq: u64, size: u64) -> Result<InclusionProof, ProofRequestError> {
        if seq == 0 {
            return Err(ProofRequestError::Invalid("entries are numbered from 1; there is no entry 0".into()));
        }
        if seq > size {
            return Err(ProofRequestError::Invalid(format!("entry {seq} is not in a tree of {size} entries: seq must be at most size")));
        }
        self.checked_size(size, "size").await?;
        let plan = inclusion_proof_nodes(seq - 1, size).map_err(|e| ProofRequestError::Invalid(e.to_string()))?;
        let root_ids = frontier(size);
        let leaf = NodeId::new(0, seq - 1);
        let mut ids = node_ids(&plan);
        ids.extend(&root_ids);
        ids.push(leaf);
        let mut hashes = self.nodes(&ids).await?;
        let leaf_hash = hashes.pop().ok_or_else(|| StoreError::Corrupt("the leaf node was not read".into()))?;
        let root_hashes = hashes.split_off(hashes.len() - root_ids.len());
        let root = root_of(size, root_hashes)?;
        let hashes = assemble(&plan, &hashes)?;
        Ok(InclusionProof { seq, size, leaf_hash, root, hashes })
    }

    /// The consistency proof from the tree of `from` entries to that of `to`.
    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<ConsistencyProof, ProofRequestError> {
        let plan = consistency_proof_nodes(from, to).map_err(|e| match e {
            ProofError::FromEmptyTree { .. } => ProofRequestError::Invalid(format!("{e}: from must be at least 1")),
            other => ProofRequestError::Invalid(other.to_string()),
        })?;
        self.checked_size(to, "to").await?;
        let (from_ids, to_ids) = (frontier(from), frontier(to));
        let mut ids = node_ids(&plan);
        ids.extend(&from_ids);
        ids.extend(&to_ids);
        let mut hashes = self.nodes(&ids).await?;
        let to_hashes = hashes.split_off(hashes.len() - to_ids.len());
        let from_hashes = hashes.split_off(hashes.len() - from_ids.len());
        let hashes = assemble(&plan, &hashes)?;
        Ok(ConsistencyProof { from, to, from_root: root_of(from, from_hashes)?, to_root: root_of(to, to_hashes)?, hashes })
    }
}

fn root_of(size: u64, hashes: Vec<Hash>) -> Result<Hash, StoreError> {
    Ok(CompactRange::from_hashes(size, hashes).map_err(|e| StoreError::Corrupt(e.to_string()))?.root())
}

fn assemble(plan: &[NodeRef], hashes: &[Hash]) -> Result<Vec<Hash>, StoreError> {
    assemble_proof(plan, hashes).map_err(|e| StoreError::Corrupt(e.to_string()))
}
