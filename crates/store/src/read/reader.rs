//! The read handle request handlers get: typed, indexed queries on a pool
//! that cannot write (SQLite's `query_only`, PostgreSQL's read-only
//! transactions). Every query is a lookup or a range scan of an index, and
//! its cost depends on the size of its answer, never on the size of the
//! database; lists are pages with a cursor to the next page, never cut short
//! silently. Rows are decoded here, once, into the domain's types.

use super::{stored_entity, StoredEntity};
use crate::{Backend, StoreError};
use celltrace_domain::ids::{PersonId, SiteId, UnitId};
use celltrace_domain::index::{code_key, day_key, lot_key, name_key, scoped, Index};
use celltrace_domain::model::{AdverseEvent, EvidenceDataset, Person, Plan, ProductCatalogue, ProductType, Shipment, Site, Unit};
use celltrace_domain::time::Timestamp;
use celltrace_domain::{EntityKey, Projection};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Most rows one page holds.
pub const MAX_PAGE: u32 = 500;

/// Where a page ends: the next page starts after it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    /// Index key of the last row (in a prefix search the keys differ).
    pub key: String,
    /// Sort key of the last row.
    pub sort: String,
    /// Id of the last row.
    pub id: String,
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

impl Cursor {
    /// The cursor as URL-safe text (`hex(key).hex(sort).id`).
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", hex(&self.key), hex(&self.sort), self.id)
    }

    /// A cursor from [`Cursor::encode`]'s text, or `None` when it is not one.
    pub fn decode(text: &str) -> Option<Cursor> {
        let mut parts = text.splitn(3, '.');
        let (key, sort, id) = (unhex(parts.next()?)?, unhex(parts.next()?)?, parts.next()?);
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')) {
            return None;
        }
        Some(Cursor { key, sort, id: id.to_owned() })
    }
}

/// One page of a list, and where the next one starts if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows, in list order.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last one.
    pub next: Option<Cursor>,
}

/// People whose name matches a search, and where the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Matches {
    /// The people, in registration order.
    pub people: Vec<Person>,
    /// Position to continue after; `None` on the last page.
    pub next: Option<i64>,
}

/// A unit's family: every ancestor and every descendant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lineage {
    /// Units it was made from, nearest first.
    pub ancestors: Vec<Unit>,
    /// Units made from it, level by level.
    pub descendants: Vec<Unit>,
}

/// A read-only handle to the deployment's database.
#[derive(Clone)]
pub struct Reader {
    pool: AnyPool,
    backend: Backend,
    log: Arc<QueryLog>,
}

/// The SQL text of every query a [`Reader`] ran while recording: the query
/// plan tests run `EXPLAIN` on each to prove no read scans a growing table.
#[derive(Debug, Default)]
pub struct QueryLog {
    recording: AtomicBool,
    queries: Mutex<Vec<String>>,
}

impl QueryLog {
    fn note(&self, sql: &str) {
        if self.recording.load(Ordering::Relaxed) {
            if let Ok(mut queries) = self.queries.lock() {
                queries.push(sql.to_owned());
            }
        }
    }

    /// Starts recording (and forgets what was recorded before).
    pub fn start(&self) {
        if let Ok(mut queries) = self.queries.lock() {
            queries.clear();
        }
        self.recording.store(true, Ordering::Relaxed);
    }

    /// Stops recording and returns each distinct query text once, in the order first run.
    pub fn take(&self) -> Vec<String> {
        self.recording.store(false, Ordering::Relaxed);
        let queries = self.queries.lock().map(|mut q| std::mem::take(&mut *q)).unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        queries.into_iter().filter(|q| seen.insert(q.clone())).collect()
    }
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("backend", &self.backend).finish_non_exhaustive()
    }
}

const ENTITY: &str = "e.kind, e.id, e.site, e.person, e.status, e.reference, e.body, e.last_seq";

fn decode<T: Projection>(row: &StoredEntity) -> Result<T, StoreError> {
    serde_json::from_str(&row.body).map_err(|e| StoreError::Corrupt(format!("{}: {e}", row.key)))
}

fn decode_rows<T: Projection>(rows: &[AnyRow]) -> Result<Vec<T>, StoreError> {
    rows.iter().map(|r| decode(&stored_entity(r)?)).collect()
}

