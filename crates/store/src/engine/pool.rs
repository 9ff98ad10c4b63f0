//! The command path's transactions on a sqlx pool (PostgreSQL, and SQLite
//! where a pool is all there is, such as signing tree heads). Multi-row
//! statements keep round trips to the server few.

use super::{pow2_chunks, seq_i64, seq_u64, CommandTx, Committer, Projected, Secret, Written};
use crate::{hash32, placeholders, Database, StoreError};
use celltrace_domain::{Claim, EntityKey, EntityKind, Lookup, State};
use celltrace_ledger::{CompactRange, Entry, Head};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// A command-path transaction on the pool.
pub(crate) struct PoolTx(Transaction<'static, Any>);

/// The pool's committer, with the tree's compact range as of its last commit.
pub(crate) struct PoolCommitter {
    db: Database,
    tree: Option<CompactRange>,
}

impl PoolCommitter {
    pub(crate) fn new(db: Database) -> PoolCommitter {
        PoolCommitter { db, tree: None }
    }
}

impl Committer for PoolCommitter {
    type Tx<'a> = PoolTx;

    async fn begin(&mut self) -> Result<PoolTx, StoreError> {
        Ok(PoolTx(self.db.pool().begin().await?))
    }

    fn tree(&mut self) -> &mut Option<CompactRange> {
        &mut self.tree
    }
}

impl CommandTx for PoolTx {
    async fn lock_head(&mut self) -> Result<Head, StoreError> {
        lock_head(&mut self.0).await
    }

    async fn load_entities(&mut self, keys: &[EntityKey], state: &mut State) -> Result<(), StoreError> {
        load_entities(&mut self.0, keys, state).await
    }

    async fn load_lookup(&mut self, lookup: &Lookup, state: &mut State) -> Result<(), StoreError> {
        let rows = match lookup {
            Lookup::PlansOf(person) => {
                sqlx::query(
                    "SELECT e.kind, e.id, e.body FROM entity_index i JOIN entities e ON e.kind = i.kind AND e.id = i.id \
                     WHERE i.name = 'person_plans' AND i.value = $1 AND i.kind = 'plan'",
                )
                    .bind(person.to_string())
                    .fetch_all(&mut *self.0)
                    .await?
            }
        };
        for row in rows {
            let (key, body) = entity_row(&row)?;
            state.load(&key, &body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        }
        Ok(())
    }

    async fn known_commands(&mut self, ids: &[&str]) -> Result<HashSet<String>, StoreError> {
        let mut found = HashSet::new();
        for chunk in pow2_chunks(ids, 256) {
            let sql = format!("SELECT command_id FROM commands WHERE command_id IN ({})", list_placeholders(chunk.len(), 1));
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *self.0).await? {
                found.insert(row.try_get::<String, _>(0)?);
            }
        }
        Ok(found)
    }

    async fn taken_claims(&mut self, wanted: &[(String, String)]) -> Result<HashSet<(String, String)>, StoreError> {
        existing_values(&mut self.0, "claims", "namespace", "value", wanted).await
    }

    async fn frontier(&mut self, size: u64) -> Result<CompactRange, StoreError> {
        crate::tlog::load_frontier(&mut self.0, size).await
    }

    async fn write(&mut self, written: &Written) -> Result<(), StoreError> {
        write_all(&mut self.0, written).await
    }

    async fn commit(self) -> Result<(), StoreError> {
        Ok(self.0.commit().await?)
    }

    async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.0.rollback().await?)
    }
}

/// The state `decide` would see for `submission` now, read in one
/// transaction without locking the chain head (nothing is written).
pub(crate) async fn read_state(db: &Database, reference: &celltrace_domain::ReferenceData, submission: &celltrace_domain::Submission) -> Result<State, StoreError> {
    let mut tx = PoolTx(db.pool().begin().await?);
    let mut state = State { reference: reference.clone(), ..State::default() };
    let keys = submission.keys();
    tx.load_entities(&keys, &mut state).await?;
    let dependent: Vec<EntityKey> = submission.dependent_keys(&state).into_iter().filter(|k| !keys.contains(k)).collect();
    tx.load_entities(&dependent, &mut state).await?;
    for lookup in submission.lookups() {
        tx.load_lookup(&lookup, &mut state).await?;
    }
    tx.rollback().await?;
    Ok(state)
}

