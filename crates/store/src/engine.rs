//! The command path. Every change goes through here: a submission is decided
//! by the domain against the current projections, its events are chained into
//! the ledger, and the projections, claims and audit index are updated, all
//! in one transaction, and only then acknowledged.
//!
//! One writer task per process takes whatever submissions are waiting and
//! commits them together (group commit), so a burst costs one fsync, not one
//! per command. Across processes the `ledger_head` row lock serialises writers.

use crate::{hash32, placeholders, Database, StoreError};
use celltrace_domain::{decide, Claim, EntityKey, EntityKind, Event, Rejection, State, Submission};
use celltrace_ledger::{Checkpoint, Entry, Head, Record, SigningKey};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// What an accepted submission became.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    /// First ledger entry written for it.
    pub first_seq: u64,
    /// Last ledger entry written for it.
    pub last_seq: u64,
    /// The events, in order.
    pub events: Vec<Event>,
}

/// Why a submission did not become events.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The rules refused it; nothing changed.
    #[error("{0}")]
    Rejected(Rejection),
    /// Storage failed; nothing changed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an all-or-nothing batch was not recorded. Nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum AtomicError {
    /// The rules refused the submission at `index` (0-based in the batch).
    #[error("submission {index} was refused: {rejection}")]
    Rejected {
        /// Position of the refused submission in the batch.
        index: usize,
        /// Why.
        rejection: Rejection,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Tuning of the command path.
#[derive(Clone)]
pub struct EngineOptions {
    /// Most submissions committed in one transaction.
    pub max_batch: usize,
    /// Sign a checkpoint once this many entries are not yet covered.
    pub checkpoint_every: u64,
    /// The deployment's checkpoint signing key.
    pub signing_key: SigningKey,
}

impl EngineOptions {
    /// Defaults with the given key.
    pub fn new(signing_key: SigningKey) -> EngineOptions {
        EngineOptions { max_batch: 256, checkpoint_every: 1024, signing_key }
    }
}

enum Job {
    Submit(Box<Submission>, oneshot::Sender<Result<Receipt, SubmitError>>),
    /// Committed alone in its own transaction, never grouped with other submissions,
    /// so one refusal rolls back exactly this batch and nobody else's work.
    Atomic(Vec<Submission>, oneshot::Sender<Result<Vec<Receipt>, AtomicError>>),
    Checkpoint(oneshot::Sender<Result<Option<Checkpoint>, StoreError>>),
}

/// Counters of the command path since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Transactions committed (or attempted) for submissions.
    pub batches: u64,
    /// Submissions handled.
    pub submissions: u64,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    submissions: AtomicU64,
}

/// Handle to the command path; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    jobs: mpsc::Sender<Job>,
    db: Database,
    counters: Arc<Counters>,
}

impl Engine {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(db: Database, options: EngineOptions) -> Engine {
        let (jobs, rx) = mpsc::channel(4096);
        let counters = Arc::new(Counters::default());
        tokio::spawn(writer(db.clone(), options, rx, counters.clone()));
        Engine { jobs, db, counters }
    }

