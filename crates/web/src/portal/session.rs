//! Who is signed in to the portal: signing in with a patient number and
//! password, activating an account with the one-time code from the clinic
//! (which sets the password), signing out, the portal session cookie, and
//! [`Patient`], the extractor every patient page takes (the portal's
//! `auth::Can`): without a valid session the handler never runs and the
//! visitor is sent to /portal/login.
//!
//! Every secret is checked through `auth::gate::check` (throttled per pair,
//! address and account) and takes as long whether or not the patient number
//! exists: sign-in checks a dummy hash for unknown numbers, activation hashes
//! the new password either way. Wrong secrets, weak passwords and throttling
//! are expected refusals: the form comes back with the message in the
//! visitor's language.

use super::{add_cookie, lang_cookie, render, request_language, tr, Chrome, CsrfForm, LANG_COOKIE};
use crate::auth::{self, gate, ClientAddr};
use crate::error::AppError;
use crate::{now_micros, AppState};
use askama::Template;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use celltrace_domain::ids::PersonId;
use celltrace_domain::model::Person;
use celltrace_i18n::{Lang, Tr};
use celltrace_store::portal::PortalSession;
use serde::Deserialize;

/// The portal's session cookie (separate from staff sessions).
pub const PORTAL_COOKIE: &str = "ct_portal";
/// How long a portal session lasts (2 hours: patients use shared devices).
pub const PORTAL_SESSION_MICROS: i64 = 2 * 3_600_000_000;
/// How long the sign-in forms' CSRF cookie lasts.
const LOGIN_CSRF_SECONDS: i64 = 3600;

// ---------- the signed-in patient ----------

/// A signed-in patient and the language they read in.
pub struct Patient {
    /// Their record.
    pub person: Person,
    session: PortalSession,
    token: String,
    /// Their messages: the language they chose, else their record's.
    pub t: Tr,
}

impl Patient {
    /// The patient of a request's session cookie; `None` when there is no
    /// cookie or its session has ended.
    async fn of_request(state: &AppState, headers: &HeaderMap) -> Result<Option<Patient>, AppError> {
        let Some(token) = auth::cookie(headers, PORTAL_COOKIE) else { return Ok(None) };
        let db = state.db();
        let Some(session) = db.portal_session(&token, now_micros()).await? else { return Ok(None) };
        let person = state
            .reader()
            .get::<Person>(session.person.as_str())
            .await?
            .ok_or_else(|| AppError::internal(format!("a portal session of {}, who has no record", session.person)))?;
        let lang = match db.portal_language(&person.id).await? {
            Some(chosen) => Lang::parse(&chosen).ok_or_else(|| AppError::internal(format!("the portal language of {} is {chosen:?}", person.id)))?,
            None => super::lang_of(person.language),
        };
        Ok(Some(Patient { person, session, token, t: tr(lang)? }))
    }

    /// The header of a page of this patient's, whose language switch returns to `next`.
    pub(super) fn chrome(&self, next: &str) -> Chrome {
        Chrome { t: self.t, csrf: self.session.csrf_token.clone(), signed_in: true, next: next.to_owned() }
    }

    /// Checks the CSRF token a form of this session sent.
    pub(super) fn check_csrf(&self, sent: &str) -> Result<(), AppError> {
        if auth::same_secret(sent, &self.session.csrf_token) {
            Ok(())
        } else {
            Err(AppError::form_expired())
        }
    }
}

impl FromRequestParts<AppState> for Patient {
    type Rejection = AppError;

    /// The portal renders the sign-in error as a redirect to /portal/login.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Patient, AppError> {
        Patient::of_request(state, &parts.headers).await?.ok_or_else(AppError::sign_in)
    }
}

impl OptionalFromRequestParts<AppState> for Patient {
    type Rejection = AppError;

    /// For pages anyone may use that do more for a signed-in patient.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Patient>, AppError> {
        Patient::of_request(state, &parts.headers).await
    }
}

// ---------- the sign-in forms ----------

#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage {
    c: Chrome,
    error: Option<String>,
    patient_number: String,
    demo_patients: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "portal/activate.html")]
struct ActivatePage {
    c: Chrome,
    error: Option<String>,
    patient_number: String,
}

#[derive(Deserialize, Default)]
pub(super) struct LangQuery {
    #[serde(default)]
    lang: Option<String>,
}

/// The language of a sign-in page: `?lang=` (then kept in a cookie), else
/// the visitor's.
fn page_language(headers: &HeaderMap, query: &LangQuery) -> (Lang, bool) {
    match query.lang.as_deref().and_then(Lang::parse) {
        Some(lang) => (lang, true),
        None => (request_language(headers), false),
    }
}

