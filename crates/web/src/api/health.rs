//! `/healthz` for load balancers and the public `/status` page: aggregate
//! figures of the ledger and the records, never patient data. The page uses
//! the staff style sheet (the CSP allows no inline style).

use super::ApiError;
use crate::error::AppError;
use crate::kit::layout::Layout;
use crate::kit::records::render;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;

/// Ready when the database answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses(
    (status = 200, description = "Ready", body = String, content_type = "text/plain"),
    (status = 503, description = "The database is not reachable", body = ApiError),
))]
pub async fn healthz(State(state): State<AppState>) -> Result<&'static str, AppError> {
    state.reader().head().await?;
    Ok("ok\n")
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
