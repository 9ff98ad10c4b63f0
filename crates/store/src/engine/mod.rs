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
mod transaction;

pub(crate) use transaction::*;

use crate::{Backend, Database, StoreError};
use celltrace_domain::ids::{PersonId, StaffId};
use celltrace_domain::{Claim, Event, Reference, ReferenceData, Rejection, RejectionCode, State, Submission};
use crate::tlog::{self, StoredTreeHead};
use cadence::Cadence;
use celltrace_ledger::SigningKey;
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
