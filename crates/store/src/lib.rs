//! Persistence for celltrace: the ledger and the projections in one SQLite
//! file or one PostgreSQL database, the command path that writes both in one
//! transaction ([`engine`]), reads ([`read`]), `verify` and `backup`.
//!
//! Both backends run the same SQL through sqlx's `Any` driver; only the
//! migrations differ. Cross-server rules live in the schema: a single head row
//! every writer locks, unique claims, and a gap-free, fork-free ledger.

pub mod accounts;
pub mod backup;
pub mod din;
pub mod engine;
pub mod files;
pub mod portal;
pub mod probe;
pub mod read;
mod rebuild;
pub mod scan;
mod staff_sessions;
pub mod throttle;
mod throttle_release;
pub mod tlog;
pub mod verify;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor};
use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

pub use engine::{AtomicError, Engine, EngineOptions, EngineStats, Receipt, Secret, SubmitError};
pub use read::{Cursor, Lineage, Matches, Page, Reader};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file (the default).
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// Failures of the storage layer, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is neither a file path, `sqlite:` nor `postgres://`.
    #[error("'{0}' is not a database location: give a SQLite file path, sqlite://PATH, or postgres://USER@HOST/DB")]
    BadUrl(String),
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// SQLite refused or failed (on the command path's own connection).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Migrations failed.
    #[error("could not bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// A request the store cannot carry out as asked.
    #[error("{0}")]
    Invalid(String),
    /// The command path has stopped (the server is shutting down).
    #[error("celltrace is shutting down; try again in a moment")]
    Closed,
}

/// The settings of every SQLite connection celltrace opens, as `PRAGMA`
/// name and value: WAL lets readers run beside the writer; FULL makes each
/// commit durable before it is acknowledged; a busy writer is waited for.
pub const SQLITE_SETTINGS: [(&str, &str); 4] =
    [("journal_mode", "WAL"), ("synchronous", "FULL"), ("foreign_keys", "ON"), ("busy_timeout", "10000")];

/// A connection pool to the deployment's database.
#[derive(Clone)]
pub struct Database {
    pool: AnyPool,
    reader: Reader,
    backend: Backend,
    url: String,
}

/// Prints the backend and the URL with any password hidden, never the secret.
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("backend", &self.backend).field("url", &redact_url(&self.url)).finish()
    }
}

/// Turns what a person typed (a path, or a URL) into a connection URL.
pub fn normalise_url(location: &str) -> Result<(Backend, String), StoreError> {
    let location = location.trim();
    if location.is_empty() {
        return Err(StoreError::BadUrl(location.to_owned()));
    }
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        return Ok((Backend::Postgres, location.to_owned()));
    }
    if let Some(rest) = location.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("//");
        if path.is_empty() {
            return Err(StoreError::BadUrl(location.to_owned()));
        }
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = if path.contains("mode=") { format!("sqlite://{path}") } else { format!("sqlite://{path}{sep}mode=rwc") };
        return Ok((Backend::Sqlite, url));
    }
    if location.contains("://") {
        return Err(StoreError::BadUrl(location.to_owned()));
    }
    Ok((Backend::Sqlite, format!("sqlite://{location}?mode=rwc")))
}

fn migrations(backend: Backend) -> Migrator {
    let files: &[(i64, &str, &str)] = match backend {
        Backend::Sqlite => &[
            (1, "ledger and projections", include_str!("../migrations/sqlite/0001_ledger_and_projections.sql")),
            (2, "accounts", include_str!("../migrations/sqlite/0002_accounts.sql")),
            (3, "portal", include_str!("../migrations/sqlite/0003_portal.sql")),
            (4, "leaner writes", include_str!("../migrations/sqlite/0004_leaner_writes.sql")),
            (5, "read model", include_str!("../migrations/sqlite/0005_read_model.sql")),
            (6, "throttling", include_str!("../migrations/sqlite/0006_throttling.sql")),
            (7, "transparency log", include_str!("../migrations/sqlite/0007_transparency_log.sql")),
            (8, "readiness probes", include_str!("../migrations/sqlite/0008_readiness_probes.sql")),
        ],
        Backend::Postgres => &[
            (1, "ledger and projections", include_str!("../migrations/postgres/0001_ledger_and_projections.sql")),
            (2, "accounts", include_str!("../migrations/postgres/0002_accounts.sql")),
            (3, "portal", include_str!("../migrations/postgres/0003_portal.sql")),
            (4, "leaner writes", include_str!("../migrations/postgres/0004_leaner_writes.sql")),
            (5, "read model", include_str!("../migrations/postgres/0005_read_model.sql")),
            (6, "throttling", include_str!("../migrations/postgres/0006_throttling.sql")),
            (7, "transparency log", include_str!("../migrations/postgres/0007_transparency_log.sql")),
            (8, "readiness probes", include_str!("../migrations/postgres/0008_readiness_probes.sql")),
        ],
    };
    Migrator {
        migrations: Cow::Owned(
            files
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, Cow::Borrowed(*sql), false)
                })
                .collect(),
        ),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    }
}

