//! A member's standing at this site: deactivation (their sessions and API
//! tokens stop at once), reactivation, and their roles here.

use super::{confirm_field, done, member_here, member_shown, reauthenticate, role_value, roles_from, staff_id, who, ROLES};
use crate::auth::{Can, ManageAccounts, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::routes::{Access, Route};
use crate::AppState;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::model::{Membership, Staff};

/// The routes of deactivation, reactivation and roles.
pub fn routes() -> Vec<Route> {
    let admin = Access::Staff(Permission::ManageAccounts);
    vec![
        Route::get("/admin/staff/{id}/deactivate", admin, deactivate_form),
        Route::post("/admin/staff/{id}/deactivate", admin, deactivate_submit),
        Route::get("/admin/staff/{id}/reactivate", admin, reactivate_form),
        Route::post("/admin/staff/{id}/reactivate", admin, reactivate_submit),
        Route::get("/admin/staff/{id}/roles", admin, roles_form),
        Route::post("/admin/staff/{id}/roles", admin, roles_submit),
    ]
}

// ---------- deactivation ----------

fn deactivate_spec(id: &str, member: Option<&Staff>) -> Spec {
    Spec::new(format!("Deactivate the account of {}", who(id, member)), format!("/admin/staff/{id}/deactivate"), "Deactivate the account")
        .intro(vec!["The member can no longer sign in; their open sessions and their API tokens stop working at once. The account and its history stay.".into()])
        .fields(vec![field("reason", "Reason", "textarea", true)])
        .renames(&[("staff", "")])
}

async fn deactivate_form(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path(id): Path<String>) -> Result<Response, AppError> {
    let member = member_shown(&state, &viewer, &id).await?;
    render_form(&viewer, &deactivate_spec(&id, Some(&member)), None, None)
}

async fn deactivate_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let member = member_here(&state, &viewer, &id).await?;
    let spec = deactivate_spec(&id, member.as_ref());
    let outcome = deactivate(&state, &viewer, &spec, &id, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn deactivate(state: &AppState, viewer: &Viewer, spec: &Spec, id: &str, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let staff = staff_id(id)?;
    submit(state, viewer, Command::DeactivateStaff { staff: staff.clone(), reason: value(values, "reason") }).await?;
    // Sessions already stop at once (every request checks the account is
    // active); they are also ended, so a reactivation does not revive them.
    state.db().end_sessions_of(&staff).await?;
    Ok(done(&staff, "deactivated"))
}

// ---------- reactivation ----------

fn reactivate_spec(id: &str, member: Option<&Staff>) -> Spec {
    Spec::new(format!("Reactivate the account of {}", who(id, member)), format!("/admin/staff/{id}/reactivate"), "Reactivate the account")
        .intro(vec!["The member can sign in again with their password, and their API tokens that are neither revoked nor expired work again.".into()])
        .fields(vec![field("reason", "Reason", "textarea", true), confirm_field()])
        .renames(&[("staff", "")])
}

async fn reactivate_form(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path(id): Path<String>) -> Result<Response, AppError> {
    let member = member_shown(&state, &viewer, &id).await?;
    render_form(&viewer, &reactivate_spec(&id, Some(&member)), None, None)
}

async fn reactivate_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let member = member_here(&state, &viewer, &id).await?;
    let spec = reactivate_spec(&id, member.as_ref());
    let outcome = reactivate(&state, &viewer, &spec, &id, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn reactivate(state: &AppState, viewer: &Viewer, spec: &Spec, id: &str, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    reauthenticate(state, viewer, values, "admin_password").await?;
    let staff = staff_id(id)?;
    submit(state, viewer, Command::ReactivateStaff { staff: staff.clone(), reason: value(values, "reason") }).await?;
    Ok(done(&staff, "reactivated"))
}

// ---------- roles at this site ----------

fn roles_spec(viewer: &Viewer, id: &str, member: Option<&Staff>) -> Spec {
    // The form starts from the roles held here now.
    let held = member.into_iter().flat_map(|m| m.memberships.iter()).filter(|m| m.site == viewer.site.id).flat_map(|m| m.roles.iter().map(|r| role_value(*r))).collect();
    Spec::new(format!("Roles of {} at {}", who(id, member), viewer.site.name), format!("/admin/staff/{id}/roles"), "Change the roles")
        .intro(vec!["Only the roles at this site change; roles at other sites are for their administrators. With no role ticked the member no longer works at this site.".into()])
        .fields(vec![field("roles", "Roles at this site", "checkboxes", false).options(ROLES).checked(held), field("reason", "Reason", "textarea", true), confirm_field()])
        .renames(&[("memberships", "roles"), ("staff", "")])
}

async fn roles_form(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path(id): Path<String>) -> Result<Response, AppError> {
    let member = member_shown(&state, &viewer, &id).await?;
    render_form(&viewer, &roles_spec(&viewer, &id, Some(&member)), None, None)
}

async fn roles_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let member = member_here(&state, &viewer, &id).await?;
    let spec = roles_spec(&viewer, &id, member.as_ref());
    let outcome = change_roles(&state, &viewer, &spec, &id, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn change_roles(state: &AppState, viewer: &Viewer, spec: &Spec, id: &str, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let roles = roles_from(values)?;
    reauthenticate(state, viewer, values, "admin_password").await?;
    let staff = staff_id(id)?;
    // Every other site's membership as recorded; this site's replaced (or
    // left out when no role is ticked). A member of no site, or an account
    // of another site, is the rules' to refuse.
    let account = state.reader().get::<Staff>(id).await?;
    let mut memberships: Vec<Membership> = account.map(|a| a.memberships).unwrap_or_default().into_iter().filter(|m| m.site != viewer.site.id).collect();
    if !roles.is_empty() {
        memberships.push(Membership { site: viewer.site.id.clone(), roles });
    }
    submit(state, viewer, Command::ChangeStaffMemberships { staff: staff.clone(), memberships, reason: value(values, "reason") }).await?;
    Ok(done(&staff, "roles"))
}
