//! What `/readyz` asks the store: can it write now (a real write, not a
//! setting), and does a signature cover the ledger's head. Liveness needs
//! no database and is not here.

use crate::{Database, StoreError};
use sqlx::Row;

/// Rewrites the one probe row in a transaction of its own through the write
/// pool, so it fails exactly when a command would: full disk, read-only
/// file or database, a lock held by someone else.
pub async fn write(db: &Database, now_micros: i64) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO probes (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at")
        .bind(now_micros)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The entries no signature covers yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uncovered {
    /// How many.
    pub entries: u64,
    /// When the oldest of them was recorded (microseconds since the epoch), if any.
    pub oldest_at: Option<i64>,
}

/// The last ledger entry a signed tree head covers (0: none): the size of
/// the newest tree head, since each covers the whole ledger up to its size.
pub async fn covered_through(db: &Database) -> Result<i64, StoreError> {
    let newest = db.reader().latest_tree_head().await?;
    Ok(newest.map_or(0, |head| i64::try_from(head.size).unwrap_or(i64::MAX)))
}

/// Counts the entries after the last covered one and finds the oldest.
pub async fn uncovered(db: &Database) -> Result<Uncovered, StoreError> {
    let covered = covered_through(db).await?;
    let row = sqlx::query("SELECT COUNT(*), MIN(recorded_at) FROM ledger WHERE seq > $1").bind(covered).fetch_one(db.pool()).await?;
    let entries = u64::try_from(row.try_get::<i64, _>(0)?).map_err(|_| StoreError::Corrupt("negative count".into()))?;
    Ok(Uncovered { entries, oldest_at: row.try_get::<Option<i64>, _>(1)? })
}
