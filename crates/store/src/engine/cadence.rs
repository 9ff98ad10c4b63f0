//! When the writer signs the next tree head: the count and time rules of the
//! cadence, decided from what this process wrote and what the database shows
//! is covered, so a restart or another process cannot leave a tail uncovered.

use super::EngineOptions;
use crate::tlog::{self, StoredTreeHead};
use crate::{Database, StoreError};
use celltrace_ledger::NoteSigner;
use std::time::Duration;
use tokio::time::Instant;

/// When the writer signs the next tree head: what it knows is covered, and
/// the deadline by which the oldest uncovered entry it knows of must be.
pub(super) struct Cadence {
    signer: NoteSigner,
    every: u64,
    within: Duration,
    /// Size of the newest tree head this process knows of.
    pub(super) covered: u64,
    /// Newest entry this process wrote or saw.
    pub(super) written: u64,
    /// When the oldest entry not yet covered must be covered.
    deadline: Option<Instant>,
}

impl Cadence {
    pub(super) fn new(options: &EngineOptions) -> Cadence {
        let signer = NoteSigner::new(&options.origin, options.signing_key.clone()).unwrap_or_else(|e| {
            tracing::error!("the origin {:?} cannot name a key ({e}); signing as {}", options.origin, tlog::DEFAULT_ORIGIN);
            // DEFAULT_ORIGIN is a valid key name, so this cannot fail.
            NoteSigner::new(tlog::DEFAULT_ORIGIN, options.signing_key.clone()).unwrap_or_else(|_| unreachable!("a valid key name"))
        });
        Cadence { signer, every: options.checkpoint_every.max(1), within: options.checkpoint_within, covered: 0, written: 0, deadline: None }
    }

    /// Notes entries written up to `seq`; true when the count rule says sign now.
    pub(super) fn wrote(&mut self, seq: u64) -> bool {
        self.written = self.written.max(seq);
        if self.written > self.covered && self.deadline.is_none() {
            self.deadline = Some(Instant::now() + self.within);
        }
        self.written.saturating_sub(self.covered) >= self.every
    }

    /// When the writer must wake: the deadline, or else the next poll for
    /// entries other processes left uncovered.
    pub(super) fn wake_at(&self) -> Instant {
        self.deadline.unwrap_or_else(|| Instant::now() + self.within.max(Duration::from_millis(100)))
    }

    /// Signs a tree head over the whole ledger (if it is not covered yet).
    pub(super) async fn sign(&mut self, db: &Database) -> Result<Option<StoredTreeHead>, StoreError> {
        match tlog::sign_tree_head(db, &self.signer).await {
            Ok(signed) => {
                if let Some((head, _)) = &signed {
                    self.covered = self.covered.max(head.size);
                    self.written = self.written.max(head.size);
                }
                self.deadline = if self.written > self.covered { Some(Instant::now() + self.within) } else { None };
                Ok(signed.map(|(head, _)| head))
            }
            Err(e) => {
                tracing::warn!("signing a tree head failed, retrying in {:?}: {e}", self.within);
                self.deadline = Some(Instant::now() + self.within);
                Err(e)
            }
        }
    }

    /// At a wake-up: signs when the deadline passed, or when the database
    /// shows entries no tree head covers (another process's, or a restart's).
    pub(super) async fn tick(&mut self, db: &Database) {
        let due = self.deadline.is_some_and(|d| d <= Instant::now());
        if !due {
            match tlog::coverage(db).await {
                Ok((head, covered)) => {
                    self.covered = self.covered.max(covered);
                    if head <= covered {
                        return;
                    }
                    self.written = self.written.max(head);
                }
                Err(e) => {
                    tracing::warn!("reading the ledger's coverage: {e}");
                    return;
                }
            }
        }
        let _ = self.sign(db).await;
    }
}
