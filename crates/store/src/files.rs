//! The files of a SQLite database: created owner-only (they hold password
//! hashes and patient records), never created where only reading was asked,
//! and guarded by a lock so a second server on the same file is refused.
//! PostgreSQL has no files here; several servers may share one database.

use crate::StoreError;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Creates the database file owner-only (0600) if it does not exist yet.
/// SQLite gives the `-wal` and `-shm` files it creates later the mode of the
/// database file, so they are owner-only as well, whatever the umask.
pub(crate) fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        // An empty file is an empty SQLite database; SQLite fills it in.
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            warn_if_readable_by_others(path);
            Ok(())
        }
        Err(e) => Err(StoreError::Invalid(format!("cannot create the database {}: {e}", path.display()))),
    }
}

/// An existing database that others may read is left as it is (the operator
/// may mean it) but named in the log.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    "the database {} can be read by other users of this machine (mode {:o}); it holds password hashes: chmod 600 it and its -wal and -shm files",
                    path.display(),
                    meta.permissions().mode() & 0o777
                );
            }
        }
    }
}

/// Checks that a database to be opened read-only exists: opening a mistyped
/// path must fail and create nothing.
pub(crate) fn require_existing(path: &Path) -> Result<(), StoreError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(StoreError::Invalid(format!("{} is not a database file; check the path", path.display()))),
        Err(_) => Err(StoreError::Invalid(format!("no database at {}; check the path", path.display()))),
    }
}

/// Held by the one server of a SQLite database for as long as it runs; the
/// operating system releases it when the process ends, however it ends.
#[derive(Debug)]
pub struct ServerLock {
    _file: File,
    path: PathBuf,
}

impl ServerLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Takes the server lock of the SQLite database at `database`: the file
/// `DATABASE.lock` beside it (0600), locked with `flock`. A second server on
/// the same file is refused: SQLite would serialise the two writers, but each
/// would sign checkpoints and the stop of one could not cover what the other
/// answered. The lock file is never deleted (deleting it would let a third
/// server lock a new file while the first still holds the old one).
pub fn lock_server(database: &Path) -> Result<ServerLock, StoreError> {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path).map_err(|e| StoreError::Invalid(format!("cannot open the lock file {}: {e}", path.display())))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(ServerLock { _file: file, path }),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(StoreError::Invalid(format!(
            "another celltrace server is already serving {} (it holds {}); one SQLite file takes one server. \
             Stop the other server first, or use PostgreSQL to run several servers on one database",
            database.display(),
            path.display()
        ))),
        Err(e) => Err(StoreError::Invalid(format!("cannot lock {}: {e}", path.display()))),
    }
}
