//! Signing in and out, the first start (the first site and its
//! administrator, when no one can sign in yet) and switching the site a
//! member of staff works at. Forms posted before a session exists carry a
//! CSRF token of their own, bound to a cookie ([`with_login_csrf`]).

use crate::auth::{self, ClientAddr};
use crate::error::AppError;
use crate::kit::layout::Layout;
use crate::kit::records::{new_command_id, render};
use crate::routes::{Access, Route};
use crate::{now_micros, AppState};
use askama::Template;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::{SiteId, StaffId};
use celltrace_domain::index::Index;
use celltrace_domain::model::{Membership, PasswordChange, Role, SiteKind, Staff};
use celltrace_domain::time::Timestamp;
use celltrace_store::SubmitError;
use serde::Deserialize;

/// The password every demo account shares (shown only on a demo server).
const DEMO_PASSWORD: &str = "celltrace-demo";

/// Sign-in, sign-out, first start and the site switch.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/login", Access::Public, login_form),
        Route::post("/login", Access::Public, login),
        Route::post("/logout", Access::SignedIn, logout),
        Route::get("/setup", Access::Public, setup_form),
        Route::post("/setup", Access::Public, setup),
        Route::post("/site", Access::SignedIn, switch_site),
    ]
}

/// One demo account, listed on the sign-in page of a demo server.
pub struct DemoAccount {
    pub role: String,
    pub username: String,
    pub name: String,
    pub site: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Option<Layout>,
    csrf: String,
    error: Option<String>,
    username: String,
    demo_accounts: Vec<DemoAccount>,
    demo_password: &'static str,
}

/// The first-start form, as typed.
#[derive(Default, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub site_name: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub fin: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Option<Layout>,
    csrf: String,
    error: Option<String>,
    form: SetupForm,
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
struct SiteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    site: String,
}

