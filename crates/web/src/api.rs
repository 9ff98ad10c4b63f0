//! The JSON command API that scripts and other servers use, health, and the
//! public status page (aggregate figures only, never patient data).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use celltrace_domain::ids::{CommandId, SiteId};
use celltrace_domain::{Actor, Command, Submission};
use crate::{now_micros, AppState};
use celltrace_store::SubmitError;
use serde::Deserialize;
use serde_json::json;

/// The API, health and status routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/status", get(status_page))
        .route("/healthz", get(healthz))
        .route("/api/commands", post(submit))
        .route("/api/commands/{id}", get(command_status))
        .route("/api/ledger/head", get(ledger_head))
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message.into() } }))).into_response()
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.db().head().await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, "database", e.to_string()),
    }
}

async fn ledger_head(State(state): State<AppState>) -> Response {
    match state.db().head().await {
        Ok(head) => Json(json!({ "seq": head.seq, "hash": celltrace_ledger::to_hex(&head.hash) })).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, "database", e.to_string()),
    }
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Actor, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            error(StatusCode::UNAUTHORIZED, "unauthenticated", "Send an API token as 'Authorization: Bearer TOKEN'; an administrator creates one with 'celltrace token create'.")
        })?;
    match state.db().staff_for_token(token).await {
        Ok(Some(staff)) => Ok(Actor::Staff(staff)),
        Ok(None) => Err(error(StatusCode::UNAUTHORIZED, "unauthenticated", "This API token is unknown or revoked.")),
        Err(e) => Err(error(StatusCode::SERVICE_UNAVAILABLE, "database", e.to_string())),
    }
}

/// Body of `POST /api/commands`.
#[derive(Debug, Deserialize)]
pub struct CommandRequest {
    /// Idempotency key; generated when absent.
    pub id: Option<CommandId>,
    /// Site the actor works at for this command.
    pub site: SiteId,
    /// The command.
    pub command: Command,
}

async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Result<Json<CommandRequest>, JsonRejection>) -> Response {
    let actor = match authenticate(&state, &headers).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, "bad_request", rejection.body_text()),
    };
    let id = match request.id {
        Some(id) => id,
        None => match CommandId::parse(&uuid::Uuid::now_v7().to_string()) {
            Ok(id) => id,
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
        },
    };
    let submission = Submission { id: id.clone(), actor, site: request.site, at: celltrace_domain::time::Timestamp(now_micros()), command: request.command };
    match state.engine.submit(submission).await {
        Ok(receipt) => Json(json!({
            "command": id,
            "first_seq": receipt.first_seq,
            "last_seq": receipt.last_seq,
            "events": receipt.events,
        }))
        .into_response(),
        Err(SubmitError::Rejected(r)) => {
            let status = if r.code == "forbidden" { StatusCode::FORBIDDEN } else { StatusCode::UNPROCESSABLE_ENTITY };
            error(status, &r.code, r.message)
        }
        Err(SubmitError::Store(e)) => {
            tracing::error!("command {id} failed in storage: {e}");
            error(StatusCode::SERVICE_UNAVAILABLE, "storage", "The command was not recorded because storage failed; nothing changed. Try again.")
        }
    }
}

async fn command_status(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(response) = authenticate(&state, &headers).await {
        return response;
    }
    match state.db().command(&id).await {
        Ok(Some((first, last))) => Json(json!({ "command": id, "first_seq": first, "last_seq": last })).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "unknown_command", format!("No command {id} was recorded.")),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, "database", e.to_string()),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn status_page(State(state): State<AppState>) -> Response {
    let db = state.db();
    let (head, counts, checkpoints) = match (db.head().await, db.counts().await, db.checkpoint_count().await) {
        (Ok(h), Ok(c), Ok(n)) => (h, c, n),
        _ => return error(StatusCode::SERVICE_UNAVAILABLE, "database", "The database is not reachable."),
    };
    let rows: String = counts
        .iter()
        .map(|(kind, n)| format!("<tr><th scope=\"row\">{}</th><td>{n}</td></tr>", escape(&kind.replace('_', " "))))
        .collect();
    let page = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>celltrace</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 46rem; padding: 0 1rem; color: #1a1a1a; }}
h1 {{ margin-bottom: .2rem; }} .lead {{ color: #444; margin-top: 0; }}
table {{ border-collapse: collapse; margin: 1rem 0; min-width: 20rem; }}
th, td {{ text-align: left; padding: .35rem .8rem; border-bottom: 1px solid #ddd; }}
code {{ background: #f3f3f3; padding: .1rem .3rem; border-radius: 3px; word-break: break-all; }}
.ok {{ color: #0a6b2c; font-weight: 600; }}
</style></head>
<body>
<h1>celltrace</h1>
<p class="lead">Vein-to-vein tracking, evidence guard and outcomes registry for cell-based therapies.</p>
<h2>Ledger</h2>
<p class="ok">{entries} entries, chained by SHA-256; {checkpoints} signed checkpoints.</p>
<p>Head hash: <code>{hash}</code></p>
<p>Check it yourself: <code>celltrace verify</code></p>
<h2>Records</h2>
<table><thead><tr><th scope="col">Kind</th><th scope="col">Count</th></tr></thead><tbody>{rows}</tbody></table>
<p>Patient records are shown only to signed-in staff of their site. Scripts use the JSON API at <code>/api/commands</code> with a bearer token.</p>
</body></html>"#,
        entries = head.seq,
        hash = celltrace_ledger::to_hex(&head.hash),
    );
    Html(page).into_response()
}
