//! One transaction of the command path, written once for both backends:
//! lock the head, load what the submissions name, decide them in order,
//! chain their events, check unique values, grow the Merkle tree, write
//! every row and commit ([`try_commit`], [`commit_atomic`]). [`Committer`]
//! and [`CommandTx`] are what a backend provides (`pool`, `sqlite`).

use super::{claim_rejection, Receipt, Request, Secret, SubmitError, AtomicError};
use crate::StoreError;
use celltrace_domain::index::IndexEntry;
use celltrace_domain::{decide, Claim, EntityKey, Event, Lookup, ProjectionRow, ReferenceData, Rejection, RejectionCode, State, Submission};
use crate::tlog;
use celltrace_ledger::{CompactRange, Entry, Hash, Head, NodeId, Record};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

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
pub(crate) fn decide_batch(
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
pub(crate) async fn commit_batch<C: Committer>(committer: &mut C, reference: &ReferenceData, requests: &[Request]) -> Vec<Result<Receipt, SubmitError>> {
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
pub(crate) async fn begin_decisions<'c, C: Committer>(
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
pub(crate) async fn taken_claims(tx: &mut impl CommandTx, written: &Written) -> Result<HashSet<(String, String)>, StoreError> {
    let wanted: Vec<(String, String)> =
        written.claims.iter().map(|(c, _)| (c.namespace.to_owned(), c.value.clone())).collect();
    tx.taken_claims(&wanted).await
}

/// The tree grown by the batch's entries: the range kept from the last
/// commit when it is still at the head, else the stored frontier (another
/// process wrote meanwhile, or this is the first batch).
pub(crate) async fn grow_tree(tx: &mut impl CommandTx, cached: Option<CompactRange>, head: Head, written: &mut Written) -> Result<CompactRange, StoreError> {
    let mut range = match cached {
        Some(range) if range.size() == head.seq => range,
        _ => tx.frontier(head.seq).await?,
    };
    written.nodes = tlog::append_entries(&mut range, &written.entries);
    Ok(range)
}

pub(crate) async fn try_commit<C: Committer>(committer: &mut C, reference: &ReferenceData, requests: &[Request]) -> Result<Vec<Result<Receipt, Rejection>>, StoreError> {
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
pub(crate) async fn commit_atomic<C: Committer>(committer: &mut C, reference: &ReferenceData, requests: &[Request]) -> Result<Vec<Receipt>, AtomicError> {
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
