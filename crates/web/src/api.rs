//! The JSON command API that scripts and other servers use, health, and the
//! public status page (aggregate figures only, never patient data).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use celltrace_domain::ids::{CommandId, SiteId};
use celltrace_domain::{Actor, Command, Submission};
use crate::{now_micros, AppState};
use celltrace_store::SubmitError;
use serde::{Deserialize, Serialize};
use crate::routes::{Access, Route};
use utoipa::{OpenApi, ToSchema};

/// The API, health and status routes, and `/api/openapi.json` describing
/// them. The document lists the same handlers' annotations; a test checks
/// it names exactly the API routes of the route table.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/healthz", Access::Public, healthz),
        Route::get("/status", Access::Public, status_page),
        Route::get("/api/openapi.json", Access::Public, || async { Json(openapi()) }),
        Route::get("/api/ledger/head", Access::Public, ledger_head),
        Route::post("/api/commands", Access::Token, submit),
        Route::get("/api/commands/{id}", Access::Token, command_status),
    ]
}

/// The OpenAPI document of the JSON API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(
    paths(healthz, submit, command_status, ledger_head),
    info(title = "celltrace JSON API", description = "Commands for scripts and integrations. Every change is a command: authorised, decided by the rules, appended to the signed ledger, then acknowledged. HL7 FHIR R4 is served separately under /fhir."),
    modifiers(&BearerToken),
    components(schemas(ApiError, ErrorBody, CommandAccepted, CommandRecorded, LedgerHead))
)]
struct ApiDoc;

/// Declares the bearer API token (made by `celltrace token create`).
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("api_token", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// Every error of the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    /// What went wrong.
    pub error: ErrorBody,
}

/// An error's code for programs and message for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable code, e.g. `unauthenticated`, `bad_request`, `already_administered`.
    pub code: String,
    /// What happened and what to do, in words.
    pub message: String,
}

/// A command the ledger accepted.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandAccepted {
    /// The command's id (the idempotency key).
    pub command: String,
    /// First ledger entry it wrote.
    pub first_seq: u64,
    /// Last ledger entry it wrote.
    pub last_seq: u64,
    /// The events recorded, as stored in the ledger.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
}

/// Where a recorded command is in the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandRecorded {
    /// The command's id.
    pub command: String,
    /// First ledger entry it wrote.
    pub first_seq: u64,
    /// Last ledger entry it wrote.
    pub last_seq: u64,
}

/// The head of the ledger's hash chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerHead {
    /// Sequence number of the last entry (0 when empty).
    pub seq: u64,
    /// Its hash, hex.
    pub hash: String,
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(ApiError { error: ErrorBody { code: code.to_owned(), message: message.into() } })).into_response()
}

/// Ready when the database answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses(
    (status = 200, description = "Ready", body = String, content_type = "text/plain"),
    (status = 503, description = "The database is not reachable", body = ApiError),
))]
async fn healthz(State(state): State<AppState>) -> Response {
    match state.reader().head().await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, "database", e.to_string()),
    }
}

/// The head of the hash chain, for anyone comparing copies of the ledger.
#[utoipa::path(get, path = "/api/ledger/head", tag = "ledger", responses(
    (status = 200, description = "The last entry", body = LedgerHead),
    (status = 503, description = "The database is not reachable", body = ApiError),
))]
async fn ledger_head(State(state): State<AppState>) -> Response {
    match state.reader().head().await {
        Ok(head) => Json(LedgerHead { seq: head.seq, hash: celltrace_ledger::to_hex(&head.hash) }).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, "database", e.to_string()),
    }
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Actor, Response> {
    let token = crate::auth::bearer_token(headers).ok_or_else(|| {
            error(StatusCode::UNAUTHORIZED, "unauthenticated", "Send an API token as 'Authorization: Bearer TOKEN'; an administrator issues one with 'celltrace token create'.")
        })?;
    match state.reader().staff_for_token(token, celltrace_domain::time::Timestamp(now_micros())).await {
        Ok(Some(staff)) => Ok(Actor::Staff(staff.id)),
        Ok(None) => Err(error(StatusCode::UNAUTHORIZED, "unauthenticated", "This API token is unknown, revoked or expired, or its owner's account is deactivated.")),
        Err(e) => Err(error(StatusCode::SERVICE_UNAVAILABLE, "database", e.to_string())),
    }
}

