//! Audit trails a page at a time: the entries that concern one record (or
//! several, merged, such as a patient with their plans and units), newest
//! first, before a sequence number. Each record's part is a backwards range
//! scan of `entry_subjects (kind, id, seq)`, so a page costs the same however
//! long the trail has grown (a record read ten thousand times included).

use super::{entry, LedgerPage, Reader, ENTRY_COLUMNS, MAX_PAGE};
use crate::engine::seq_i64;
use crate::StoreError;
use celltrace_domain::EntityKey;
use celltrace_ledger::Entry;

impl Reader {
    /// The entries concerning any of `records`, newest first, `limit` at a
    /// time, before sequence number `before` (from the newest when `None`).
    /// An entry concerning several of them appears once.
    pub async fn trail_page(&self, records: &[EntityKey], before: Option<u64>, limit: u32) -> Result<LedgerPage, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let before = match before {
            Some(seq) => seq_i64(seq)?,
            None => i64::MAX,
        };
        // Each record's newest `limit + 1` entries are enough to fill the
        // merged page and to know whether another page follows.
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger WHERE seq IN \
             (SELECT seq FROM entry_subjects WHERE kind = $1 AND id = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4) \
             ORDER BY seq DESC"
        );
        let mut all: Vec<(Entry, String)> = Vec::new();
        for record in records {
            let rows = self.sql(&sql)
                .bind(record.kind.as_str())
                .bind(record.id.clone())
                .bind(before)
                .bind(i64::from(limit) + 1)
                .fetch_all(self.pool())
                .await?;
            for row in &rows {
                all.push(entry(row)?);
            }
        }
        all.sort_by_key(|(e, _)| std::cmp::Reverse(e.seq));
        all.dedup_by_key(|(e, _)| e.seq);
        let more = all.len() > limit as usize;
        all.truncate(limit as usize);
        let next_before = if more { all.last().map(|(e, _)| e.seq) } else { None };
        Ok(LedgerPage { entries: all, next_before })
    }
}
