//! Accounts, sessions and access for the web application.
//!
//! Passwords are hashed with argon2id off the executor ([`passwords`]); a
//! session is a random token in an HttpOnly, SameSite=Strict cookie (Secure
//! when the public URL is https) whose hash is stored; every form carries
//! the session's CSRF token; every secret is checked through [`gate`], which
//! throttles per account, address and pair across servers. Pages declare
//! what they need with the capability extractor [`Can`]: the check runs
//! before the handler, always.

pub mod gate;
pub mod passwords;

pub use passwords::{hash_password, password_problem, verify_password, PasswordProblem};

use crate::{now_micros, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use celltrace_domain::access::{staff_allows, Permission};
use celltrace_domain::ids::StaffId;
use celltrace_domain::model::{Site, Staff};
use celltrace_store::accounts::Session;
use std::marker::PhantomData;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "ct_session";
/// Name of the cookie that protects the sign-in form before a session exists.
pub const LOGIN_CSRF_COOKIE: &str = "ct_login_csrf";
/// How long a session lasts without signing in again (12 hours).
pub const SESSION_MICROS: i64 = 12 * 3_600_000_000;
/// A random token (256 bits, hex).
pub fn random_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no randomness available: {e}"))?;
    Ok(hex::encode(bytes))
}

/// A cookie value by name.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value with the attributes every celltrace cookie gets;
/// `secure` when the deployment's public URL is https.
pub fn set_cookie(secure: bool, name: &str, value: &str, max_age_seconds: i64) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The token of an `Authorization: Bearer TOKEN` header, if one was sent.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Compares two secrets without revealing where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The signed-in person and the site they are working at.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Their account.
    pub staff: Staff,
    /// The site selected.
    pub site: Site,
    /// Every site they belong to.
    pub sites: Vec<Site>,
    /// The session.
    pub session: Session,
    /// The raw session token (to switch site or sign out).
    pub token: String,
    /// The address the request came from (for throttling signatures).
    pub client: ClientAddr,
}

impl Viewer {
    /// Whether they may do `permission` at their current site.
    pub fn can(&self, permission: Permission) -> bool {
        staff_allows(&self.staff, &self.site.id, permission)
    }

    /// Checks the CSRF token a form sent, for handlers that return [`AppError`](crate::error::AppError).
    pub fn require_csrf(&self, sent: &str) -> Result<(), crate::error::AppError> {
        if same_secret(sent, &self.session.csrf_token) {
            Ok(())
        } else {
            Err(crate::error::AppError::forbidden("This form has expired or did not come from celltrace. Reload the page and try again."))
        }
    }

    /// Checks the CSRF token a form sent.
    pub fn check_csrf(&self, sent: &str) -> Result<(), Response> {
        if same_secret(sent, &self.session.csrf_token) {
            Ok(())
        } else {
            Err(refusal(StatusCode::FORBIDDEN, "This form has expired or did not come from celltrace. Reload the page and try again."))
        }
    }
}

/// A plain refusal page.
pub fn refusal(status: StatusCode, message: &str) -> Response {
    let body = crate::kit::layout::message_page(status.canonical_reason().unwrap_or("Refused"), message);
    (status, body).into_response()
}

/// Loads the viewer of a request, or the response to send instead (sign in).
pub async fn viewer(state: &AppState, headers: &HeaderMap, client: ClientAddr) -> Result<Viewer, Response> {
    let to_login = || Redirect::to("/login").into_response();
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Err(to_login()) };
    let db = state.db();
    let session = match db.session(&token, now_micros()).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(to_login()),
        Err(e) => return Err(refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())),
    };
    let staff: Staff = match db.reader().get::<Staff>(session.staff.as_str()).await {
        Ok(Some(s)) if s.active => s,
        Ok(_) => return Err(to_login()),
        Err(e) => return Err(refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())),
    };
    let ids: Vec<String> = staff.memberships.iter().map(|m| m.site.to_string()).collect();
    let sites = match db.reader().get_many::<Site>(&ids).await {
        Ok(sites) => sites,
        Err(e) => return Err(refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())),
    };
    let Some(site) = sites.iter().find(|s| s.id == session.site).or(sites.first()).cloned() else {
        return Err(refusal(StatusCode::FORBIDDEN, "Your account belongs to no site. Ask an administrator."));
    };
    Ok(Viewer { staff, site, sites, session, token, client })
}

/// What a page needs. Each marker names one [`Permission`].
pub trait Requirement: Send + Sync + 'static {
    /// The permission.
    const PERMISSION: Permission;
}

macro_rules! requirement {
    ($($name:ident),*) => {$(
        /// Capability marker for the permission of the same name.
        #[derive(Debug)]
        pub struct $name;
        impl Requirement for $name {
            const PERMISSION: Permission = Permission::$name;
        }
    )*};
}
requirement!(ViewDashboard, ViewPatients, ViewUnits, ViewAudit, Administer, ManageAccounts, RecordClinical, RecordLab, Release);

/// Proof that the viewer may do `R` at their site. A handler that takes a
/// `Can<R>` cannot run for anyone else: signed-out visitors are sent to the
/// sign-in page and others get 403.
#[derive(Debug)]
pub struct Can<R: Requirement> {
    /// The viewer.
    pub viewer: Viewer,
    _requirement: PhantomData<R>,
}

impl<R: Requirement> FromRequestParts<AppState> for Can<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let client = ClientAddr::from_request_parts(parts, state).await.unwrap_or(ClientAddr(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)));
        let viewer = viewer(state, &parts.headers, client).await?;
        if viewer.can(R::PERMISSION) {
            Ok(Can { viewer, _requirement: PhantomData })
        } else {
            Err(refusal(
                StatusCode::FORBIDDEN,
                &format!(
                    "Your roles at {} do not let you {}. Switch site if you work elsewhere, or ask an administrator.",
                    viewer.site.name,
                    R::PERMISSION.label()
                ),
            ))
        }
    }
}

/// The address a request came from (set by the server for each connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientAddr(peer.unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))))
    }
}

/// Checks a signer's password for an e-signature (or an administrator's
/// re-authentication), throttled like a sign-in (the same counters: a
/// signature form is a place to guess passwords too). `Ok(None)` when the
/// username or password is wrong; unknown and known usernames take the same
/// time. Too many attempts are an error (429) saying when to try again.
/// Whether the signer may sign (active, with the role) is the rules' question.
pub async fn check_signer(state: &AppState, client: ClientAddr, username: &str, password: &str) -> Result<Option<StaffId>, crate::error::AppError> {
    let db = state.db();
    let staff = db.staff_by_username(username).await?;
    let stored = match &staff {
        Some(id) => db.password_hash(id).await?,
        None => None,
    };
    let account = gate::account_key("staff", username);
    match gate::check(db, &account, client.0, now_micros(), passwords::matches(password.to_owned(), stored)).await? {
        gate::Verdict::Accepted => Ok(staff),
        gate::Verdict::Refused => Ok(None),
        gate::Verdict::Throttled { retry_after_seconds } => Err(crate::error::AppError::too_many(
            retry_after_seconds,
            format!("Too many attempts for this signer; nothing was signed. Try again in {retry_after_seconds} seconds."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_and_written_safely() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; ct_session=abc; b=2".parse().expect("header"));
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        let set = set_cookie(false, SESSION_COOKIE, "abc", 60);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && !set.contains("Secure"));
        assert!(set_cookie(true, SESSION_COOKIE, "abc", 60).ends_with("; Secure"));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("abc", "ab"));
    }
}