/// The demo patients listed on the sign-in page while the demo dataset is loaded.
async fn demo_patients(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    if state.db().setting("demo").await?.as_deref() != Some("loaded") {
        return Ok(Vec::new());
    }
    let Some(list) = state.db().setting("demo_portal_patients").await? else { return Ok(Vec::new()) };
    list.split(',')
        .map(|entry| {
            let listed = entry.split_once(':').and_then(|(id, code)| Some((id.to_owned(), Lang::parse(code)?.native_name().to_owned())));
            listed.ok_or_else(|| AppError::internal(format!("the demo portal patient {entry:?} is not NUMBER:LANGUAGE")))
        })
        .collect()
}

/// A sign-in form's page, with the cookie its CSRF token is checked against
/// (the one the visitor has, or a new one).
fn with_login_csrf(state: &AppState, headers: &HeaderMap, status: StatusCode, page: impl FnOnce(String) -> Result<Response, AppError>) -> Result<Response, AppError> {
    let csrf = match auth::cookie(headers, auth::LOGIN_CSRF_COOKIE).filter(|c| c.len() == 64) {
        Some(c) => c,
        None => auth::random_token().map_err(AppError::internal)?,
    };
    let mut response = page(csrf.clone())?;
    *response.status_mut() = status;
    add_cookie(&mut response, &auth::set_cookie(state.config.https(), auth::LOGIN_CSRF_COOKIE, &csrf, LOGIN_CSRF_SECONDS))?;
    Ok(response)
}

