//! `verify`: walks the whole ledger once, in order, and checks every hash,
//! link and checkpoint signature; recomputes the Merkle tree and checks every
//! signed tree head, the stored tree and the uncovered tail ([`tree`]); replays every event and compares each
//! record with its stored projection the moment its last change is passed;
//! and compares every derived table (claims, command records, audit index,
//! the read model's index, searchable names, record counts) with what the
//! events imply, through order-free digests. Each disagreement is named.
//!
//! It streams: memory holds only the records still being changed by later
//! entries, never the ledger or the whole state. Everything is read in one
//! transaction, so a server writing meanwhile cannot make it disagree.

mod digest;
pub mod tree;
mod walk;

use crate::{Database, StoreError};
use celltrace_ledger::VerifyingKey;

/// What `verify` found.
#[derive(Debug, Default)]
pub struct Report {
    /// Entries read.
    pub entries: u64,
    /// Range checkpoints (the format before tree heads) checked.
    pub checkpoints: u64,
    /// Signed tree heads checked.
    pub tree_heads: u64,
    /// Entries the newest valid tree head covers.
    pub covered: u64,
    /// Entries no valid tree head covers (the tail after `covered`).
    pub uncovered: u64,
    /// How long ago the oldest uncovered entry was recorded, if any is.
    pub oldest_uncovered_age_micros: Option<i64>,
    /// Records compared with their projection.
    pub entities: u64,
    /// Most records held in memory at once while replaying.
    pub peak_in_flight: usize,
    /// Each disagreement, in words naming the entry or record.
    pub findings: Vec<String>,
}

impl Report {
    /// True when the chain, the checkpoints and the projections all agree.
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Most findings listed; past this the report says how many more there were.
const MAX_FINDINGS: usize = 200;

/// Verifies the database against the deployment's public key.
pub async fn verify(db: &Database, trusted: &VerifyingKey) -> Result<Report, StoreError> {
    verify_with(db, trusted, None).await
}

/// Verifies the database against the deployment's public key and, when
/// given, a witness's record: the database's tree at the witnessed size must
/// have the witnessed root, and a database smaller than it was rolled back.
pub async fn verify_with(db: &Database, trusted: &VerifyingKey, witnessed: Option<tree::Witnessed>) -> Result<Report, StoreError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let mut report = walk::Walk::run(db, trusted, witnessed, now).await?;
    if report.findings.len() > MAX_FINDINGS {
        let more = report.findings.len() - MAX_FINDINGS;
        report.findings.truncate(MAX_FINDINGS);
        report.findings.push(format!("... and {more} more findings"));
    }
    Ok(report)
}
