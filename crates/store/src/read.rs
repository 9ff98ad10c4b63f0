//! Reads for the adapters: entities by key or by site and status, the ledger,
//! the audit trail of a record, and API tokens. Nothing here writes events.

use crate::engine::{seq_i64, seq_u64};
use crate::{hash32, Database, StoreError};
use celltrace_domain::ids::StaffId;
use celltrace_domain::{EntityKey, EntityKind, State};
use celltrace_ledger::{Entry, Head, Record};
use serde::de::DeserializeOwned;
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

const ENTRY_COLUMNS: &str = "seq, recorded_at, actor, site, kind, payload, prev_hash, hash, command_id";

impl Database {
    /// One entity's stored row.
    pub async fn entity(&self, key: &EntityKey) -> Result<Option<StoredEntity>, StoreError> {
        let row = sqlx::query("SELECT kind, id, site, person, status, reference, body, last_seq FROM entities WHERE kind = $1 AND id = $2")
            .bind(key.kind.as_str())
            .bind(key.id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(stored_entity).transpose()
    }

    /// One entity, decoded.
    pub async fn get<T: DeserializeOwned>(&self, kind: EntityKind, id: &str) -> Result<Option<T>, StoreError> {
        let key = EntityKey::new(kind, id);
        match self.entity(&key).await? {
            None => Ok(None),
            Some(row) => serde_json::from_str(&row.body)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("{key}: {e}"))),
        }
    }

    /// Entities of a kind, optionally at one site and with one status, newest change first.
    pub async fn list(
        &self,
        kind: EntityKind,
        site: Option<&str>,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredEntity>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, id, site, person, status, reference, body, last_seq FROM entities \
             WHERE kind = $1 AND ($2 = '' OR site = $2) AND ($3 = '' OR status = $3) \
             ORDER BY last_seq DESC LIMIT $4",
        )
        .bind(kind.as_str())
        .bind(site.unwrap_or("").to_owned())
        .bind(status.unwrap_or("").to_owned())
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(stored_entity).collect()
    }

    /// Every plan of a patient or donor (an index lookup by person).
    pub async fn plans_of(&self, person: &str) -> Result<Vec<celltrace_domain::model::Plan>, StoreError> {
        let rows = sqlx::query("SELECT kind, id, site, person, status, reference, body, last_seq FROM entities WHERE person = $1 AND kind = 'plan' ORDER BY id")
            .bind(person.to_owned())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let e = stored_entity(r)?;
                serde_json::from_str(&e.body).map_err(|err| StoreError::Corrupt(format!("{}: {err}", e.key)))
            })
            .collect()
    }

    /// How many entities of each kind exist.
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT kind, COUNT(*) FROM entities GROUP BY kind ORDER BY kind")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect()
    }

    /// How many checkpoints have been signed.
    pub async fn checkpoint_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM checkpoints").fetch_one(self.pool()).await?.try_get(0)?)
    }

    /// The last entry of the chain as the head row records it.
    pub async fn head(&self) -> Result<Head, StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM ledger_head WHERE id = 1").fetch_one(self.pool()).await?;
        Ok(Head { seq: seq_u64(row.try_get(0)?)?, hash: hash32(&row.try_get::<Vec<u8>, _>(1)?, "head hash")? })
    }

    /// Up to `limit` entries from `from_seq` on, with their command ids.
    pub async fn entries(&self, from_seq: u64, limit: u32) -> Result<Vec<(Entry, String)>, StoreError> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM ledger WHERE seq >= $1 ORDER BY seq LIMIT $2");
        let rows = sqlx::query(&sql).bind(seq_i64(from_seq)?).bind(i64::from(limit)).fetch_all(self.pool()).await?;
        rows.iter().map(entry).collect()
    }

    /// The audit trail of one record: every entry that concerns it, oldest first.
    pub async fn trail(&self, key: &EntityKey) -> Result<Vec<(Entry, String)>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger WHERE seq IN (SELECT seq FROM entry_subjects WHERE kind = $1 AND id = $2) ORDER BY seq"
        );
        let rows = sqlx::query(&sql).bind(key.kind.as_str()).bind(key.id.as_str()).fetch_all(self.pool()).await?;
        rows.iter().map(entry).collect()
    }

    /// The entries written for a command, if it was accepted.
    pub async fn command(&self, command_id: &str) -> Result<Option<(u64, u64)>, StoreError> {
        let row = sqlx::query("SELECT first_seq, last_seq FROM commands WHERE command_id = $1")
            .bind(command_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| Ok((seq_u64(r.try_get(0)?)?, seq_u64(r.try_get(1)?)?))).transpose()
    }

    /// Every projection loaded into memory (for tests, demo checks and small tools).
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

    /// The member of staff an API token acts as: its record (issued in the
    /// ledger) must exist, not be revoked or expired at `now`, and its owner's
    /// account must be active, so a revocation or deactivation takes effect at
    /// once on every server.
    pub async fn staff_for_token(&self, token: &str, now: i64) -> Result<Option<StaffId>, StoreError> {
        let row = sqlx::query("SELECT body FROM entities WHERE kind = 'api_token' AND reference = $1")
            .bind(token_hash(token))
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let body: String = row.try_get(0)?;
        let record: celltrace_domain::model::ApiToken =
            serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("an API token record: {e}")))?;
        if !record.usable(celltrace_domain::time::Timestamp(now)) {
            return Ok(None);
        }
        let staff: Option<celltrace_domain::model::Staff> = self.get(EntityKind::Staff, record.staff.as_str()).await?;
        Ok(staff.filter(|s| s.active).map(|s| s.id))
    }

    /// The API tokens issued to a member of staff, newest first.
    pub async fn tokens_of(&self, staff: &StaffId) -> Result<Vec<celltrace_domain::model::ApiToken>, StoreError> {
        let rows = sqlx::query("SELECT body FROM entities WHERE kind = 'api_token' AND person = $1 ORDER BY last_seq DESC")
            .bind(staff.to_string())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| serde_json::from_str(&r.try_get::<String, _>(0)?).map_err(|e| StoreError::Corrupt(format!("an API token record: {e}"))))
            .collect()
    }
}

/// The SHA-256 of an API token, hex: what the ledger's token record keeps.
/// Tokens are 256-bit random values, so a plain hash is enough to keep them
/// useless if the table leaks; passwords get argon2id elsewhere.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
