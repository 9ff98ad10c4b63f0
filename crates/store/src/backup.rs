//! `backup PATH`: a consistent copy of a running deployment in one SQLite
//! file that `verify` accepts, complete and checked or not there at all.
//! SQLite is copied with `VACUUM INTO`; PostgreSQL is read inside one
//! repeatable-read snapshot and written out.

use crate::{Backend, Database, StoreError};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::path::Path;

#[derive(Clone, Copy)]
enum Column {
    Int,
    OptInt,
    Text,
    OptText,
    Blob,
}

/// A table to copy: its name, its columns with their types, and its sort key.
type Table = (&'static str, &'static [(&'static str, Column)], &'static str);

/// Tables in foreign-key order.
const TABLES: &[Table] = &[
    (
        "ledger",
        &[
            ("seq", Column::Int),
            ("prev_seq", Column::OptInt),
            ("recorded_at", Column::Int),
            ("actor", Column::Text),
            ("site", Column::Text),
            ("kind", Column::Text),
            ("payload", Column::Blob),
            ("prev_hash", Column::Blob),
            ("hash", Column::Blob),
            ("command_id", Column::Text),
        ],
        "seq",
    ),
    (
        "checkpoints",
        &[
            ("from_seq", Column::Int),
            ("to_seq", Column::Int),
            ("to_hash", Column::Blob),
            ("root", Column::Blob),
            ("signed_at", Column::Int),
            ("public_key", Column::Blob),
            ("signature", Column::Blob),
        ],
        "from_seq",
    ),
    ("merkle_nodes", &[("level", Column::Int), ("idx", Column::Int), ("hash", Column::Blob)], "level, idx"),
    (
        "tree_heads",
        &[("size", Column::Int), ("root", Column::Blob), ("signed_at", Column::Int), ("note", Column::Text)],
        "size",
    ),
    ("commands", &[("command_id", Column::Text), ("first_seq", Column::Int), ("last_seq", Column::Int)], "command_id"),
    (
        "entities",
        &[
            ("kind", Column::Text),
            ("id", Column::Text),
            ("site", Column::Text),
            ("person", Column::OptText),
            ("status", Column::Text),
            ("reference", Column::OptText),
            ("body", Column::Text),
            ("last_seq", Column::Int),
        ],
        "kind, id",
    ),
    ("claims", &[("namespace", Column::Text), ("value", Column::Text), ("owner", Column::Text), ("seq", Column::Int)], "namespace, value"),
    ("entry_subjects", &[("kind", Column::Text), ("id", Column::Text), ("seq", Column::Int)], "kind, id, seq"),
    ("din_sequences", &[("fin", Column::Text), ("year", Column::Int), ("next", Column::Int)], "fin, year"),
    ("credentials", &[("staff_id", Column::Text), ("password_hash", Column::Text), ("updated_at", Column::Int)], "staff_id"),
    ("settings", &[("key", Column::Text), ("value", Column::Text)], "key"),
    // One-time codes are not copied: a restored copy asks the clinic for a new one.
    (
        "portal_accounts",
        &[("person_id", Column::Text), ("password_hash", Column::OptText), ("language", Column::Text), ("updated_at", Column::Int)],
        "person_id",
    ),
    // The read model is copied as it stands, so the copy is ready to serve.
    (
        "entity_index",
        &[("name", Column::Text), ("value", Column::Text), ("sort", Column::Text), ("kind", Column::Text), ("id", Column::Text)],
        "name, value, sort, kind, id",
    ),
    (
        "person_names",
        &[("pos", Column::Int), ("id", Column::Text), ("site", Column::Text), ("kind", Column::Text), ("name_key", Column::Text)],
        "pos",
    ),
    ("entity_counts", &[("kind", Column::Text), ("count", Column::Int)], "kind"),
];

/// Writes a consistent copy of `db` to a new SQLite file at `path`, or
/// nothing at all. The copy is written under a temporary name in the same
/// directory, checked, flushed to disk, and only then given its name (which
/// is never overwritten); on any failure the temporary file is removed, so
/// a retry with the same name works.
pub async fn backup(db: &Database, path: &Path) -> Result<(), StoreError> {
    if path.exists() {
        return Err(StoreError::Invalid(format!(
            "{} already exists; choose a new file name so no backup is overwritten",
            path.display()
        )));
    }
    let name = path.file_name().ok_or_else(|| StoreError::Invalid(format!("{} is not a file name", path.display())))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    if !dir.is_dir() {
        return Err(StoreError::Invalid(format!("cannot write the backup {}: the directory {} does not exist", path.display(), dir.display())));
    }
    let temp = dir.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
    remove_with_journals(&temp);
    let written = match write_copy(db, &temp).await {
        Ok(()) => publish(&temp, path, &dir),
        Err(e) => Err(e),
    };
    if let Err(e) = written {
        remove_with_journals(&temp);
        return Err(StoreError::Invalid(explain(&e.to_string(), path, &dir)));
    }
    Ok(())
}

/// Writes the copy to `temp` (created owner-only: it holds password hashes) and checks it.
async fn write_copy(db: &Database, temp: &Path) -> Result<(), StoreError> {
    crate::files::create_private(temp)?;
    match db.backend() {
        Backend::Sqlite => {
            // A connection of its own that never creates the source: VACUUM INTO
            // reads one snapshot while writers carry on and writes only the new
            // file. Not SQLITE_OPEN_READ_ONLY, which would leave -wal and -shm
            // behind, nor query_only, which refuses VACUUM INTO.
            let (source, target) = (db.sqlite_path()?, temp.to_path_buf());
            run_blocking(move || {
                Ok(while_busy(|| {
                    let conn = rusqlite::Connection::open_with_flags(&source, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
                    conn.busy_timeout(std::time::Duration::from_secs(10))?;
                    conn.execute("VACUUM INTO ?1", [target.to_string_lossy().as_ref()])?;
                    Ok(())
                })?)
            })
            .await?;
        }
        Backend::Postgres => copy_to_sqlite(db, &temp.to_string_lossy()).await?,
    }
    let target = temp.to_path_buf();
    run_blocking(move || check_copy(&target)).await
}

/// The copy is a sound SQLite file whose ledger head names its last entry.
fn check_copy(path: &Path) -> Result<(), StoreError> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    // The pool that wrote a PostgreSQL copy may still be letting go of the file.
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // One file, no -wal beside it: the copy travels alone.
    while_busy(|| conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(())))?;
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if integrity != "ok" {
        return Err(StoreError::Invalid(format!("the copy failed SQLite's integrity check: {integrity}")));
    }
    let head: i64 = conn.query_row("SELECT seq FROM ledger_head WHERE id = 1", [], |r| r.get(0))?;
    let last: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM ledger", [], |r| r.get(0))?;
    if head != last {
        return Err(StoreError::Invalid(format!("the copy is incomplete: its ledger head is entry {head} but its last entry is {last}")));
    }
    drop(conn);
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(|e| StoreError::Invalid(format!("cannot flush the copy to disk: {e}")))
}

/// Runs `step` again while SQLite answers "busy", for up to 10 s. Some
/// lock changes (leaving WAL mode, a snapshot overtaken by another writer)
/// answer busy at once rather than waiting in the busy handler; the other
/// connection (a server's writer, a closing pool) lets go within moments.
fn while_busy<T>(mut step: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match step() {
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Gives the checked copy its name without ever replacing a file (a link
/// fails if the name was taken meanwhile), then makes the name durable.
fn publish(temp: &Path, path: &Path, dir: &Path) -> Result<(), StoreError> {
    match std::fs::hard_link(temp, path) {
        Ok(()) => {
            let _ = std::fs::remove_file(temp);
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(StoreError::Invalid(format!("{} was created by someone else meanwhile", path.display())));
        }
        // Filesystems without hard links: a rename, the name having been checked free just before.
        Err(_) if !path.exists() => std::fs::rename(temp, path).map_err(|e| StoreError::Invalid(format!("cannot name the copy: {e}")))?,
        Err(e) => return Err(StoreError::Invalid(format!("cannot name the copy: {e}"))),
    }
    // The directory entry itself must reach the disk, or a power cut could lose the name.
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| StoreError::Invalid(format!("cannot flush the directory {}: {e}", dir.display())))
}

fn remove_with_journals(temp: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = temp.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
}

/// Says what went wrong in words an operator can act on.
fn explain(cause: &str, path: &Path, dir: &Path) -> String {
    let lower = cause.to_lowercase();
    let hint = if lower.contains("full") || lower.contains("no space") {
        format!("the disk holding {} is full; free space and run the backup again", dir.display())
    } else if lower.contains("disk i/o error") || lower.contains("too large") {
        format!("writing to {} failed (a full disk, a file size limit or a failing device); check it and run the backup again", dir.display())
    } else if lower.contains("permission denied") || lower.contains("readonly") || lower.contains("read-only") {
        format!("celltrace may not write in {}; choose another directory", dir.display())
    } else {
        "run the backup again; if it fails again, run `celltrace verify` on the database".to_owned()
    };
    format!("the backup to {} failed ({cause}): {hint}. Nothing was written", path.display())
}

async fn run_blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| StoreError::Invalid(format!("the backup task failed: {e}")))?
}

async fn copy_to_sqlite(db: &Database, target: &str) -> Result<(), StoreError> {
    let out = Database::open(target).await?;
    let mut src = db.pool().begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *src).await?;
    let mut dst = out.pool().begin().await?;
    // The new file's own settings (written as it was created) give way to the source's.
    sqlx::query("DELETE FROM settings").execute(&mut *dst).await?;
    for (table, columns, order) in TABLES {
        copy_table(&mut src, &mut dst, table, columns, order).await?;
    }
    let head = sqlx::query("SELECT seq, hash FROM ledger_head WHERE id = 1").fetch_one(&mut *src).await?;
    sqlx::query("UPDATE ledger_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(head.try_get::<i64, _>(0)?)
        .bind(head.try_get::<Vec<u8>, _>(1)?)
        .execute(&mut *dst)
        .await?;
    dst.commit().await?;
    src.commit().await?;
    out.close().await;
    Ok(())
}

async fn copy_table(
    src: &mut Transaction<'static, Any>,
    dst: &mut Transaction<'static, Any>,
    table: &str,
    columns: &[(&str, Column)],
    order: &str,
) -> Result<(), StoreError> {
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let page = 2000i64;
    let mut offset = 0i64;
    loop {
        let sql = format!("SELECT {} FROM {table} ORDER BY {order} LIMIT {page} OFFSET {offset}", names.join(", "));
        let rows: Vec<AnyRow> = sqlx::query(&sql).fetch_all(&mut **src).await?;
        if rows.is_empty() {
            return Ok(());
        }
        for chunk in rows.chunks(200) {
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES {}",
                names.join(", "),
                crate::placeholders(chunk.len(), columns.len(), 1)
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                for (i, (_, column)) in columns.iter().enumerate() {
                    query = match column {
                        Column::Int => query.bind(row.try_get::<i64, _>(i)?),
                        Column::OptInt => query.bind(row.try_get::<Option<i64>, _>(i)?),
                        Column::Text => query.bind(row.try_get::<String, _>(i)?),
                        Column::OptText => query.bind(row.try_get::<Option<String>, _>(i)?),
                        Column::Blob => query.bind(row.try_get::<Vec<u8>, _>(i)?),
                    };
                }
            }
            query.execute(&mut **dst).await?;
        }
        offset += page;
    }
}