/// The accounts of a demo server (none on a real deployment), each site's
/// staff read a page at a time.
async fn demo_accounts(state: &AppState) -> Result<Vec<DemoAccount>, AppError> {
    if state.db().setting("demo").await?.as_deref() != Some("loaded") {
        return Ok(Vec::new());
    }
    let mut accounts = Vec::new();
    for site in state.reader().sites().await? {
        let mut after = None;
        loop {
            let page = state.reader().page::<Staff>(Index::SiteStaff, site.id.as_str(), after.as_ref(), 100).await?;
            // Each account once: under the site it starts at.
            for s in page.items.iter().filter(|s| s.memberships.first().is_some_and(|m| m.site == site.id)) {
                let Some(first) = s.memberships.first() else { continue };
                accounts.push(DemoAccount {
                    role: first.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", "),
                    username: s.username.clone(),
                    name: s.name.clone(),
                    site: if s.memberships.len() > 1 { format!("{} sites", s.memberships.len()) } else { first.site.to_string() },
                });
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    accounts.sort_by(|a, b| a.role.cmp(&b.role).then(a.username.cmp(&b.username)));
    Ok(accounts)
}

/// Renders a page that posts before a session exists (sign-in, first start,
/// the portal's): its CSRF token lives in a cookie of its own, reused while
/// it lasts. `status` replaces a successful page's status; an error the
/// page returned keeps its own.
pub fn with_login_csrf<R: IntoResponse>(secure: bool, headers: &HeaderMap, status: StatusCode, page: impl FnOnce(String) -> R) -> Response {
    let csrf = match auth::cookie(headers, auth::LOGIN_CSRF_COOKIE).filter(|c| c.len() == 64) {
        Some(c) => c,
        None => match auth::random_token() {
            Ok(t) => t,
            Err(e) => return AppError::internal(e).into_response(),
        },
    };
    let mut response = page(csrf.clone()).into_response();
    if !response.status().is_success() {
        return response;
    }
    *response.status_mut() = status;
    match HeaderValue::from_str(&auth::set_cookie(secure, auth::LOGIN_CSRF_COOKIE, &csrf, 3600)) {
        Ok(value) => {
            response.headers_mut().insert(header::SET_COOKIE, value);
            response
        }
        Err(e) => AppError::internal(e).into_response(),
    }
}

/// Whether a form posted before sign-in carries the token of its cookie.
fn login_csrf_ok(headers: &HeaderMap, sent: &str) -> bool {
    let expected = auth::cookie(headers, auth::LOGIN_CSRF_COOKIE).unwrap_or_default();
    !expected.is_empty() && auth::same_secret(sent, &expected)
}

/// A `Set-Cookie` header value.
fn cookie_value(secure: bool, name: &str, value: &str, max_age_seconds: i64) -> Result<HeaderValue, AppError> {
    HeaderValue::from_str(&auth::set_cookie(secure, name, value, max_age_seconds)).map_err(AppError::internal)
}

async fn login_page(state: &AppState, headers: &HeaderMap, error: Option<String>, username: String, status: StatusCode) -> Result<Response, AppError> {
    let demo_accounts = demo_accounts(state).await?;
    Ok(with_login_csrf(state.config.https(), headers, status, |csrf| render(&LoginPage { layout: None, csrf, error, username, demo_accounts, demo_password: DEMO_PASSWORD })))
}

async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if !state.db().has_credentials().await? {
        return Ok(Redirect::to("/setup").into_response());
    }
    login_page(&state, &headers, None, String::new(), StatusCode::OK).await
}

async fn login(State(state): State<AppState>, client: ClientAddr, headers: HeaderMap, Form(form): Form<LoginForm>) -> Result<Response, AppError> {
    if !login_csrf_ok(&headers, &form.csrf) {
        return Err(AppError::forbidden("This sign-in form has expired or did not come from celltrace. Reload the page and try again."));
    }
    let db = state.db();
    let now = now_micros();
    let staff_id = db.staff_by_username(&form.username).await?;
    let stored = match &staff_id {
        Some(id) => db.password_hash(id).await?,
        None => None,
    };
    // Unknown usernames are checked against a dummy hash: the answer takes as long.
    let account = auth::gate::account_key("staff", &form.username);
    let verdict = auth::gate::check(db, &account, client.0, now, auth::passwords::matches(form.password.clone(), stored)).await?;
    let staff: Option<Staff> = match (&staff_id, verdict) {
        (Some(id), auth::gate::Verdict::Accepted) => state.reader().get::<Staff>(id.as_str()).await?.filter(|s| s.active),
        (_, auth::gate::Verdict::Throttled { retry_after_seconds }) => {
            let message = format!("Too many sign-in attempts for this username from this computer. Wait {retry_after_seconds} seconds and try again, or ask an administrator.");
            let mut page = login_page(&state, &headers, Some(message), form.username, StatusCode::TOO_MANY_REQUESTS).await?;
            page.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
            return Ok(page);
        }
        _ => None,
    };
    let Some(staff) = staff else {
        return login_page(&state, &headers, Some("The username or password is not right.".into()), form.username, StatusCode::UNAUTHORIZED).await;
    };
    let token = auth::random_token().map_err(AppError::internal)?;
    let csrf = auth::random_token().map_err(AppError::internal)?;
    let site = staff.memberships.first().map(|m| m.site.clone()).ok_or_else(|| AppError::forbidden("Your account belongs to no site. Ask an administrator."))?;
    let session = celltrace_store::accounts::Session { staff: staff.id.clone(), site, csrf_token: csrf, expires_at: now + auth::SESSION_MICROS };
    db.create_session(&token, &session, now).await?;
    let secure = state.config.https();
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie_value(secure, auth::SESSION_COOKIE, &token, auth::SESSION_MICROS / 1_000_000)?);
    response.headers_mut().append(header::SET_COOKIE, cookie_value(secure, auth::LOGIN_CSRF_COOKIE, "", 0)?);
    Ok(response)
}

async fn logout(State(state): State<AppState>, client: ClientAddr, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Result<Response, AppError> {
    // Not signed in: the sign-in redirect, already a finished answer.
    let viewer = match auth::viewer(&state, &headers, client).await {
        Ok(v) => v,
        Err(answer) => return Ok(answer),
    };
    viewer.require_csrf(&form.csrf)?;
    state.db().end_session(&viewer.token).await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie_value(state.config.https(), auth::SESSION_COOKIE, "", 0)?);
    Ok(response)
}

fn setup_page(secure: bool, headers: &HeaderMap, error: Option<String>, form: SetupForm, status: StatusCode) -> Response {
    with_login_csrf(secure, headers, status, |csrf| render(&SetupPage { layout: None, csrf, error, form: SetupForm { password: String::new(), ..form } }))
}

