//! `backup PATH`: a consistent copy of a running deployment in one SQLite
//! file that `verify` accepts. SQLite is copied with `VACUUM INTO`;
//! PostgreSQL is read inside one repeatable-read snapshot and written out.

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

/// Writes a consistent copy of `db` to a new SQLite file at `path`.
pub async fn backup(db: &Database, path: &Path) -> Result<(), StoreError> {
    if path.exists() {
        return Err(StoreError::Corrupt(format!(
            "{} already exists; choose a new file name so no backup is overwritten",
            path.display()
        )));
    }
    let target = path.to_string_lossy().to_string();
    match db.backend() {
        Backend::Sqlite => {
            // VACUUM INTO reads one snapshot while writers carry on.
            sqlx::query("VACUUM INTO $1").bind(target).execute(db.pool()).await?;
            Ok(())
        }
        Backend::Postgres => copy_to_sqlite(db, &target).await,
    }
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
