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

/// The entries after the newest tree head: how many (from the head row and
/// the newest tree head, as the engine's cadence reads them) and when the
/// first of them was recorded (one lookup by seq).
pub async fn uncovered(db: &Database) -> Result<Uncovered, StoreError> {
    let (head, covered) = crate::tlog::coverage(db).await?;
    if head <= covered {
        return Ok(Uncovered { entries: 0, oldest_at: None });
    }
    let first = i64::try_from(covered + 1).map_err(|_| StoreError::Corrupt(format!("ledger position {covered} is out of range")))?;
    let oldest_at = sqlx::query("SELECT recorded_at FROM ledger WHERE seq = $1").bind(first).fetch_optional(db.pool()).await?;
    Ok(Uncovered { entries: head - covered, oldest_at: oldest_at.map(|r| r.try_get::<i64, _>(0)).transpose()? })
}
