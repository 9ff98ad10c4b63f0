//! Ledger reads for pages and the API: the chain's head, entries in order,
//! a record's audit trail, a site's entries newest first, and the
//! deployment's counts. Each is an index range scan of its answer.

use super::{entry, Reader, ENTRY_COLUMNS};
use crate::engine::{seq_i64, seq_u64};
use crate::{hash32, StoreError};
use celltrace_domain::ids::SiteId;
use celltrace_domain::EntityKey;
use celltrace_ledger::{Entry, Head};
use sqlx::Row;

/// Entries of the ledger newest first, and the sequence number the next
/// (older) page starts before.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerPage {
    /// Entries with their command ids, newest first.
    pub entries: Vec<(Entry, String)>,
    /// Pass as `before` for the next page; `None` on the last one.
    pub next_before: Option<u64>,
}

impl Reader {
    /// The last entry of the chain as the head row records it.
    pub async fn head(&self) -> Result<Head, StoreError> {
        let row = self.sql("SELECT seq, hash FROM ledger_head WHERE id = 1").fetch_one(self.pool()).await?;
        Ok(Head { seq: seq_u64(row.try_get(0)?)?, hash: hash32(&row.try_get::<Vec<u8>, _>(1)?, "head hash")? })
    }

    /// Up to `limit` entries from `from_seq` on, with their command ids.
    pub async fn entries(&self, from_seq: u64, limit: u32) -> Result<Vec<(Entry, String)>, StoreError> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM ledger WHERE seq >= $1 ORDER BY seq LIMIT $2");
        let rows = self.sql(&sql).bind(seq_i64(from_seq)?).bind(i64::from(limit)).fetch_all(self.pool()).await?;
        rows.iter().map(entry).collect()
    }

    /// The entries written at any of `sites`, newest first, `limit` at a
    /// time, before sequence number `before` (from the newest when `None`).
    pub async fn ledger_of_sites(&self, sites: &[SiteId], before: Option<u64>, limit: u32) -> Result<LedgerPage, StoreError> {
        let limit = limit.clamp(1, super::MAX_PAGE);
        let before = match before {
            Some(seq) => seq_i64(seq)?,
            None => i64::MAX,
        };
        // One range scan of (site, seq) per site, merged: each reads at most limit + 1 rows.
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM ledger WHERE site = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3");
        let mut all = Vec::new();
        for site in sites {
            let rows = self.sql(&sql).bind(site.to_string()).bind(before).bind(i64::from(limit) + 1).fetch_all(self.pool()).await?;
            for row in &rows {
                all.push(entry(row)?);
            }
        }
        all.sort_by_key(|(e, _)| std::cmp::Reverse(e.seq));
        let more = all.len() > limit as usize;
        all.truncate(limit as usize);
        let next_before = if more { all.last().map(|(e, _)| e.seq) } else { None };
        Ok(LedgerPage { entries: all, next_before })
    }

    /// The audit trail of one record: every entry that concerns it, oldest first.
    pub async fn trail(&self, key: &EntityKey) -> Result<Vec<(Entry, String)>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger WHERE seq IN (SELECT seq FROM entry_subjects WHERE kind = $1 AND id = $2) ORDER BY seq"
        );
        let rows = self.sql(&sql).bind(key.kind.as_str()).bind(key.id.as_str()).fetch_all(self.pool()).await?;
        rows.iter().map(entry).collect()
    }

    /// The entries written for a command, if it was accepted.
    pub async fn command(&self, command_id: &str) -> Result<Option<(u64, u64)>, StoreError> {
        let row = self.sql("SELECT first_seq, last_seq FROM commands WHERE command_id = $1")
            .bind(command_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| Ok((seq_u64(r.try_get(0)?)?, seq_u64(r.try_get(1)?)?))).transpose()
    }

    /// How many entities of each kind exist (kept as they are created).
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = self.sql("SELECT kind, count FROM entity_counts ORDER BY kind").fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?))).collect()
    }
}

impl Reader {
    /// The generation of a derived view (e.g. `registry`): it changes in
    /// the same transaction as anything the view depends on.
    pub async fn generation(&self, view: &str) -> Result<i64, StoreError> {
        let row = self.sql("SELECT generation FROM read_generations WHERE name = $1").bind(view.to_owned()).fetch_optional(self.pool()).await?;
        Ok(row.map(|r| r.try_get::<i64, _>(0)).transpose()?.unwrap_or(0))
    }
}
