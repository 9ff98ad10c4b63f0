//! The one pass of `verify` over the ledger, in entry order, with the
//! projections met in the order of their last change.

use super::digest::SetDigest;
use super::tree::{TreeCheck, Witnessed};
use super::Report;
use crate::engine::seq_u64;
use crate::read::{stored_entity, StoredEntity};
use crate::{hash32, Backend, Database, StoreError};
use celltrace_domain::{EntityKey, EntityKind, Event, State};
use celltrace_ledger::{ChainVerifier, Checkpoint, Entry, Hash, Record, VerifyingKey};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Rows read per query: enough to amortise a round trip, little memory.
const BATCH: i64 = 2000;

fn stored_hash(row: &AnyRow, column: &str) -> Result<Hash, StoreError> {
    hash32(&row.try_get::<Vec<u8>, _>(column)?, column)
}

/// The projections in the order of their last change, read a batch at a time.
struct Finals {
    buffer: VecDeque<StoredEntity>,
    after: (i64, String, String),
    done: bool,
}

impl Finals {
    async fn peek_seq(&mut self, tx: &mut Transaction<'static, Any>) -> Result<Option<u64>, StoreError> {
        if self.buffer.is_empty() && !self.done {
            let rows = sqlx::query(
                "SELECT kind, id, site, person, status, reference, body, last_seq FROM entities \
                 WHERE (last_seq, kind, id) > ($1, $2, $3) ORDER BY last_seq, kind, id LIMIT $4",
            )
            .bind(self.after.0)
            .bind(self.after.1.clone())
            .bind(self.after.2.clone())
            .bind(BATCH)
            .fetch_all(&mut **tx)
            .await?;
            self.done = (rows.len() as i64) < BATCH;
            for row in &rows {
                let e = stored_entity(row)?;
                self.after = (i64::try_from(e.last_seq).unwrap_or(i64::MAX), e.key.kind.as_str().to_owned(), e.key.id.clone());
                self.buffer.push_back(e);
            }
        }
        Ok(self.buffer.front().map(|e| e.last_seq))
    }
}

pub(super) struct Walk {
    report: Report,
    chain: ChainVerifier,
    /// The records still being changed: replayed state and the entry that last changed each.
    state: State,
    in_flight: HashMap<EntityKey, u64>,
    /// Signed range checkpoints (format 1), and the hashes of the one being walked.
    checkpoints: VecDeque<Checkpoint>,
    range_hashes: Vec<Hash>,
    trusted: VerifyingKey,
    /// The transparency log: tree heads, stored nodes, the uncovered tail.
    tree: TreeCheck,
    subjects: SetDigest,
    claims: SetDigest,
    commands: SetDigest,
    index: SetDigest,
    names: SetDigest,
    counts: BTreeMap<EntityKind, i64>,
    command: Option<(String, u64, u64)>,
    last_hash: Option<Hash>,
}

