//! The HTTP adapter of celltrace: the staff web application (server-rendered
//! HTML), the JSON command API, health and status. Every change goes through
//! the engine; every page is guarded by one capability extractor (`auth::Can`).

// Older handlers return `Result<_, Response>` so a refusal is a finished
// page; new ones return `Result<_, AppError>` (see `error`).
#![allow(clippy::result_large_err)]

pub mod assets;
pub mod error;
pub mod layers;
pub mod serve;
pub mod staff;
pub mod api;
pub mod fhir;
pub mod kit;
pub mod auth;
pub mod portal;
pub mod routes;

use axum::Router;
use celltrace_store::{Database, Engine};

/// How this deployment is reached and what it trusts.
#[derive(Clone)]
pub struct WebConfig {
    /// The URL people and programs reach celltrace at, e.g.
    /// `https://celltrace.clinic.example` (no trailing slash). Every absolute
    /// link is built from it, never from a request's `Host` or
    /// `X-Forwarded-*` headers; when it is https, cookies are `Secure` and
    /// pages send HSTS.
    pub public_url: String,
    /// The key that verifies the ledger's checkpoints (shown on the ledger page).
    pub verifying_key: Option<celltrace_ledger::VerifyingKey>,
    /// Limits of the service (timeouts, concurrency, bodies).
    pub limits: layers::Limits,
    /// `/readyz` fails once a ledger entry has been unsigned for longer than this.
    pub ready_uncovered_limit: std::time::Duration,
}

/// How long a ledger entry may stay unsigned before `/readyz` fails, unless
/// configured: the signing cadence (at most a second) with a wide margin for
/// a busy or briefly stalled writer.
pub const READY_UNCOVERED_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

impl WebConfig {
    /// A configuration for `public_url` with the default limits.
    pub fn new(public_url: &str) -> WebConfig {
        WebConfig {
            public_url: public_url.trim_end_matches('/').to_owned(),
            verifying_key: None,
            limits: layers::Limits::default(),
            ready_uncovered_limit: READY_UNCOVERED_LIMIT,
        }
    }

    /// Whether the deployment is served over TLS.
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig").field("public_url", &self.public_url).field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The command path (and through it the database).
    pub engine: Engine,
    /// The reference data the rules consult, for forms and pages that show it.
    pub reference: std::sync::Arc<celltrace_reference::ReferenceData>,
    /// How the deployment is reached.
    pub config: std::sync::Arc<WebConfig>,
    /// The registry last computed, reused while nothing it counts changes.
    pub registry: std::sync::Arc<staff::registry::RegistryCache>,
}

impl AppState {
    /// The database.
    pub fn db(&self) -> &Database {
        self.engine.database()
    }

    /// The read-only handle every read goes through.
    pub fn reader(&self) -> &celltrace_store::read::Reader {
        self.engine.database().reader()
    }
}

/// Every route of celltrace, behind the service's layers.
pub fn router(state: AppState) -> Router {
    let limits = state.config.limits.clone();
    let https = state.config.https();
    let routes = routes::router().with_state(state);
    layers::wrap(routes, &limits, https)
}

/// Microseconds since the epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
