//! The transparency log's storage: the Merkle tree's perfect-subtree nodes
//! (`merkle_nodes`, written with the entries that complete them) and the
//! signed tree heads (`tree_heads`, C2SP signed notes). This module owns how
//! nodes are computed for a batch, fetched in one indexed query, backfilled for
//! a database written before the tree existed, and how a tree head over the
//! whole ledger is signed. The cadence (when to sign) is the engine's.
//!
//! Leaf `i` is ledger entry `seq = i + 1`; its leaf input is the entry's chain
//! hash (see `celltrace_ledger::merkle`).

use crate::engine::pool::lock_head;
use crate::engine::{pow2_chunks, seq_i64, seq_u64};
use crate::{hash32, placeholders, Database, StoreError};
use celltrace_ledger::merkle::{frontier, leaf_hash};
use celltrace_ledger::{CompactRange, Entry, Hash, NodeId, NoteSigner, TreeHead};
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;

/// A signed tree head as stored: the tree size it covers, its root, when it
/// was signed (microseconds since the epoch) and the signed note, exactly as
/// published at `/api/ledger/checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTreeHead {
    /// Entries covered (= the ledger's `seq` at signing).
    pub size: u64,
    /// Root hash of the tree of that size.
    pub root: Hash,
    /// When it was signed, microseconds since the Unix epoch.
    pub signed_at: i64,
    /// The C2SP signed note (checkpoint body, blank line, signature line).
    pub note: String,
}

/// Appends the entries' leaves to `range` and returns every node they
/// complete, to be written in the same transaction as the entries.
pub(crate) fn append_entries(range: &mut CompactRange, entries: &[(Entry, String)]) -> Vec<(NodeId, Hash)> {
    let mut nodes = Vec::with_capacity(entries.len() * 2);
    for (entry, _) in entries {
        nodes.extend(range.append(leaf_hash(&entry.hash)));
    }
    nodes
}

/// `SELECT level, idx, hash FROM merkle_nodes WHERE (level = $1 AND idx = $2) OR ...`
/// for `count` nodes: one statement, each term a primary-key lookup on both backends.
pub(crate) fn nodes_sql(count: usize) -> String {
    let terms: Vec<String> = (0..count).map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2)).collect();
    format!("SELECT level, idx, hash FROM merkle_nodes WHERE {}", terms.join(" OR "))
}

/// Binds the node ids of [`nodes_sql`].
pub(crate) fn bind_nodes<'q>(
    mut query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ids: &[NodeId],
) -> Result<sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>, StoreError> {
    for id in ids {
        query = query.bind(i64::from(id.level)).bind(seq_i64(id.index)?);
    }
    Ok(query)
}

/// Puts fetched rows in the order of `ids`, naming the first missing node.
pub(crate) fn arrange(ids: &[NodeId], rows: &[sqlx::any::AnyRow]) -> Result<Vec<Hash>, StoreError> {
    let mut found: HashMap<(i64, i64), Hash> = HashMap::with_capacity(rows.len());
    for row in rows {
        let hash = hash32(&row.try_get::<Vec<u8>, _>(2)?, "merkle node hash")?;
        found.insert((row.try_get(0)?, row.try_get(1)?), hash);
    }
    ids.iter()
        .map(|id| {
            found.get(&(i64::from(id.level), seq_i64(id.index)?)).copied().ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "merkle node (level {}, index {}) is missing: the tree over the ledger is incomplete",
                    id.level, id.index
                ))
            })
        })
        .collect()
}

