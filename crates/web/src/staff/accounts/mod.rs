//! Account administration (every grant of access is a ledger event): an
//! administrator lists the staff of their site, adds members with roles and
//! a first password, and on a member's page deactivates or reactivates the
//! account, changes their roles at this site, resets their password and
//! issues or revokes their API tokens. Every member of staff changes their
//! own password on `/account/password`.
//!
//! What grants access (reactivation, roles, a password, a token) is
//! confirmed by the administrator re-entering their own password, as for an
//! e-signature; what takes access away (deactivation, revocation) is not
//! held up by it. Whether the administrator may do it to this person at
//! this site is the rules' answer (an account of another site is refused
//! by name); the pages only show members of the viewer's site.

mod passwords;
mod standing;
mod tokens;

pub use tokens::new_api_token;

use crate::auth::{self, Can, ManageAccounts, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::kit::layout::{when, Layout};
use crate::kit::records::render;
use crate::routes::{Access, Route};
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::ids::StaffId;
use celltrace_domain::index::Index;
use celltrace_domain::model::{Membership, PasswordChange, Role, Staff};
use celltrace_domain::time::Timestamp;
use celltrace_domain::RejectionCode;
use celltrace_store::read::{Cursor, MAX_PAGE};
use std::collections::BTreeSet;

/// The routes of account administration and of changing one's own password.
pub fn routes() -> Vec<Route> {
    let admin = Access::Staff(Permission::ManageAccounts);
    let mut routes = vec![
        Route::get("/admin/staff", admin, staff_list),
        Route::get("/admin/staff/new", admin, new_form),
        Route::post("/admin/staff/new", admin, new_submit),
        Route::get("/admin/staff/{id}", admin, member_page),
    ];
    routes.extend(standing::routes());
    routes.extend(passwords::routes());
    routes.extend(tokens::routes());
    routes
}

/// Members of staff per page of the list.
const LIST_PAGE: u32 = 50;

/// The roles an administrator gives, as the form offers them.
pub(crate) const ROLES: &[(&str, &str)] = &[
    ("physician", "Physician"),
    ("nurse", "Nurse / collection staff"),
    ("lab_technologist", "Lab technologist"),
    ("quality_assurance", "Quality assurance"),
    ("logistics", "Logistics"),
    ("medical_director", "Medical director"),
    ("auditor", "Auditor / inspector"),
    ("administrator", "Administrator"),
];

/// A role as the form names it (the domain's snake_case name).
pub(crate) fn role_value(role: Role) -> String {
    role.label().replace(' ', "_")
}

/// A member's roles at `site`, in words.
fn roles_at(staff: &Staff, site: &celltrace_domain::ids::SiteId) -> String {
    let roles: Vec<&str> = staff.memberships.iter().filter(|m| &m.site == site).flat_map(|m| m.roles.iter().map(|r| r.label())).collect();
    roles.join(", ")
}

/// The roles ticked in the form's `roles` checkboxes.
pub(crate) fn roles_from(values: &Values) -> Result<BTreeSet<Role>, FormRefusal> {
    values_of(values, "roles")
        .into_iter()
        .map(|r| serde_json::from_value(serde_json::Value::String(r)))
        .collect::<Result<BTreeSet<Role>, _>>()
        .map_err(|_| FormRefusal::invalid("roles", "Choose roles from the list."))
}

/// The member `id` if they work at the viewer's site.
pub(crate) async fn member_here(state: &AppState, viewer: &Viewer, id: &str) -> Result<Option<Staff>, AppError> {
    // Deactivated members too: their page is where they are reactivated.
    Ok(state.reader().get::<Staff>(id).await?.filter(|s| s.memberships.iter().any(|m| m.site == viewer.site.id)))
}

/// As [`member_here`], for pages that show the member: not found otherwise.
pub(crate) async fn member_shown(state: &AppState, viewer: &Viewer, id: &str) -> Result<Staff, AppError> {
    member_here(state, viewer, id).await?.ok_or_else(|| AppError::not_found("This member of staff"))
}

/// How a member is named on a form: by name when they work here, else by id.
pub(crate) fn who(id: &str, member: Option<&Staff>) -> String {
    member.map(|s| format!("{} ({})", s.name, s.username)).unwrap_or_else(|| id.to_owned())
}

/// A member's id as the command names it (an unknown one is the rules' to refuse).
pub(crate) fn staff_id(id: &str) -> Result<StaffId, AppError> {
    StaffId::parse(id).map_err(|_| AppError::not_found("This member of staff"))
}

/// The administrator confirms with their own password (in `field`) that it
/// is them granting access.
pub(crate) async fn reauthenticate(state: &AppState, viewer: &Viewer, values: &Values, field: &str) -> Result<(), Failure> {
    let password = value(values, field);
    if password.is_empty() {
        return Err(FormRefusal::coded(field, RejectionCode::SignatureNotProven, "Re-enter your own password to confirm; nothing was changed.").into());
    }
    match auth::check_signer(state, viewer.client, &viewer.staff.username, &password).await? {
        Some(_) => Ok(()),
        None => Err(FormRefusal::coded(field, RejectionCode::SignatureNotProven, "Your own password is not right; nothing was changed.").into()),
    }
}

/// The field in which the administrator re-enters their own password.
pub(crate) fn confirm_field() -> Field {
    field("admin_password", "Your own password (to confirm it is you)", "password", true)
}

/// The password typed in `password` (untrimmed: spaces count), if it
/// meets the policy; refused with the field marked.
fn policy(values: &Values, own_words: &[&str]) -> Result<String, FormRefusal> {
    let password = values.iter().find(|(k, _)| k == "password").map(|(_, v)| v.clone()).unwrap_or_default();
    match auth::password_problem(&password, own_words) {
        Some(problem) => Err(FormRefusal::coded("password", RejectionCode::PasswordPolicy, format!("Password: {}", problem.message()))),
        None => Ok(password),
    }
}

/// A new password and its repetition, checked against the policy; refused
/// with the field marked.
pub(crate) fn new_password(values: &Values, own_words: &[&str]) -> Result<String, FormRefusal> {
    let password = policy(values, own_words)?;
    let repeat = values.iter().find(|(k, _)| k == "repeat").map(|(_, v)| v.as_str()).unwrap_or_default();
    if repeat != password {
        return Err(FormRefusal::invalid("repeat", "The two passwords differ; type the same new password twice."));
    }
    Ok(password)
}

// ---------- the list ----------

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    layout: Option<Layout>,
    site_name: String,
    staff: Vec<StaffRow>,
    next: Option<String>,
    first_page: bool,
}

