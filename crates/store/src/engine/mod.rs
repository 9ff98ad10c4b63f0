//! The command path. Every change goes through here: a submission is decided
//! by the domain against the current projections, its events are chained into
//! the ledger, and the projections, claims and audit index are updated, all
//! in one transaction, and only then acknowledged.
//!
//! One writer task per process takes whatever submissions are waiting and
//! commits them together (group commit), so a burst costs one fsync, not one
//! per command. Across processes the `ledger_head` row lock serialises writers.
//!
//! The flow of a transaction is written once, over [`CommandTx`]; `pool`
//! carries it out through sqlx (PostgreSQL), `sqlite` on a thread that owns a
//! SQLite connection of its own, which spares every statement a hop between
//! threads.
//!
//! The engine also keeps the transparency log current: each batch writes the
//! Merkle nodes its entries complete (from a compact range the committer
//! keeps, reloaded from the stored frontier whenever another process moved
//! the head), and the writer signs a tree head over the whole ledger at most
//! [`EngineOptions::checkpoint_within`] or [`EngineOptions::checkpoint_every`]
//! entries after any entry, whichever comes first. Whether anything is
//! uncovered is read from the database (head seq − newest tree head size), so
//! the rule holds across restarts and across processes; on start, the first
//! act is to cover what is uncovered.

mod cadence;
pub(crate) mod pool;
mod sqlite;

use crate::{Backend, Database, StoreError};
use celltrace_domain::ids::{PersonId, StaffId};
use celltrace_domain::index::IndexEntry;
use celltrace_domain::{decide, Claim, EntityKey, Event, Lookup, ProjectionRow, Reference, ReferenceData, Rejection, RejectionCode, State, Submission};
use crate::tlog::{self, StoredTreeHead};
use cadence::Cadence;
use celltrace_ledger::{CompactRange, Entry, Hash, Head, NodeId, Record, SigningKey};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
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
    /// Sign a tree head once this many entries are not yet covered.
    pub checkpoint_every: u64,
    /// Sign a tree head at most this long after an entry it does not yet cover.
    pub checkpoint_within: Duration,
    /// The deployment's tree head signing key.
    pub signing_key: SigningKey,
    /// The log's origin, also the key name on its signature lines (see [`tlog::origin_for`]).
    pub origin: String,
    /// The reference data the rules consult (evidence, schedules, instruments).
    pub reference: Arc<dyn Reference>,
}

impl EngineOptions {
    /// Defaults with the given key and reference data.
    pub fn new(signing_key: SigningKey, reference: Arc<dyn Reference>) -> EngineOptions {
        EngineOptions {
            max_batch: 256,
            checkpoint_every: 1024,
            checkpoint_within: Duration::from_secs(1),
            signing_key,
            origin: tlog::DEFAULT_ORIGIN.to_owned(),
            reference,
        }
    }
}

/// A secret that goes with an accepted command and is stored beside the
/// ledger, never in it, in the same transaction: the command's event says
/// that a password was set or a portal code issued; the hash lives here.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// A member of staff's new argon2id password hash.
    Password {
        /// Whose.
        staff: StaffId,
        /// The PHC string.
        hash: String,
        /// Whether every session of the person ends (an administrator's reset).
        end_sessions: bool,
    },
    /// A patient's one-time portal code (its SHA-256), replacing any earlier one.
    PortalCode {
        /// The patient.
        person: PersonId,
        /// SHA-256 of the normalised code.
        code_hash: Vec<u8>,
        /// Who handed it over.
        issued_by: StaffId,
        /// The language the portal opens in.
        language: String,
        /// Until when it works, microseconds since the epoch.
        expires_at: i64,
    },
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Password { staff, .. } => write!(f, "Secret::Password({staff}, ***)"),
            Secret::PortalCode { person, .. } => write!(f, "Secret::PortalCode({person}, ***)"),
        }
    }
}

/// A submission and the secret it carries, if any.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) submission: Submission,
    pub(crate) secret: Option<Secret>,
}

enum Job {
    Submit(Box<Request>, oneshot::Sender<Result<Receipt, SubmitError>>),
    /// Committed alone in its own transaction, never grouped with other submissions,
    /// so one refusal rolls back exactly this batch and nobody else's work.
    Atomic(Vec<Submission>, oneshot::Sender<Result<Vec<Receipt>, AtomicError>>),
    Checkpoint(oneshot::Sender<Result<Option<StoredTreeHead>, StoreError>>),
    /// Stop: jobs sent before it are done first; later ones are answered `Closed`.
    Close(oneshot::Sender<()>),
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
    reference: ReferenceData,
}

