//! The page layout every signed-in staff page shares (the header with the
//! viewer, their site and what they may open), time formatting, list items,
//! and the plain message and error pages.

use crate::auth::Viewer;
use askama::Template;
use celltrace_domain::access::Permission;
use celltrace_domain::time::Timestamp;

/// The header every signed-in page shows.
pub struct Layout {
    pub current: &'static str,
    pub user_name: String,
    pub roles: String,
    pub site_id: String,
    pub site_name: String,
    pub sites: Vec<(String, String)>,
    pub csrf: String,
    pub can_patients: bool,
    pub can_units: bool,
    pub can_bedside: bool,
    pub can_audit: bool,
    pub can_accounts: bool,
}

impl Layout {
    pub fn new(viewer: &Viewer, current: &'static str) -> Layout {
        let roles: Vec<&str> = viewer
            .staff
            .memberships
            .iter()
            .filter(|m| m.site == viewer.site.id)
            .flat_map(|m| m.roles.iter().map(|r| r.label()))
            .collect();
        Layout {
            current,
            user_name: viewer.staff.name.clone(),
            roles: roles.join(", "),
            site_id: viewer.site.id.to_string(),
            site_name: viewer.site.name.clone(),
            sites: viewer.sites.iter().map(|s| (s.id.to_string(), s.name.clone())).collect(),
            csrf: viewer.session.csrf_token.clone(),
            can_patients: viewer.can(Permission::ViewPatients),
            can_units: viewer.can(Permission::ViewUnits),
            can_bedside: viewer.can(Permission::Administer),
            can_audit: viewer.can(Permission::ViewAudit),
            can_accounts: viewer.can(Permission::ManageAccounts),
        }
    }
}

/// A timestamp as `2026-05-08 01:17` (UTC).
pub fn when(at: Timestamp) -> String {
    let (_, _, _, hour, minute) = at.utc_parts();
    format!("{} {hour:02}:{minute:02}", at.date())
}

/// One line of a list: a link target, its text, and a detail.
pub struct Item {
    pub id: String,
    pub label: String,
    pub detail: String,
    pub status: String,
    pub site: String,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub layout: Option<Layout>,
    pub title: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Option<Layout>,
    title: &'a str,
    message: &'a str,
    field: Option<&'a str>,
    request_id: &'a str,
    server_fault: bool,
}

/// The staff page for an error: what happened, what to do, where to go,
/// and the request id to quote when the fault is celltrace's.
pub fn error_page(error: &crate::error::AppError, request_id: &str) -> String {
    let status = error.status();
    let page = ErrorPage {
        layout: None,
        title: status.canonical_reason().unwrap_or("Refused"),
        message: error.message(),
        field: error.field(),
        request_id,
        server_fault: status.is_server_error(),
    };
    page.render().unwrap_or_else(|_| format!("{}: {}", status, error.message()))
}

/// A bare page with a title and a message (refusals, errors).
pub fn message_page(title: &str, message: &str) -> axum::response::Html<String> {
    let page = MessagePage { layout: None, title: title.to_owned(), message: message.to_owned() };
    axum::response::Html(page.render().unwrap_or_else(|_| message.to_owned()))
}