impl Walk {
    pub(super) async fn run(db: &Database, trusted: &VerifyingKey, witnessed: Option<Witnessed>, now_micros: i64) -> Result<Report, StoreError> {
        let mut tx = db.pool().begin().await?;
        if db.backend() == Backend::Postgres {
            // One snapshot for every query, whatever servers write meanwhile.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
        }
        let mut walk = Walk {
            report: Report::default(),
            chain: ChainVerifier::default(),
            state: State::default(),
            in_flight: HashMap::new(),
            checkpoints: load_checkpoints(&mut tx).await?,
            range_hashes: Vec::new(),
            trusted: *trusted,
            tree: TreeCheck::new(*trusted, witnessed),
            subjects: SetDigest::default(),
            claims: SetDigest::default(),
            commands: SetDigest::default(),
            index: SetDigest::default(),
            names: SetDigest::default(),
            counts: BTreeMap::new(),
            command: None,
            last_hash: None,
        };
        walk.report.checkpoints = walk.checkpoints.len() as u64;
        let mut finals = Finals { buffer: VecDeque::new(), after: (i64::MIN, String::new(), String::new()), done: false };
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT seq, recorded_at, actor, site, kind, payload, prev_hash, hash, command_id FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
            for row in &rows {
                let entry = Entry {
                    seq: seq_u64(row.try_get("seq")?)?,
                    record: Record {
                        recorded_at: row.try_get("recorded_at")?,
                        actor: row.try_get("actor")?,
                        site: row.try_get("site")?,
                        kind: row.try_get("kind")?,
                        payload: row.try_get("payload")?,
                    },
                    prev_hash: stored_hash(row, "prev_hash")?,
                    hash: stored_hash(row, "hash")?,
                };
                let command: String = row.try_get("command_id")?;
                walk.entry(&entry, command);
                walk.tree.leaf(&mut tx, &entry.hash, &mut walk.report.findings).await?;
                while let Some(last) = finals.peek_seq(&mut tx).await? {
                    if last > entry.seq {
                        break;
                    }
                    if let Some(stored) = finals.buffer.pop_front() {
                        walk.compare(stored);
                    }
                }
                walk.report.peak_in_flight = walk.report.peak_in_flight.max(walk.in_flight.len());
            }
            match rows.last() {
                Some(last) => after = last.try_get("seq")?,
                None => break,
            }
            if (rows.len() as i64) < BATCH {
                break;
            }
        }
        walk.finish_command();
        // Projections whose last change is after the last entry: no entry made them so.
        while finals.peek_seq(&mut tx).await?.is_some() {
            if let Some(stored) = finals.buffer.pop_front() {
                walk.finding(format!("record {}: stored as last changed by entry {}, which does not exist", stored.key, stored.last_seq));
            }
        }
        let mut left: Vec<(EntityKey, u64)> = walk.in_flight.drain().collect();
        left.sort();
        for (key, seq) in left {
            walk.finding(format!("record {key}: entry {seq} changed it, but its stored projection is missing or names another last change"));
        }
        walk.check_head(&mut tx).await?;
        walk.check_remaining_checkpoints();
        let (uncovered, age) = walk.tree.finish(&mut tx, now_micros, &mut walk.report.findings).await?;
        walk.report.tree_heads = walk.tree.checked;
        walk.report.covered = walk.tree.covered;
        walk.report.uncovered = uncovered;
        walk.report.oldest_uncovered_age_micros = age;
        walk.compare_tables(&mut tx).await?;
        tx.rollback().await?;
        Ok(walk.report)
    }

    fn finding(&mut self, text: String) {
        self.report.findings.push(text);
    }

    fn entry(&mut self, entry: &Entry, command: String) {
        self.report.entries += 1;
        if let Err(fault) = self.chain.check(entry) {
            self.finding(format!("ledger {fault}"));
            // Carry on from this entry so later faults are reported too.
            self.chain = ChainVerifier::resume(entry.seq, entry.hash);
        }
        self.last_hash = Some(entry.hash);
        self.checkpoint_leaf(entry.seq, entry.hash);
        match &mut self.command {
            Some((id, _, last)) if *id == command => *last = entry.seq,
            _ => {
                self.finish_command();
                self.command = Some((command, entry.seq, entry.seq));
            }
        }
        let event: Event = match serde_json::from_slice(&entry.record.payload) {
            Ok(event) => event,
            Err(err) => return self.finding(format!("ledger entry {}: payload is not a readable event ({err})", entry.seq)),
        };
        if event.kind() != entry.record.kind {
            self.finding(format!("ledger entry {}: kind column says '{}' but the payload is '{}'", entry.seq, entry.record.kind, event.kind()));
        }
        self.state.apply(&event);
        for key in event.keys() {
            self.in_flight.insert(key, entry.seq);
        }
        let seq = entry.seq.to_string();
        // As the engine does: one row per record and entry, however often the event names it.
        let subjects: std::collections::BTreeSet<_> = event.subjects().into_iter().collect();
        for subject in subjects {
            self.subjects.add(&[subject.kind.as_str(), &subject.id, &seq]);
        }
        for claim in event.claims() {
            self.claims.add(&[claim.namespace, &claim.value, &claim.owner, &seq]);
        }
    }

    fn finish_command(&mut self) {
        if let Some((id, first, last)) = self.command.take() {
            self.commands.add(&[&id, &first.to_string(), &last.to_string()]);
        }
    }

    /// Compares a stored projection, met at its last change, with the replay.
    fn compare(&mut self, found: StoredEntity) {
        let key = found.key.clone();
        let changed_at = self.in_flight.get(&key).copied();
        if changed_at != Some(found.last_seq) {
            let actual = changed_at.map_or("no entry".to_owned(), |s| format!("entry {s}"));
            self.finding(format!("record {key}: stored as last changed by entry {}, but the ledger's last change of it so far is {actual}", found.last_seq));
            if changed_at.is_none() {
                return;
            }
        }
        let expected = match self.state.row(&key) {
            Ok(Some(row)) => row,
            Ok(None) => return self.finding(format!("record {key}: stored but no ledger entry created it")),
            Err(e) => return self.finding(format!("record {key}: cannot be encoded ({e})")),
        };
        self.report.entities += 1;
        *self.counts.entry(key.kind).or_default() += 1;
        for e in &expected.index {
            self.index.add(&[e.index.as_str(), &e.value, &e.sort, key.kind.as_str(), &key.id]);
        }
        if let Some(name) = &expected.search {
            self.names.add(&[&key.id, &expected.site, &expected.status, name]);
        }
        let mut diffs = Vec::new();
        if found.body != expected.body {
            diffs.push(json_differences(&found.body, &expected.body));
        }
        if found.site != expected.site {
            diffs.push(format!("site (stored '{}', ledger '{}')", found.site, expected.site));
        }
        if found.status != expected.status {
            diffs.push(format!("status (stored '{}', ledger '{}')", found.status, expected.status));
        }
        if found.person != expected.person {
            diffs.push("person".to_owned());
        }
        if found.reference != expected.reference {
            diffs.push("reference (DIN, product code or MRN)".to_owned());
        }
        if !diffs.is_empty() {
            self.finding(format!("record {key}: stored projection differs from the ledger in {}", diffs.join("; ")));
        }
        // Final: no later entry changes it, so the replay can forget it.
        self.state.remove(&key);
        self.in_flight.remove(&key);
    }

    fn checkpoint_leaf(&mut self, seq: u64, hash: Hash) {
        let Some(cp) = self.checkpoints.front() else { return };
        if seq < cp.from_seq {
            return;
        }
        self.range_hashes.push(hash);
        if seq >= cp.to_seq {
            self.close_checkpoint();
        }
    }

    fn close_checkpoint(&mut self) {
        let Some(cp) = self.checkpoints.pop_front() else { return };
        let hashes = std::mem::take(&mut self.range_hashes);
        match cp.verify(&self.trusted, &hashes) {
            // A valid range checkpoint (written before tree heads) covers its entries too.
            Ok(()) => self.tree.covered_by_checkpoint(cp.to_seq),
            Err(fault) => self.finding(fault.to_string()),
        }
    }

    /// Checkpoints that reach past the last entry: their entries are gone.
    fn check_remaining_checkpoints(&mut self) {
        while !self.checkpoints.is_empty() {
            self.close_checkpoint();
        }
    }

    async fn check_head(&mut self, tx: &mut Transaction<'static, Any>) -> Result<(), StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM ledger_head WHERE id = 1").fetch_one(&mut **tx).await?;
        let (seq, hash) = (seq_u64(row.try_get(0)?)?, stored_hash(&row, "hash")?);
        if seq != self.report.entries || (seq > 0 && self.last_hash != Some(hash)) {
            let ends = self.chain.head().seq;
            self.finding(format!("ledger head: records entry {seq} but the ledger ends at entry {ends} ({} entries present)", self.report.entries));
        }
        Ok(())
    }

    /// Streams each derived table and compares its digest with the ledger's.
    async fn compare_tables(&mut self, tx: &mut Transaction<'static, Any>) -> Result<(), StoreError> {
        let tables: [(&str, &str, &str, SetDigest); 5] = [
            ("claims", "namespace, value, owner, seq", "the uniqueness claims (DINs, releases, administrations, usernames, MRNs, grants)", self.claims),
            ("commands", "command_id, first_seq, last_seq", "the command records (a resubmitted command is recognised by them)", self.commands),
            ("entry_subjects", "kind, id, seq", "the audit index (which entries concern which record)", self.subjects),
            ("entity_index", "name, value, sort, kind, id", "the read model's index (what lists and lookups find)", self.index),
            ("person_names", "id, site, kind, name_key", "the searchable names", self.names),
        ];
        for (table, columns, what, expected) in tables {
            let stored = digest_table(tx, table, columns).await?;
            if stored != expected {
                self.finding(format!(
                    "{what}: the stored {table} ({} rows) differ from what the ledger implies ({} rows): rows were added, removed or changed",
                    stored.count(),
                    expected.count()
                ));
            }
        }
        let rows = sqlx::query("SELECT kind, count FROM entity_counts").fetch_all(&mut **tx).await?;
        let mut stored: BTreeMap<String, i64> = BTreeMap::new();
        for r in &rows {
            stored.insert(r.try_get(0)?, r.try_get(1)?);
        }
        let expected: BTreeMap<String, i64> = self.counts.iter().map(|(k, n)| (k.as_str().to_owned(), *n)).collect();
        if stored.into_iter().filter(|(_, n)| *n != 0).collect::<BTreeMap<_, _>>() != expected {
            self.finding("record counts: the stored counts per kind differ from the records the ledger implies".to_owned());
        }
        Ok(())
    }
}

