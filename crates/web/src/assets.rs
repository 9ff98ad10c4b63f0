//! The static files pages use: style sheets and one small script (no page has inline styles or
//! scripts, so the Content-Security-Policy can forbid both).

use crate::routes::{Access, Route};
use axum::http::header;
use axum::response::IntoResponse;

/// The staff application's style sheet.
pub const STAFF_CSS: &str = include_str!("../static/staff.css");
/// The one script: auto-submitting selects and print buttons.
pub const SCRIPT: &str = include_str!("../static/celltrace.js");
/// The patient portal's style sheet.
pub const PORTAL_CSS: &str = include_str!("../static/portal.css");

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body)
}

/// The routes of the static files.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/static/staff.css", Access::Public, || async { asset("text/css; charset=utf-8", STAFF_CSS) }),
        Route::get("/static/portal.css", Access::Public, || async { asset("text/css; charset=utf-8", PORTAL_CSS) }),
        Route::get("/static/celltrace.js", Access::Public, || async { asset("text/javascript; charset=utf-8", SCRIPT) }),
    ]
}
