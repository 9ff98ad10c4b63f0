//! Passwords: an administrator resets a member's password (confirming with
//! their own; every session of the member ends), and every member of staff
//! changes their own after re-entering the current one. The new password
//! must meet the policy; it is hashed with argon2id and stored beside the
//! `SetPassword` event, together or not at all.

use super::{confirm_field, done, member_here, member_shown, new_password, reauthenticate, staff_id, who};
use crate::auth::{self, Can, ClientAddr, ManageAccounts, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::kit::layout::MessagePage;
use crate::routes::{Access, Route};
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::model::{PasswordChange, Staff};
use celltrace_domain::RejectionCode;
use celltrace_store::Secret;

/// The routes of the password forms.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/staff/{id}/password", Access::Staff(Permission::ManageAccounts), reset_form),
        Route::post("/admin/staff/{id}/password", Access::Staff(Permission::ManageAccounts), reset_submit),
        Route::get("/account/password", Access::SignedIn, own_form),
        Route::post("/account/password", Access::SignedIn, own_submit),
    ]
}

fn new_password_fields() -> Vec<Field> {
    vec![
        field("password", "New password", "new-password", true).help("At least 12 characters, not easy to guess: a few unrelated words, or a password manager's."),
        field("repeat", "Repeat the new password", "new-password", true),
    ]
}

// ---------- an administrator's reset ----------

fn reset_spec(id: &str, member: Option<&Staff>) -> Spec {
    let mut fields = vec![confirm_field()];
    fields.extend(new_password_fields());
    Spec::new(format!("Reset the password of {}", who(id, member)), format!("/admin/staff/{id}/password"), "Reset the password")
        .intro(vec!["Give the new password to the member in person; every session of theirs ends now, and they should change it on their account page.".into()])
        .fields(fields)
        .renames(&[("staff", "")])
}

async fn reset_form(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path(id): Path<String>) -> Result<Response, AppError> {
    let member = member_shown(&state, &viewer, &id).await?;
    render_form(&viewer, &reset_spec(&id, Some(&member)), None, None)
}

async fn reset_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let member = member_here(&state, &viewer, &id).await?;
    let spec = reset_spec(&id, member.as_ref());
    let outcome = reset(&state, &viewer, &spec, &id, member.as_ref(), &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn reset(state: &AppState, viewer: &Viewer, spec: &Spec, id: &str, member: Option<&Staff>, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    reauthenticate(state, viewer, values, "admin_password").await?;
    let own_words: Vec<&str> = member.map(|m| vec![m.username.as_str(), m.name.as_str()]).unwrap_or_default();
    let password = new_password(values, &own_words)?;
    let staff = staff_id(id)?;
    let hash = auth::passwords::hash(password).await?;
    let secret = Secret::Password { staff: staff.clone(), hash, end_sessions: true };
    submit_secret(state, viewer, Command::SetPassword { staff: staff.clone(), change: PasswordChange::AdministratorReset }, secret).await?;
    Ok(done(&staff, "password"))
}

// ---------- one's own password ----------

fn own_spec(viewer: &Viewer) -> Spec {
    let mut fields = vec![field("current_password", "Current password", "password", true)];
    fields.extend(new_password_fields());
    Spec::new(format!("Change your password, {}", viewer.staff.name), "/account/password", "Change my password")
        .intro(vec!["Every session of your account ends when the password changes, this one too: you then sign in with the new password.".into()])
        .fields(fields)
        .renames(&[("staff", "")])
}

async fn own_form(State(state): State<AppState>, client: ClientAddr, headers: HeaderMap) -> Result<Response, AppError> {
    let viewer = match auth::viewer(&state, &headers, client).await {
        Ok(viewer) => viewer,
        Err(to_sign_in) => return Ok(to_sign_in),
    };
    render_form(&viewer, &own_spec(&viewer), None, None)
}

async fn own_submit(State(state): State<AppState>, client: ClientAddr, headers: HeaderMap, Form(values): Form<Values>) -> Result<Response, AppError> {
    let viewer = match auth::viewer(&state, &headers, client).await {
        Ok(viewer) => viewer,
        Err(to_sign_in) => return Ok(to_sign_in),
    };
    csrf_ok(&viewer, &values)?;
    let spec = own_spec(&viewer);
    match change_own(&state, &viewer, &spec, &values).await {
        Ok(()) => signed_out(&state),
        Err(Failure::Refused(refusal)) => render_form(&viewer, &spec, Some(&values), Some(&refusal)),
        Err(Failure::Error(error)) => Err(error),
    }
}

async fn change_own(state: &AppState, viewer: &Viewer, spec: &Spec, values: &Values) -> Result<(), Failure> {
    spec.check_required(values)?;
    // The current password, through the same throttled gate as signing in.
    let current = value(values, "current_password");
    let account = auth::gate::account_key("staff", &viewer.staff.username);
    let stored = state.db().password_hash(&viewer.staff.id).await?;
    match auth::gate::check(state.db(), &account, viewer.client.0, crate::now_micros(), auth::passwords::matches(current, stored)).await? {
        auth::gate::Verdict::Accepted => {}
        auth::gate::Verdict::Refused => return Err(FormRefusal::coded("current_password", RejectionCode::SignatureNotProven, "Your current password is not right; nothing was changed.").into()),
        auth::gate::Verdict::Throttled { retry_after_seconds } => {
            return Err(AppError::too_many(retry_after_seconds, format!("Too many attempts; nothing was changed. Try again in {retry_after_seconds} seconds.")).into())
        }
    }
    let password = new_password(values, &[&viewer.staff.username, &viewer.staff.name])?;
    let hash = auth::passwords::hash(password).await?;
    let secret = Secret::Password { staff: viewer.staff.id.clone(), hash, end_sessions: true };
    submit_secret(state, viewer, Command::SetPassword { staff: viewer.staff.id.clone(), change: PasswordChange::SelfService }, secret).await?;
    Ok(())
}

/// The password is changed and every session ended: the cookie goes too.
fn signed_out(state: &AppState) -> Result<Response, AppError> {
    let page = MessagePage {
        layout: None,
        title: "Your password is changed".into(),
        message: "Every session of your account has ended, this one too. Sign in again with your new password: /login".into(),
    };
    let mut response = Html(page.render()?).into_response();
    let cookie = auth::set_cookie(state.config.https(), auth::SESSION_COOKIE, "", 0);
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(AppError::internal)?);
    Ok(response)
}
