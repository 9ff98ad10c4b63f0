//! Reads: the read-only [`Reader`] request handlers use (typed, indexed
//! queries), and the ledger, audit trail and token lookups. Nothing here
//! writes events.

mod accounts;
mod fhir;
mod ledger;
mod lists;
mod proofs;
mod reader;
mod trail;
mod recall;

pub use fhir::{Filed, RecordPage, RecordRange};
pub use ledger::LedgerPage;
pub use lists::{PeoplePage, UnitFilter, UnitsPage};
pub use proofs::{ConsistencyProof, InclusionProof, ProofRequestError};
pub use reader::{Cursor, Lineage, Matches, Page, QueryLog, Reader, MAX_PAGE};
pub use recall::{Recall, Recipient};

use crate::engine::seq_u64;
use crate::{hash32, Database, StoreError};
use celltrace_domain::{EntityKey, EntityKind, State};
use celltrace_ledger::{Entry, Record};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;

/// One stored projection row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntity {
    /// Which entity.
    pub key: EntityKey,
    /// Site.
    pub site: String,
    /// Person concerned.
    pub person: Option<String>,
    /// Status word.
    pub status: String,
    /// DIN and product code of a unit, MRN of a person.
    pub reference: Option<String>,
    /// JSON body.
    pub body: String,
    /// Last entry that changed it.
    pub last_seq: u64,
}

pub(crate) fn stored_entity(row: &AnyRow) -> Result<StoredEntity, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(StoredEntity {
        key: EntityKey {
            kind: EntityKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("unknown entity kind '{kind}'")))?,
            id: row.try_get("id")?,
        },
        site: row.try_get("site")?,
        person: row.try_get("person")?,
        status: row.try_get("status")?,
        reference: row.try_get("reference")?,
        body: row.try_get("body")?,
        last_seq: seq_u64(row.try_get("last_seq")?)?,
    })
}

pub(crate) fn entry(row: &AnyRow) -> Result<(Entry, String), StoreError> {
    Ok((
        Entry {
            seq: seq_u64(row.try_get("seq")?)?,
            record: Record {
                recorded_at: row.try_get("recorded_at")?,
                actor: row.try_get("actor")?,
                site: row.try_get("site")?,
                kind: row.try_get("kind")?,
                payload: row.try_get("payload")?,
            },
            prev_hash: hash32(&row.try_get::<Vec<u8>, _>("prev_hash")?, "previous hash")?,
            hash: hash32(&row.try_get::<Vec<u8>, _>("hash")?, "entry hash")?,
        },
        row.try_get("command_id")?,
    ))
}

pub(crate) const ENTRY_COLUMNS: &str = "seq, recorded_at, actor, site, kind, payload, prev_hash, hash, command_id";

impl Database {
    /// Every projection loaded into memory: for tests and offline checks of
    /// small databases only. No request path calls it (the web crate's tests
    /// fail if one does); requests use the [`Reader`]'s indexed queries.
    pub async fn load_state(&self) -> Result<State, StoreError> {
        let rows = sqlx::query("SELECT kind, id, site, person, status, reference, body, last_seq FROM entities")
            .fetch_all(self.pool())
            .await?;
        let mut state = State::default();
        for row in &rows {
            let e = stored_entity(row)?;
            state.load(&e.key, &e.body).map_err(|err| StoreError::Corrupt(err.to_string()))?;
        }
        Ok(state)
    }
}

/// The SHA-256 of an API token, hex: what the ledger's token record keeps.
/// Tokens are 256-bit random values, so a plain hash is enough to keep them
/// useless if the table leaks; passwords get argon2id elsewhere.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
