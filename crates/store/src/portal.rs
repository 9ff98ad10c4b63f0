//! Patient portal access: one-time codes handed over at the clinic, patient
//! passwords (argon2id hashes made by the caller), the language a patient
//! chose, and portal sessions. Secrets are kept only as hashes.

use crate::{Database, StoreError};
use celltrace_domain::ids::PersonId;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// A signed-in patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    /// Whose portal.
    pub person: PersonId,
    /// The token every form of this session must carry.
    pub csrf_token: String,
    /// When it ends, microseconds since the epoch.
    pub expires_at: i64,
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The SHA-256 a one-time code is kept as (after [`normalise_code`]).
pub fn code_hash(code: &str) -> Vec<u8> {
    hash(&normalise_code(code))
}

/// Codes are read off paper: case and separators do not matter.
pub fn normalise_code(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

impl Database {
    /// Uses `person`'s one-time code to set their password. The code works
    /// once: the conditional update lets only one of two racing uses win.
    /// Returns whether the code was right and unexpired.
    pub async fn redeem_portal_code(&self, person: &PersonId, code: &str, password_hash: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE portal_accounts SET password_hash = $1, code_hash = NULL, code_expires_at = NULL, updated_at = $2 \
             WHERE person_id = $3 AND code_hash = $4 AND code_expires_at > $2",
        )
        .bind(password_hash.to_owned())
        .bind(now)
        .bind(person.to_string())
        .bind(hash(&normalise_code(code)))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A patient's password hash, if they have set one.
    pub async fn portal_password_hash(&self, person: &PersonId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT password_hash FROM portal_accounts WHERE person_id = $1")
            .bind(person.to_string())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get::<Option<String>, _>(0)).transpose()?.flatten())
    }

    /// The language a patient chose in the portal, if they have an account.
    pub async fn portal_language(&self, person: &PersonId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT language FROM portal_accounts WHERE person_id = $1")
            .bind(person.to_string())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Remembers the language a patient chose.
    pub async fn set_portal_language(&self, person: &PersonId, language: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE portal_accounts SET language = $1, updated_at = $2 WHERE person_id = $3")
            .bind(language.to_owned())
            .bind(now)
            .bind(person.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Starts a portal session for `token` (kept only as a hash).
    pub async fn create_portal_session(&self, token: &str, session: &PortalSession, now: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO portal_sessions (token_hash, person_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(hash(token))
            .bind(session.person.to_string())
            .bind(session.csrf_token.clone())
            .bind(now)
            .bind(session.expires_at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The live portal session of `token`, if any.
    pub async fn portal_session(&self, token: &str, now: i64) -> Result<Option<PortalSession>, StoreError> {
        let row = sqlx::query("SELECT person_id, csrf_token, expires_at FROM portal_sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(hash(token))
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(PortalSession {
            person: PersonId::parse(&row.try_get::<String, _>(0)?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            csrf_token: row.try_get(1)?,
            expires_at: row.try_get(2)?,
        }))
    }

    /// Ends a portal session.
    pub async fn end_portal_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM portal_sessions WHERE token_hash = $1").bind(hash(token)).execute(self.pool()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_code;

    #[test]
    fn codes_ignore_case_spaces_and_dashes() {
        assert_eq!(normalise_code(" k7q4-m2xp 9d "), "K7Q4M2XP9D");
        assert_eq!(normalise_code("—"), "");
    }
}
