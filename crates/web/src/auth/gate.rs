//! The one way a secret is checked (a staff password at sign-in or for an
//! e-signature, a portal password, a portal activation code): throttled per
//! account, per client address and per pair, through counters every server
//! shares in the database, then checked off the executor in the same time
//! whether the account exists or not.
//!
//! An attacker who guesses from one address is held back by the pair's and
//! the address's counters, not the account's: the real person, signing in
//! from elsewhere, is not locked out. The account's own counter (for guesses
//! spread over many addresses) has a higher limit and a short back-off.

use crate::error::AppError;
use celltrace_store::throttle::{Policy, Reservation};
use celltrace_store::Database;
use std::net::IpAddr;

const SECOND: i64 = 1_000_000;

/// One account from one address: 5 tries, then 1 minute, doubling up to an hour.
pub const PAIR: Policy = Policy { limit: 5, first_block_micros: 60 * SECOND, max_block_micros: 3600 * SECOND };
/// One address over all accounts: 50 tries, then 1 minute, doubling up to an hour.
pub const ADDRESS: Policy = Policy { limit: 50, first_block_micros: 60 * SECOND, max_block_micros: 3600 * SECOND };
/// One account over all addresses: 20 tries, then 5 seconds, doubling up to 5 minutes.
pub const ACCOUNT: Policy = Policy { limit: 20, first_block_micros: 5 * SECOND, max_block_micros: 300 * SECOND };

// The account's own counter must be looser and shorter than the pair's, or
// an attacker at one address could lock the real person out.
const _: () = assert!(PAIR.limit < ACCOUNT.limit && ACCOUNT.max_block_micros < PAIR.max_block_micros);

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The secret is right.
    Accepted,
    /// The secret (or the account) is wrong.
    Refused,
    /// Too many attempts: nothing was checked; try again after this many seconds.
    Throttled { retry_after_seconds: u64 },
}

/// Which account is being tried: `staff:USERNAME`, `portal:NUMBER`, ….
pub fn account_key(realm: &str, identifier: &str) -> String {
    format!("{realm}:{}", identifier.trim().to_lowercase())
}

fn keys(account: &str, client: IpAddr) -> [(String, Policy); 3] {
    [(format!("{account}@{client}"), PAIR), (format!("address:{client}"), ADDRESS), (account.to_owned(), ACCOUNT)]
}

/// Checks a secret for `account` from `client`: `check` runs (on the
/// blocking pool) only if no counter is exhausted, and must take the same
/// time whether or not the account exists (see `passwords::matches`).
///
/// The keys are reserved one at a time, pair first: an attempt held back by
/// its pair or its address gives back what it took and never reaches the
/// account's own counter, so guesses from one address cannot lock the real
/// person out elsewhere, and no key is left full with nothing to settle it.
pub async fn check<F>(db: &Database, account: &str, client: IpAddr, now: i64, check: F) -> Result<Verdict, AppError>
where
    F: std::future::Future<Output = Result<bool, AppError>>,
{
    let keys = keys(account, client);
    for (reserved, (key, policy)) in keys.iter().enumerate() {
        if let Reservation::Blocked { retry_after_micros } = db.reserve_attempt(key, *policy, now).await? {
            release(db, &keys[..reserved]).await?;
            return Ok(Verdict::Throttled { retry_after_seconds: u64::try_from((retry_after_micros + SECOND - 1) / SECOND).unwrap_or(1).max(1) });
        }
    }
    let checked = match check.await {
        Ok(checked) => checked,
        Err(e) => {
            // Nothing was learnt about the secret: the places are given back.
            release(db, &keys).await?;
            return Err(e);
        }
    };
    if checked {
        // The address's counter is not forgotten: signing in to one's own
        // account must not reset guesses at others.
        for (key, _) in keys.iter().filter(|(_, p)| *p != ADDRESS) {
            db.attempt_succeeded(key).await?;
        }
        Ok(Verdict::Accepted)
    } else {
        for (key, policy) in &keys {
            db.attempt_failed(key, *policy, now).await?;
        }
        Ok(Verdict::Refused)
    }
}

/// Gives back the places an attempt reserved and never checked.
async fn release(db: &Database, keys: &[(String, Policy)]) -> Result<(), AppError> {
    for (key, _) in keys {
        db.release_attempt(key).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_accounts_addresses_and_pairs() {
        let a: IpAddr = [127, 0, 0, 2].into();
        let keys = keys(&account_key("staff", " Dr.Nair "), a);
        assert_eq!(keys[0].0, "staff:dr.nair@127.0.0.2");
        assert_eq!(keys[1].0, "address:127.0.0.2");
        assert_eq!(keys[2].0, "staff:dr.nair");
    }
}