impl Engine {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(db: Database, options: EngineOptions) -> Engine {
        let (jobs, rx) = mpsc::channel(4096);
        let counters = Arc::new(Counters::default());
        let committer = match db.backend() {
            Backend::Sqlite => match db.sqlite_path() {
                Ok(path) => BatchCommitter::Thread(sqlite::WriterThread::start(path)),
                // The pool's path is correct on SQLite too, only slower.
                Err(e) => {
                    tracing::warn!("the SQLite writer thread needs the database file ({e}); writing through the pool");
                    BatchCommitter::Pool(pool::PoolCommitter::new(db.clone()))
                }
            },
            Backend::Postgres => BatchCommitter::Pool(pool::PoolCommitter::new(db.clone())),
        };
        let reference = ReferenceData::new(options.reference.clone());
        tokio::spawn(writer(db.clone(), committer, options, rx, counters.clone()));
        Engine { jobs, db, counters, reference }
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
        self.send(Request { submission, secret: None }).await
    }

    /// Decides and durably records one submission together with the secret
    /// it carries (a password or portal code hash), both or neither.
    pub async fn submit_with_secret(&self, submission: Submission, secret: Secret) -> Result<Receipt, SubmitError> {
        self.send(Request { submission, secret: Some(secret) }).await
    }