async fn load_checkpoints(tx: &mut Transaction<'static, Any>) -> Result<VecDeque<Checkpoint>, StoreError> {
    let rows = sqlx::query("SELECT from_seq, to_seq, to_hash, root, signed_at, public_key, signature FROM checkpoints ORDER BY from_seq")
        .fetch_all(&mut **tx)
        .await?;
    let mut out = VecDeque::new();
    for row in rows {
        let from_seq = seq_u64(row.try_get(0)?)?;
        let to_seq = seq_u64(row.try_get(1)?)?;
        let public_key: [u8; 32] = row
            .try_get::<Vec<u8>, _>(5)?
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("checkpoint {from_seq}..{to_seq}: the public key is not 32 bytes")))?;
        let signature: [u8; 64] = row
            .try_get::<Vec<u8>, _>(6)?
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("checkpoint {from_seq}..{to_seq}: the signature is not 64 bytes")))?;
        out.push_back(Checkpoint {
            from_seq,
            to_seq,
            to_hash: stored_hash(&row, "to_hash")?,
            root: stored_hash(&row, "root")?,
            signed_at: row.try_get(4)?,
            public_key,
            signature,
        });
    }
    let mut expected = 1;
    for cp in &out {
        if cp.from_seq != expected {
            // Reported by the walk as a range whose entries do not match; name the gap too.
            tracing::warn!("checkpoint {}..{} does not start at entry {expected}", cp.from_seq, cp.to_seq);
        }
        expected = cp.to_seq.saturating_add(1);
    }
    Ok(out)
}

