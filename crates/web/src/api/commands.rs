//! `POST /api/commands` (submit one command as the token's owner) and
//! `GET /api/commands/{id}` (where a recorded command is in the ledger).

use super::token::TokenOwner;
use super::ApiError;
use crate::error::AppError;
use crate::kit::records::new_command_id;
use crate::{now_micros, AppState};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use celltrace_domain::ids::{CommandId, SiteId};
use celltrace_domain::time::Timestamp;
use celltrace_domain::{Actor, Command, Submission};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

/// A body that is not a command, as the error the client reads: not JSON
/// 400, not sent as JSON 415, JSON that is no command 422.
fn body_error(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => crate::error::framework_error(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        JsonRejection::JsonDataError(e) => AppError::invalid("command", e.body_text()),
        other => AppError::bad_request(other.body_text()),
    }
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
pub async fn submit(State(state): State<AppState>, TokenOwner(owner): TokenOwner, body: Result<Json<CommandRequest>, JsonRejection>) -> Result<Json<CommandAccepted>, AppError> {
    let Json(request) = body.map_err(body_error)?;
    let id = match request.id {
        Some(id) => id,
        None => new_command_id()?,
    };
    let submission = Submission { id: id.clone(), actor: Actor::Staff(owner.id), site: request.site, at: Timestamp(now_micros()), command: request.command };
    let receipt = state.engine.submit(submission).await?;
    let events = receipt.events.iter().map(serde_json::to_value).collect::<Result<Vec<_>, _>>().map_err(AppError::internal)?;
    Ok(Json(CommandAccepted { command: id.to_string(), first_seq: receipt.first_seq, last_seq: receipt.last_seq, events }))
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
pub async fn command_status(State(state): State<AppState>, _owner: TokenOwner, Path(id): Path<String>) -> Result<Json<CommandRecorded>, AppError> {
    match state.reader().command(&id).await? {
        Some((first, last)) => Ok(Json(CommandRecorded { command: id, first_seq: first, last_seq: last })),
        None => Err(AppError::not_found("This command").with_message(format!("No command {id} was recorded."))),
    }
}
