//! Sign-in storage: password hashes (made by the caller with argon2id),
//! sessions (only token hashes are kept), failed sign-ins for throttling
//! across servers, and deployment settings. None of this is ledger state.

use crate::{Database, StoreError};
use celltrace_domain::ids::{SiteId, StaffId};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// A signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who.
    pub staff: StaffId,
    /// The site they are working at.
    pub site: SiteId,
    /// The token every form of this session must carry.
    pub csrf_token: String,
    /// When it ends, microseconds since the epoch.
    pub expires_at: i64,
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Database {
    /// The staff account a username belongs to (usernames are claimed case-insensitively).
    pub async fn staff_by_username(&self, username: &str) -> Result<Option<StaffId>, StoreError> {
        let row = sqlx::query("SELECT owner FROM claims WHERE namespace = 'username' AND value = $1")
            .bind(username.trim().to_lowercase())
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| StaffId::parse(&r.try_get::<String, _>(0)?).map_err(corrupt)).transpose()
    }

    /// A member of staff's password hash, if one is set.
    pub async fn password_hash(&self, staff: &StaffId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT password_hash FROM credentials WHERE staff_id = $1")
            .bind(staff.to_string())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Whether any staff account can sign in (none means first start). One
    /// row is enough to tell: every sign-in page asks, so it must not count.
    pub async fn has_credentials(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT 1 FROM credentials LIMIT 1").fetch_optional(self.pool()).await?.is_some())
    }

    /// Starts a session for `token` (kept only as a hash).
    pub async fn create_session(&self, token: &str, session: &Session, now: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sessions (token_hash, staff_id, site, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(hash(token))
            .bind(session.staff.to_string())
            .bind(session.site.to_string())
            .bind(session.csrf_token.clone())
            .bind(now)
            .bind(session.expires_at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The live session of `token`, if any.
    pub async fn session(&self, token: &str, now: i64) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query("SELECT staff_id, site, csrf_token, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(hash(token))
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Session {
            staff: StaffId::parse(&row.try_get::<String, _>(0)?).map_err(corrupt)?,
            site: SiteId::parse(&row.try_get::<String, _>(1)?).map_err(corrupt)?,
            csrf_token: row.try_get(2)?,
            expires_at: row.try_get(3)?,
        }))
    }

    /// Moves a session to another site of the same person.
    pub async fn set_session_site(&self, token: &str, site: &SiteId) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET site = $1 WHERE token_hash = $2")
            .bind(site.to_string())
            .bind(hash(token))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends a session.
    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(hash(token)).execute(self.pool()).await?;
        Ok(())
    }

    /// A deployment setting.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key.to_owned()).fetch_optional(self.pool()).await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Sets a deployment setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key.to_owned())
            .bind(value.to_owned())
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
