//! `verify`: walks the whole ledger once, in order, and checks every hash,
//! link and checkpoint signature; replays every event and compares each
//! record with its stored projection the moment its last change is passed;
//! and compares every derived table (claims, command records, audit index,
//! the read model's index, searchable names, record counts) with what the
//! events imply, through order-free digests. Each disagreement is named.
//!
//! It streams: memory holds only the records still being changed by later
//! entries, never the ledger or the whole state. Everything is read in one
//! transaction, so a server writing meanwhile cannot make it disagree.

mod digest;
mod walk;

use crate::{Database, StoreError};
use celltrace_ledger::VerifyingKey;

/// What `verify` found.
#[derive(Debug, Default)]
pub struct Report {
    /// Entries read.
    pub entries: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
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
    let mut report = walk::Walk::run(db, trusted).await?;
    if report.findings.len() > MAX_FINDINGS {
        let more = report.findings.len() - MAX_FINDINGS;
        report.findings.truncate(MAX_FINDINGS);
        report.findings.push(format!("... and {more} more findings"));
    }
    Ok(report)
}