async fn setup_form(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if state.db().has_credentials().await? {
        return Ok(Redirect::to("/login").into_response());
    }
    Ok(setup_page(state.config.https(), &headers, None, SetupForm::default(), StatusCode::OK))
}

/// Lower-case letters and digits joined by single hyphens, at most 40 characters.
fn slug(text: &str) -> String {
    let s: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    s.chars().take(40).collect()
}

/// The first start: the site, its administrator and their password, as
/// ledger events submitted by the system. Refused once anyone can sign in.
async fn setup(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<SetupForm>) -> Result<Response, AppError> {
    if !login_csrf_ok(&headers, &form.csrf) {
        return Err(AppError::forbidden("This form has expired or did not come from celltrace. Reload the page and try again."));
    }
    let secure = state.config.https();
    if state.db().has_credentials().await? {
        return Ok(Redirect::to("/login").into_response());
    }
    if let Some(problem) = auth::password_problem(&form.password, &[&form.username, &form.name]) {
        return Ok(setup_page(secure, &headers, Some(format!("Password: {}", problem.message())), form, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let site_slug = slug(&form.site_name);
    let (Ok(site), Ok(staff)) = (SiteId::parse(if site_slug.is_empty() { "site" } else { &site_slug }), StaffId::parse(&slug(&form.username).replace('-', "."))) else {
        return Ok(setup_page(secure, &headers, Some("Use letters and digits in the site name and username.".into()), form, StatusCode::UNPROCESSABLE_ENTITY));
    };
    let system = Actor::System("setup".into());
    let now = Timestamp(now_micros());
    let commands = [
        Command::RegisterSite {
            site: site.clone(),
            name: form.site_name.clone(),
            kind: SiteKind::Clinic,
            country: form.country.trim().to_uppercase(),
            accreditations: Vec::new(),
            fin: form.fin.trim().to_uppercase(),
        },
        Command::RegisterStaff {
            staff: staff.clone(),
            name: form.name.clone(),
            username: form.username.trim().to_owned(),
            memberships: vec![Membership { site: site.clone(), roles: [Role::Administrator].into_iter().collect() }],
        },
    ];
    let hash = auth::passwords::hash(form.password.clone()).await?;
    // The first password is a ledger event too (its hash is stored beside, in the same transaction).
    let password = (Command::SetPassword { staff: staff.clone(), change: PasswordChange::Initial }, celltrace_store::Secret::Password { staff: staff.clone(), hash, end_sessions: false });
    let steps = commands.into_iter().map(|c| (c, None)).chain(std::iter::once((password.0, Some(password.1))));
    for (command, secret) in steps {
        let submission = Submission { id: new_command_id()?, actor: system.clone(), site: site.clone(), at: now, command };
        let outcome = match secret {
            Some(secret) => state.engine.submit_with_secret(submission, secret).await,
            None => state.engine.submit(submission).await,
        };
        match outcome {
            Ok(_) => {}
            // The rules' refusal goes back to the form, with what was typed.
            Err(SubmitError::Rejected(r)) => return Ok(setup_page(secure, &headers, Some(r.message), form, StatusCode::UNPROCESSABLE_ENTITY)),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Redirect::to("/login").into_response())
}

async fn switch_site(State(state): State<AppState>, client: ClientAddr, headers: HeaderMap, Form(form): Form<SiteForm>) -> Result<Response, AppError> {
    // Not signed in: the sign-in redirect, already a finished answer.
    let viewer = match auth::viewer(&state, &headers, client).await {
        Ok(v) => v,
        Err(answer) => return Ok(answer),
    };
    viewer.require_csrf(&form.csrf)?;
    let site = viewer.sites.iter().find(|s| s.id.as_str() == form.site).ok_or_else(|| AppError::forbidden("You do not belong to that site."))?;
    state.db().set_session_site(&viewer.token, &site.id).await?;
    Ok(Redirect::to("/").into_response())
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_keep_letters_and_digits() {
        assert_eq!(slug("Harbour Regenerative Clinic, Doha"), "harbour-regenerative-clinic-doha");
        assert_eq!(slug("  --  "), "");
    }
}