impl Database {
    /// Opens (creating a SQLite file if needed) without migrating: a pool
    /// for writes and one for request reads that cannot write.
    /// A new SQLite file is created owner-only first.
    pub async fn connect(location: &str) -> Result<Database, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalise_url(location)?;
        if let Some(path) = sqlite_file(backend, &url)? {
            files::create_private(&path)?;
        }
        let pool = Self::new_pool(backend, &url, false, false).await?;
        let reader = Reader::new(Self::new_pool(backend, &url, true, false).await?, backend);
        Ok(Database { pool, reader, backend, url })
    }

    /// Opens an existing database for reading only (`verify`, `backup`,
    /// reports): a SQLite file that is not there is an error, and nothing
    /// is created or written; a PostgreSQL session is read-only.
    ///
    /// SQLite is opened `mode=rw` (never `rwc`, so no file is created) with
    /// `query_only` and without the journal settings, rather than `mode=ro`:
    /// a `mode=ro` connection to a WAL database creates `-wal` and `-shm` but
    /// cannot remove them when it closes, leaving files behind.
    pub async fn connect_read_only(location: &str) -> Result<Database, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalise_url(location)?;
        let url = match sqlite_file(backend, &url)? {
            Some(path) => {
                files::require_existing(&path)?;
                url.replace("mode=rwc", "mode=rw")
            }
            None => url,
        };
        let pool = Self::new_pool(backend, &url, true, true).await?;
        // Connected now so a wrong location or a file that is not a database fails at once.
        pool.acquire().await?;
        let reader = Reader::new(pool.clone(), backend);
        Ok(Database { pool, reader, backend, url })
    }

    /// `file_as_is`: a database opened only to read is not converted by the
    /// journal settings (they write the file's header).
    async fn new_pool(backend: Backend, url: &str, read_only: bool, file_as_is: bool) -> Result<AnyPool, StoreError> {
        let options = AnyConnectOptions::from_str(url)?;
        let max = match (backend, read_only) {
            (Backend::Sqlite, false) => 4,
            (Backend::Sqlite, true) => 8,
            (Backend::Postgres, _) => 8,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            for (name, value) in SQLITE_SETTINGS {
                                if file_as_is && matches!(name, "journal_mode" | "synchronous") {
                                    continue;
                                }
                                conn.execute(format!("PRAGMA {name} = {value}").as_str()).await?;
                            }
                            if read_only {
                                conn.execute("PRAGMA query_only = ON").await?;
                            }
                        }
                        Backend::Postgres if read_only => {
                            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY").await?;
                        }
                        Backend::Postgres => {}
                    }
                    Ok(())
                })
            });
        // The write pool connects now, so a wrong location fails at once; readers connect when first used.
        Ok(if read_only { pool.connect_lazy_with(options) } else { pool.connect_with(options).await? })
    }

    /// The read-only handle for request handlers.
    pub fn reader(&self) -> &Reader {
        &self.reader
    }

    /// Opens and brings the schema up to date.
    pub async fn open(location: &str) -> Result<Database, StoreError> {
        let db = Database::connect(location).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Applies the embedded migrations of this backend, builds the Merkle
    /// tree over any entries written before it existed, then builds the read
    /// model's index from the stored projections if this version of
    /// celltrace computes it differently from the one that wrote it.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrations(self.backend).run(&self.pool).await?;
        tlog::backfill(self).await?;
        rebuild::read_model_if_outdated(self).await
    }

    /// The pool, for adapters that read.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The file of a SQLite database, as its URL names it.
    pub(crate) fn sqlite_path(&self) -> Result<std::path::PathBuf, StoreError> {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)?;
        Ok(options.get_filename().to_path_buf())
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL connected to, with any password hidden.
    pub fn display_url(&self) -> String {
        redact_url(&self.url)
    }

    /// Closes the pools. On SQLite, one connection is then opened and closed
    /// alone: pool connections closing at the same moment can each see the
    /// other still open and leave the WAL beside the file, while a lone last
    /// connection folds it back and removes it, so a stopped database is one file.
    pub async fn close(&self) {
        self.pool.close().await;
        self.reader.pool().close().await;
        if self.backend != Backend::Sqlite || self.url.contains("mode=memory") {
            return;
        }
        let Ok(path) = self.sqlite_path() else { return };
        let folded = tokio::task::spawn_blocking(move || {
            if !path.exists() {
                return Ok(());
            }
            rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE).and_then(|conn| conn.close().map_err(|(_, e)| e))
        })
        .await;
        if let Ok(Err(e)) = folded {
            tracing::warn!("closing the database left its WAL file beside it ({e}); the next start folds it back");
        }
    }
}

