//! The HTTP adapter of celltrace: the staff web application (server-rendered
//! HTML), the JSON command API, health and status. Every change goes through
//! the engine; every page is guarded by one capability extractor (`auth::Can`).

// Handlers return `Result<_, Response>` so a refusal is a finished page;
// a Response is large, and boxing it would only add noise to every handler.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod auth;
pub mod pages;
mod view;

use axum::Router;
use celltrace_store::{Database, Engine};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The command path (and through it the database).
    pub engine: Engine,
}

impl AppState {
    /// The database.
    pub fn db(&self) -> &Database {
        self.engine.database()
    }
}

/// Every route of celltrace.
pub fn router(state: AppState) -> Router {
    api::routes().merge(pages::routes()).with_state(state)
}

/// Microseconds since the epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
