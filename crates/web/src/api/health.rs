//! Health for service managers and load balancers: `/healthz` (liveness:
//! the process answers, no database asked, so a slow disk never gets a
//! working process restarted) and `/readyz` (readiness: a real write goes
//! through, and a signature covers the ledger's head); and the public
//! `/status` page: aggregate figures of the ledger and the records, never
//! patient data. The page uses the staff style sheet (the CSP allows no inline style).

use crate::error::AppError;
use crate::kit::layout::Layout;
use crate::kit::records::render;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::time::Duration;

/// How long the write probe may wait (e.g. for a lock) before it counts as failed.
const PROBE_WAIT: Duration = Duration::from_secs(2);

/// Alive: the process answers requests. Asks nothing of the database.
#[utoipa::path(get, path = "/healthz", tag = "health", responses(
    (status = 200, description = "The process answers", body = String, content_type = "text/plain"),
))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// What `/readyz` found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// True when every check passed.
    pub ready: bool,
    /// The checks that failed: `write`, `coverage`.
    pub failed: Vec<String>,
    /// `ok`, or why a write did not go through.
    pub write: String,
    /// Ledger entries no signature covers yet.
    pub uncovered_entries: u64,
    /// Age in seconds of the oldest of them (0 when none).
    pub oldest_uncovered_seconds: u64,
    /// The age above which an uncovered entry makes the server not ready.
    pub uncovered_limit_seconds: u64,
    /// `ok`, or why coverage could not be read.
    pub coverage: String,
}

/// Ready to take commands: a write goes through now, and no ledger entry
/// has stayed unsigned longer than the configured limit.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "Ready: writes go through and the head is signed", body = Readiness),
    (status = 503, description = "Not ready; `failed` names what failed", body = Readiness),
))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let db = state.engine.database();
    let now = crate::now_micros();
    let write = match tokio::time::timeout(PROBE_WAIT, celltrace_store::probe::write(db, now)).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => format!("a write failed: {e}"),
        Err(_) => format!("a write did not go through within {} s (is the database locked or the disk stalled?)", PROBE_WAIT.as_secs()),
    };
    let limit = state.config.ready_uncovered_limit;
    let (coverage, entries, oldest) = match celltrace_store::probe::uncovered(db).await {
        Ok(u) => {
            let age = u.oldest_at.map_or(0, |at| u64::try_from((now - at).max(0)).unwrap_or(0) / 1_000_000);
            let status = if age > limit.as_secs() {
                format!("{} entries are unsigned, the oldest for {age} s (limit {} s)", u.entries, limit.as_secs())
            } else {
                "ok".to_owned()
            };
            (status, u.entries, age)
        }
        Err(e) => (format!("cannot read the ledger's coverage: {e}"), 0, 0),
    };
    let failed: Vec<String> = [("write", &write), ("coverage", &coverage)].iter().filter(|(_, s)| s.as_str() != "ok").map(|(n, _)| (*n).to_owned()).collect();
    let ready = failed.is_empty();
    let body = Readiness { ready, failed, write, uncovered_entries: entries, oldest_uncovered_seconds: oldest, uncovered_limit_seconds: limit.as_secs(), coverage };
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    layout: Option<Layout>,
    entries: u64,
    /// Entries the newest signed tree head covers.
    covered: u64,
    hash: String,
    counts: Vec<(String, i64)>,
}

/// The public status page.
pub async fn status_page(State(state): State<AppState>) -> Result<Response, AppError> {
    let reader = state.reader();
    let head = reader.head().await?;
    let counts = reader.counts().await?.into_iter().map(|(kind, n)| (kind.replace('_', " "), n)).collect();
    let covered = reader.latest_tree_head().await?.map_or(0, |t| t.size);
    render(&StatusPage { layout: None, entries: head.seq, covered, hash: celltrace_ledger::to_hex(&head.hash), counts })
}