impl Database {
    /// Adds to `state` the entities `submission` names that it does not hold
    /// yet (what [`crate::Engine::state_for`] reads); what it holds stays.
    pub async fn load_missing(&self, state: &mut State, submission: &celltrace_domain::Submission) -> Result<(), StoreError> {
        read_missing(self, state, submission).await
    }
}

/// Adds to `state` what `decide` needs for `submission` and `state` does
/// not hold yet, leaving every entity it holds as it is: a caller deciding a
/// sequence of submissions (an import's check) keeps the changes the earlier
/// ones made and reads only what each next one names.
async fn read_missing(db: &Database, state: &mut State, submission: &celltrace_domain::Submission) -> Result<(), StoreError> {
    let mut tx = PoolTx(db.pool().begin().await?);
    let keys: Vec<EntityKey> = submission.keys().into_iter().filter(|k| !state.contains(k)).collect();
    tx.load_entities(&keys, state).await?;
    let dependent: Vec<EntityKey> = submission.dependent_keys(state).into_iter().filter(|k| !state.contains(k)).collect();
    tx.load_entities(&dependent, state).await?;
    for lookup in submission.lookups() {
        let mut found = State::default();
        tx.load_lookup(&lookup, &mut found).await?;
        match lookup {
            Lookup::PlansOf(_) => {
                for (id, plan) in found.plans {
                    state.plans.entry(id).or_insert(plan);
                }
            }
        }
    }
    tx.rollback().await?;
    Ok(())
}

/// Locks the chain head for this transaction and reads it.
pub(crate) async fn lock_head(tx: &mut Transaction<'static, Any>) -> Result<Head, StoreError> {
    // A write first: SQLite takes its write lock now (not at the first insert),
    // PostgreSQL locks the row until commit. Every writer queues here.
    sqlx::query("UPDATE ledger_head SET seq = seq WHERE id = 1").execute(&mut **tx).await?;
    let row = sqlx::query("SELECT seq, hash FROM ledger_head WHERE id = 1").fetch_one(&mut **tx).await?;
    let seq: i64 = row.try_get(0)?;
    let hash: Vec<u8> = row.try_get(1)?;
    Ok(Head { seq: seq_u64(seq)?, hash: hash32(&hash, "ledger head hash")? })
}


async fn load_entities(
    tx: &mut Transaction<'static, Any>,
    keys: &[EntityKey],
    state: &mut State,
) -> Result<(), StoreError> {
    // One query per kind with `id IN (...)`, so both backends use the primary key.
    let mut by_kind: BTreeMap<EntityKind, Vec<&str>> = BTreeMap::new();
    for key in keys {
        by_kind.entry(key.kind).or_default().push(&key.id);
    }
    for (kind, ids) in by_kind {
        for chunk in pow2_chunks(&ids, 256) {
            let sql = format!(
                "SELECT kind, id, body FROM entities WHERE kind = $1 AND id IN ({})",
                list_placeholders(chunk.len(), 2)
            );
            let mut query = sqlx::query(&sql).bind(kind.as_str());
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut **tx).await? {
                let (key, body) = entity_row(&row)?;
                state.load(&key, &body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            }
        }
    }
    Ok(())
}


/// `$first, $first+1, ...` for an `IN (...)` list.
fn list_placeholders(count: usize, first: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(",")
}

fn entity_row(row: &AnyRow) -> Result<(EntityKey, String), StoreError> {
    let kind: String = row.try_get(0)?;
    let id: String = row.try_get(1)?;
    let body: String = row.try_get(2)?;
    let kind = EntityKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("unknown entity kind '{kind}'")))?;
    Ok((EntityKey { kind, id }, body))
}

/// Which of `values` already exist in `table`, grouped by the first column
/// (`group_column = $1 AND value_column IN (...)`, an index lookup on both backends).
async fn existing_values(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    group_column: &str,
    value_column: &str,
    pairs: &[(String, String)],
) -> Result<HashSet<(String, String)>, StoreError> {
    let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (group, value) in pairs {
        grouped.entry(group.as_str()).or_default().push(value.as_str());
    }
    let mut found = HashSet::new();
    for (group, values) in grouped {
        for chunk in pow2_chunks(&values, 256) {
            let sql = format!(
                "SELECT {value_column} FROM {table} WHERE {group_column} = $1 AND {value_column} IN ({})",
                list_placeholders(chunk.len(), 2)
            );
            let mut query = sqlx::query(&sql).bind(group);
            for value in chunk {
                query = query.bind(*value);
            }
            for row in query.fetch_all(&mut **tx).await? {
                found.insert((group.to_owned(), row.try_get::<String, _>(0)?));
            }
        }
    }
    Ok(found)
}