struct StaffRow {
    id: String,
    username: String,
    name: String,
    roles: String,
    state: &'static str,
}

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

fn row(viewer: &Viewer, s: &Staff) -> StaffRow {
    StaffRow { id: s.id.to_string(), username: s.username.clone(), name: s.name.clone(), roles: roles_at(s, &viewer.site.id), state: if s.active { "active" } else { "deactivated" } }
}

async fn staff_list(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Query(query): Query<ListQuery>) -> Result<Response, AppError> {
    let site = viewer.site.id.as_str();
    if query.format.as_deref() == Some("csv") {
        // The whole list, read page by page.
        let mut rows = Vec::new();
        let mut after: Option<Cursor> = None;
        loop {
            let page = state.reader().page::<Staff>(Index::SiteStaff, site, after.as_ref(), MAX_PAGE).await?;
            rows.extend(page.items.iter().map(|s| row(&viewer, s)).map(|r| vec![r.username, r.name, r.roles, r.state.to_owned()]));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        return Ok(crate::kit::csv::download(&format!("staff-{}.csv", viewer.site.id), &["username", "name", "roles", "state"], &rows));
    }
    let after = match query.after.as_deref() {
        Some(text) => Some(Cursor::decode(text).ok_or_else(|| AppError::bad_request("This page link is damaged; start from the first page."))?),
        None => None,
    };
    let page = state.reader().page::<Staff>(Index::SiteStaff, site, after.as_ref(), LIST_PAGE).await?;
    render(&StaffPage {
        layout: Some(Layout::new(&viewer, "accounts")),
        site_name: viewer.site.name.clone(),
        staff: page.items.iter().map(|s| row(&viewer, s)).collect(),
        next: page.next.map(|c| format!("/admin/staff?after={}", c.encode())),
        first_page: after.is_none(),
    })
}

// ---------- a new member ----------

fn new_spec(viewer: &Viewer) -> Spec {
    Spec::new(format!("Add a member of staff at {}", viewer.site.name), "/admin/staff/new", "Add the member of staff")
        .intro(vec!["The new member signs in with this password and should change it; it is stored only as an argon2id hash.".into()])
        .fields(vec![
            field("name", "Full name", "text", true),
            field("username", "Username", "text", true).help("Letters, digits, '.', '-' and '_'."),
            field("roles", "Roles at this site", "checkboxes", false).options(ROLES),
            field("password", "First password", "new-password", true).help("At least 12 characters."),
        ])
        .renames(&[("memberships", "roles"), ("staff", "username")])
}

async fn new_form(Can { viewer, .. }: Can<ManageAccounts>) -> Result<Response, AppError> {
    render_form(&viewer, &new_spec(&viewer), None, None)
}

async fn new_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let spec = new_spec(&viewer);
    let outcome = add_member(&state, &viewer, &spec, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn add_member(state: &AppState, viewer: &Viewer, spec: &Spec, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let (username, name) = (value(values, "username"), value(values, "name"));
    let password = policy(values, &[&username, &name])?;
    let roles = roles_from(values)?;
    let staff = StaffId::parse(&username.to_lowercase()).map_err(|_| FormRefusal::coded("username", RejectionCode::Username, "Username: use letters, digits, '.', '-' and '_'."))?;
    let hash = auth::passwords::hash(password).await?;
    // The account, then its first password (the hash stored beside that event); a
    // refused password leaves an account without one, reset from its page.
    let register = Command::RegisterStaff { staff: staff.clone(), name, username, memberships: vec![Membership { site: viewer.site.id.clone(), roles }] };
    submit(state, viewer, register).await?;
    let secret = celltrace_store::Secret::Password { staff: staff.clone(), hash, end_sessions: false };
    submit_secret(state, viewer, Command::SetPassword { staff, change: PasswordChange::Initial }, secret).await?;
    Ok("/admin/staff".to_owned())
}

// ---------- a member's page ----------

#[derive(Template)]
#[template(path = "staff_member.html")]
struct MemberPage {
    layout: Option<Layout>,
    id: String,
    name: String,
    username: String,
    site_name: String,
    active: bool,
    deactivated: Option<String>,
    roles: String,
    elsewhere: String,
    password_set: String,
    tokens: Vec<TokenRow>,
    notice: Option<String>,
    can_audit: bool,
}

struct TokenRow {
    id: String,
    label: String,
    issued: String,
    expires: String,
    state: String,
    usable: bool,
}

#[derive(serde::Deserialize, Default)]
struct Done {
    #[serde(default)]
    done: Option<String>,
}

async fn member_page(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Path(id): Path<String>, Query(done): Query<Done>) -> Result<Response, AppError> {
    let member = member_shown(&state, &viewer, &id).await?;
    let now = Timestamp(crate::now_micros());
    let tokens = state
        .reader()
        .tokens_of(&member.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id.to_string(),
            label: t.label.clone(),
            issued: format!("{} UTC by {}", when(t.issued_at), t.issued_by),
            expires: t.expires_at.map(|e| format!("{} UTC", when(e))).unwrap_or_else(|| "until revoked".into()),
            state: match (&t.revoked, t.usable(now)) {
                (Some(r), _) => format!("revoked {} UTC by {}: {}", when(r.at), r.by, r.reason),
                (None, false) => "expired".into(),
                (None, true) => "works".into(),
            },
            usable: t.usable(now),
        })
        .collect();
    let elsewhere: Vec<String> = member.memberships.iter().filter(|m| m.site != viewer.site.id).map(|m| m.site.to_string()).collect();
    let notice = done.done.as_deref().map(|what| match what {
        "deactivated" => "The account is deactivated: its sessions and API tokens stopped working.".to_owned(),
        "reactivated" => "The account is active again: the member can sign in.".to_owned(),
        "roles" => "The roles at this site are changed.".to_owned(),
        "password" => "The password is reset and every session of the account has ended.".to_owned(),
        "revoked" => "The API token is revoked.".to_owned(),
        other => format!("Done: {other}."),
    });
    render(&MemberPage {
        layout: Some(Layout::new(&viewer, "accounts")),
        id: member.id.to_string(),
        name: member.name.clone(),
        username: member.username.clone(),
        site_name: viewer.site.name.clone(),
        active: member.active,
        deactivated: member.deactivated.as_ref().map(|d| format!("by {} on {} UTC: {}", d.by, when(d.at), d.reason)),
        roles: roles_at(&member, &viewer.site.id),
        elsewhere: elsewhere.join(", "),
        password_set: member.password_set_at.map(|at| format!("last set {} UTC", when(at))).unwrap_or_else(|| "never set through celltrace".into()),
        tokens,
        notice,
        can_audit: viewer.can(Permission::ViewAudit),
    })
}

/// The member's page, saying what was done.
pub(crate) fn done(id: &StaffId, what: &str) -> String {
    format!("/admin/staff/{id}?done={what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_is_offered_under_the_name_the_domain_reads() {
        for role in Role::ALL {
            let name = role_value(role);
            assert!(ROLES.iter().any(|(v, _)| *v == name), "{name} is offered");
            let values: Values = vec![("roles".into(), name.clone())];
            assert_eq!(roles_from(&values).expect("reads"), BTreeSet::from([role]), "{name}");
        }
    }
}