    async fn send(&self, request: Request) -> Result<Receipt, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job::Submit(Box::new(request), reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// The state `decide` would see for `submission` now (read only), so a
    /// page can show exactly the checks the rules make, e.g. at the bedside.
    pub async fn state_for(&self, submission: &Submission) -> Result<State, StoreError> {
        pool::read_state(&self.db, &self.reference, submission).await
    }

    /// The reference data the rules consult, for adapters that show it.
    pub fn reference(&self) -> &ReferenceData {
        &self.reference
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

    /// Closes the command path for a clean stop: every job sent before is
    /// finished, a tree head covers everything written, the SQLite writer's
    /// connection is closed, and any later submission is answered "shutting
    /// down". The pools are the caller's to close.
    pub async fn close(&self) {
        let (reply, done) = oneshot::channel();
        if self.jobs.send(Job::Close(reply)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Signs a tree head over the whole ledger now, unless the newest one
    /// already covers it, and returns the tree head that covers everything
    /// (`None` only for an empty ledger). The graceful stop calls this last.
    pub async fn checkpoint(&self) -> Result<Option<StoredTreeHead>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job::Checkpoint(reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// Where the writer's transactions run.
enum BatchCommitter {
    /// In the writer task, on the pool (PostgreSQL).
    Pool(pool::PoolCommitter),
    /// On the SQLite writer thread.
    Thread(sqlite::WriterThread),
}

impl BatchCommitter {
    async fn batch(&mut self, reference: &ReferenceData, requests: Vec<Request>) -> Vec<Result<Receipt, SubmitError>> {
        match self {
            BatchCommitter::Pool(db) => commit_batch(db, reference, &requests).await,
            BatchCommitter::Thread(thread) => thread.batch(reference.clone(), requests).await,
        }
    }

    async fn atomic(&mut self, reference: &ReferenceData, subs: Vec<Submission>) -> Result<Vec<Receipt>, AtomicError> {
        let requests: Vec<Request> = subs.into_iter().map(|submission| Request { submission, secret: None }).collect();
        match self {
            BatchCommitter::Pool(db) => commit_atomic(db, reference, &requests).await,
            BatchCommitter::Thread(thread) => thread.atomic(reference.clone(), requests).await,
        }
    }
}

async fn writer(
    db: Database,
    mut committer: BatchCommitter,
    options: EngineOptions,
    mut rx: mpsc::Receiver<Job>,
    counters: Arc<Counters>,
) {
    let reference = ReferenceData::new(options.reference.clone());
    let mut options = options;
    match tlog::log_origin(&db, &options.origin).await {
        Ok(origin) if origin != options.origin => {
            tracing::info!("signing as the log's established origin {origin:?}, not {:?}: witnesses know it by that name", options.origin);
            options.origin = origin;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("reading the log's origin: {e}"),
    }
    let mut cadence = Cadence::new(&options);
    // The first act: cover whatever an earlier process left uncovered.
    let _ = cadence.sign(&db).await;
    // An atomic job met while gathering a group waits here for its own turn.
    let mut held: Option<Job> = None;
    let mut closed = None;
    loop {
        let job = match held.take() {
            Some(job) => job,
            None => {
                let wake = cadence.wake_at();
                tokio::select! {
                    job = rx.recv() => match job {
                        Some(job) => job,
                        None => break,
                    },
                    () = tokio::time::sleep_until(wake) => {
                        cadence.tick(&db).await;
                        continue;
                    }
                }
            }
        };
        if let Job::Close(reply) = job {
            closed = Some(reply);
            break;
        }
        let mut checkpoint_replies = Vec::new();
        let mut sign_now = false;
        if let Job::Atomic(subs, reply) = job {
            counters.batches.fetch_add(1, Ordering::Relaxed);
            counters.submissions.fetch_add(subs.len() as u64, Ordering::Relaxed);
            let outcome = committer.atomic(&reference, subs).await;
            if let Ok(receipts) = &outcome {
                if let Some(last) = receipts.iter().map(|r| r.last_seq).max() {
                    sign_now |= cadence.wrote(last);
                }
            }
            let _ = reply.send(outcome);
        } else {
            let mut submissions = Vec::new();
            let mut replies = Vec::new();
            let mut next = Some(job);
            while let Some(job) = next.take() {
                match job {
                    Job::Submit(request, reply) => {
                        submissions.push(*request);
                        replies.push(reply);
                    }
                    Job::Checkpoint(reply) => checkpoint_replies.push(reply),
                    held_back @ (Job::Atomic(..) | Job::Close(_)) => {
                        held = Some(held_back);
                        break;
                    }
                }
                if submissions.len() < options.max_batch {
                    next = next_waiting(&mut rx).await;
                }
            }
            if !submissions.is_empty() {
                counters.batches.fetch_add(1, Ordering::Relaxed);
                counters.submissions.fetch_add(submissions.len() as u64, Ordering::Relaxed);
                let outcomes = committer.batch(&reference, submissions).await;
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    if let Ok(receipt) = &outcome {
                        sign_now |= cadence.wrote(receipt.last_seq);
                    }
                    // The submitter may have gone away; the command stands regardless.
                    let _ = reply.send(outcome);
                }
            }
        }
        if sign_now || !checkpoint_replies.is_empty() {
            let result = cadence.sign(&db).await;
            for reply in checkpoint_replies {
                let _ = reply.send(match &result {
                    Ok(head) => Ok(head.clone()),
                    Err(e) => Err(StoreError::Invalid(format!("no tree head was signed: {e}"))),
                });
            }
        }
    }
    // Jobs sent after the close find the queue shut and are answered "shutting down".
    rx.close();
    // Closing, or every handle is gone: cover what this process wrote before it ends.
    if cadence.written > cadence.covered {
        if let Err(e) = cadence.sign(&db).await {
            tracing::warn!("no final tree head was signed: {e}; the next start covers the tail");
        }
    }
    if let BatchCommitter::Thread(thread) = committer {
        thread.close().await;
    }
    if let Some(reply) = closed {
        let _ = reply.send(());
    }
}

/// The next job already sent, if any. When the queue looks empty the writer
/// first lets the other tasks run a couple of times: submitters just woken by
/// the previous commit are usually about to send their next command, and
/// taking them into this batch saves a whole commit for microseconds of wait.
async fn next_waiting(rx: &mut mpsc::Receiver<Job>) -> Option<Job> {
    const STRAGGLER_YIELDS: usize = 2;
    for _ in 0..STRAGGLER_YIELDS {
        if let Ok(job) = rx.try_recv() {
            return Some(job);
        }
        tokio::task::yield_now().await;
    }
    rx.try_recv().ok()
}

pub(crate) fn seq_u64(seq: i64) -> Result<u64, StoreError> {
    u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("negative sequence number {seq}")))
}

pub(crate) fn seq_i64(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("sequence number {seq} out of range")))
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
        "signing_grant" => format!("Signing grant {} was already used; the signer authenticates again for this signature.", claim.value),
        "api_token" => "This API token is already issued; make a new one.".to_owned(),
        other => format!("{other} '{}' is already taken.", claim.value),
    };
    let code = match claim.namespace {
        "administration" => RejectionCode::AlreadyAdministered,
        "release" => RejectionCode::AlreadyReleased,
        "signing_grant" => RejectionCode::SigningGrantUsed,
        _ => RejectionCode::AlreadyTaken,
    };
    Rejection::new(code, message)
}

/// Opens the transactions of the command path on one backend.
pub(crate) trait Committer {
    /// An open transaction.
    type Tx<'a>: CommandTx
    where
        Self: 'a;
    /// Opens one.
    async fn begin(&mut self) -> Result<Self::Tx<'_>, StoreError>;
    /// The compact range of the tree as of the last commit, if known: taken
    /// before a transaction, put back after its commit.
    fn tree(&mut self) -> &mut Option<CompactRange>;
}

/// One command-path transaction: the chain head locked for its whole life,
/// the reads the decisions need and the writes they produce. Dropped without
/// `commit`, it rolls back.
pub(crate) trait CommandTx {
    /// Locks the chain head against every other writer and reads it.
    async fn lock_head(&mut self) -> Result<Head, StoreError>;
    /// Loads the projections of `keys` that exist into `state`.
    async fn load_entities(&mut self, keys: &[EntityKey], state: &mut State) -> Result<(), StoreError>;
    /// Loads the records an index finds for `lookup` into `state`.
    async fn load_lookup(&mut self, lookup: &Lookup, state: &mut State) -> Result<(), StoreError>;
    /// Which of these command ids are already recorded.
    async fn known_commands(&mut self, ids: &[&str]) -> Result<HashSet<String>, StoreError>;
    /// Which of these `(namespace, value)` claims are already taken.
    async fn taken_claims(&mut self, wanted: &[(String, String)]) -> Result<HashSet<(String, String)>, StoreError>;
    /// The compact range of the first `size` leaves, from the stored nodes.
    async fn frontier(&mut self, size: u64) -> Result<CompactRange, StoreError>;
    /// Writes the entries, their Merkle nodes, projections with their index
    /// entries, claims, commands, audit index and secrets, and moves the head.
    async fn write(&mut self, written: &Written) -> Result<(), StoreError>;
    /// Makes everything durable.
    async fn commit(self) -> Result<(), StoreError>;
    /// Undoes everything.
    async fn rollback(self) -> Result<(), StoreError>;
}

/// What a batch's decisions write.
pub(crate) struct Written {
    pub(crate) entries: Vec<(Entry, String)>,
    /// The Merkle nodes the entries complete (filled by [`grow_tree`] once the batch is final).
    pub(crate) nodes: Vec<(NodeId, Hash)>,
    pub(crate) touched: BTreeMap<EntityKey, u64>,
    pub(crate) claims: Vec<(Claim, u64)>,
    pub(crate) commands: Vec<(String, u64, u64)>,
    pub(crate) subjects: BTreeSet<(EntityKey, u64)>,
    /// Secrets of the accepted submissions, stored beside the ledger.
    pub(crate) secrets: Vec<Secret>,
    /// The new projections of the touched entities (filled by [`project`] once the batch is final).
    pub(crate) projected: Vec<Projected>,
    /// How many entities of each kind the batch creates.
    pub(crate) created: BTreeMap<&'static str, i64>,
    /// Whether the batch changes what the registry counts (a treated plan or an adverse event).
    pub(crate) registry_changed: bool,
}

/// One entity's new projection and what changed in its index entries and
/// searchable name, so a write touches only what changed.
pub(crate) struct Projected {
    pub(crate) row: ProjectionRow,
    pub(crate) last_seq: u64,
    pub(crate) index_removed: Vec<IndexEntry>,
    pub(crate) index_added: Vec<IndexEntry>,
    /// A person's searchable name, when it is new or changed.
    pub(crate) name: Option<String>,
}

/// The projections of every entity `written` touched, against what they were in `base`.
pub(crate) fn project(base: &State, state: &State, written: &mut Written) -> Result<(), StoreError> {
    let encode = |key: &EntityKey, e: serde_json::Error| StoreError::Invalid(format!("{key} cannot be encoded: {e}; nothing was recorded"));
    let mut projected = Vec::with_capacity(written.touched.len());
    for (key, seq) in &written.touched {
        let Some(row) = state.row(key).map_err(|e| encode(key, e))? else { continue };
        let before = base.row(key).map_err(|e| encode(key, e))?;
        let old: BTreeSet<&IndexEntry> = before.as_ref().map(|b| b.index.iter().collect()).unwrap_or_default();
        let new: BTreeSet<&IndexEntry> = row.index.iter().collect();
        let index_removed = old.difference(&new).map(|e| (*e).clone()).collect();
        let index_added = new.difference(&old).map(|e| (*e).clone()).collect();
        let name = row.search.clone().filter(|n| before.as_ref().and_then(|b| b.search.as_ref()) != Some(n) || before.as_ref().is_some_and(|b| b.site != row.site || b.status != row.status));
        if before.is_none() {
            *written.created.entry(key.kind.as_str()).or_default() += 1;
        }
        let treated = |entries: &[IndexEntry]| entries.iter().any(|e| e.index == celltrace_domain::index::Index::TreatedPlans);
        if key.kind == celltrace_domain::EntityKind::AdverseEvent || treated(&row.index) || before.as_ref().is_some_and(|b| treated(&b.index)) {
            written.registry_changed = true;
        }
        projected.push(Projected { row, last_seq: *seq, index_removed, index_added, name });
    }
    written.projected = projected;
    Ok(())
}

/// A batch decided: the state after it, what it writes, and each submission's outcome.
type Decided = (State, Written, Vec<Result<Receipt, Rejection>>);

/// Decides every submission in order against `base`, skipping `excluded`.
fn decide_batch(
    base: &State,
    head: Head,
    requests: &[Request],
    known_commands: &HashSet<String>,
    excluded: &HashMap<usize, Rejection>,
) -> Result<Decided, StoreError> {
    let mut state = base.clone();
    let mut head = head;
    let mut written = Written {
        entries: Vec::new(),
        nodes: Vec::new(),
        touched: BTreeMap::new(),
        claims: Vec::new(),
        commands: Vec::new(),
        subjects: BTreeSet::new(),
        secrets: Vec::new(),
        projected: Vec::new(),
        created: BTreeMap::new(),
        registry_changed: false,
    };
    let mut batch_claims: HashSet<(&'static str, String)> = HashSet::new();
    let mut batch_commands: HashSet<&str> = HashSet::new();
    let mut outcomes = Vec::with_capacity(requests.len());
    for (i, Request { submission: sub, secret }) in requests.iter().enumerate() {
        if let Some(rejection) = excluded.get(&i) {
            outcomes.push(Err(rejection.clone()));
            continue;
        }
        let id = sub.id.as_str();
        if known_commands.contains(id) || !batch_commands.insert(id) {
            outcomes.push(Err(Rejection::new(
                RejectionCode::DuplicateCommand,
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
            // Plain data with string-keyed maps cannot fail to encode; if it
            // ever did, the batch fails: an empty payload is never chained.
            let payload = serde_json::to_vec(event)
                .map_err(|e| StoreError::Invalid(format!("event {} cannot be encoded: {e}; nothing was recorded", event.kind())))?;
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
        written.secrets.extend(secret.iter().cloned());
        outcomes.push(Ok(Receipt { first_seq, last_seq: head.seq, events }));
    }
    Ok((state, written, outcomes))
}

/// Commits a batch; if the batch as a whole fails, each submission is retried
/// alone so one bad submission cannot fail its neighbours.
async fn commit_batch<C: Committer>(committer: &mut C, reference: &ReferenceData, requests: &[Request]) -> Vec<Result<Receipt, SubmitError>> {
    match try_commit(committer, reference, requests).await {
        Ok(outcomes) => outcomes.into_iter().map(|o| o.map_err(SubmitError::Rejected)).collect(),
        Err(e) if requests.len() == 1 => vec![Err(SubmitError::Store(e))],
        Err(e) => {
            tracing::warn!("batch of {} failed ({e}); retrying one by one", requests.len());
            let mut out = Vec::with_capacity(requests.len());
            for request in requests {
                out.push(match try_commit(committer, reference, std::slice::from_ref(request)).await {
                    Ok(mut o) => match o.pop() {
                        Some(outcome) => outcome.map_err(SubmitError::Rejected),
                        None => Err(SubmitError::Store(StoreError::Invalid("a submission got no outcome".into()))),
                    },
                    Err(e) => Err(SubmitError::Store(e)),
                });
            }
            out
        }
    }
}

/// Opens the transaction, locks the head and loads what the requests need:
/// the entities they name, those the first ones lead to, and what the
/// indexes find for their lookups; the rules get the reference data.
async fn begin_decisions<'c, C: Committer>(
    committer: &'c mut C,
    reference: &ReferenceData,
    requests: &[Request],
) -> Result<(C::Tx<'c>, Head, State, HashSet<String>), StoreError> {
    let mut tx = committer.begin().await?;
    let head = tx.lock_head().await?;

    let subs = requests.iter().map(|r| &r.submission);
    let mut keys: BTreeSet<EntityKey> = subs.clone().flat_map(Submission::keys).collect();
    let mut base = State { reference: reference.clone(), ..State::default() };
    tx.load_entities(&keys.iter().cloned().collect::<Vec<_>>(), &mut base).await?;
    let dependent: Vec<EntityKey> = subs.clone().flat_map(|s| s.dependent_keys(&base)).filter(|k| keys.insert(k.clone())).collect();
    if !dependent.is_empty() {
        tx.load_entities(&dependent, &mut base).await?;
    }
    let lookups: BTreeSet<Lookup> = subs.clone().flat_map(Submission::lookups).collect();
    for lookup in &lookups {
        tx.load_lookup(lookup, &mut base).await?;
    }

    let ids: Vec<&str> = subs.map(|s| s.id.as_str()).collect();
    let known_commands = tx.known_commands(&ids).await?;
    Ok((tx, head, base, known_commands))
}

/// Which claims of `written` the database already holds.
async fn taken_claims(tx: &mut impl CommandTx, written: &Written) -> Result<HashSet<(String, String)>, StoreError> {
    let wanted: Vec<(String, String)> =
        written.claims.iter().map(|(c, _)| (c.namespace.to_owned(), c.value.clone())).collect();
    tx.taken_claims(&wanted).await
}

/// The tree grown by the batch's entries: the range kept from the last
/// commit when it is still at the head, else the stored frontier (another
/// process wrote meanwhile, or this is the first batch).
async fn grow_tree(tx: &mut impl CommandTx, cached: Option<CompactRange>, head: Head, written: &mut Written) -> Result<CompactRange, StoreError> {
    let mut range = match cached {
        Some(range) if range.size() == head.seq => range,
        _ => tx.frontier(head.seq).await?,
    };
    written.nodes = tlog::append_entries(&mut range, &written.entries);
    Ok(range)
}

async fn try_commit<C: Committer>(committer: &mut C, reference: &ReferenceData, requests: &[Request]) -> Result<Vec<Result<Receipt, Rejection>>, StoreError> {
    let cached = committer.tree().take();
    let (mut tx, head, base, known_commands) = begin_decisions(committer, reference, requests).await?;

    // Decide, then check the claims against the database; a submission whose
    // claim is taken is refused and the rest decided again without it.
    let mut excluded: HashMap<usize, Rejection> = HashMap::new();
    let (state, written, outcomes) = loop {
        let (state, written, outcomes) = decide_batch(&base, head, requests, &known_commands, &excluded)?;
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
        *committer.tree() = cached;
        return Ok(outcomes);
    }
    let mut written = written;
    let range = grow_tree(&mut tx, cached, head, &mut written).await?;
    project(&base, &state, &mut written)?;
    tx.write(&written).await?;
    tx.commit().await?;
    *committer.tree() = Some(range);
    Ok(outcomes)
}

/// The all-or-nothing path: the same decisions and writes as `try_commit`,
/// but the first refusal rolls back the whole transaction.
async fn commit_atomic<C: Committer>(committer: &mut C, reference: &ReferenceData, requests: &[Request]) -> Result<Vec<Receipt>, AtomicError> {
    let cached = committer.tree().take();
    let (mut tx, head, base, known_commands) = begin_decisions(committer, reference, requests).await?;
    let (state, written, outcomes) = decide_batch(&base, head, requests, &known_commands, &HashMap::new())?;
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
        tx.rollback().await?;
        *committer.tree() = cached;
        return Err(error);
    }
    let mut range = cached;
    if !written.entries.is_empty() {
        let mut written = written;
        range = Some(grow_tree(&mut tx, range, head, &mut written).await?);
        project(&base, &state, &mut written)?;
        tx.write(&written).await?;
    }
    tx.commit().await?;
    *committer.tree() = range;
    Ok(receipts)
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
