//! The command path's transactions on SQLite: one thread owns one connection
//! and runs each batch start to finish with prepared statements. SQLite has
//! one writer at a time anyway; doing its work on its own thread, without an
//! async driver's round trip per statement, is what lets a batch cost little
//! more than SQLite itself.

use super::pool::{secret_statements, SecretValue};
use super::{commit_atomic, commit_batch, seq_i64, seq_u64, AtomicError, CommandTx, Committer, Receipt, Request, SubmitError, Written};
use crate::{hash32, StoreError, SQLITE_SETTINGS};
use celltrace_domain::{EntityKey, EntityKind, Lookup, ReferenceData, State};
use celltrace_ledger::{CompactRange, Head};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::mpsc;
use tokio::sync::oneshot;

enum Work {
    Batch(ReferenceData, Vec<Request>, oneshot::Sender<Vec<Result<Receipt, SubmitError>>>),
    Atomic(ReferenceData, Vec<Request>, oneshot::Sender<Result<Vec<Receipt>, AtomicError>>),
}

/// Handle to the writer thread; the thread ends when the handle is dropped.
pub(super) struct WriterThread {
    work: mpsc::Sender<Work>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WriterThread {
    /// Starts the thread on the database file at `path` (already migrated).
    pub(super) fn start(path: PathBuf) -> WriterThread {
        let (work, queue) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("celltrace-sqlite-writer".into())
            .spawn(move || run(&path, &queue));
        let thread = match spawned {
            Ok(thread) => Some(thread),
            Err(e) => {
                // Without the thread every submission is answered "shutting down".
                tracing::error!("could not start the SQLite writer thread: {e}");
                None
            }
        };
        WriterThread { work, thread }
    }

    /// Ends the thread and waits until its connection is closed (SQLite then
    /// folds the WAL back into the database file), for a clean stop.
    pub(super) async fn close(self) {
        let WriterThread { work, thread } = self;
        drop(work);
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    pub(super) async fn batch(&self, reference: ReferenceData, requests: Vec<Request>) -> Vec<Result<Receipt, SubmitError>> {
        let count = requests.len();
        let (reply, answer) = oneshot::channel();
        if self.work.send(Work::Batch(reference, requests, reply)).is_err() {
            return (0..count).map(|_| Err(SubmitError::Store(StoreError::Closed))).collect();
        }
        answer.await.unwrap_or_else(|_| (0..count).map(|_| Err(SubmitError::Store(StoreError::Closed))).collect())
    }

    pub(super) async fn atomic(&self, reference: ReferenceData, requests: Vec<Request>) -> Result<Vec<Receipt>, AtomicError> {
        let (reply, answer) = oneshot::channel();
        self.work.send(Work::Atomic(reference, requests, reply)).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

fn open(path: &PathBuf) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    for (name, value) in SQLITE_SETTINGS {
        conn.pragma_update(None, name, value)?;
    }
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

fn run(path: &PathBuf, queue: &mpsc::Receiver<Work>) {
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("SQLite writer thread: {e}");
            return;
        }
    };
    let mut committer = open(path).map(|conn| SqliteCommitter { conn, tree: None });
    if let Err(e) = &committer {
        tracing::error!("SQLite writer could not open {}: {e}", path.display());
    }
    while let Ok(work) = queue.recv() {
        match (&mut committer, work) {
            (Ok(committer), Work::Batch(reference, requests, reply)) => {
                let _ = reply.send(runtime.block_on(commit_batch(committer, &reference, &requests)));
            }
            (Ok(committer), Work::Atomic(reference, requests, reply)) => {
                let _ = reply.send(runtime.block_on(commit_atomic(committer, &reference, &requests)));
            }
            (Err(e), Work::Batch(_, requests, reply)) => {
                let _ = reply.send(requests.iter().map(|_| Err(SubmitError::Store(StoreError::Invalid(e.to_string())))).collect());
            }
            (Err(e), Work::Atomic(_, _, reply)) => {
                let _ = reply.send(Err(AtomicError::Store(StoreError::Invalid(e.to_string()))));
            }
        }
    }
}

struct SqliteCommitter {
    conn: Connection,
    /// The tree's compact range as of the last commit.
    tree: Option<CompactRange>,
}

impl Committer for SqliteCommitter {
    type Tx<'a> = SqliteTx<'a>;

    async fn begin(&mut self) -> Result<SqliteTx<'_>, StoreError> {
        // IMMEDIATE takes the write lock now, so the head read next cannot go stale.
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(SqliteTx { conn: &self.conn, open: true })
    }

    fn tree(&mut self) -> &mut Option<CompactRange> {
        &mut self.tree
    }
}

/// An open `BEGIN IMMEDIATE` transaction; rolled back if dropped while open.
pub(super) struct SqliteTx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if self.open {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!("rollback after a failed batch: {e}");
            }
        }
    }
}