    /// Batches and submissions handled so far.
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            submissions: self.counters.submissions.load(Ordering::Relaxed),
        }
    }

    /// The database behind this engine.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Decides and durably records one submission.
    pub async fn submit(&self, submission: Submission) -> Result<Receipt, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Submit(Box::new(submission), reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Decides `subs` in order, each against the state the ones before it
    /// leave, and records all of them in one transaction, or none: the first
    /// refusal (by the rules or a taken unique value) rolls everything back.
    pub async fn submit_atomic(&self, subs: Vec<Submission>) -> Result<Vec<Receipt>, AtomicError> {
        if subs.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job::Atomic(subs, reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Signs a checkpoint over every entry not yet covered (if any).
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job::Checkpoint(reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn writer(db: Database, options: EngineOptions, mut rx: mpsc::Receiver<Job>, counters: Arc<Counters>) {
    let mut uncovered: u64 = 0;
    // An atomic job met while gathering a group waits here for its own turn.
    let mut held: Option<Job> = None;
    loop {
        let job = match held.take() {
            Some(job) => job,
            None => match rx.recv().await {
                Some(job) => job,
                None => break,
            },
        };
        let mut checkpoint_replies = Vec::new();
        if let Job::Atomic(subs, reply) = job {
            counters.batches.fetch_add(1, Ordering::Relaxed);
            counters.submissions.fetch_add(subs.len() as u64, Ordering::Relaxed);
            let outcome = commit_atomic(&db, &subs).await;
            if let Ok(receipts) = &outcome {
                uncovered += receipts.iter().map(|r| r.last_seq + 1 - r.first_seq).sum::<u64>();
            }
            let _ = reply.send(outcome);
        } else {
            let mut submissions = Vec::new();
            let mut replies = Vec::new();
            let mut next = Some(job);
            while let Some(job) = next.take() {
                match job {
                    Job::Submit(sub, reply) => {
                        submissions.push(*sub);
                        replies.push(reply);
                    }
                    Job::Checkpoint(reply) => checkpoint_replies.push(reply),
                    atomic @ Job::Atomic(..) => {
                        held = Some(atomic);
                        break;
                    }
                }
                if submissions.len() < options.max_batch {
                    next = rx.try_recv().ok();
                }
            }
            if !submissions.is_empty() {
                counters.batches.fetch_add(1, Ordering::Relaxed);
                counters.submissions.fetch_add(submissions.len() as u64, Ordering::Relaxed);
                let outcomes = commit_batch(&db, &submissions).await;
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    if let Ok(receipt) = &outcome {
                        uncovered += receipt.last_seq + 1 - receipt.first_seq;
                    }
                    // The submitter may have gone away; the command stands regardless.
                    let _ = reply.send(outcome);
                }
            }
        }
        if uncovered >= options.checkpoint_every || !checkpoint_replies.is_empty() {
            let result = sign_checkpoint(&db, &options.signing_key).await;
            match &result {
                Ok(_) => uncovered = 0,
                Err(e) => tracing::warn!("checkpoint failed, will retry after the next batch: {e}"),
            }
            for reply in checkpoint_replies {
                let _ = reply.send(match &result {
                    Ok(cp) => Ok(cp.clone()),
                    Err(e) => Err(StoreError::Corrupt(e.to_string())),
                });
            }
        }
    }
}

/// Commits a batch; if the batch as a whole fails, each submission is retried
/// alone so one bad submission cannot fail its neighbours.
async fn commit_batch(db: &Database, subs: &[Submission]) -> Vec<Result<Receipt, SubmitError>> {
    match try_commit(db, subs).await {
        Ok(outcomes) => outcomes.into_iter().map(|o| o.map_err(SubmitError::Rejected)).collect(),
        Err(e) if subs.len() == 1 => vec![Err(SubmitError::Store(e))],
        Err(e) => {
            tracing::warn!("batch of {} failed ({e}); retrying one by one", subs.len());
            let mut out = Vec::with_capacity(subs.len());
            for sub in subs {
                out.push(match try_commit(db, std::slice::from_ref(sub)).await {
                    Ok(mut o) => o.pop().unwrap_or_else(|| Err(Rejection::new("internal", "no outcome"))).map_err(SubmitError::Rejected),
                    Err(e) => Err(SubmitError::Store(e)),
                });
            }
            out
        }
    }
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

pub(crate) fn seq_u64(seq: i64) -> Result<u64, StoreError> {
    u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("negative sequence number {seq}")))
}

pub(crate) fn seq_i64(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("sequence number {seq} out of range")))
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

/// Splits `rows` into chunks whose sizes are powers of two (at most `max`), so
/// a multi-row statement comes in a handful of shapes that stay in the
/// prepared-statement cache instead of one new shape per batch size.
pub(crate) fn pow2_chunks<T>(rows: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = rest.len().min(max);
        let size = if size.is_power_of_two() { size } else { size.next_power_of_two() / 2 };
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
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

/// How a taken unique value is refused, in words for the person who sent it.
pub fn claim_rejection(claim: &Claim) -> Rejection {
    let message = match claim.namespace {
        "din" => format!("DIN {} is already assigned to another donation; assign a new DIN.", claim.value),
        "release" => format!("Unit {} has already been released.", claim.value),
        "unit_code" => format!(
            "A unit with DIN {} and product code {} already exists: give each division its own division code.",
            claim.value.get(..13).unwrap_or(&claim.value),
            claim.value.get(13..).unwrap_or("")
        ),
        "administration" => format!("STOP: unit {} has already been administered.", claim.value),
        "username" => format!("The username '{}' is taken; choose another.", claim.value),
        "mrn" => format!("Medical record number {} is already registered at this site.", claim.value),
        "fin" => format!("Facility identification number {} belongs to another site.", claim.value),
        other => format!("{other} '{}' is already taken.", claim.value),
    };
    let code = match claim.namespace {
        "administration" => "already_administered",
        "release" => "already_released",
        _ => "already_taken",
    };
    Rejection::new(code, message)
}

struct Written {
    entries: Vec<(Entry, String)>,
    touched: BTreeMap<EntityKey, u64>,
    claims: Vec<(Claim, u64)>,
    commands: Vec<(String, u64, u64)>,
    subjects: BTreeSet<(EntityKey, u64)>,
}

/// Decides every submission in order against `base`, skipping `excluded`.
fn decide_batch(
    base: &State,
    head: Head,
    subs: &[Submission],
    known_commands: &HashSet<String>,
    excluded: &HashMap<usize, Rejection>,
) -> (State, Written, Vec<Result<Receipt, Rejection>>) {
    let mut state = base.clone();
    let mut head = head;
    let mut written = Written {
        entries: Vec::new(),
        touched: BTreeMap::new(),
        claims: Vec::new(),
        commands: Vec::new(),
        subjects: BTreeSet::new(),
    };
    let mut batch_claims: HashSet<(&'static str, String)> = HashSet::new();
    let mut batch_commands: HashSet<&str> = HashSet::new();
    let mut outcomes = Vec::with_capacity(subs.len());
    for (i, sub) in subs.iter().enumerate() {
        if let Some(rejection) = excluded.get(&i) {
            outcomes.push(Err(rejection.clone()));
            continue;
        }
        let id = sub.id.as_str();
        if known_commands.contains(id) || !batch_commands.insert(id) {
            outcomes.push(Err(Rejection::new(
                "duplicate_command",
                format!("Command {id} was already recorded; it is not applied twice."),
            )));
            continue;
        }
        let events = match decide(&state, sub) {
            Ok(events) => events,
            Err(rejection) => {
                outcomes.push(Err(rejection));
                continue;
            }
        };
        let claims: Vec<Claim> = events.iter().flat_map(Event::claims).collect();
        if let Some(taken) = claims.iter().find(|c| batch_claims.contains(&(c.namespace, c.value.clone()))) {
            outcomes.push(Err(claim_rejection(taken)));
            continue;
        }
        let actor = sub.actor.ledger_name();
        let first_seq = head.seq + 1;
        for event in &events {
            state.apply(event);
            // Plain data with string-keyed maps only: serialising cannot fail.
            let payload = serde_json::to_vec(event).unwrap_or_default();
            let entry = head.append(Record {
                recorded_at: sub.at.0,
                actor: actor.clone(),
                site: sub.site.to_string(),
                kind: event.kind().to_owned(),
                payload,
            });
            for key in event.keys() {
                written.touched.insert(key, entry.seq);
            }
            for subject in event.subjects() {
                written.subjects.insert((subject, entry.seq));
            }
            for claim in event.claims() {
                batch_claims.insert((claim.namespace, claim.value.clone()));
                written.claims.push((claim, entry.seq));
            }
            written.entries.push((entry, id.to_owned()));
        }
        written.commands.push((id.to_owned(), first_seq, head.seq));
        outcomes.push(Ok(Receipt { first_seq, last_seq: head.seq, events }));
    }
    (state, written, outcomes)
}

async fn known_commands(tx: &mut Transaction<'static, Any>, subs: &[Submission]) -> Result<HashSet<String>, StoreError> {
    let mut found = HashSet::new();
    for chunk in pow2_chunks(subs, 256) {
        let sql = format!("SELECT command_id FROM commands WHERE command_id IN ({})", list_placeholders(chunk.len(), 1));
        let mut query = sqlx::query(&sql);
        for sub in chunk {
            query = query.bind(sub.id.as_str());
        }
        for row in query.fetch_all(&mut **tx).await? {
            found.insert(row.try_get::<String, _>(0)?);
        }
    }
    Ok(found)
}

/// Opens the transaction, locks the head and loads what `subs` need.
async fn begin_decisions(
    db: &Database,
    subs: &[Submission],
) -> Result<(Transaction<'static, Any>, Head, State, HashSet<String>), StoreError> {
    let mut tx = db.pool().begin().await?;
    let head = lock_head(&mut tx).await?;

    let mut keys: BTreeSet<EntityKey> = subs.iter().flat_map(Submission::keys).collect();
    let mut base = State::default();
    load_entities(&mut tx, &keys.iter().cloned().collect::<Vec<_>>(), &mut base).await?;
    let dependent: Vec<EntityKey> = subs
        .iter()
        .flat_map(|s| s.dependent_keys(&base))
        .filter(|k| keys.insert(k.clone()))
        .collect();
    if !dependent.is_empty() {
        load_entities(&mut tx, &dependent, &mut base).await?;
    }

    let known_commands = known_commands(&mut tx, subs).await?;
    Ok((tx, head, base, known_commands))
}

/// Which claims of `written` the database already holds.
async fn taken_claims(tx: &mut Transaction<'static, Any>, written: &Written) -> Result<HashSet<(String, String)>, StoreError> {
    let wanted: Vec<(String, String)> =
        written.claims.iter().map(|(c, _)| (c.namespace.to_owned(), c.value.clone())).collect();
    existing_values(tx, "claims", "namespace", "value", &wanted).await
}

async fn try_commit(db: &Database, subs: &[Submission]) -> Result<Vec<Result<Receipt, Rejection>>, StoreError> {
    let (mut tx, head, base, known_commands) = begin_decisions(db, subs).await?;

    // Decide, then check the claims against the database; a submission whose
    // claim is taken is refused and the rest decided again without it.
    let mut excluded: HashMap<usize, Rejection> = HashMap::new();
    let (state, written, outcomes) = loop {
        let (state, written, outcomes) = decide_batch(&base, head, subs, &known_commands, &excluded);
        let taken = taken_claims(&mut tx, &written).await?;
        if taken.is_empty() {
            break (state, written, outcomes);
        }
        let mut seq_to_sub = Vec::new();
        for (i, o) in outcomes.iter().enumerate() {
            if let Ok(r) = o {
                seq_to_sub.push((r.first_seq, r.last_seq, i));
            }
        }
        for (claim, seq) in &written.claims {
            if taken.contains(&(claim.namespace.to_owned(), claim.value.clone())) {
                if let Some((_, _, i)) = seq_to_sub.iter().find(|(a, b, _)| a <= seq && seq <= b) {
                    excluded.insert(*i, claim_rejection(claim));
                }
            }
        }
    };

    if written.entries.is_empty() {
        tx.rollback().await?;
        return Ok(outcomes);
    }
    write_all(&mut tx, &state, &written).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// The all-or-nothing path: the same decisions and writes as `try_commit`,
/// but the first refusal rolls back the whole transaction.
async fn commit_atomic(db: &Database, subs: &[Submission]) -> Result<Vec<Receipt>, AtomicError> {
    let (mut tx, head, base, known_commands) = begin_decisions(db, subs).await?;
    let (state, written, outcomes) = decide_batch(&base, head, subs, &known_commands, &HashMap::new());
    let mut receipts = Vec::with_capacity(outcomes.len());
    let mut refused = None;
    for (index, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(receipt) => receipts.push(receipt),
            Err(rejection) => {
                refused = Some(AtomicError::Rejected { index, rejection });
                break;
            }
        }
    }
    if refused.is_none() {
        let taken = taken_claims(&mut tx, &written).await?;
        // The claims are in sequence order, so the first taken one belongs to the earliest refused submission.
        if let Some((claim, seq)) = written.claims.iter().find(|(c, _)| taken.contains(&(c.namespace.to_owned(), c.value.clone()))) {
            let index = receipts.iter().position(|r| r.first_seq <= *seq && *seq <= r.last_seq).unwrap_or(0);
            refused = Some(AtomicError::Rejected { index, rejection: claim_rejection(claim) });
        }
    }
    if let Some(error) = refused {
        tx.rollback().await.map_err(StoreError::from)?;
        return Err(error);
    }
    if !written.entries.is_empty() {
        write_all(&mut tx, &state, &written).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(receipts)
}

async fn write_all(tx: &mut Transaction<'static, Any>, state: &State, written: &Written) -> Result<(), StoreError> {
    write_entries(tx, &written.entries).await?;
    write_entities(tx, state, &written.touched).await?;
    write_claims(tx, &written.claims).await?;
    write_commands(tx, &written.commands).await?;
    write_subjects(tx, &written.subjects).await?;
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

async fn write_entities(
    tx: &mut Transaction<'static, Any>,
    state: &State,
    touched: &BTreeMap<EntityKey, u64>,
) -> Result<(), StoreError> {
    let rows: Vec<_> = touched.iter().filter_map(|(key, seq)| state.row(key).map(|row| (row, *seq))).collect();
    for chunk in pow2_chunks(&rows, 256) {
        let sql = format!(
            "INSERT INTO entities (kind, id, site, person, status, reference, body, last_seq) VALUES {} \
             ON CONFLICT (kind, id) DO UPDATE SET site = excluded.site, person = excluded.person, \
             status = excluded.status, reference = excluded.reference, body = excluded.body, last_seq = excluded.last_seq",
            placeholders(chunk.len(), 8, 1)
        );
        let mut query = sqlx::query(&sql);
        for (row, seq) in chunk {
            query = query
                .bind(row.key.kind.as_str())
                .bind(row.key.id.clone())
                .bind(row.site.clone())
                .bind(row.person.clone())
                .bind(row.status.clone())
                .bind(row.reference.clone())
                .bind(row.body.clone())
                .bind(seq_i64(*seq)?);
        }
        query.execute(&mut **tx).await?;
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

/// Signs a checkpoint over the entries after the last one, if there are any.
pub async fn sign_checkpoint(db: &Database, key: &SigningKey) -> Result<Option<Checkpoint>, StoreError> {
    let mut tx = db.pool().begin().await?;
    let head = lock_head(&mut tx).await?;
    let last: Option<i64> = sqlx::query("SELECT MAX(to_seq) FROM checkpoints")
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    let from = seq_u64(last.unwrap_or(0))? + 1;
    if from > head.seq {
        tx.rollback().await?;
        return Ok(None);
    }
    let rows = sqlx::query("SELECT hash FROM ledger WHERE seq >= $1 AND seq <= $2 ORDER BY seq")
        .bind(seq_i64(from)?)
        .bind(seq_i64(head.seq)?)
        .fetch_all(&mut *tx)
        .await?;
    let hashes = rows
        .iter()
        .map(|r| hash32(&r.try_get::<Vec<u8>, _>(0)?, "entry hash"))
        .collect::<Result<Vec<_>, _>>()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let Some(checkpoint) = Checkpoint::sign(key, from, &hashes, now) else {
        tx.rollback().await?;
        return Ok(None);
    };
    insert_checkpoint(&mut tx, &checkpoint).await?;
    tx.commit().await?;
    Ok(Some(checkpoint))
}

pub(crate) async fn insert_checkpoint(tx: &mut Transaction<'static, Any>, cp: &Checkpoint) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO checkpoints (from_seq, to_seq, to_hash, root, signed_at, public_key, signature) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(seq_i64(cp.from_seq)?)
    .bind(seq_i64(cp.to_seq)?)
    .bind(cp.to_hash.to_vec())
    .bind(cp.root.to_vec())
    .bind(cp.signed_at)
    .bind(cp.public_key.to_vec())
    .bind(cp.signature.to_vec())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_and_cover_every_row() {
        let rows: Vec<u32> = (0..59).collect();
        let sizes: Vec<usize> = pow2_chunks(&rows, 256).map(<[u32]>::len).collect();
        assert_eq!(sizes, [32, 16, 8, 2, 1]);
        let rows: Vec<u32> = (0..600).collect();
        let chunks: Vec<&[u32]> = pow2_chunks(&rows, 256).collect();
        assert!(chunks.iter().all(|c| c.len().is_power_of_two() && c.len() <= 256));
        assert_eq!(chunks.concat(), rows);
        assert_eq!(pow2_chunks::<u32>(&[], 256).count(), 0);
    }
}
