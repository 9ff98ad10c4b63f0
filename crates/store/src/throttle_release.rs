//! Giving back a reserved attempt that was never checked: a credential check
//! reserves one place on each of its keys in turn, and when a later key is
//! blocked the places already taken must be returned, or a key could stay
//! full (at its limit, never blocked, never reset) and refuse everyone for
//! good. Kept apart from `throttle` as the one write the web gate adds.

use crate::{Database, StoreError};

impl Database {
    /// Returns one attempt reserved on `key` and never checked. A key that
    /// was blocked meanwhile keeps its count: the block's end resets it.
    pub async fn release_attempt(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE throttles SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0 AND blocked_until = 0")
            .bind(key.to_owned())
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::throttle::{Policy, Reservation};
    use crate::Database;

    const POLICY: Policy = Policy { limit: 2, first_block_micros: 1_000_000, max_block_micros: 4_000_000 };

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_released_place_can_be_taken_again_and_a_block_is_kept() {
        for test_db in celltrace_testkit::TestDb::all().await {
            let db = Database::open(&test_db.url).await.expect("open");
            let now = 1_000_000_000;
            assert_eq!(db.reserve_attempt("k", POLICY, now).await.expect("reserve"), Reservation::Granted);
            assert_eq!(db.reserve_attempt("k", POLICY, now).await.expect("reserve"), Reservation::Granted);
            assert_eq!(db.reserve_attempt("k", POLICY, now).await.expect("reserve"), Reservation::Blocked { retry_after_micros: 1_000_000 }, "{}: full", test_db.backend);
            db.release_attempt("k").await.expect("release");
            assert_eq!(db.reserve_attempt("k", POLICY, now).await.expect("reserve"), Reservation::Granted, "{}: a place was given back", test_db.backend);
            // Two failures block the key; a release does not undo the block.
            db.attempt_failed("k", POLICY, now).await.expect("fail");
            db.attempt_failed("k", POLICY, now).await.expect("fail");
            db.release_attempt("k").await.expect("release");
            assert_eq!(db.reserve_attempt("k", POLICY, now).await.expect("reserve"), Reservation::Blocked { retry_after_micros: 1_000_000 }, "{}", test_db.backend);
            // Releasing an unknown key changes nothing and is no error.
            db.release_attempt("never-seen").await.expect("release");
            assert_eq!(db.reserve_attempt("never-seen", POLICY, now).await.expect("reserve"), Reservation::Granted);
            db.close().await;
            test_db.drop_database().await;
        }
    }
}