async fn write_all(tx: &mut Transaction<'static, Any>, written: &Written) -> Result<(), StoreError> {
    write_entries(tx, &written.entries).await?;
    crate::tlog::write_nodes(tx, &written.nodes).await?;
    write_projections(tx, &written.projected).await?;
    write_claims(tx, &written.claims).await?;
    write_commands(tx, &written.commands).await?;
    write_subjects(tx, &written.subjects).await?;
    for (kind, count) in &written.created {
        sqlx::query("INSERT INTO entity_counts (kind, count) VALUES ($1, $2) ON CONFLICT (kind) DO UPDATE SET count = entity_counts.count + excluded.count")
            .bind(*kind)
            .bind(*count)
            .execute(&mut **tx)
            .await?;
    }
    if written.registry_changed {
        sqlx::query("UPDATE read_generations SET generation = generation + 1 WHERE name = 'registry'").execute(&mut **tx).await?;
    }
    for secret in &written.secrets {
        write_secret(tx, secret).await?;
    }
    if let Some((last, _)) = written.entries.last() {
        sqlx::query("UPDATE ledger_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq_i64(last.seq)?)
            .bind(last.hash.to_vec())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Database {
    /// Which of these `(namespace, value)` unique values are already taken,
    /// so a check before submitting can name every clash, not just the first.
    pub async fn taken_claims(&self, claims: &[(String, String)]) -> Result<HashSet<(String, String)>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let found = existing_values(&mut tx, "claims", "namespace", "value", claims).await?;
        tx.rollback().await?;
        Ok(found)
    }
}

pub(crate) async fn write_entries(tx: &mut Transaction<'static, Any>, entries: &[(Entry, String)]) -> Result<(), StoreError> {
    for chunk in pow2_chunks(entries, 256) {
        let sql = format!(
            "INSERT INTO ledger (seq, prev_seq, recorded_at, actor, site, kind, payload, prev_hash, hash, command_id) VALUES {}",
            placeholders(chunk.len(), 10, 1)
        );
        let mut query = sqlx::query(&sql);
        for (entry, command) in chunk {
            let seq = seq_i64(entry.seq)?;
            query = query
                .bind(seq)
                .bind(if seq == 1 { None } else { Some(seq - 1) })
                .bind(entry.record.recorded_at)
                .bind(entry.record.actor.clone())
                .bind(entry.record.site.clone())
                .bind(entry.record.kind.clone())
                .bind(entry.record.payload.clone())
                .bind(entry.prev_hash.to_vec())
                .bind(entry.hash.to_vec())
                .bind(command.clone());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn write_projections(tx: &mut Transaction<'static, Any>, projected: &[Projected]) -> Result<(), StoreError> {
    for chunk in pow2_chunks(projected, 256) {
        let sql = format!(
            "INSERT INTO entities (kind, id, site, person, status, reference, body, last_seq) VALUES {} \
             ON CONFLICT (kind, id) DO UPDATE SET site = excluded.site, person = excluded.person, \
             status = excluded.status, reference = excluded.reference, body = excluded.body, last_seq = excluded.last_seq",
            placeholders(chunk.len(), 8, 1)
        );
        let mut query = sqlx::query(&sql);
        for p in chunk {
            let row = &p.row;
            query = query
                .bind(row.key.kind.as_str())
                .bind(row.key.id.clone())
                .bind(row.site.clone())
                .bind(row.person.clone())
                .bind(row.status.clone())
                .bind(row.reference.clone())
                .bind(row.body.clone())
                .bind(seq_i64(p.last_seq)?);
        }
        query.execute(&mut **tx).await?;
    }
    for p in projected {
        for e in &p.index_removed {
            sqlx::query("DELETE FROM entity_index WHERE name = $1 AND value = $2 AND sort = $3 AND kind = $4 AND id = $5")
                .bind(e.index.as_str())
                .bind(e.value.clone())
                .bind(e.sort.clone())
                .bind(p.row.key.kind.as_str())
                .bind(p.row.key.id.clone())
                .execute(&mut **tx)
                .await?;
        }
    }
    let added: Vec<(&Projected, &celltrace_domain::index::IndexEntry)> = projected.iter().flat_map(|p| p.index_added.iter().map(move |e| (p, e))).collect();
    for chunk in pow2_chunks(&added, 256) {
        let sql = format!("INSERT INTO entity_index (name, value, sort, kind, id) VALUES {}", placeholders(chunk.len(), 5, 1));
        let mut query = sqlx::query(&sql);
        for (p, e) in chunk {
            query = query.bind(e.index.as_str()).bind(e.value.clone()).bind(e.sort.clone()).bind(p.row.key.kind.as_str()).bind(p.row.key.id.clone());
        }
        query.execute(&mut **tx).await?;
    }
    for p in projected {
        if let Some(name) = &p.name {
            sqlx::query(
                "INSERT INTO person_names (id, site, kind, name_key) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET site = excluded.site, kind = excluded.kind, name_key = excluded.name_key",
            )
            .bind(p.row.key.id.clone())
            .bind(p.row.site.clone())
            .bind(p.row.status.clone())
            .bind(name.clone())
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

async fn write_claims(tx: &mut Transaction<'static, Any>, claims: &[(Claim, u64)]) -> Result<(), StoreError> {
    for chunk in pow2_chunks(claims, 256) {
        let sql = format!("INSERT INTO claims (namespace, value, owner, seq) VALUES {}", placeholders(chunk.len(), 4, 1));
        let mut query = sqlx::query(&sql);
        for (claim, seq) in chunk {
            query = query.bind(claim.namespace).bind(claim.value.clone()).bind(claim.owner.clone()).bind(seq_i64(*seq)?);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn write_commands(tx: &mut Transaction<'static, Any>, commands: &[(String, u64, u64)]) -> Result<(), StoreError> {
    for chunk in pow2_chunks(commands, 256) {
        let sql = format!("INSERT INTO commands (command_id, first_seq, last_seq) VALUES {}", placeholders(chunk.len(), 3, 1));
        let mut query = sqlx::query(&sql);
        for (id, first, last) in chunk {
            query = query.bind(id.clone()).bind(seq_i64(*first)?).bind(seq_i64(*last)?);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn write_subjects(tx: &mut Transaction<'static, Any>, subjects: &BTreeSet<(EntityKey, u64)>) -> Result<(), StoreError> {
    let subjects: Vec<_> = subjects.iter().collect();
    for chunk in pow2_chunks(&subjects, 256) {
        let sql = format!("INSERT INTO entry_subjects (kind, id, seq) VALUES {}", placeholders(chunk.len(), 3, 1));
        let mut query = sqlx::query(&sql);
        for (key, seq) in chunk {
            query = query.bind(key.kind.as_str()).bind(key.id.clone()).bind(seq_i64(*seq)?);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Stores a secret beside the ledger (same statements on both backends).
pub(crate) async fn write_secret(tx: &mut Transaction<'static, Any>, secret: &Secret) -> Result<(), StoreError> {
    for (sql, binds) in secret_statements(secret) {
        let mut query = sqlx::query(sql);
        for value in binds {
            query = match value {
                SecretValue::Text(t) => query.bind(t),
                SecretValue::Bytes(b) => query.bind(b),
                SecretValue::Int(i) => query.bind(i),
            };
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A value bound into a secret's statement.
pub(crate) enum SecretValue {
    Text(String),
    Bytes(Vec<u8>),
    Int(i64),
}

/// The statements that store a secret, written once for both connections
/// (the pool here, the SQLite writer thread's own connection there).
pub(crate) fn secret_statements(secret: &Secret) -> Vec<(&'static str, Vec<SecretValue>)> {
    use SecretValue::*;
    match secret {
        Secret::Password { staff, hash, end_sessions } => {
            let mut statements = vec![(
                "INSERT INTO credentials (staff_id, password_hash, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (staff_id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
                vec![Text(staff.to_string()), Text(hash.clone()), Int(now_micros())],
            )];
            if *end_sessions {
                statements.push(("DELETE FROM sessions WHERE staff_id = $1", vec![Text(staff.to_string())]));
            }
            statements
        }
        Secret::PortalCode { person, code_hash, issued_by, language, expires_at } => vec![(
            "INSERT INTO portal_accounts (person_id, code_hash, code_expires_at, code_issued_by, password_hash, language, updated_at) \
             VALUES ($1, $2, $3, $4, NULL, $5, $6) \
             ON CONFLICT (person_id) DO UPDATE SET code_hash = excluded.code_hash, code_expires_at = excluded.code_expires_at, \
             code_issued_by = excluded.code_issued_by, updated_at = excluded.updated_at",
            vec![Text(person.to_string()), Bytes(code_hash.clone()), Int(*expires_at), Text(issued_by.to_string()), Text(language.clone()), Int(now_micros())],
        )],
    }
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