/// The file a SQLite URL names (None for PostgreSQL and in-memory databases).
fn sqlite_file(backend: Backend, url: &str) -> Result<Option<std::path::PathBuf>, StoreError> {
    if backend != Backend::Sqlite || url.contains("mode=memory") {
        return Ok(None);
    }
    let path = sqlx::sqlite::SqliteConnectOptions::from_str(url)?.get_filename().to_path_buf();
    Ok((path.as_os_str() != ":memory:").then_some(path))
}

/// A URL with its password replaced by `***`, safe to print.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Hex of bytes read back from the database.
pub(crate) fn hash32(bytes: &[u8], what: &str) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what} is {} bytes long, not 32", bytes.len())))
}

/// `$1, $2, ...` placeholders in groups, e.g. `($1,$2),($3,$4)`: both backends accept them.
pub(crate) fn placeholders(rows: usize, columns: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    let mut n = first;
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        out.push('(');
        for c in 0..columns {
            if c > 0 {
                out.push(',');
            }
            out.push('$');
            out.push_str(&n.to_string());
            n += 1;
        }
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls_are_understood() {
        assert_eq!(normalise_url("celltrace.db").ok(), Some((Backend::Sqlite, "sqlite://celltrace.db?mode=rwc".into())));
        assert_eq!(normalise_url("sqlite:///tmp/x.db").ok(), Some((Backend::Sqlite, "sqlite:///tmp/x.db?mode=rwc".into())));
        assert_eq!(
            normalise_url("postgres://u@127.0.0.1/test").ok(),
            Some((Backend::Postgres, "postgres://u@127.0.0.1/test".into()))
        );
        assert!(matches!(normalise_url("mysql://x"), Err(StoreError::BadUrl(_))));
        assert!(matches!(normalise_url("  "), Err(StoreError::BadUrl(_))));
    }

    #[test]
    fn passwords_are_never_printed() {
        assert_eq!(redact_url("postgres://ct:s3cret@db:5432/ct"), "postgres://ct:***@db:5432/ct");
        assert_eq!(redact_url("postgres://ct@db/ct"), "postgres://ct@db/ct");
    }

    /// Turns a database back into what celltrace wrote before migration 5 (the
    /// read model): no index entries, names or counts, the old entity indexes
    /// and the old token table, and migration 5 not yet recorded.
    async fn as_before_the_read_model(db: &Database) {
        let (names, tokens) = match db.backend() {
            Backend::Sqlite => (
                &["DROP TABLE person_names_fts", "DROP TABLE person_names"][..],
                "CREATE TABLE api_tokens (token_hash BLOB PRIMARY KEY, staff_id TEXT NOT NULL, label TEXT NOT NULL, \
                 created_at INTEGER NOT NULL, revoked_at INTEGER)",
            ),
            Backend::Postgres => (
                &["DROP TABLE person_names"][..],
                "CREATE TABLE api_tokens (token_hash BYTEA PRIMARY KEY, staff_id TEXT NOT NULL, label TEXT NOT NULL, \
                 created_at BIGINT NOT NULL, revoked_at BIGINT)",
            ),
        };
        let undo = [
            "DROP TABLE entity_index",
            "DROP TABLE entity_counts",
            "DROP TABLE read_generations",
            "DROP INDEX ledger_by_site",
            "DROP INDEX entities_by_last_seq",
            "CREATE INDEX entities_by_site ON entities (kind, site, status)",
            "CREATE INDEX entities_by_person ON entities (person)",
            "CREATE INDEX entities_by_reference ON entities (kind, reference)",
            tokens,
            // Nor the transparency log (migration 7): its nodes are backfilled on open.
            "DROP TABLE merkle_nodes",
            "DROP TABLE tree_heads",
            "DELETE FROM settings WHERE key = 'read_model'",
            "DELETE FROM _sqlx_migrations WHERE version >= 5",
            "DROP TABLE throttles",
            "CREATE TABLE login_failures (username TEXT NOT NULL, at BIGINT NOT NULL)",
            "DROP TABLE probes",
        ];
        for statement in names.iter().chain(&undo) {
            sqlx::query(statement).execute(db.pool()).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
    }

    /// A database written before the read model keeps every entry and
    /// projection, gets its index entries, names and counts built from the
    /// projections (which verify then recomputes and accepts), and its ledger
    /// still refuses edits, deletions and gaps.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_database_from_before_the_read_model_upgrades_intact() {
        use celltrace_testkit::{clinic, now, released_unit, TestDb};
        let key = celltrace_ledger::SigningKey::from_bytes(&[9; 32]);
        for test_db in TestDb::all().await {
            let db = Database::open(&test_db.url).await.expect("open");
            let engine = Engine::start(db.clone(), EngineOptions::new(key.clone(), celltrace_testkit::reference()));
            let at = now();
            for sub in clinic(at).into_iter().chain(released_unit(1, at)) {
                engine.submit(sub).await.expect("accepted");
            }
            engine.checkpoint().await.expect("checkpoint");
            drop(engine);
            let index_rows = |db: Database| async move {
                let row = sqlx::query("SELECT COUNT(*) FROM entity_index").fetch_one(db.pool()).await.expect("count");
                sqlx::Row::try_get::<i64, _>(&row, 0).expect("count")
            };
            let index_before = index_rows(db.clone()).await;
            assert!(index_before > 0, "{}: the engine writes index entries", test_db.backend);
            as_before_the_read_model(&db).await;
            let counts = |db: Database| async move {
                let mut counts = Vec::new();
                for table in ["ledger", "entities", "claims", "commands", "entry_subjects"] {
                    let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(db.pool()).await.expect("count");
                    counts.push(sqlx::Row::try_get::<i64, _>(&row, 0).expect("count"));
                }
                counts
            };
            let rows_before = counts(db.clone()).await;

            db.migrate().await.expect("upgrade");
            assert_eq!(counts(db.clone()).await, rows_before, "{}: every row kept", test_db.backend);
            assert_eq!(index_rows(db.clone()).await, index_before, "{}: the index rebuilt as the engine wrote it", test_db.backend);
            let report = verify::verify(&db, &key.verifying_key()).await.expect("verify");
            assert!(report.ok(), "{}: {:#?}", test_db.backend, report.findings);
            // Verify compared the backfilled Merkle nodes with the tree it recomputed.
            let head = db.reader().head().await.expect("head").seq;
            let proof = db.reader().consistency_proof(1, head).await.expect("a proof from the backfilled tree");
            assert_eq!(proof.to_root, celltrace_ledger::merkle::tree_hash(&db.reader().entries(1, 1000).await.expect("entries").iter().map(|(e, _)| celltrace_ledger::merkle::leaf_hash(&e.hash)).collect::<Vec<_>>()));
            let patient = db.reader().person_by_mrn(celltrace_testkit::SITE, "MRN-1").await.expect("lookup");
            assert!(patient.is_some(), "{}: a patient is found by MRN after the upgrade", test_db.backend);
            assert!(sqlx::query("UPDATE ledger SET actor = 'x' WHERE seq = 1").execute(db.pool()).await.is_err());
            assert!(sqlx::query("DELETE FROM ledger WHERE seq = 2").execute(db.pool()).await.is_err());
            let gap = sqlx::query(
                "INSERT INTO ledger (seq, prev_seq, recorded_at, actor, site, kind, payload, prev_hash, hash, command_id) \
                 VALUES (1000, 999, 0, 'x', 'x', 'x', $1, $2, $2, 'x')",
            )
            .bind(vec![1u8])
            .bind(vec![0u8; 32])
            .execute(db.pool())
            .await;
            assert!(gap.is_err(), "{}: an entry after a gap is refused", test_db.backend);
            db.close().await;
            test_db.drop_database().await;
        }
    }

    #[test]
    fn placeholders_number_across_rows() {
        assert_eq!(placeholders(2, 2, 1), "($1,$2),($3,$4)");
        assert_eq!(placeholders(1, 3, 4), "($4,$5,$6)");
    }
}
