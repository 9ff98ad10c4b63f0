//! The deployment's checkpoint signing key: where it comes from (a file, a
//! systemd credential or an environment secret), created on first start with
//! owner-only permissions in a directory of its own, read on every start,
//! never printed. It is kept apart from the database: whoever can edit the
//! database file must not also be able to re-sign it.

use celltrace_ledger::{SigningKey, VerifyingKey};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable that may hold the key itself (64 hex characters).
pub const SECRET_VAR: &str = "CELLTRACE_SIGNING_KEY";
/// The environment variable that may name the key file.
pub const FILE_VAR: &str = "CELLTRACE_SIGNING_KEY_FILE";
/// The file name of the key under systemd's `$CREDENTIALS_DIRECTORY` (`LoadCredential=celltrace-signing-key:...`).
pub const CREDENTIAL: &str = "celltrace-signing-key";

/// Where the signing key comes from.
#[derive(Clone)]
pub enum KeySource {
    /// A key file; `default` when nobody named it (then it may be created).
    File {
        /// The file.
        path: PathBuf,
        /// Chosen by celltrace rather than by the operator.
        default: bool,
    },
    /// The key itself, from the environment: nothing is read or written.
    Secret(Box<SigningKey>),
}

/// Never prints the key.
impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::File { path, default } => f.debug_struct("File").field("path", path).field("default", default).finish(),
            KeySource::Secret(_) => f.write_str("Secret(***)"),
        }
    }
}

impl KeySource {
    /// The key file, if the key comes from one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            KeySource::File { path, .. } => Some(path),
            KeySource::Secret(_) => None,
        }
    }

    /// Where the key comes from, in words (never the key).
    pub fn describe(&self) -> String {
        match self {
            KeySource::File { path, .. } => path.display().to_string(),
            KeySource::Secret(_) => format!("the {SECRET_VAR} environment variable"),
        }
    }

    /// Reads the key; a file is never created.
    pub fn load(&self) -> Result<SigningKey, KeyError> {
        match self {
            KeySource::File { path, .. } => load(path),
            KeySource::Secret(key) => Ok((**key).clone()),
        }
    }

    /// Reads the key, creating the file (and its directory, owner-only) when
    /// it is the default location and there is none yet. Returns the key and
    /// the file created now, if any.
    pub fn load_or_create(&self) -> Result<(SigningKey, Option<PathBuf>), KeyError> {
        match self {
            KeySource::File { path, default: true } if !path.exists() => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    create_private_dir(dir)?;
                }
                load_or_create(path).map(|(k, created)| (k, created.then(|| path.clone())))
            }
            KeySource::File { path, .. } => load_or_create(path).map(|(k, created)| (k, created.then(|| path.clone()))),
            KeySource::Secret(key) => Ok(((**key).clone(), None)),
        }
    }

    /// Refuses a key file in the directory of a SQLite database: a copy of
    /// the directory (a backup, an attacker with file access) would carry
    /// both the records and the means to re-sign them.
    pub fn check_apart_from(&self, database_file: Option<&Path>) -> Result<(), String> {
        let (Some(key), Some(db)) = (self.file(), database_file) else {
            return Ok(());
        };
        let dir_of = |p: &Path| {
            let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf())
        };
        if dir_of(key) == dir_of(db) {
            return Err(format!(
                "the signing key {} is in the same directory as the database {}: anyone who can copy or edit the \
                 database could then also re-sign it. Move the key elsewhere (e.g. mv {} {}) and pass --signing-key, \
                 give it as a systemd credential or in {SECRET_VAR}, or, if you accept the risk, start with --allow-key-beside-database",
                key.display(),
                db.display(),
                key.display(),
                default_file(&|k| std::env::var(k).ok(), db.file_stem().and_then(|s| s.to_str()).unwrap_or("celltrace"))
                    .map_or_else(|| "~/.local/share/celltrace/".to_owned(), |p| p.display().to_string()),
            ));
        }
        Ok(())
    }
}

/// The default key file when none is named: the systemd credential if the
/// service has one, else `$XDG_DATA_HOME/celltrace/NAME.key`, else
/// `$HOME/.local/share/celltrace/NAME.key` (NAME: the database's name, so
/// two databases on one machine get two keys).
pub fn default_file(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<PathBuf> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(dir) = set("CREDENTIALS_DIRECTORY") {
        let path = Path::new(&dir).join(CREDENTIAL);
        if path.exists() {
            return Some(path);
        }
    }
    let data = set("XDG_DATA_HOME").map(PathBuf::from).or_else(|| set("HOME").map(|h| Path::new(&h).join(".local/share")))?;
    Some(data.join("celltrace").join(format!("{name}.key")))
}

/// Parses the key given in the environment: 64 hex characters.
pub fn parse_secret(text: &str) -> Result<SigningKey, KeyError> {
    let seed: [u8; 32] = hex::decode(text.trim()).ok().and_then(|b| b.try_into().ok()).ok_or(KeyError::BadSecret)?;
    Ok(SigningKey::from_bytes(&seed))
}

fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io(dir))
}

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
    /// The environment secret is not a key (its value is never repeated).
    #[error("{SECRET_VAR} does not hold a signing key: it must be the key itself as 64 hex characters; to name a key file use {FILE_VAR} or --signing-key")]
    BadSecret,
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
