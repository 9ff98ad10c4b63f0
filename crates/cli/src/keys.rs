//! The deployment's checkpoint signing key: created on first start with
//! owner-only permissions, read on every start, never printed.

use celltrace_ledger::{SigningKey, VerifyingKey};
use std::io::Write;
use std::path::Path;

/// Why the key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing failed.
    #[error("signing key {path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file does not hold a key.
    #[error("signing key {0}: the file does not hold a 32-byte hex key; restore it from your backup")]
    Malformed(String),
    /// No randomness available.
    #[error("cannot draw random bytes for a new signing key: {0}")]
    Random(String),
    /// A public key given by hand is not valid.
    #[error("'{0}' is not an Ed25519 public key (64 hex characters)")]
    BadPublicKey(String),
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io { path: path.display().to_string(), source }
}

/// Reads the key at `path`.
pub fn load(path: &Path) -> Result<SigningKey, KeyError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Malformed(path.display().to_string()))?;
    let seed: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Malformed(path.display().to_string()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Reads the key at `path`, creating it (mode 0600) if there is none.
/// Returns the key and whether it was created now.
pub fn load_or_create(path: &Path) -> Result<(SigningKey, bool), KeyError> {
    if path.exists() {
        return load(path).map(|k| (k, false));
    }
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(hex::encode(seed).as_bytes()).map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    Ok((SigningKey::from_bytes(&seed), true))
}

/// Parses a public key given as hex (for verifying a copy without the private key).
pub fn parse_public(text: &str) -> Result<VerifyingKey, KeyError> {
    let bad = || KeyError::BadPublicKey(text.chars().take(80).collect());
    let bytes: [u8; 32] = hex::decode(text.trim()).map_err(|_| bad())?.try_into().map_err(|_| bad())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("k");
        let (first, created) = load_or_create(&path).expect("create");
        assert!(created);
        let (second, created) = load_or_create(&path).expect("load");
        assert!(!created);
        assert_eq!(first.to_bytes(), second.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let public = hex::encode(first.verifying_key().to_bytes());
        assert_eq!(parse_public(&public).expect("public").to_bytes(), first.verifying_key().to_bytes());
        assert!(parse_public("abc").is_err());
    }

    #[test]
    fn a_damaged_key_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("k");
        std::fs::write(&path, "not hex").expect("write");
        assert!(matches!(load(&path), Err(KeyError::Malformed(_))));
    }
}
