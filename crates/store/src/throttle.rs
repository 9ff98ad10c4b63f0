//! Throttling of credential checks, shared by every server through the
//! database. An attempt is reserved before the secret is checked, with one
//! conditional update per key, so any number of parallel guesses checks at
//! most `limit` of them. A key that reaches its limit is blocked for a
//! back-off that doubles each time (up to a ceiling) and is forgotten after a
//! successful check or a quiet day; nothing locks an account for good.

use crate::{Database, StoreError};
use sqlx::Row;

/// How one kind of key is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts allowed before the key is blocked.
    pub limit: i64,
    /// The first block, in microseconds; each further block doubles it.
    pub first_block_micros: i64,
    /// The longest block, in microseconds.
    pub max_block_micros: i64,
}

impl Policy {
    /// How long a key is blocked the `level`-th time (0 = first).
    pub fn block_micros(&self, level: i64) -> i64 {
        let doubled = self.first_block_micros.saturating_mul(1i64 << level.clamp(0, 30));
        doubled.min(self.max_block_micros)
    }
}

/// A quiet day forgets a key's back-off level.
const FORGET_AFTER_MICROS: i64 = 24 * 3_600_000_000;

/// Whether an attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Check the secret, then report the outcome.
    Granted,
    /// Refused without checking; try again after this many microseconds.
    Blocked { retry_after_micros: i64 },
}

impl Database {
    /// Reserves one attempt on `key`, or says how long it is blocked.
    pub async fn reserve_attempt(&self, key: &str, policy: Policy, now: i64) -> Result<Reservation, StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("INSERT INTO throttles (key, attempts, level, blocked_until, last_failure) VALUES ($1, 0, 0, 0, 0) ON CONFLICT (key) DO NOTHING")
            .bind(key.to_owned())
            .execute(&mut *tx)
            .await?;
        // A block that has run out opens a fresh round of attempts; a quiet day also forgets the level.
        sqlx::query(
            "UPDATE throttles SET attempts = 0, blocked_until = 0, \
             level = CASE WHEN last_failure < $2 THEN 0 ELSE level END \
             WHERE key = $1 AND blocked_until > 0 AND blocked_until <= $3",
        )
        .bind(key.to_owned())
        .bind(now - FORGET_AFTER_MICROS)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let granted = sqlx::query("UPDATE throttles SET attempts = attempts + 1 WHERE key = $1 AND attempts < $2 AND blocked_until = 0")
            .bind(key.to_owned())
            .bind(policy.limit)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        let outcome = if granted {
            Reservation::Granted
        } else {
            let blocked_until: i64 = sqlx::query("SELECT blocked_until FROM throttles WHERE key = $1").bind(key.to_owned()).fetch_one(&mut *tx).await?.try_get(0)?;
            // Attempts still being checked hold the remaining places; their outcome decides the block.
            Reservation::Blocked { retry_after_micros: if blocked_until > now { blocked_until - now } else { 1_000_000 } }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// A reserved attempt on `key` failed: it stays counted, and the key is
    /// blocked once the limit is reached.
    pub async fn attempt_failed(&self, key: &str, policy: Policy, now: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query("UPDATE throttles SET last_failure = $2 WHERE key = $1 RETURNING attempts, level, blocked_until")
            .bind(key.to_owned())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = row {
            let (attempts, level, blocked_until): (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            if attempts >= policy.limit && blocked_until == 0 {
                sqlx::query("UPDATE throttles SET blocked_until = $2, level = level + 1 WHERE key = $1")
                    .bind(key.to_owned())
                    .bind(now + policy.block_micros(level))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A reserved attempt on `key` succeeded: its count and level are forgotten.
    pub async fn attempt_succeeded(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM throttles WHERE key = $1").bind(key.to_owned()).execute(self.pool()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy { limit: 3, first_block_micros: 1_000_000, max_block_micros: 4_000_000 };

    #[test]
    fn blocks_double_up_to_the_ceiling() {
        assert_eq!(POLICY.block_micros(0), 1_000_000);
        assert_eq!(POLICY.block_micros(1), 2_000_000);
        assert_eq!(POLICY.block_micros(2), 4_000_000);
        assert_eq!(POLICY.block_micros(40), 4_000_000);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parallel_attempts_never_exceed_the_limit_and_blocks_run_out() {
        for test_db in celltrace_testkit::TestDb::all().await {
            let db = Database::open(&test_db.url).await.expect("open");
            let now = 1_000_000_000;
            let mut handles = Vec::new();
            for _ in 0..32 {
                let db = db.clone();
                handles.push(tokio::spawn(async move { db.reserve_attempt("k", POLICY, now).await }));
            }
            let mut granted = 0;
            for h in handles {
                if h.await.expect("join").expect("reserve") == Reservation::Granted {
                    granted += 1;
                }
            }
            assert_eq!(granted, POLICY.limit, "{}: exactly the limit is checked", test_db.backend);
            for _ in 0..granted {
                db.attempt_failed("k", POLICY, now).await.expect("fail");
            }
            assert_eq!(db.reserve_attempt("k", POLICY, now).await.expect("reserve"), Reservation::Blocked { retry_after_micros: 1_000_000 });
            let later = now + 1_000_000;
            assert_eq!(db.reserve_attempt("k", POLICY, later).await.expect("reserve"), Reservation::Granted, "{}: the block ran out", test_db.backend);
            db.attempt_succeeded("k").await.expect("success");
            assert_eq!(db.reserve_attempt("other", POLICY, now).await.expect("reserve"), Reservation::Granted, "keys are apart");
            db.close().await;
            test_db.drop_database().await;
        }
    }
}
