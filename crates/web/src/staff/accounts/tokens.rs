//! A member's API tokens: an administrator issues one (confirming with their
//! own password; the token is shown once, only its SHA-256 is recorded) or
//! revokes one. Both are ledger events.

use super::{confirm_field, done, member_here, member_shown, reauthenticate, staff_id, who};
use crate::auth::{Can, ManageAccounts, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::kit::layout::{when, Layout};
use crate::routes::{Access, Route};
use crate::{now_micros, AppState};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{Html, IntoResponse, Response};
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::ids::{ApiTokenId, StaffId};
use celltrace_domain::model::{ApiToken, Staff};
use celltrace_domain::time::Timestamp;

/// The routes of the token forms.
pub fn routes() -> Vec<Route> {
    let admin = Access::Staff(Permission::ManageAccounts);
    vec![
        Route::get("/admin/staff/{id}/tokens/new", admin, issue_form),
        Route::post("/admin/staff/{id}/tokens/new", admin, issue_submit),
        Route::get("/admin/staff/{id}/tokens/{token}/revoke", admin, revoke_form),
        Route::post("/admin/staff/{id}/tokens/{token}/revoke", admin, revoke_submit),
    ]
}

/// A new API token (`ct_` and 256 random bits in hex) and its public id
/// (`tok-` and the start of its SHA-256), as the web and the command line
/// make them.
pub fn new_api_token() -> Result<(ApiTokenId, String), String> {
    let token = format!("ct_{}", crate::auth::random_token()?);
    let id = ApiTokenId::parse(&format!("tok-{}", &celltrace_store::read::token_hash(&token)[..16])).map_err(|e| e.to_string())?;
    Ok((id, token))
}

// ---------- issuing ----------

fn issue_spec(id: &str, member: Option<&Staff>) -> Spec {
    Spec::new(format!("Issue an API token to {}", who(id, member)), format!("/admin/staff/{id}/tokens/new"), "Issue the token")
        .intro(vec!["A program using the token acts as this member, with their roles: the rules decide each of its commands. The token is shown once.".into()])
        .fields(vec![
            field("label", "What the token is for", "text", true).help("e.g. the laboratory information system's nightly import"),
            field("days", "Days it works", "number", false).help("Leave empty for a token that works until it is revoked."),
            confirm_field(),
        ])
        .renames(&[("expires_at", "days"), ("staff", ""), ("token", ""), ("token_hash", "")])
}

async fn issue_form(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path(id): Path<String>) -> Result<Response, AppError> {
    let member = member_shown(&state, &viewer, &id).await?;
    render_form(&viewer, &issue_spec(&id, Some(&member)), None, None)
}

#[derive(Template)]
#[template(path = "token_issued.html")]
struct IssuedPage {
    layout: Option<Layout>,
    member: String,
    member_id: String,
    token_id: String,
    label: String,
    expires: String,
    token: String,
}

async fn issue_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let member = member_here(&state, &viewer, &id).await?;
    let spec = issue_spec(&id, member.as_ref());
    match issue(&state, &viewer, &spec, &id, &values).await {
        Ok(issued) => {
            let html = IssuedPage {
                layout: Some(Layout::new(&viewer, "accounts")),
                member: who(&id, member.as_ref()),
                member_id: id.clone(),
                token_id: issued.id.to_string(),
                label: issued.label,
                expires: issued.expires_at.map(|e| format!("{} UTC", when(e))).unwrap_or_else(|| "when it is revoked".into()),
                token: issued.token,
            }
            .render()?;
            Ok(Html(html).into_response())
        }
        Err(Failure::Refused(refusal)) => render_form(&viewer, &spec, Some(&values), Some(&refusal)),
        Err(Failure::Error(error)) => Err(error),
    }
}

/// A token just issued, to show once.
struct Issued {
    id: ApiTokenId,
    label: String,
    expires_at: Option<Timestamp>,
    token: String,
}

async fn issue(state: &AppState, viewer: &Viewer, spec: &Spec, id: &str, values: &Values) -> Result<Issued, Failure> {
    spec.check_required(values)?;
    let days = match value(values, "days").as_str() {
        "" => None,
        text => Some(text.parse::<u16>().ok().filter(|d| *d > 0).ok_or_else(|| FormRefusal::invalid("days", "Days it works: enter a whole number from 1, or leave it empty."))?),
    };
    reauthenticate(state, viewer, values, "admin_password").await?;
    let staff: StaffId = staff_id(id)?;
    let (token_id, token) = new_api_token().map_err(AppError::internal)?;
    let expires_at = days.map(|d| Timestamp(now_micros()).plus_days(i64::from(d)));
    let label = value(values, "label");
    let command = Command::IssueApiToken { token: token_id.clone(), staff, label: label.clone(), token_hash: celltrace_store::read::token_hash(&token), expires_at };
    submit(state, viewer, command).await?;
    Ok(Issued { id: token_id, label, expires_at, token })
}

// ---------- revoking ----------

fn revoke_spec(id: &str, token: &str, record: Option<&ApiToken>) -> Spec {
    let what = record.map(|t| format!("{} ({})", t.id, t.label)).unwrap_or_else(|| token.to_owned());
    Spec::new(format!("Revoke the API token {what}"), format!("/admin/staff/{id}/tokens/{token}/revoke"), "Revoke the token")
        .intro(vec!["Programs using the token are refused from now on. The token's history stays in the ledger.".into()])
        .fields(vec![field("reason", "Reason", "textarea", true)])
        .renames(&[("token", "")])
}

/// The token `token` of the member `id`, if the member works at the viewer's site.
async fn token_of(state: &AppState, viewer: &Viewer, id: &str, token: &str) -> Result<Option<ApiToken>, AppError> {
    let Some(member) = member_here(state, viewer, id).await? else { return Ok(None) };
    Ok(state.reader().get::<ApiToken>(token).await?.filter(|t| t.staff == member.id))
}

async fn revoke_form(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path((id, token)): Path<(String, String)>) -> Result<Response, AppError> {
    let record = token_of(&state, &viewer, &id, &token).await?.ok_or_else(|| AppError::not_found("This API token"))?;
    render_form(&viewer, &revoke_spec(&id, &token, Some(&record)), None, None)
}

async fn revoke_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path((id, token)): Path<(String, String)>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let record = token_of(&state, &viewer, &id, &token).await?;
    let spec = revoke_spec(&id, &token, record.as_ref());
    let outcome = revoke(&state, &viewer, &spec, &id, &token, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn revoke(state: &AppState, viewer: &Viewer, spec: &Spec, id: &str, token: &str, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let token = ApiTokenId::parse(token).map_err(|_| AppError::not_found("This API token"))?;
    submit(state, viewer, Command::RevokeApiToken { token, reason: value(values, "reason") }).await?;
    Ok(done(&staff_id(id)?, "revoked"))
}
