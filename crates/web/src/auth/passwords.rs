//! Passwords: argon2id hashing and checking off the async executor (a
//! check takes tens of milliseconds of CPU), a dummy hash checked for
//! unknown accounts so the time taken does not reveal which accounts exist,
//! and the policy a new password must meet.

use crate::error::AppError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::OnceLock;

/// Hashes a password with argon2id (a fresh salt each time). Blocking: call
/// it through [`hash`] from async code.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches the stored argon2 hash. Blocking.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of no one's password, with the same parameters as real ones:
/// checked when an account does not exist, so the answer takes as long.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("celltrace dummy password, never a real one").unwrap_or_default())
}

/// Hashes `password` on the blocking pool.
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// Checks `password` against `stored` on the blocking pool; with no stored
/// hash (unknown account, no password set) the dummy hash is checked
/// instead and the answer is `false`, after the same time.
pub async fn matches(password: String, stored: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || match stored {
        Some(hash) => verify_password(&password, &hash),
        None => {
            let _ = verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(AppError::internal)
}

/// Why a new password is refused. Each has a message key in the portal's
/// catalogues and an English message for staff pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Fewer than 12 characters (spaces at either end do not count).
    TooShort,
    /// More than 200 characters.
    TooLong,
    /// Easy to guess: a common password, a keyboard or repeated pattern, a
    /// date, or the person's own name or username.
    Weak,
}

impl PasswordProblem {
    /// The portal's message key.
    pub fn key(&self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "error-password-short",
            PasswordProblem::TooLong => "error-password-long",
            PasswordProblem::Weak => "error-password-weak",
        }
    }

    /// The message on staff pages.
    pub fn message(&self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "Use at least 12 characters (not counting spaces at either end).",
            PasswordProblem::TooLong => "Use at most 200 characters.",
            PasswordProblem::Weak => {
                "This password is easy to guess (a common password, a pattern, a date or your own name). Use a few unrelated words or a password manager."
            }
        }
    }
}

/// The problem with a new password, if any. `own_words` are the person's
/// name, username or patient number, which a password must not be built on.
pub fn password_problem(password: &str, own_words: &[&str]) -> Option<PasswordProblem> {
    let length = password.trim().chars().count();
    if length < 12 {
        return Some(PasswordProblem::TooShort);
    }
    if password.chars().count() > 200 {
        return Some(PasswordProblem::TooLong);
    }
    let strength = zxcvbn::zxcvbn(password, own_words);
    // Score 3: "safely unguessable" against an online attack with throttling.
    (strength.score() < zxcvbn::Score::Three).then_some(PasswordProblem::Weak)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let stored = hash_password("correct horse battery").expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &stored));
        assert!(!verify_password("wrong horse battery", &stored));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(stored, hash_password("correct horse battery").expect("hash"), "salted");
        assert!(dummy_hash().starts_with("$argon2id$"), "the dummy hash has the real parameters");
    }

    #[test]
    fn weak_blank_and_personal_passwords_are_refused() {
        assert_eq!(password_problem("short", &[]), Some(PasswordProblem::TooShort));
        assert_eq!(password_problem("            ", &[]), Some(PasswordProblem::TooShort), "twelve spaces");
        assert_eq!(password_problem("   abc   def   ", &[]), Some(PasswordProblem::TooShort));
        assert_eq!(password_problem("password1234", &[]), Some(PasswordProblem::Weak));
        assert_eq!(password_problem("qwertyuiopasdf", &[]), Some(PasswordProblem::Weak));
        assert_eq!(password_problem("aaaaaaaaaaaaaaaa", &[]), Some(PasswordProblem::Weak));
        assert_eq!(password_problem("fatima.hassan1990", &["fatima.hassan"]), Some(PasswordProblem::Weak));
        assert_eq!(password_problem(&"x".repeat(201), &[]), Some(PasswordProblem::TooLong));
        assert_eq!(password_problem("tangerine ladder quietly 47", &[]), None);
    }
}
