//! The record lists an interface pages through one record at a time (FHIR
//! search): the entries of `records`, `person_records` and `record_ids`
//! (`celltrace_domain::index::RecordKind`), each a range scan of one index
//! key between two dates, with a keyset cursor and a count of the same range.
//! A row is the entity that holds the record, with the entry's sort key,
//! which ends with the record's id (a plan holds several administrations).

use super::reader::{Reader, MAX_PAGE};
use super::stored_entity;
use crate::StoreError;
use celltrace_domain::index::{record_id_key, Index, RecordKind};
use celltrace_domain::Projection;
use sqlx::any::AnyRow;
use sqlx::Row;

const ENTITY: &str = "e.kind, e.id, e.site, e.person, e.status, e.reference, e.body, e.last_seq";

/// One index key's entries whose sort key lies in `from..to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRange {
    /// Which index.
    pub index: Index,
    /// The key, e.g. `dubai-clinic|unit|released`.
    pub value: String,
    /// First sort key included (empty: from the start).
    pub from: String,
    /// First sort key excluded (`None`: to the end).
    pub to: Option<String>,
}

impl RecordRange {
    /// Every entry under `value`.
    pub fn all(index: Index, value: String) -> RecordRange {
        RecordRange { index, value, from: String::new(), to: None }
    }
}

/// An entity with the sort key of the entry that found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Filed<T> {
    /// The entry's sort key (`{date}|{record id}` for the record indexes).
    pub sort: String,
    /// The entity holding the record.
    pub item: T,
}

/// One page of a record range.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPage<T> {
    /// The rows, by sort key then entity id.
    pub items: Vec<Filed<T>>,
    /// Whether the range holds more rows after the last one.
    pub more: bool,
}

fn filed<T: Projection>(row: &AnyRow) -> Result<Filed<T>, StoreError> {
    let stored = stored_entity(row)?;
    let item = serde_json::from_str(&stored.body).map_err(|e| StoreError::Corrupt(format!("{}: {e}", stored.key)))?;
    Ok(Filed { sort: row.try_get("position")?, item })
}

impl Reader {
    /// Up to `limit` rows of `range` after (`sort`, entity id) `after`, in
    /// sort order: one seek and a read of the rows returned.
    pub async fn record_page<T: Projection>(&self, range: &RecordRange, after: Option<(&str, &str)>, limit: u32) -> Result<RecordPage<T>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let upper = if range.to.is_some() { "AND i.sort < $8" } else { "" };
        let sql = format!(
            "SELECT {ENTITY}, i.sort AS position FROM entity_index i JOIN entities e ON e.kind = i.kind AND e.id = i.id \
             WHERE i.name = $1 AND i.value = $2 AND i.kind = $3 AND i.sort >= $4 {upper} AND (i.sort, i.id) > ($5, $6) \
             ORDER BY i.sort, i.kind, i.id LIMIT $7"
        );
        let (sort, id) = after.map(|(s, i)| (s.to_owned(), i.to_owned())).unwrap_or_default();
        let mut query = self.sql(&sql)
            .bind(range.index.as_str())
            .bind(range.value.clone())
            .bind(T::KIND.as_str())
            .bind(range.from.clone())
            .bind(sort)
            .bind(id)
            .bind(i64::from(limit) + 1);
        if let Some(to) = &range.to {
            query = query.bind(to.clone());
        }
        let rows = query.fetch_all(self.pool()).await?;
        let more = rows.len() > limit as usize;
        let items = rows.iter().take(limit as usize).map(filed).collect::<Result<_, _>>()?;
        Ok(RecordPage { items, more })
    }

    /// How many entries `range` holds (an index-only scan of the range).
    pub async fn record_count(&self, range: &RecordRange) -> Result<u64, StoreError> {
        let upper = if range.to.is_some() { "AND sort < $4" } else { "" };
        let sql = format!("SELECT COUNT(*) FROM entity_index WHERE name = $1 AND value = $2 AND sort >= $3 {upper}");
        let mut query = self.sql(&sql).bind(range.index.as_str()).bind(range.value.clone()).bind(range.from.clone());
        if let Some(to) = &range.to {
            query = query.bind(to.clone());
        }
        let n: i64 = query.fetch_one(self.pool()).await?.try_get(0)?;
        u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("a negative count ({n})")))
    }

    /// The entities holding a `record` whose id, read as [`record_id_key`]
    /// reads it, is `id` (or, with `prefix`, starts with it); each row's sort
    /// key is the record's own id. Usually one row: ids differing only in
    /// `_`, `:` and `-` share a key.
    pub async fn records_by_id<T: Projection>(&self, record: RecordKind, id: &str, prefix: bool) -> Result<Vec<Filed<T>>, StoreError> {
        let value = format!("{}|{}", record.as_str(), record_id_key(id));
        let matching = if prefix { "i.value >= $2 AND i.value < $5" } else { "i.value = $2" };
        let sql = format!(
            "SELECT {ENTITY}, i.sort AS position FROM entity_index i JOIN entities e ON e.kind = i.kind AND e.id = i.id \
             WHERE i.name = $1 AND {matching} AND i.kind = $3 ORDER BY i.value, i.sort, i.id LIMIT $4"
        );
        let mut query = self.sql(&sql).bind(Index::RecordIds.as_str()).bind(value.clone()).bind(T::KIND.as_str()).bind(i64::from(MAX_PAGE));
        if prefix {
            query = query.bind(format!("{value}\u{10FFFF}"));
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(filed).collect()
    }
}
