//! Account administration: an administrator lists the staff of their site and
//! adds members with their roles and a first password (hashed with argon2id;
//! the account is an event, the password hash is not).

use crate::routes::{Access, Route};
use celltrace_domain::access::Permission;
use crate::auth::{self, Can, ManageAccounts};
use crate::kit::forms::*;
use crate::view::Layout;
use crate::AppState;
use askama::Template;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use celltrace_domain::command::Command;
use celltrace_domain::ids::StaffId;
use celltrace_domain::model::{Membership, Role, Staff};
use std::collections::BTreeSet;

/// The routes of account administration.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/staff", Access::Staff(Permission::ManageAccounts), staff_list),
        Route::get("/admin/staff/new", Access::Staff(Permission::ManageAccounts), staff_form),
        Route::post("/admin/staff/new", Access::Staff(Permission::ManageAccounts), staff_submit),
    ]
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    layout: Option<Layout>,
    site_name: String,
    staff: Vec<(String, String, String, String)>,
}

async fn staff_list(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, axum::extract::Query(query): axum::extract::Query<crate::kit::csv::ListQuery>) -> Response {
    let rows: Vec<Staff> = match state.reader().page::<Staff>(celltrace_domain::index::Index::SiteStaff, viewer.site.id.as_str(), None, celltrace_store::read::MAX_PAGE).await {
        Ok(r) => r.items,
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    let mut staff: Vec<(String, String, String, String)> = rows
        .iter()
        .filter_map(|s| {
            let here = s.memberships.iter().find(|m| m.site == viewer.site.id)?;
            let roles: Vec<&str> = here.roles.iter().map(|r| r.label()).collect();
            Some((s.username.clone(), s.name.clone(), roles.join(", "), if s.active { "active".into() } else { "disabled".into() }))
        })
        .collect();
    staff.sort();
    if query.wants_csv() {
        let rows: Vec<Vec<String>> = staff.iter().map(|(u, n, r, s)| vec![u.clone(), n.clone(), r.clone(), s.clone()]).collect();
        return crate::kit::csv::download(&format!("staff-{}.csv", viewer.site.id), &["username", "name", "roles", "state"], &rows);
    }
    let page = StaffPage { layout: Some(Layout::new(&viewer, "accounts")), site_name: viewer.site.name.clone(), staff };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

const ROLES: &[(&str, &str)] = &[
    ("physician", "Physician"),
    ("nurse", "Nurse / collection staff"),
    ("lab_technologist", "Lab technologist"),
    ("quality_assurance", "Quality assurance"),
    ("logistics", "Logistics"),
    ("medical_director", "Medical director"),
    ("auditor", "Auditor / inspector"),
    ("administrator", "Administrator"),
];

fn staff_spec(viewer: &auth::Viewer) -> Spec {
    Spec {
        title: format!("Add a member of staff at {}", viewer.site.name),
        intro: vec!["The new member signs in with this password and should change it; it is stored only as an argon2id hash.".into()],
        action: "/admin/staff/new".into(),
        fields: vec![
            field("name", "Full name", "text", true),
            field("username", "Username", "text", true).help("Letters, digits, '.', '-' and '_'."),
            field("roles", "Roles at this site", "checkboxes", false).options(ROLES),
            field("password", "First password", "password", true).help("At least 12 characters."),
        ],
        signature: None,
        submit: "Add the member of staff",
    }
}

async fn staff_form(Can { viewer, .. }: Can<ManageAccounts>) -> Response {
    render_form(&viewer, staff_spec(&viewer), None, None)
}

async fn staff_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let again = |e: String| render_form(&viewer, staff_spec(&viewer), Some(&values), Some(e));
    if let Some(e) = missing_required(&staff_spec(&viewer).fields, &values) {
        return again(e);
    }
    if let Some(problem) = auth::password_problem(&value(&values, "password"), &[&value(&values, "username"), &value(&values, "name")]) {
        return again(format!("First password: {}", problem.message()));
    }
    let roles: Result<BTreeSet<Role>, _> = values_of(&values, "roles").into_iter().map(|r| serde_json::from_value(serde_json::Value::String(r))).collect();
    let Ok(roles) = roles else { return again("Choose roles from the list.".into()) };
    if roles.is_empty() {
        return again("Roles at this site: tick at least one role.".into());
    }
    let username = value(&values, "username");
    let Ok(staff) = StaffId::parse(&username.to_lowercase()) else {
        return again("Username: use letters, digits, '.', '-' and '_'.".into());
    };
    let hash = match auth::passwords::hash(value(&values, "password")).await {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    let command = Command::RegisterStaff { staff: staff.clone(), name: value(&values, "name"), username, memberships: vec![Membership { site: viewer.site.id.clone(), roles }] };
    match submit(&state, &viewer, command).await {
        Ok(()) => {}
        Err(Ok(message)) => return again(message),
        Err(Err(r)) => return r,
    }
    let secret = celltrace_store::Secret::Password { staff: staff.clone(), hash, end_sessions: false };
    match crate::kit::forms::submit_with_secret(&state, &viewer, Command::SetPassword { staff, change: celltrace_domain::model::PasswordChange::Initial }, secret).await {
        Ok(()) => Redirect::to("/admin/staff").into_response(),
        Err(Ok(message)) => auth::refusal(StatusCode::UNPROCESSABLE_ENTITY, &format!("The account was created but its password was refused: {message}")),
        Err(Err(r)) => r,
    }
}