/// The compact range of the first `size` leaves, from the stored frontier
/// nodes (one query, at most 64 primary-key lookups).
pub(crate) async fn load_frontier(tx: &mut Transaction<'static, Any>, size: u64) -> Result<CompactRange, StoreError> {
    let ids = frontier(size);
    if ids.is_empty() {
        return Ok(CompactRange::new());
    }
    let sql = nodes_sql(ids.len());
    let rows = bind_nodes(sqlx::query(&sql), &ids)?.fetch_all(&mut **tx).await?;
    let hashes = arrange(&ids, &rows)?;
    CompactRange::from_hashes(size, hashes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Writes nodes on the pool's transaction (multi-row inserts).
pub(crate) async fn write_nodes(tx: &mut Transaction<'static, Any>, nodes: &[(NodeId, Hash)]) -> Result<(), StoreError> {
    for chunk in pow2_chunks(nodes, 256) {
        let sql = format!("INSERT INTO merkle_nodes (level, idx, hash) VALUES {}", placeholders(chunk.len(), 3, 1));
        let mut query = sqlx::query(&sql);
        for (id, hash) in chunk {
            query = query.bind(i64::from(id.level)).bind(seq_i64(id.index)?).bind(hash.to_vec());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// How many leaves the stored tree holds: one past the last level-0 node.
async fn stored_leaves(tx: &mut Transaction<'static, Any>) -> Result<u64, StoreError> {
    let row = sqlx::query("SELECT idx FROM merkle_nodes WHERE level = 0 ORDER BY idx DESC LIMIT 1").fetch_optional(&mut **tx).await?;
    match row {
        Some(row) => Ok(seq_u64(row.try_get(0)?)? + 1),
        None => Ok(0),
    }
}

/// Rows read per query while backfilling.
const BACKFILL_BATCH: i64 = 2000;

/// Builds the nodes of entries written before the tree existed (a database
/// from before migration 7), streaming the entries in order from the first
/// one without a node. Runs under the head lock so no writer interleaves.
pub(crate) async fn backfill(db: &Database) -> Result<(), StoreError> {
    let mut tx = db.pool().begin().await?;
    let head = lock_head(&mut tx).await?;
    let have = stored_leaves(&mut tx).await?;
    if have >= head.seq {
        tx.rollback().await?;
        return Ok(());
    }
    tracing::info!("building the Merkle tree over entries {}..{} (once, for entries written before the tree existed)", have + 1, head.seq);
    let mut range = load_frontier(&mut tx, have).await?;
    let mut after = seq_i64(have)?;
    loop {
        let rows = sqlx::query("SELECT seq, hash FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after)
            .bind(BACKFILL_BATCH)
            .fetch_all(&mut *tx)
            .await?;
        let mut nodes = Vec::with_capacity(rows.len() * 2);
        for row in &rows {
            let seq: i64 = row.try_get(0)?;
            if seq_u64(seq)? != range.size() + 1 {
                return Err(StoreError::Corrupt(format!("ledger entry {} is missing: the tree cannot be built past it", range.size() + 1)));
            }
            nodes.extend(range.append(leaf_hash(&hash32(&row.try_get::<Vec<u8>, _>(1)?, "entry hash")?)));
            after = seq;
        }
        write_nodes(&mut tx, &nodes).await?;
        if (rows.len() as i64) < BACKFILL_BATCH {
            break;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) fn tree_head_row(row: &sqlx::any::AnyRow) -> Result<StoredTreeHead, StoreError> {
    Ok(StoredTreeHead {
        size: seq_u64(row.try_get(0)?)?,
        root: hash32(&row.try_get::<Vec<u8>, _>(1)?, "tree head root")?,
        signed_at: row.try_get(2)?,
        note: row.try_get(3)?,
    })
}

/// The columns [`tree_head_row`] reads.
pub(crate) const TREE_HEAD_COLUMNS: &str = "size, root, signed_at, note";

/// The ledger's size and the size the newest tree head covers, read without
/// locking: what the engine polls to see whether anything is uncovered.
pub(crate) async fn coverage(db: &Database) -> Result<(u64, u64), StoreError> {
    let row = sqlx::query("SELECT (SELECT seq FROM ledger_head WHERE id = 1), (SELECT MAX(size) FROM tree_heads)")
        .fetch_one(db.pool())
        .await?;
    let head: i64 = row.try_get(0)?;
    let covered: Option<i64> = row.try_get(1)?;
    Ok((seq_u64(head)?, seq_u64(covered.unwrap_or(0))?))
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Signs a tree head over the whole ledger now, unless the newest one already
/// covers it. Returns the tree head covering the ledger and whether it is new;
/// `None` for an empty ledger. Refuses to sign when the newest tree head
/// covers more entries than the ledger holds: entries were removed.
pub async fn sign_tree_head(db: &Database, signer: &NoteSigner) -> Result<Option<(StoredTreeHead, bool)>, StoreError> {
    let mut tx = db.pool().begin().await?;
    let head = lock_head(&mut tx).await?;
    let sql = format!("SELECT {TREE_HEAD_COLUMNS} FROM tree_heads ORDER BY size DESC LIMIT 1");
    let newest = sqlx::query(&sql).fetch_optional(&mut *tx).await?.map(|r| tree_head_row(&r)).transpose()?;
    if let Some(newest) = newest {
        if newest.size > head.seq {
            tx.rollback().await?;
            return Err(StoreError::Corrupt(format!(
                "the newest signed tree head covers {} entries but the ledger holds {}: entries were removed; run celltrace verify",
                newest.size, head.seq
            )));
        }
        if newest.size == head.seq {
            tx.rollback().await?;
            return Ok(Some((newest, false)));
        }
    }
    if head.seq == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    let root = load_frontier(&mut tx, head.seq).await?.root();
    let signed_at = now_micros();
    let body = TreeHead::new(signer.name(), head.seq, root)
        .and_then(|t| t.with_signed_at(signed_at))
        .map_err(|e| StoreError::Invalid(format!("cannot form the tree head: {e}")))?;
    let note = body.sign(signer).to_string();
    sqlx::query("INSERT INTO tree_heads (size, root, signed_at, note) VALUES ($1, $2, $3, $4)")
        .bind(seq_i64(head.seq)?)
        .bind(root.to_vec())
        .bind(signed_at)
        .bind(note.clone())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some((StoredTreeHead { size: head.seq, root, signed_at, note }, true)))
}

/// The log's origin: that of its newest signed tree head, so it never changes
/// once a witness may have seen it (even if the public address does), else
/// `proposed` for a log that has signed nothing yet.
pub async fn log_origin(db: &Database, proposed: &str) -> Result<String, StoreError> {
    let newest = db.reader().latest_tree_head().await?;
    let Some(newest) = newest else { return Ok(proposed.to_owned()) };
    let text = newest.note.split_once('\n').map_or("", |(origin, _)| origin);
    Ok(if text.is_empty() { proposed.to_owned() } else { text.to_owned() })
}

/// The tree head's origin (and key name) for a deployment reached at
/// `public_url`: its host, port and path, then `/celltrace-ledger`, e.g.
/// `https://clinic.example` → `clinic.example/celltrace-ledger`. Stable as
/// long as the public address is; witnesses keep their state per origin.
pub fn origin_for(public_url: &str) -> String {
    let rest = public_url.split_once("://").map_or(public_url, |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h).trim_end_matches('/');
    let cleaned: String = host.chars().filter(|c| !c.is_whitespace() && !c.is_control() && *c != '+').collect();
    if cleaned.is_empty() {
        DEFAULT_ORIGIN.to_owned()
    } else {
        format!("{cleaned}/celltrace-ledger")
    }
}

/// The origin used when no public address is configured.
pub const DEFAULT_ORIGIN: &str = "localhost/celltrace-ledger";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_come_from_the_public_address() {
        assert_eq!(origin_for("https://clinic.example"), "clinic.example/celltrace-ledger");
        assert_eq!(origin_for("http://127.0.0.1:8080/"), "127.0.0.1:8080/celltrace-ledger");
        assert_eq!(origin_for("https://a.example/ct/?x=1"), "a.example/ct/celltrace-ledger");
        assert_eq!(origin_for(""), DEFAULT_ORIGIN);
    }

    #[test]
    fn node_queries_name_each_node() {
        assert_eq!(nodes_sql(2), "SELECT level, idx, hash FROM merkle_nodes WHERE (level = $1 AND idx = $2) OR (level = $3 AND idx = $4)");
    }
}