/// The digest of every row of `table` (its `columns`, as text).
async fn digest_table(tx: &mut Transaction<'static, Any>, table: &str, columns: &str) -> Result<SetDigest, StoreError> {
    // Aliased apart from the columns: PostgreSQL would otherwise resolve
    // `ORDER BY seq` to the text output column and order "1600" before "876",
    // disagreeing with the keyset comparison on the integer column.
    let cast: Vec<String> = columns.split(", ").enumerate().map(|(i, c)| format!("CAST({c} AS TEXT) AS field_{i}")).collect();
    let order = columns;
    let mut digest = SetDigest::default();
    let mut offset_key: Option<Vec<String>> = None;
    let width = cast.len();
    loop {
        let (condition, binds) = match &offset_key {
            None => ("1 = 1".to_owned(), Vec::new()),
            Some(last) => {
                let placeholders: Vec<String> = (1..=width).map(|i| format!("${i}")).collect();
                (format!("({columns}) > ({})", placeholders.join(", ")), last.clone())
            }
        };
        let sql = format!("SELECT {} FROM {table} WHERE {condition} ORDER BY {order} LIMIT {BATCH}", cast.join(", "));
        let rows = {
            // Keyset paging in the table's key order; integer columns compare as integers.
            let mut query = sqlx::query(&sql);
            for (i, value) in binds.iter().enumerate() {
                let column = columns.split(", ").nth(i).unwrap_or_default();
                query = if column.ends_with("seq") || column == "count" { query.bind(value.parse::<i64>().unwrap_or(0)) } else { query.bind(value.clone()) };
            }
            query.fetch_all(&mut **tx).await?
        };
        for row in &rows {
            let fields: Vec<String> = (0..width).map(|i| row.try_get::<String, _>(i)).collect::<Result<_, _>>()?;
            let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
            digest.add(&refs);
            offset_key = Some(fields);
        }
        if (rows.len() as i64) < BATCH {
            break;
        }
    }
    Ok(digest)
}

fn json_differences(stored: &str, rebuilt: &str) -> String {
    let (Ok(a), Ok(b)) = (serde_json::from_str::<serde_json::Value>(stored), serde_json::from_str::<serde_json::Value>(rebuilt)) else {
        return "body is not valid JSON".to_owned();
    };
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            let fields: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            let differing: Vec<&str> = fields.into_iter().filter(|f| a.get(*f) != b.get(*f)).map(|f| f.as_str()).collect();
            if differing.is_empty() {
                "field order or formatting".to_owned()
            } else {
                format!("field(s) {}", differing.join(", "))
            }
        }
        _ => "body".to_owned(),
    }
}
