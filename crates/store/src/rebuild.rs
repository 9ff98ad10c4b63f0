//! Builds the read model (the index entries and searchable names of every
//! entity) from the stored projections, when the database was written by a
//! celltrace that computed it differently or not at all. It runs once, under
//! the chain head's lock, so no command writes meanwhile; its cost is one
//! pass over the projections, streamed in pages.

use crate::engine::pool::lock_head;
use crate::{Database, StoreError};
use celltrace_domain::{EntityKey, EntityKind, State};
use sqlx::Row;

/// The version of the index entries this build computes (`celltrace_domain::index`).
/// Change it whenever the entries an entity gets change, and the next start rebuilds them.
pub const READ_MODEL_VERSION: &str = "3";

const SETTING: &str = "read_model";
const PAGE: i64 = 1000;

/// Rebuilds the read model unless it was built by this version.
pub(crate) async fn read_model_if_outdated(db: &Database) -> Result<(), StoreError> {
    if db.setting(SETTING).await?.as_deref() == Some(READ_MODEL_VERSION) {
        return Ok(());
    }
    let mut tx = db.pool().begin().await?;
    lock_head(&mut tx).await?;
    // Another server may have rebuilt it while this one waited for the lock.
    let done: Option<String> = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(SETTING).fetch_optional(&mut *tx).await?.map(|r| r.try_get(0)).transpose()?;
    if done.as_deref() == Some(READ_MODEL_VERSION) {
        tx.rollback().await?;
        return Ok(());
    }
    sqlx::query("DELETE FROM entity_index").execute(&mut *tx).await?;
    sqlx::query("DELETE FROM person_names").execute(&mut *tx).await?;
    sqlx::query("DELETE FROM entity_counts").execute(&mut *tx).await?;
    sqlx::query("INSERT INTO entity_counts (kind, count) SELECT kind, COUNT(*) FROM entities GROUP BY kind").execute(&mut *tx).await?;
    let mut after = (String::new(), String::new());
    let mut count = 0u64;
    loop {
        let rows = sqlx::query("SELECT kind, id, body FROM entities WHERE (kind, id) > ($1, $2) ORDER BY kind, id LIMIT $3")
            .bind(after.0.clone())
            .bind(after.1.clone())
            .bind(PAGE)
            .fetch_all(&mut *tx)
            .await?;
        let Some(last) = rows.last() else { break };
        after = (last.try_get(0)?, last.try_get(1)?);
        for row in &rows {
            let kind: String = row.try_get(0)?;
            let key = EntityKey {
                kind: EntityKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("unknown entity kind '{kind}'")))?,
                id: row.try_get(1)?,
            };
            let mut state = State::default();
            state.load(&key, &row.try_get::<String, _>(2)?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let Some(projected) = state.row(&key).map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))? else { continue };
            for entry in &projected.index {
                sqlx::query("INSERT INTO entity_index (name, value, sort, kind, id) VALUES ($1, $2, $3, $4, $5)")
                    .bind(entry.index.as_str())
                    .bind(entry.value.clone())
                    .bind(entry.sort.clone())
                    .bind(key.kind.as_str())
                    .bind(key.id.clone())
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(name) = &projected.search {
                sqlx::query("INSERT INTO person_names (id, site, kind, name_key) VALUES ($1, $2, $3, $4)")
                    .bind(key.id.clone())
                    .bind(projected.site.clone())
                    .bind(projected.status.clone())
                    .bind(name.clone())
                    .execute(&mut *tx)
                    .await?;
            }
            count += 1;
        }
    }
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(SETTING)
        .bind(READ_MODEL_VERSION)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if count > 0 {
        tracing::info!("built the read model (version {READ_MODEL_VERSION}) from {count} stored records");
    }
    Ok(())
}