/// Body of `POST /api/commands`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CommandRequest {
    /// Idempotency key; generated when absent. Resubmitting an id is refused, so retries are safe.
    pub id: Option<CommandId>,
    /// Site the actor works at for this command.
    pub site: SiteId,
    /// The command, tagged by its snake_case name in `type`, e.g.
    /// `{"type": "record_record_viewed", "person": "p-layla", "view": "script"}`.
    pub command: Command,
}

/// Submit one command as the token's owner.
#[utoipa::path(post, path = "/api/commands", tag = "commands", request_body = CommandRequest, security(("api_token" = [])), responses(
    (status = 200, description = "Accepted and recorded in the ledger", body = CommandAccepted),
    (status = 400, description = "The body is not valid JSON", body = ApiError),
    (status = 401, description = "No token, or an unknown one", body = ApiError),
    (status = 403, description = "The token's owner may not do this", body = ApiError),
    (status = 415, description = "The body is not JSON", body = ApiError),
    (status = 422, description = "The body is no command, or the rules refused it; nothing changed", body = ApiError),
    (status = 503, description = "Storage failed; nothing changed", body = ApiError),
))]
async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Result<Json<CommandRequest>, JsonRejection>) -> Response {
    let actor = match authenticate(&state, &headers).await {
        Ok(actor) => actor,
        Err(response) => return response,
    };
    let Json(request) = match body {
        Ok(body) => body,
        // Not JSON is 400, not JSON at all 415, JSON that is no command 422.
        Err(rejection) => return error(rejection.status(), "bad_request", rejection.body_text()),
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
        Ok(receipt) => Json(CommandAccepted {
            command: id.to_string(),
            first_seq: receipt.first_seq,
            last_seq: receipt.last_seq,
            events: receipt.events.iter().filter_map(|e| serde_json::to_value(e).ok()).collect(),
        })
        .into_response(),
        Err(SubmitError::Rejected(r)) => {
            let status = StatusCode::from_u16(r.code.http_status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            error(status, r.code.as_str(), r.message)
        }
        Err(SubmitError::Store(e)) => {
            tracing::error!("command {id} failed in storage: {e}");
            error(StatusCode::SERVICE_UNAVAILABLE, "storage", "The command was not recorded because storage failed; nothing changed. Try again.")
        }
    }
}

/// Where a command's entries are in the ledger, if it was recorded.
#[utoipa::path(get, path = "/api/commands/{id}", tag = "commands", security(("api_token" = [])),
    params(("id" = String, Path, description = "The command's id")),
    responses(
        (status = 200, description = "Recorded", body = CommandRecorded),
        (status = 401, description = "No token, or an unknown one", body = ApiError),
        (status = 404, description = "No such command was recorded", body = ApiError),
        (status = 503, description = "The database is not reachable", body = ApiError),
))]
async fn command_status(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(response) = authenticate(&state, &headers).await {
        return response;
    }
    match state.reader().command(&id).await {
        Ok(Some((first, last))) => Json(CommandRecorded { command: id, first_seq: first, last_seq: last }).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "unknown_command", format!("No command {id} was recorded.")),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, "database", e.to_string()),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn status_page(State(state): State<AppState>) -> Response {
    let db = state.db();
    let (head, counts, checkpoints) = match (db.reader().head().await, db.reader().counts().await, db.reader().checkpoint_count().await) {
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

#[cfg(test)]
mod tests {
    /// The document describes exactly the JSON API routes of the table (and health).
    #[test]
    fn the_document_names_every_api_route_and_no_other() {
        let document = super::openapi();
        let mut described: Vec<(String, String)> = Vec::new();
        for (path, item) in &document.paths.paths {
            for (method, operation) in [("GET", &item.get), ("POST", &item.post), ("PUT", &item.put), ("DELETE", &item.delete)] {
                if operation.is_some() {
                    described.push((method.to_owned(), path.clone()));
                }
            }
        }
        described.sort();
        let mut routed: Vec<(String, String)> = crate::routes::table()
            .iter()
            .filter(|r| (r.path.starts_with("/api/") && r.path != "/api/openapi.json") || r.path == "/healthz")
            .map(|r| (r.method.to_string(), r.path.to_owned()))
            .collect();
        routed.sort();
        assert_eq!(described, routed);
    }
}