impl CommandTx for SqliteTx<'_> {
    async fn lock_head(&mut self) -> Result<Head, StoreError> {
        let (seq, hash): (i64, Vec<u8>) =
            self.conn.prepare_cached("SELECT seq, hash FROM ledger_head WHERE id = 1")?.query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(Head { seq: seq_u64(seq)?, hash: hash32(&hash, "ledger head hash")? })
    }

    async fn load_entities(&mut self, keys: &[EntityKey], state: &mut State) -> Result<(), StoreError> {
        let mut select = self.conn.prepare_cached("SELECT body FROM entities WHERE kind = ?1 AND id = ?2")?;
        for key in keys {
            let body: Option<String> = select.query_row(params![key.kind.as_str(), key.id], |r| r.get(0)).optional()?;
            if let Some(body) = body {
                state.load(key, &body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            }
        }
        Ok(())
    }

    async fn load_lookup(&mut self, lookup: &Lookup, state: &mut State) -> Result<(), StoreError> {
        match lookup {
            Lookup::PlansOf(person) => {
                let mut select = self.conn.prepare_cached(
                    "SELECT e.id, e.body FROM entity_index i JOIN entities e ON e.kind = i.kind AND e.id = i.id \
                     WHERE i.name = 'person_plans' AND i.value = ?1 AND i.kind = 'plan'",
                )?;
                let rows = select.query_map(params![person.as_str()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
                for row in rows {
                    let (id, body) = row?;
                    state.load(&EntityKey { kind: EntityKind::Plan, id }, &body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                }
            }
        }
        Ok(())
    }

    async fn known_commands(&mut self, ids: &[&str]) -> Result<HashSet<String>, StoreError> {
        let mut select = self.conn.prepare_cached("SELECT 1 FROM commands WHERE command_id = ?1")?;
        let mut found = HashSet::new();
        for id in ids {
            if select.exists(params![id])? {
                found.insert((*id).to_owned());
            }
        }
        Ok(found)
    }

    async fn taken_claims(&mut self, wanted: &[(String, String)]) -> Result<HashSet<(String, String)>, StoreError> {
        let mut select = self.conn.prepare_cached("SELECT 1 FROM claims WHERE namespace = ?1 AND value = ?2")?;
        let mut found = HashSet::new();
        for (namespace, value) in wanted {
            if select.exists(params![namespace, value])? {
                found.insert((namespace.clone(), value.clone()));
            }
        }
        Ok(found)
    }

    async fn frontier(&mut self, size: u64) -> Result<CompactRange, StoreError> {
        // At most 64 primary-key lookups, in process: only at start or after another process wrote.
        let mut select = self.conn.prepare_cached("SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2")?;
        let mut hashes = Vec::new();
        for id in celltrace_ledger::merkle::frontier(size) {
            let hash: Option<Vec<u8>> = select.query_row(params![i64::from(id.level), seq_i64(id.index)?], |r| r.get(0)).optional()?;
            let hash = hash.ok_or_else(|| {
                StoreError::Corrupt(format!("merkle node (level {}, index {}) is missing: the tree over the ledger is incomplete", id.level, id.index))
            })?;
            hashes.push(hash32(&hash, "merkle node hash")?);
        }
        CompactRange::from_hashes(size, hashes).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    async fn write(&mut self, written: &Written) -> Result<(), StoreError> {
        let mut insert = self.conn.prepare_cached(
            "INSERT INTO ledger (seq, prev_seq, recorded_at, actor, site, kind, payload, prev_hash, hash, command_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for (entry, command) in &written.entries {
            let seq = seq_i64(entry.seq)?;
            let record = &entry.record;
            insert.execute(params![
                seq,
                if seq == 1 { None } else { Some(seq - 1) },
                record.recorded_at,
                record.actor,
                record.site,
                record.kind,
                record.payload,
                entry.prev_hash.as_slice(),
                entry.hash.as_slice(),
                command,
            ])?;
        }
        let mut node = self.conn.prepare_cached("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")?;
        for (id, hash) in &written.nodes {
            node.execute(params![i64::from(id.level), seq_i64(id.index)?, hash.as_slice()])?;
        }
        let mut upsert = self.conn.prepare_cached(
            "INSERT INTO entities (kind, id, site, person, status, reference, body, last_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (kind, id) DO UPDATE SET site = excluded.site, person = excluded.person, \
             status = excluded.status, reference = excluded.reference, body = excluded.body, last_seq = excluded.last_seq",
        )?;
        let mut unindex = self.conn.prepare_cached("DELETE FROM entity_index WHERE name = ?1 AND value = ?2 AND sort = ?3 AND kind = ?4 AND id = ?5")?;
        let mut reindex = self.conn.prepare_cached("INSERT INTO entity_index (name, value, sort, kind, id) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        let mut name = self.conn.prepare_cached(
            "INSERT INTO person_names (id, site, kind, name_key) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO UPDATE SET site = excluded.site, kind = excluded.kind, name_key = excluded.name_key",
        )?;
        for p in &written.projected {
            let row = &p.row;
            let (kind, id) = (row.key.kind.as_str(), row.key.id.as_str());
            upsert.execute(params![kind, id, row.site, row.person, row.status, row.reference, row.body, seq_i64(p.last_seq)?])?;
            for e in &p.index_removed {
                unindex.execute(params![e.index.as_str(), e.value, e.sort, kind, id])?;
            }
            for e in &p.index_added {
                reindex.execute(params![e.index.as_str(), e.value, e.sort, kind, id])?;
            }
            if let Some(key) = &p.name {
                name.execute(params![id, row.site, row.status, key])?;
            }
        }
        let mut insert = self.conn.prepare_cached("INSERT INTO claims (namespace, value, owner, seq) VALUES (?1, ?2, ?3, ?4)")?;
        for (claim, seq) in &written.claims {
            insert.execute(params![claim.namespace, claim.value, claim.owner, seq_i64(*seq)?])?;
        }
        let mut insert = self.conn.prepare_cached("INSERT INTO commands (command_id, first_seq, last_seq) VALUES (?1, ?2, ?3)")?;
        for (id, first, last) in &written.commands {
            insert.execute(params![id, seq_i64(*first)?, seq_i64(*last)?])?;
        }
        let mut insert = self.conn.prepare_cached("INSERT INTO entry_subjects (kind, id, seq) VALUES (?1, ?2, ?3)")?;
        for (key, seq) in &written.subjects {
            insert.execute(params![key.kind.as_str(), key.id, seq_i64(*seq)?])?;
        }
        let mut count = self.conn.prepare_cached(
            "INSERT INTO entity_counts (kind, count) VALUES (?1, ?2) ON CONFLICT (kind) DO UPDATE SET count = entity_counts.count + excluded.count",
        )?;
        for (kind, n) in &written.created {
            count.execute(params![kind, n])?;
        }
        if written.registry_changed {
            self.conn.prepare_cached("UPDATE read_generations SET generation = generation + 1 WHERE name = 'registry'")?.execute([])?;
        }
        for secret in &written.secrets {
            for (sql, binds) in secret_statements(secret) {
                let values: Vec<rusqlite::types::Value> = binds
                    .into_iter()
                    .map(|v| match v {
                        SecretValue::Text(t) => rusqlite::types::Value::Text(t),
                        SecretValue::Bytes(b) => rusqlite::types::Value::Blob(b),
                        SecretValue::Int(i) => rusqlite::types::Value::Integer(i),
                    })
                    .collect();
                self.conn.prepare_cached(sql)?.execute(rusqlite::params_from_iter(values))?;
            }
        }
        if let Some((last, _)) = written.entries.last() {
            self.conn
                .prepare_cached("UPDATE ledger_head SET seq = ?1, hash = ?2 WHERE id = 1")?
                .execute(params![seq_i64(last.seq)?, last.hash.as_slice()])?;
        }
        Ok(())
    }

    async fn commit(mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }

    async fn rollback(mut self) -> Result<(), StoreError> {
        self.open = false;
        self.conn.execute_batch("ROLLBACK")?;
        Ok(())
    }
}