/// The language of a form posted before a session exists, once its CSRF
/// token matches the visitor's sign-in cookie.
fn visitor_form(headers: &HeaderMap, sent: &str) -> Result<Lang, AppError> {
    let expected = auth::cookie(headers, auth::LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !expected.is_empty() && auth::same_secret(sent, &expected) {
        Ok(request_language(headers))
    } else {
        Err(AppError::form_expired())
    }
}

/// The patient a typed number names, if it can name one. A number that
/// cannot is refused like an unknown one, after the same work.
fn patient_number(typed: &str) -> Option<PersonId> {
    // Not an error to report: the visitor learns only that signing in failed.
    PersonId::parse(typed.trim()).ok()
}

/// Adds `Retry-After` to a throttled answer.
fn retry_after(mut response: Response, seconds: u64) -> Result<Response, AppError> {
    let value = HeaderValue::from_str(&seconds.to_string()).map_err(AppError::internal)?;
    response.headers_mut().insert(header::RETRY_AFTER, value);
    Ok(response)
}

// ---------- signing in ----------

async fn login_page(state: &AppState, headers: &HeaderMap, lang: Lang, error: Option<&str>, patient_number: String, status: StatusCode) -> Result<Response, AppError> {
    let t = tr(lang)?;
    let demo_patients = demo_patients(state).await?;
    with_login_csrf(state, headers, status, |csrf| {
        render(status, &LoginPage { c: Chrome::visitor(t, csrf, "/portal/login"), error: error.map(|key| t.msg(key)), patient_number, demo_patients })
    })
}

pub(super) async fn login_form(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<LangQuery>) -> Result<Response, AppError> {
    let (lang, chosen) = page_language(&headers, &query);
    let mut response = login_page(&state, &headers, lang, None, String::new(), StatusCode::OK).await?;
    if chosen {
        add_cookie(&mut response, &lang_cookie(state.config.https(), lang))?;
    }
    Ok(response)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    patient_number: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn login(State(state): State<AppState>, client: ClientAddr, headers: HeaderMap, Form(form): Form<LoginForm>) -> Result<Response, AppError> {
    let lang = visitor_form(&headers, &form.csrf)?;
    let db = state.db();
    let person = patient_number(&form.patient_number);
    let stored = match &person {
        Some(p) => db.portal_password_hash(p).await?,
        None => None,
    };
    // Unknown patient numbers are checked against a dummy hash: the answer takes as long.
    let account = gate::account_key("portal", &form.patient_number);
    let verdict = gate::check(db, &account, client.0, now_micros(), auth::passwords::matches(form.password, stored)).await?;
    match (verdict, person) {
        (gate::Verdict::Accepted, Some(person)) => start_session(&state, person).await,
        (gate::Verdict::Throttled { retry_after_seconds }, _) => {
            let page = login_page(&state, &headers, lang, Some("error-throttled"), form.patient_number, StatusCode::TOO_MANY_REQUESTS).await?;
            retry_after(page, retry_after_seconds)
        }
        _ => login_page(&state, &headers, lang, Some("error-sign-in"), form.patient_number, StatusCode::UNAUTHORIZED).await,
    }
}

/// Opens a session for `person` and sends them to their home page; the
/// sign-in forms' CSRF cookie is spent.
async fn start_session(state: &AppState, person: PersonId) -> Result<Response, AppError> {
    let now = now_micros();
    let token = auth::random_token().map_err(AppError::internal)?;
    let session = PortalSession { person, csrf_token: auth::random_token().map_err(AppError::internal)?, expires_at: now + PORTAL_SESSION_MICROS };
    state.db().create_portal_session(&token, &session, now).await?;
    let https = state.config.https();
    let mut response = Redirect::to("/portal").into_response();
    add_cookie(&mut response, &auth::set_cookie(https, PORTAL_COOKIE, &token, PORTAL_SESSION_MICROS / 1_000_000))?;
    add_cookie(&mut response, &auth::set_cookie(https, auth::LOGIN_CSRF_COOKIE, "", 0))?;
    Ok(response)
}

// ---------- activating with a one-time code ----------

async fn activate_page(state: &AppState, headers: &HeaderMap, lang: Lang, error: Option<&str>, patient_number: String, status: StatusCode) -> Result<Response, AppError> {
    let t = tr(lang)?;
    with_login_csrf(state, headers, status, |csrf| {
        render(status, &ActivatePage { c: Chrome::visitor(t, csrf, "/portal/activate"), error: error.map(|key| t.msg(key)), patient_number })
    })
}

pub(super) async fn activate_form(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<LangQuery>) -> Result<Response, AppError> {
    let (lang, chosen) = page_language(&headers, &query);
    let mut response = activate_page(&state, &headers, lang, None, String::new(), StatusCode::OK).await?;
    if chosen {
        add_cookie(&mut response, &lang_cookie(state.config.https(), lang))?;
    }
    Ok(response)
}

#[derive(Deserialize)]
pub(super) struct ActivateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    patient_number: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

/// What a patient's password must not be built on: their number and their
/// name, whole and word by word.
fn own_words(number: &str, name: Option<&str>) -> Vec<String> {
    let mut words = vec![number.trim().to_owned()];
    if let Some(name) = name {
        words.push(name.to_owned());
        words.extend(name.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3).map(str::to_owned));
    }
    words
}

pub(super) async fn activate(State(state): State<AppState>, client: ClientAddr, headers: HeaderMap, Form(form): Form<ActivateForm>) -> Result<Response, AppError> {
    let lang = visitor_form(&headers, &form.csrf)?;
    let person = patient_number(&form.patient_number);
    let record = match &person {
        Some(id) => state.reader().get::<Person>(id.as_str()).await?,
        None => None,
    };
    let words = own_words(&form.patient_number, record.as_ref().map(|p| p.name.as_str()));
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let problem = auth::password_problem(&form.password, &words).map(|p| p.key());
    let problem = problem.or((form.password != form.repeat).then_some("error-password-mismatch"));
    if let Some(key) = problem {
        return activate_page(&state, &headers, lang, Some(key), form.patient_number, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let db = state.db();
    let now = now_micros();
    // The code is checked (and spent) only if no counter is exhausted; the
    // new password is hashed either way, so the answer takes as long.
    let redeem = async {
        let hash = auth::passwords::hash(form.password.clone()).await?;
        match &person {
            Some(p) => Ok(db.redeem_portal_code(p, &form.code, &hash, now).await?),
            None => Ok(false),
        }
    };
    let account = gate::account_key("portal", &form.patient_number);
    match (gate::check(db, &account, client.0, now, redeem).await?, person) {
        (gate::Verdict::Accepted, Some(person)) => {
            // An explicit choice on this device wins over the record's preference.
            if auth::cookie(&headers, LANG_COOKIE).is_some() {
                db.set_portal_language(&person, lang.code(), now).await?;
            }
            start_session(&state, person).await
        }
        (gate::Verdict::Throttled { retry_after_seconds }, _) => {
            let page = activate_page(&state, &headers, lang, Some("error-throttled"), form.patient_number, StatusCode::TOO_MANY_REQUESTS).await?;
            retry_after(page, retry_after_seconds)
        }
        _ => activate_page(&state, &headers, lang, Some("error-code"), form.patient_number, StatusCode::UNAUTHORIZED).await,
    }
}

// ---------- signing out ----------

pub(super) async fn logout(State(state): State<AppState>, patient: Patient, Form(form): Form<CsrfForm>) -> Result<Response, AppError> {
    patient.check_csrf(&form.csrf)?;
    state.db().end_portal_session(&patient.token).await?;
    let mut response = Redirect::to("/portal/login").into_response();
    add_cookie(&mut response, &auth::set_cookie(state.config.https(), PORTAL_COOKIE, "", 0))?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_may_not_be_built_on_the_patients_number_or_name() {
        let words = own_words(" p-fatima ", Some("فاطمة الزهراء (Fatima Al-Zahra)"));
        assert_eq!(words, ["p-fatima", "فاطمة الزهراء (Fatima Al-Zahra)", "فاطمة", "الزهراء", "Fatima", "Zahra"]);
        let own: Vec<&str> = words.iter().map(String::as_str).collect();
        assert_eq!(auth::password_problem("p-fatima1985!", &[]), None, "strong enough for a stranger");
        assert_eq!(auth::password_problem("p-fatima1985!", &own).map(|p| p.key()), Some("error-password-weak"), "but built on her own number");
        assert_eq!(own_words("p-x", None), ["p-x"]);
    }

    #[test]
    fn numbers_that_cannot_name_a_patient_name_none() {
        assert!(patient_number(" p-fatima ").is_some());
        assert!(patient_number("").is_none());
    }
}