/// `$first, $first+1, ...` for an `IN (...)` list.
fn list(count: usize, first: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(",")
}

/// The first key after every key starting with `prefix` (text order is byte order).
fn after_prefix(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

impl Reader {
    pub(crate) fn new(pool: AnyPool, backend: Backend) -> Reader {
        Reader { pool, backend, log: Arc::new(QueryLog::default()) }
    }

    /// A query on this handle's pool, noted in the [`QueryLog`] when it records.
    pub(crate) fn sql<'q>(&self, text: &'q str) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        self.log.note(text);
        sqlx::query(text)
    }

    /// The log of the queries this handle (and its clones) run.
    pub fn query_log(&self) -> &QueryLog {
        &self.log
    }

    /// Which database this reads.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for the store's own read-only work.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// One entity of type `T`, decoded.
    pub async fn get<T: Projection>(&self, id: &str) -> Result<Option<T>, StoreError> {
        let sql = format!("SELECT {ENTITY} FROM entities e WHERE e.kind = $1 AND e.id = $2");
        let row = self.sql(&sql).bind(T::KIND.as_str()).bind(id.to_owned()).fetch_optional(&self.pool).await?;
        row.map(|r| decode(&stored_entity(&r)?)).transpose()
    }

    /// One entity's stored row (its JSON body and indexed columns).
    pub async fn entity(&self, key: &EntityKey) -> Result<Option<StoredEntity>, StoreError> {
        let sql = format!("SELECT {ENTITY} FROM entities e WHERE e.kind = $1 AND e.id = $2");
        let row = self.sql(&sql).bind(key.kind.as_str()).bind(key.id.clone()).fetch_optional(&self.pool).await?;
        row.as_ref().map(stored_entity).transpose()
    }

    /// The product descriptions the site loaded (printed on labels), if any.
    pub async fn product_catalogue(&self) -> Result<Option<ProductCatalogue>, StoreError> {
        self.catalogue(ProductCatalogue::ID).await
    }

    /// The evidence dataset loaded in place of the shipped one, if any.
    pub async fn evidence_dataset(&self) -> Result<Option<EvidenceDataset>, StoreError> {
        self.catalogue(EvidenceDataset::ID).await
    }

    async fn catalogue<T: serde::de::DeserializeOwned>(&self, id: &str) -> Result<Option<T>, StoreError> {
        let Some(row) = self.entity(&EntityKey::new(celltrace_domain::EntityKind::Catalogue, id)).await? else { return Ok(None) };
        serde_json::from_str(&row.body).map(Some).map_err(|e| StoreError::Corrupt(format!("{}: {e}", row.key)))
    }

    /// The entities of type `T` with these ids (those that exist), in id order.
    pub async fn get_many<T: Projection>(&self, ids: &[String]) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(256) {
            let sql = format!("SELECT {ENTITY} FROM entities e WHERE e.kind = $1 AND e.id IN ({}) ORDER BY e.id", list(chunk.len(), 2));
            let mut query = self.sql(&sql).bind(T::KIND.as_str());
            for id in chunk {
                query = query.bind(id.clone());
            }
            out.extend(decode_rows::<T>(&query.fetch_all(&self.pool).await?)?);
        }
        Ok(out)
    }

    /// One page of the entities of type `T` filed under `index` = `value`,
    /// in the index's order, after `after`.
    pub async fn page<T: Projection>(&self, index: Index, value: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<T>, StoreError> {
        self.range(index, value, &after_prefix(value), true, after, limit).await
    }

    /// One page of the entities filed under any key of `index` that starts
    /// with `prefix`, in key order then the index's order.
    pub async fn prefix_page<T: Projection>(&self, index: Index, prefix: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<T>, StoreError> {
        self.range(index, prefix, &after_prefix(prefix), false, after, limit).await
    }

    async fn range<T: Projection>(&self, index: Index, from: &str, to: &str, exact: bool, after: Option<&Cursor>, limit: u32) -> Result<Page<T>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        // Row-value comparisons in the index's own column order: both
        // backends seek straight to the cursor and read the next rows.
        let sql = if exact {
            format!(
                "SELECT {ENTITY}, i.value AS key, i.sort AS position FROM entity_index i JOIN entities e ON e.kind = i.kind AND e.id = i.id \
                 WHERE i.name = $1 AND i.value = $2 AND i.kind = $3 AND (i.sort, i.kind, i.id) > ($4, $3, $5) \
                 ORDER BY i.sort, i.kind, i.id LIMIT $6"
            )
        } else {
            format!(
                "SELECT {ENTITY}, i.value AS key, i.sort AS position FROM entity_index i JOIN entities e ON e.kind = i.kind AND e.id = i.id \
                 WHERE i.name = $1 AND i.value >= $2 AND i.value < $7 AND i.kind = $3 AND (i.value, i.sort, i.kind, i.id) > ($8, $4, $3, $5) \
                 ORDER BY i.value, i.sort, i.kind, i.id LIMIT $6"
            )
        };
        let (key, sort, id) = after.map(|c| (c.key.clone(), c.sort.clone(), c.id.clone())).unwrap_or_else(|| (from.to_owned(), String::new(), String::new()));
        let mut query = self.sql(&sql).bind(index.as_str()).bind(from.to_owned()).bind(T::KIND.as_str()).bind(sort).bind(id).bind(i64::from(limit) + 1);
        if !exact {
            query = query.bind(to.to_owned()).bind(key);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let more = rows.len() > limit as usize;
        let rows = &rows[..rows.len().min(limit as usize)];
        let next = match (more, rows.last()) {
            (true, Some(last)) => Some(Cursor { key: last.try_get("key")?, sort: last.try_get("position")?, id: last.try_get("id")? }),
            _ => None,
        };
        Ok(Page { items: decode_rows(rows)?, next })
    }

    /// How many entities are filed under `index` = `value`.
    pub async fn count(&self, index: Index, value: &str) -> Result<u64, StoreError> {
        let n: i64 = self.sql("SELECT COUNT(*) FROM entity_index WHERE name = $1 AND value = $2")
            .bind(index.as_str())
            .bind(value.to_owned())
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Every entity filed under `index` = one of `values` (a whole answer,
    /// e.g. the units of a recall: its size is what is asked for).
    pub(crate) async fn all_under<T: Projection>(&self, index: Index, values: &[String]) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        for chunk in values.chunks(256) {
            let sql = format!(
                "SELECT {ENTITY} FROM entity_index i JOIN entities e ON e.kind = i.kind AND e.id = i.id \
                 WHERE i.name = $1 AND i.kind = $2 AND i.value IN ({}) ORDER BY i.value, i.sort, i.id",
                list(chunk.len(), 3)
            );
            let mut query = self.sql(&sql).bind(index.as_str()).bind(T::KIND.as_str());
            for v in chunk {
                query = query.bind(v.clone());
            }
            out.extend(decode_rows::<T>(&query.fetch_all(&self.pool).await?)?);
        }
        Ok(out)
    }

    /// The entities filed under `index` = `value` whose sort key lies in
    /// `from..=to`, in sort order (e.g. plans whose follow-up clock started
    /// on one of a range of days).
    pub async fn sorted_between<T: Projection>(&self, index: Index, value: &str, from: &str, to: &str) -> Result<Vec<T>, StoreError> {
        let sql = format!(
            "SELECT {ENTITY} FROM entity_index i JOIN entities e ON e.kind = i.kind AND e.id = i.id \
             WHERE i.name = $1 AND i.value = $2 AND i.kind = $3 AND i.sort >= $4 AND i.sort <= $5 ORDER BY i.sort, i.kind, i.id"
        );
        let rows = self.sql(&sql)
            .bind(index.as_str())
            .bind(value.to_owned())
            .bind(T::KIND.as_str())
            .bind(from.to_owned())
            .bind(to.to_owned())
            .fetch_all(&self.pool)
            .await?;
        decode_rows(&rows)
    }

    /// Every site of the deployment, by name.
    pub async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        self.all_under(Index::Sites, &["all".to_owned()]).await
    }

    /// Plans of `site` in follow-up for `product_type` whose first
    /// administration was on a day in `first_day..=last_day` (days since the
    /// epoch): those whose window of a time point is open on a given day.
    pub async fn plans_treated_between(&self, site: &SiteId, product_type: ProductType, first_day: i64, last_day: i64) -> Result<Vec<Plan>, StoreError> {
        let day = |d: i64| day_key(Timestamp(d.max(0).saturating_mul(Timestamp::DAY)));
        self.sorted_between(Index::FollowUpClock, &scoped(site, product_type.code()), &day(first_day), &day(last_day)).await
    }

    /// The adverse events of any of `people`, by person then onset.
    pub async fn adverse_events_of(&self, people: &[PersonId]) -> Result<Vec<AdverseEvent>, StoreError> {
        let values: Vec<String> = people.iter().map(ToString::to_string).collect();
        self.all_under(Index::PersonAdverseEvents, &values).await
    }

    /// The shipments that carried a unit, newest first.
    pub async fn shipments_of(&self, unit: &UnitId) -> Result<Vec<Shipment>, StoreError> {
        self.all_under(Index::ShipmentUnits, &[unit.to_string()]).await
    }

    /// Every unit that shares a DIN with any of `units` (one donation's products).
    pub async fn units_of_donations(&self, dins: &[String]) -> Result<Vec<Unit>, StoreError> {
        let values: Vec<String> = dins.iter().map(|d| code_key(d)).collect();
        self.all_under(Index::Din, &values).await
    }

    /// The units of a donation identification number, by product code.
    pub async fn units_by_din(&self, din: &str) -> Result<Vec<Unit>, StoreError> {
        self.all_under(Index::Din, &[code_key(din)]).await
    }

    /// The patient or donor registered at `site` under this MRN (or wristband number).
    pub async fn person_by_mrn(&self, site: &str, mrn: &str) -> Result<Option<Person>, StoreError> {
        let site = site.parse().map_err(|e: celltrace_domain::ids::IdError| StoreError::Invalid(e.to_string()))?;
        Ok(self.all_under::<Person>(Index::Mrn, &[scoped(&site, &code_key(mrn))]).await?.into_iter().next())
    }

    /// Every plan of a patient, oldest first.
    pub async fn plans_of(&self, person: &PersonId) -> Result<Vec<Plan>, StoreError> {
        self.all_under(Index::PersonPlans, &[person.to_string()]).await
    }

    /// The units collected from a person (starting material), by id.
    pub async fn units_from(&self, person: &PersonId) -> Result<Vec<Unit>, StoreError> {
        self.all_under(Index::Source, &[person.to_string()]).await
    }

    /// The units processed with a lot (its number, the first word on the label).
    pub async fn units_with_lot(&self, lot: &str) -> Result<Vec<Unit>, StoreError> {
        self.all_under(Index::Lot, &[lot_key(lot)]).await
    }

    /// The units a processing step made or worked on.
    pub async fn units_of_step(&self, step: &str) -> Result<Vec<Unit>, StoreError> {
        self.all_under(Index::Step, &[step.to_owned()]).await
    }

    /// The units made directly from any of `parents`.
    pub async fn children_of(&self, parents: &[UnitId]) -> Result<Vec<Unit>, StoreError> {
        let values: Vec<String> = parents.iter().map(ToString::to_string).collect();
        self.all_under(Index::Parent, &values).await
    }

    /// The plans in which any of `units` was given.
    pub async fn plans_given(&self, units: &[UnitId]) -> Result<Vec<Plan>, StoreError> {
        let values: Vec<String> = units.iter().map(ToString::to_string).collect();
        let mut plans = self.all_under::<Plan>(Index::Administered, &values).await?;
        plans.sort_by(|a, b| a.id.cmp(&b.id));
        plans.dedup_by(|a, b| a.id == b.id);
        Ok(plans)
    }

    /// The units allocated to, or requested for, a plan.
    pub async fn units_for_plan(&self, plan: &str) -> Result<Vec<Unit>, StoreError> {
        self.all_under(Index::PlanUnits, &[plan.to_owned()]).await
    }

    /// Every ancestor and descendant of `unit`, walked one level per query.
    pub async fn lineage_of(&self, unit: &Unit) -> Result<Lineage, StoreError> {
        let mut lineage = Lineage::default();
        let mut seen: BTreeSet<UnitId> = BTreeSet::from([unit.id.clone()]);
        let mut level: Vec<String> = unit.parents.iter().map(ToString::to_string).collect();
        while !level.is_empty() {
            let parents = self.get_many::<Unit>(&level).await?;
            level = Vec::new();
            for p in parents {
                if seen.insert(p.id.clone()) {
                    level.extend(p.parents.iter().map(ToString::to_string));
                    lineage.ancestors.push(p);
                }
            }
        }
        lineage.descendants = self.descendants_of(std::slice::from_ref(&unit.id)).await?;
        Ok(lineage)
    }

    /// Every unit made, directly or not, from any of `units` (not including them).
    pub async fn descendants_of(&self, units: &[UnitId]) -> Result<Vec<Unit>, StoreError> {
        let mut seen: BTreeSet<UnitId> = units.iter().cloned().collect();
        let mut out = Vec::new();
        let mut level: Vec<UnitId> = units.to_vec();
        while !level.is_empty() {
            let children = self.children_of(&level).await?;
            level = Vec::new();
            for c in children {
                if seen.insert(c.id.clone()) {
                    level.push(c.id.clone());
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    /// People of `site` and `kind` (`patient` or `donor`) whose name matches
    /// `text` (every word, in any script, ignoring case and diacritics), in
    /// registration order, `limit` at a time after position `after`.
    pub async fn people_matching(&self, site: &str, kind: &str, text: &str, after: Option<i64>, limit: u32) -> Result<Matches, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let words: Vec<String> = name_key(text).split(' ').filter(|w| w.chars().count() >= 3).map(str::to_owned).collect();
        if words.is_empty() {
            return Ok(Matches { people: Vec::new(), next: None });
        }
        let after = after.unwrap_or(0);
        let rows = match self.backend {
            Backend::Sqlite => {
                // Each word a quoted phrase: the trigram tokenizer matches it anywhere in the name.
                let expression = words.iter().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" AND ");
                self.sql(
                    "SELECT p.pos, p.id FROM person_names_fts f JOIN person_names p ON p.pos = f.rowid \
                     WHERE person_names_fts MATCH $1 AND f.rowid > $2 AND p.site = $3 AND p.kind = $4 ORDER BY f.rowid LIMIT $5",
                )
                .bind(expression)
                .bind(after)
                .bind(site.to_owned())
                .bind(kind.to_owned())
                .bind(i64::from(limit) + 1)
                .fetch_all(&self.pool)
                .await?
            }
            Backend::Postgres => {
                let tests: Vec<String> = (0..words.len()).map(|i| format!("name_key LIKE ${}", i + 5)).collect();
                let sql = format!("SELECT pos, id FROM person_names WHERE site = $1 AND kind = $2 AND pos > $3 AND {} ORDER BY pos LIMIT $4", tests.join(" AND "));
                let mut query = self.sql(&sql).bind(site.to_owned()).bind(kind.to_owned()).bind(after).bind(i64::from(limit) + 1);
                for w in &words {
                    query = query.bind(format!("%{}%", w.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
                }
                query.fetch_all(&self.pool).await?
            }
        };
        let more = rows.len() > limit as usize;
        let rows = &rows[..rows.len().min(limit as usize)];
        let next = if more { rows.last().map(|r| r.try_get::<i64, _>(0)).transpose()? } else { None };
        let ids: Vec<String> = rows.iter().map(|r| r.try_get::<String, _>(1)).collect::<Result<_, _>>()?;
        let mut people = self.get_many::<Person>(&ids).await?;
        people.sort_by_key(|p| ids.iter().position(|i| i == p.id.as_str()));
        Ok(Matches { people, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_any_text() {
        for sort in ["", "ليلي الحسن", "a.b|c", "00000000000000000042"] {
            let c = Cursor { key: "dubai|patient".into(), sort: sort.into(), id: "p-1.x".into() };
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        assert_eq!(Cursor::decode("zz..p"), None);
        assert_eq!(Cursor::decode("abc"), None);
        assert_eq!(Cursor::decode("61.62."), None);
        assert_eq!(Cursor::decode("61.62.p 1"), None, "ids have no spaces");
    }
}
