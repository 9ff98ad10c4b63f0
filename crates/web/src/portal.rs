//! The patient portal: a patient signs in with a one-time code handed over at
//! the clinic (then a password of their own) and reads their plan, the
//! evidence for it, their consent, the story of their cells and their data, in
//! English, Arabic or Hindi. Staff issue the codes and print consent documents.

use crate::routes::{Access, Route};
use celltrace_domain::access::Permission;
use crate::auth::{self, Can, RecordClinical, ViewPatients};
use crate::pages::with_login_csrf;
use crate::{now_micros, AppState};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::event::Event;
use celltrace_domain::ids::{CommandId, PersonId};
use celltrace_domain::model::{
    AdverseEvent, EvidenceStatus, IntendedUse, Language, Person, PersonKind, Plan, PlanStatus, ProcessingKind, ProductType, Site, Unit,
};
use celltrace_domain::time::{Date, Timestamp};
use celltrace_domain::{EntityKey, EntityKind};
use celltrace_i18n::{Lang, Tr, CONSENT_TEMPLATE, CONSENT_VERSION};
use celltrace_store::portal::PortalSession;
use celltrace_store::SubmitError;
use serde::Deserialize;

/// The portal's session cookie (separate from staff sessions).
pub const PORTAL_COOKIE: &str = "ct_portal";
/// The language a visitor chose before signing in.
pub const LANG_COOKIE: &str = "ct_lang";
/// How long a one-time code stays valid (7 days).
pub const CODE_MICROS: i64 = 7 * 24 * 3_600_000_000;
/// How long a portal session lasts (2 hours: patients use shared devices).
pub const PORTAL_SESSION_MICROS: i64 = 2 * 3_600_000_000;
/// Characters of one-time codes: no 0/O, 1/I/L, so they read off paper.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Every route of the portal and of the staff pages that serve it.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/portal", Access::Patient, home),
        Route::get("/portal/login", Access::Public, login_form),
        Route::post("/portal/login", Access::Public, login),
        Route::get("/portal/activate", Access::Public, activate_form),
        Route::post("/portal/activate", Access::Public, activate),
        Route::post("/portal/logout", Access::Patient, logout),
        Route::post("/portal/language", Access::Public, choose_language),
        Route::get("/portal/plans/{plan}/consent", Access::Patient, consent_document),
        Route::post("/portal/plans/{plan}/withdraw", Access::Patient, withdraw),
        Route::get("/portal/my-data.json", Access::Patient, my_data),
        Route::get("/portal/plans/{plan}/questionnaires/{time_point}/{instrument}", Access::Patient, questionnaire_form),
        Route::post("/portal/plans/{plan}/questionnaires/{time_point}/{instrument}", Access::Patient, questionnaire_submit),
        Route::post("/patients/{id}/portal-code", Access::Staff(Permission::RecordClinical), issue_code),
        Route::get("/plans/{plan}/consent-document", Access::Staff(Permission::ViewPatients), staff_consent_document),
    ]
}

/// The portal language of a domain language.
pub fn lang_of(language: Language) -> Lang {
    match language {
        Language::En => Lang::En,
        Language::Ar => Lang::Ar,
        Language::Hi => Lang::Hi,
    }
}

/// The domain language of a portal language.
pub fn language_of(lang: Lang) -> Language {
    match lang {
        Lang::En => Language::En,
        Lang::Ar => Language::Ar,
        Lang::Hi => Language::Hi,
    }
}

fn tr(lang: Lang) -> Result<Tr, Response> {
    Tr::new(lang).map_err(|e| {
        tracing::error!("message catalogue: {e}");
        auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, "The portal's text could not be loaded; the error is logged.")
    })
}

/// The language for a visitor who is not signed in: their cookie, then what
/// their browser asks for, then English.
fn visitor_lang(headers: &HeaderMap) -> Lang {
    if let Some(lang) = auth::cookie(headers, LANG_COOKIE).as_deref().and_then(Lang::parse) {
        return lang;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .into_iter()
        .flat_map(|v| v.split(','))
        .filter_map(|part| Lang::parse(part.split(';').next().unwrap_or_default()))
        .next()
        .unwrap_or(Lang::En)
}

// ---------- pages ----------

/// What the header of every portal page needs.
struct Chrome {
    t: Tr,
    csrf: String,
    signed_in: bool,
    next: String,
}

#[derive(Template)]
#[template(path = "portal/message.html")]
struct MessagePage {
    c: Chrome,
    title: String,
    message: String,
}

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

struct ConsentView {
    signed: Option<String>,
    withdrawn: Option<String>,
    can_withdraw: bool,
}

struct StoryLine {
    when: String,
    text: String,
}

struct StoryUnit {
    title: String,
    lines: Vec<StoryLine>,
}

struct QuestionnaireLine {
    label: String,
    state: String,
    class: &'static str,
    link: Option<String>,
}

struct PlanView {
    id: String,
    condition: String,
    product: String,
    route: String,
    sessions: String,
    cost: String,
    status: String,
    status_class: &'static str,
    evidence_status: String,
    evidence_class: &'static str,
    evidence_meaning: String,
    evidence_summary_heading: String,
    evidence_summary: String,
    sources: Vec<(String, Option<String>)>,
    trial: Option<String>,
    unproven: bool,
    acknowledged: Option<String>,
    consent: ConsentView,
    story: Vec<StoryUnit>,
    questionnaires: Vec<QuestionnaireLine>,
}

struct ClinicView {
    name: String,
    country: String,
    accreditations: Vec<String>,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage {
    c: Chrome,
    welcome: String,
    notice: Option<String>,
    error: Option<String>,
    clinic: Option<ClinicView>,
    plans: Vec<PlanView>,
}

struct Section {
    heading: String,
    paragraphs: Vec<String>,
    /// Text quoted in English from the evidence data (set left to right).
    english: Option<String>,
}

struct SignatureLine {
    role: String,
    name: String,
    signed: String,
}

#[derive(Template)]
#[template(path = "portal/consent.html")]
struct ConsentPage {
    c: Chrome,
    title: String,
    version_line: String,
    patient: String,
    clinic: String,
    physician: String,
    sections: Vec<Section>,
    statement: String,
    signatures: Vec<SignatureLine>,
    back: Option<String>,
}

fn render(page: impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("portal template failed: {e}");
            auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, "This page could not be shown; the error is logged.")
        }
    }
}

fn message(t: Tr, signed_in: bool, csrf: String, status: StatusCode, key: &str) -> Response {
    let page = MessagePage {
        c: Chrome { t, csrf, signed_in, next: "/portal".into() },
        title: t.msg("portal-title"),
        message: t.msg(key),
    };
    let mut response = render(page);
    *response.status_mut() = status;
    response
}

/// The language of a request, for pages shown before (or without) a
/// session: the visitor's cookie, then their browser's, then English.
pub fn request_language(headers: &HeaderMap) -> Lang {
    visitor_lang(headers)
}

/// The portal's page for an error, in the visitor's language. The English
/// detail of the error is for staff and programs; patients read a message
/// chosen by what kind of failure it was.
pub fn error_page(lang: Lang, error: &crate::error::AppError, request_id: &str) -> String {
    let Ok(t) = Tr::new(lang) else { return error.message().to_owned() };
    let status = error.status();
    let message = match status {
        StatusCode::NOT_FOUND => t.msg("error-not-found"),
        StatusCode::TOO_MANY_REQUESTS => t.msg("error-throttled"),
        StatusCode::SERVICE_UNAVAILABLE => t.msg("error-unavailable"),
        s if s.is_server_error() => t.msg_args("error-internal", &[("reference", request_id.to_owned().into())]),
        _ if error.code() == "form_expired" => t.msg("error-form-expired"),
        _ => t.msg("error-refused"),
    };
    let page = MessagePage { c: Chrome { t, csrf: String::new(), signed_in: false, next: "/portal".into() }, title: t.msg("portal-title"), message };
    page.render().unwrap_or_else(|_| error.message().to_owned())
}

fn unavailable(t: Tr, e: impl std::fmt::Display) -> Response {
    tracing::error!("portal storage: {e}");
    message(t, false, String::new(), StatusCode::SERVICE_UNAVAILABLE, "error-unavailable")
}

// ---------- signing in ----------

/// A signed-in patient and the language they read in.
struct Patient {
    person: Person,
    session: PortalSession,
    token: String,
    t: Tr,
}

impl Patient {
    fn chrome(&self, next: &str) -> Chrome {
        Chrome { t: self.t, csrf: self.session.csrf_token.clone(), signed_in: true, next: next.to_owned() }
    }

    fn check_csrf(&self, sent: &str) -> Result<(), Response> {
        if auth::same_secret(sent, &self.session.csrf_token) {
            Ok(())
        } else {
            Err(message(self.t, true, self.session.csrf_token.clone(), StatusCode::FORBIDDEN, "error-form-expired"))
        }
    }
}

async fn patient(state: &AppState, headers: &HeaderMap) -> Result<Patient, Response> {
    let to_login = || Redirect::to("/portal/login").into_response();
    let t = tr(visitor_lang(headers))?;
    let Some(token) = auth::cookie(headers, PORTAL_COOKIE) else { return Err(to_login()) };
    let db = state.db();
    let session = match db.portal_session(&token, now_micros()).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(to_login()),
        Err(e) => return Err(unavailable(t, e)),
    };
    let person: Person = match db.reader().get::<Person>(session.person.as_str()).await {
        Ok(Some(p)) => p,
        Ok(None) => return Err(to_login()),
        Err(e) => return Err(unavailable(t, e)),
    };
    let lang = match db.portal_language(&person.id).await {
        Ok(chosen) => chosen.as_deref().and_then(Lang::parse).unwrap_or_else(|| lang_of(person.language)),
        Err(e) => return Err(unavailable(t, e)),
    };
    Ok(Patient { person, session, token, t: tr(lang)? })
}

async fn demo_patients(state: &AppState) -> Vec<(String, String)> {
    if !matches!(state.db().setting("demo").await, Ok(Some(v)) if v == "loaded") {
        return Vec::new();
    }
    match state.db().setting("demo_portal_patients").await {
        Ok(Some(list)) => list
            .split(',')
            .filter_map(|entry| entry.split_once(':'))
            .map(|(id, lang)| (id.to_owned(), Lang::parse(lang).map(Lang::native_name).unwrap_or_default().to_owned()))
            .collect(),
        _ => Vec::new(),
    }
}

#[derive(Deserialize, Default)]
struct LangQuery {
    #[serde(default)]
    lang: Option<String>,
}

/// Applies `?lang=` on the sign-in pages: the choice is kept in a cookie.
fn lang_from_query(secure: bool, headers: &HeaderMap, query: &LangQuery) -> (Lang, Option<String>) {
    match query.lang.as_deref().and_then(Lang::parse) {
        Some(lang) => (lang, auth::set_cookie(secure, LANG_COOKIE, lang.code(), 365 * 24 * 3600).into()),
        None => (visitor_lang(headers), None),
    }
}

fn with_cookie(mut response: Response, cookie: Option<String>) -> Response {
    if let Some(value) = cookie.and_then(|c| c.parse().ok()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn login_page(state: &AppState, headers: &HeaderMap, lang: Lang, error: Option<&str>, patient_number: String, status: StatusCode) -> Response {
    let t = match tr(lang) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let demo_patients = demo_patients(state).await;
    with_login_csrf(state.config.https(), headers, status, |csrf| {
        render(LoginPage {
            c: Chrome { t, csrf, signed_in: false, next: "/portal/login".into() },
            error: error.map(|key| t.msg(key)),
            patient_number,
            demo_patients,
        })
    })
}

async fn login_form(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<LangQuery>) -> Response {
    let (lang, cookie) = lang_from_query(state.config.https(), &headers, &query);
    with_cookie(login_page(&state, &headers, lang, None, String::new(), StatusCode::OK).await, cookie)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    patient_number: String,
    #[serde(default)]
    password: String,
}

fn login_csrf_ok(headers: &HeaderMap, sent: &str) -> bool {
    let expected = auth::cookie(headers, auth::LOGIN_CSRF_COOKIE).unwrap_or_default();
    !expected.is_empty() && auth::same_secret(sent, &expected)
}

/// The visitor's language for a form posted before a session exists, once
/// its CSRF token is checked.
fn visitor_form(headers: &HeaderMap, csrf: &str) -> Result<(Lang, Tr), Response> {
    let lang = visitor_lang(headers);
    let t = tr(lang)?;
    if login_csrf_ok(headers, csrf) {
        Ok((lang, t))
    } else {
        Err(message(t, false, String::new(), StatusCode::FORBIDDEN, "error-form-expired"))
    }
}

async fn login(State(state): State<AppState>, client: auth::ClientAddr, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    let (lang, t) = match visitor_form(&headers, &form.csrf) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let db = state.db();
    let now = now_micros();
    let person = PersonId::parse(form.patient_number.trim()).ok();
    let stored = match &person {
        Some(p) => match db.portal_password_hash(p).await {
            Ok(h) => h,
            Err(e) => return unavailable(t, e),
        },
        None => None,
    };
    // Unknown patient numbers are checked against a dummy hash: the answer takes as long.
    let account = auth::gate::account_key("portal", &form.patient_number);
    let verdict = match auth::gate::check(db, &account, client.0, now, auth::passwords::matches(form.password.clone(), stored)).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let person = match (verdict, person) {
        (auth::gate::Verdict::Accepted, Some(person)) => person,
        (auth::gate::Verdict::Throttled { .. }, _) => {
            return login_page(&state, &headers, lang, Some("error-throttled"), form.patient_number, StatusCode::TOO_MANY_REQUESTS).await;
        }
        _ => return login_page(&state, &headers, lang, Some("error-sign-in"), form.patient_number, StatusCode::UNAUTHORIZED).await,
    };
    start_session(&state, &headers, t, person).await
}

async fn start_session(state: &AppState, _headers: &HeaderMap, t: Tr, person: PersonId) -> Response {
    let now = now_micros();
    let (token, csrf) = match (auth::random_token(), auth::random_token()) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    let session = PortalSession { person, csrf_token: csrf, expires_at: now + PORTAL_SESSION_MICROS };
    if let Err(e) = state.db().create_portal_session(&token, &session, now).await {
        return unavailable(t, e);
    }
    let mut response = Redirect::to("/portal").into_response();
    for cookie in [
        auth::set_cookie(state.config.https(), PORTAL_COOKIE, &token, PORTAL_SESSION_MICROS / 1_000_000),
        auth::set_cookie(state.config.https(), auth::LOGIN_CSRF_COOKIE, "", 0),
    ] {
        if let Ok(v) = cookie.parse() {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

async fn activate_page(secure: bool, headers: &HeaderMap, lang: Lang, error: Option<&str>, patient_number: String, status: StatusCode) -> Response {
    let t = match tr(lang) {
        Ok(t) => t,
        Err(r) => return r,
    };
    with_login_csrf(secure, headers, status, |csrf| {
        render(ActivatePage { c: Chrome { t, csrf, signed_in: false, next: "/portal/activate".into() }, error: error.map(|key| t.msg(key)), patient_number })
    })
}

async fn activate_form(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<LangQuery>) -> Response {
    let (lang, cookie) = lang_from_query(state.config.https(), &headers, &query);
    with_cookie(activate_page(state.config.https(), &headers, lang, None, String::new(), StatusCode::OK).await, cookie)
}

#[derive(Deserialize)]
struct ActivateForm {
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

async fn activate(State(state): State<AppState>, client: auth::ClientAddr, headers: HeaderMap, Form(form): Form<ActivateForm>) -> Response {
    let (lang, t) = match visitor_form(&headers, &form.csrf) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let refuse = |key: &'static str, status: StatusCode| activate_page(state.config.https(), &headers, lang, Some(key), form.patient_number.clone(), status);
    if let Some(problem) = auth::password_problem(&form.password, &[&form.patient_number]) {
        return refuse(problem.key(), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    if form.password != form.repeat {
        return refuse("error-password-mismatch", StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let db = state.db();
    let now = now_micros();
    let person = PersonId::parse(form.patient_number.trim()).ok();
    // The code is checked (and spent) only if no counter is exhausted; the
    // new password is hashed either way, so the answer takes as long.
    let redeem = async {
        let hash = auth::passwords::hash(form.password.clone()).await?;
        match &person {
            Some(p) => Ok(db.redeem_portal_code(p, &form.code, &hash, now).await?),
            None => Ok(false),
        }
    };
    let account = auth::gate::account_key("portal", &form.patient_number);
    let verdict = match auth::gate::check(db, &account, client.0, now, redeem).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    match (verdict, person) {
        (auth::gate::Verdict::Accepted, Some(person)) => {
            // An explicit choice on this device wins over the record's preference.
            if auth::cookie(&headers, LANG_COOKIE).is_some() {
                if let Err(e) = db.set_portal_language(&person, lang.code(), now).await {
                    return unavailable(t, e);
                }
            }
            start_session(&state, &headers, t, person).await
        }
        (auth::gate::Verdict::Throttled { .. }, _) => refuse("error-throttled", StatusCode::TOO_MANY_REQUESTS).await,
        _ => refuse("error-code", StatusCode::UNAUTHORIZED).await,
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    let patient = match patient(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = patient.check_csrf(&form.csrf) {
        return r;
    }
    if let Err(e) = state.db().end_portal_session(&patient.token).await {
        return unavailable(patient.t, e);
    }
    let mut response = Redirect::to("/portal/login").into_response();
    if let Ok(v) = auth::set_cookie(state.config.https(), PORTAL_COOKIE, "", 0).parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
struct LanguageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: String,
}

/// Changes the language: remembered with the patient's account when signed
/// in, in a cookie otherwise.
async fn choose_language(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<LanguageForm>) -> Response {
    let lang = Lang::parse(&form.lang).unwrap_or_else(|| visitor_lang(&headers));
    // Only a portal path goes back into the Location header: no scheme, host, or control characters.
    let safe = form.next.starts_with("/portal") && form.next.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.?=&%".contains(c));
    let next = if safe { form.next.clone() } else { "/portal".into() };
    if auth::cookie(&headers, PORTAL_COOKIE).is_some() {
        if let Ok(patient) = patient(&state, &headers).await {
            if let Err(r) = patient.check_csrf(&form.csrf) {
                return r;
            }
            if let Err(e) = state.db().set_portal_language(&patient.person.id, lang.code(), now_micros()).await {
                return unavailable(patient.t, e);
            }
        }
    }
    with_cookie(Redirect::to(&next).into_response(), Some(auth::set_cookie(state.config.https(), LANG_COOKIE, lang.code(), 365 * 24 * 3600)))
}

// ---------- what the patient reads ----------

async fn submit_as_patient(state: &AppState, patient: &Patient, site: &celltrace_domain::ids::SiteId, command: Command) -> Result<Vec<Event>, Response> {
    let id = CommandId::parse(&uuid::Uuid::now_v7().to_string()).map_err(|e| auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))?;
    let submission = Submission { id, actor: Actor::Patient(patient.person.id.clone()), site: site.clone(), at: Timestamp(now_micros()), command };
    match state.engine.submit(submission).await {
        Ok(receipt) => Ok(receipt.events),
        Err(SubmitError::Rejected(r)) => Err(auth::refusal(StatusCode::CONFLICT, &r.message)),
        Err(SubmitError::Store(e)) => Err(unavailable(patient.t, e)),
    }
}

/// Records in the ledger that the patient read their own record.
async fn record_read(state: &AppState, patient: &Patient, view: &str) -> Result<(), Response> {
    submit_as_patient(state, patient, &patient.person.site, Command::RecordRecordViewed { person: patient.person.id.clone(), view: view.to_owned(), via_unit: None })
        .await
        .map(|_| ())
}

async fn plans_of(state: &AppState, person: &PersonId) -> Result<Vec<Plan>, String> {
    state.reader().plans_of(person).await.map_err(|e| e.to_string())
}

/// The units of a patient's record: their own material (and what was made
/// from it), and the units allocated to their plans.
async fn patient_units(state: &AppState, person: &PersonId, plans: &[Plan]) -> Result<Vec<Unit>, String> {
    let reader = state.reader();
    let mut units = reader.units_from(person).await.map_err(|e| e.to_string())?;
    for plan in plans {
        units.extend(reader.units_for_plan(plan.id.as_str()).await.map_err(|e| e.to_string())?);
    }
    units.sort_by(|a, b| a.id.cmp(&b.id));
    units.dedup_by(|a, b| a.id == b.id);
    Ok(units)
}

/// Units that are part of the plan: the patient's own material of the
/// plan's product type, and donor units allocated to the plan; starting
/// material first, as the story runs.
fn units_of<'a>(plan: &Plan, units: &'a [Unit]) -> Vec<&'a Unit> {
    let mut own: Vec<&Unit> = units
        .iter()
        .filter(|u| match &u.intended_use {
            IntendedUse::Autologous { patient } => patient == &plan.patient && u.product_type == plan.product_type,
            IntendedUse::Allogeneic => u.allocated_to.as_ref() == Some(&plan.id),
        })
        .collect();
    own.sort_by_key(|u| (u.created_at, u.id.to_string()));
    own
}

fn product_key(product: ProductType) -> &'static str {
    match product {
        ProductType::AutologousAdipose => "product-autologous-adipose",
        ProductType::AutologousBoneMarrow => "product-autologous-bone-marrow",
        ProductType::CordBloodHpc => "product-cord-blood-hpc",
        ProductType::AllogeneicMsc => "product-allogeneic-msc",
        ProductType::EmbryonicDerived => "product-embryonic-derived",
        ProductType::MscExosome => "product-msc-exosome",
        ProductType::Prp => "product-prp",
    }
}

fn step_key(kind: ProcessingKind) -> &'static str {
    match kind {
        ProcessingKind::Isolation => "step-isolation",
        ProcessingKind::Expansion => "step-expansion",
        ProcessingKind::Harvest => "step-harvest",
        ProcessingKind::Cryopreservation => "step-cryopreservation",
        ProcessingKind::Thaw => "step-thaw",
        ProcessingKind::ExosomeIsolation => "step-exosome-isolation",
        ProcessingKind::PrpPreparation => "step-prp-preparation",
        ProcessingKind::Division => "step-division",
    }
}

fn evidence_keys(status: EvidenceStatus) -> (&'static str, &'static str, &'static str) {
    match status {
        EvidenceStatus::Approved => ("evidence-status-approved", "evidence-meaning-approved", "ok"),
        EvidenceStatus::Investigational => ("evidence-status-investigational", "evidence-meaning-investigational", "warn"),
        EvidenceStatus::Unproven => ("evidence-status-unproven", "evidence-meaning-unproven", "stop"),
        EvidenceStatus::ResearchOnly => ("evidence-status-research-only", "evidence-meaning-research-only", "stop"),
    }
}

fn plan_status_key(status: PlanStatus) -> (&'static str, &'static str) {
    match status {
        PlanStatus::Active => ("plan-status-active", "ok"),
        PlanStatus::Blocked => ("plan-status-blocked", "stop"),
        PlanStatus::Completed => ("plan-status-completed", "ok"),
        PlanStatus::Stopped => ("plan-status-stopped", "warn"),
    }
}

fn date_of(t: &Tr, date: Date) -> String {
    let (y, m, d) = date.parts();
    t.date(y, u32::from(m), u32::from(d))
}

fn when(t: &Tr, at: Timestamp) -> String {
    date_of(t, at.date())
}

fn site_name(sites: &[Site], id: &str) -> String {
    sites.iter().find(|s| s.id.as_str() == id).map(|s| s.name.clone()).unwrap_or_else(|| id.to_owned())
}

/// The story of one unit, told from its ledger entries in the patient's words.
async fn story_of(state: &AppState, t: &Tr, unit: &Unit, sites: &[Site]) -> Result<StoryUnit, String> {
    let trail = state.reader().trail(&EntityKey::new(EntityKind::Unit, &unit.id)).await.map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    for (entry, _) in trail {
        let Ok(event) = serde_json::from_slice::<Event>(&entry.record.payload) else { continue };
        let at_site = site_name(sites, &entry.record.site);
        let text = match event {
            Event::CollectionRecorded { .. } => t.msg_args("story-collected", &[("site", at_site.into())]),
            Event::ProcessingStepRecorded { step, .. } => {
                t.msg_args("story-processed", &[("site", at_site.into()), ("step", t.msg(step_key(step.kind)).into())])
            }
            Event::QcResultRecorded { unit: tested, result } if tested == unit.id => {
                let verdict = t.msg(if result.in_spec { "story-test-pass" } else { "story-test-fail" });
                t.msg_args("story-tested", &[("test", result.test.into()), ("result", verdict.into())])
            }
            Event::UnitReleased { unit: released, exceptional, .. } if released == unit.id => {
                t.msg(if exceptional { "story-exceptional" } else { "story-released" })
            }
            Event::UnitStored { unit: stored, .. } if stored == unit.id => t.msg_args("story-stored", &[("site", at_site.into())]),
            Event::UnitAllocated { .. } => t.msg("story-allocated"),
            Event::ShipmentDispatched { shipment } => t.msg_args(
                "story-shipped",
                &[("from", site_name(sites, shipment.from_site.as_str()).into()), ("to", site_name(sites, shipment.to_site.as_str()).into())],
            ),
            Event::ShipmentReceived { to_site, .. } => t.msg_args("story-received", &[("site", site_name(sites, to_site.as_str()).into())]),
            Event::UnitAdministered { .. } => t.msg("story-administered"),
            Event::UnitDiscarded { unit: discarded, .. } if discarded == unit.id => t.msg("story-discarded"),
            _ => continue,
        };
        lines.push(StoryLine { when: when(t, Timestamp(entry.record.recorded_at)), text });
    }
    let title = t.msg_args("story-unit", &[("din", unit.din.clone().into()), ("product", unit.product_code.clone().into())]);
    Ok(StoryUnit { title, lines })
}

fn is_url(source: &str) -> Option<String> {
    (source.starts_with("https://") || source.starts_with("http://")).then(|| source.to_owned())
}

async fn plan_view(state: &AppState, t: &Tr, plan: &Plan, units: &[Unit], sites: &[Site]) -> Result<PlanView, String> {
    let (status_key, status_class) = plan_status_key(plan.status);
    let (evidence_key, meaning_key, evidence_class) = evidence_keys(plan.evidence.status);
    let consent = match plan.consents.last() {
        None => ConsentView { signed: None, withdrawn: None, can_withdraw: false },
        Some(c) => ConsentView {
            signed: Some(t.msg_args("consent-signed", &[("date", when(t, c.patient_signed_at).into())])),
            withdrawn: c.withdrawn.as_ref().map(|w| t.msg_args("consent-withdrawn", &[("date", when(t, w.at).into())])),
            can_withdraw: c.withdrawn.is_none(),
        },
    };
    let mut story = Vec::new();
    for unit in units_of(plan, units) {
        story.push(story_of(state, t, unit, sites).await?);
    }
    let questionnaires = if plan.status == PlanStatus::Blocked || plan.current_consent().is_none() {
        Vec::new()
    } else {
        questionnaire_lines(t, plan)?
    };
    Ok(PlanView {
        id: plan.id.to_string(),
        condition: format!("{} ({})", plan.indication.name, plan.indication.icd10),
        product: t.msg(product_key(plan.product_type)),
        route: plan.route.clone(),
        sessions: t.digits(&plan.sessions.to_string()),
        cost: t.amount(&plan.cost_quote.currency, plan.cost_quote.minor, 2),
        status: t.msg(status_key),
        status_class,
        evidence_status: t.msg(evidence_key),
        evidence_class,
        evidence_meaning: t.msg(meaning_key),
        evidence_summary_heading: t.msg_args("evidence-summary", &[("version", plan.evidence.data_version.clone().into())]),
        evidence_summary: plan.evidence.summary.clone(),
        sources: plan.evidence.sources.iter().map(|s| (s.clone(), is_url(s))).collect(),
        trial: plan.trial.as_ref().map(|trial| t.msg_args("evidence-trial", &[("trial", trial.registration.clone().into())])),
        unproven: plan.evidence.status == EvidenceStatus::Unproven,
        acknowledged: plan.warning_acknowledged_at.map(|at| t.msg_args("warning-acknowledged", &[("date", when(t, at).into())])),
        consent,
        story,
        questionnaires,
    })
}

fn time_point_key(id: &str) -> Option<&'static str> {
    match id {
        "baseline" => Some("time-point-baseline"),
        "1m" => Some("time-point-1m"),
        "3m" => Some("time-point-3m"),
        "6m" => Some("time-point-6m"),
        "12m" => Some("time-point-12m"),
        _ => None,
    }
}

fn instrument_key(id: &str) -> Option<&'static str> {
    match id {
        "nprs" => Some("instrument-nprs"),
        "koos" => Some("instrument-koos"),
        "pgic" => Some("instrument-pgic"),
        _ => None,
    }
}

fn questionnaire_label(t: &Tr, time_point: &str, instrument: &str) -> String {
    let when = time_point_key(time_point).map(|k| t.msg(k)).unwrap_or_else(|| time_point.to_owned());
    let what = instrument_key(instrument).map(|k| t.msg(k)).unwrap_or_else(|| instrument.to_owned());
    format!("{when} · {what}")
}

fn day_date(t: &Tr, day: i64) -> String {
    date_of(t, Date::from_days_since_epoch(day))
}

/// The plan's questionnaires as the patient sees them: what to answer now,
/// what opens later, what was answered or missed.
fn questionnaire_lines(t: &Tr, plan: &Plan) -> Result<Vec<QuestionnaireLine>, String> {
    use celltrace_outcomes::schedule::VisitState;
    let statuses = crate::kit::questionnaires::plan_status(plan, Timestamp(now_micros()))?;
    Ok(statuses
        .into_iter()
        .map(|s| {
            let link = format!("/portal/plans/{}/questionnaires/{}/{}", plan.id, s.time_point, s.instrument);
            let (state, class, link) = match s.state {
                VisitState::Due => (
                    s.closes.map(|d| t.msg_args("questionnaire-due", &[("date", day_date(t, d).into())])).unwrap_or_else(|| t.msg("questionnaire-answer")),
                    "warn",
                    Some(link),
                ),
                VisitState::Overdue => (
                    t.msg_args("questionnaire-overdue", &[("date", s.closes.map(|d| day_date(t, d)).unwrap_or_default().into())]),
                    "stop",
                    Some(link),
                ),
                VisitState::Upcoming => (
                    s.opens.map(|d| t.msg_args("questionnaire-upcoming", &[("date", day_date(t, d).into())])).unwrap_or_else(|| t.msg("questionnaires-none")),
                    "",
                    None,
                ),
                VisitState::Missed => (t.msg("questionnaire-missed"), "", None),
                VisitState::Completed => (t.msg("questionnaire-done"), "ok", None),
            };
            QuestionnaireLine { label: questionnaire_label(t, &s.time_point, &s.instrument), state, class, link }
        })
        .collect())
}

#[derive(Deserialize, Default)]
struct HomeQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn home(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<HomeQuery>) -> Response {
    let patient = match patient(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let notice = match query.done.as_deref() {
        Some("withdrawn") => Some(patient.t.msg("withdraw-done")),
        Some("answered") => Some(patient.t.msg("questionnaire-saved")),
        _ => None,
    };
    home_page(&state, &patient, notice, None, StatusCode::OK).await
}

async fn home_page(state: &AppState, patient: &Patient, notice: Option<String>, error: Option<String>, status: StatusCode) -> Response {
    let t = patient.t;
    if let Err(r) = record_read(state, patient, "portal home").await {
        return r;
    }
    let loaded = async {
        let plans = plans_of(state, &patient.person.id).await?;
        let units: Vec<Unit> = patient_units(state, &patient.person.id, &plans).await?;
        let sites: Vec<Site> = state.reader().sites().await.map_err(|e| e.to_string())?;
        let mut views = Vec::new();
        for plan in &plans {
            views.push(plan_view(state, &t, plan, &units, &sites).await?);
        }
        let clinic = sites.iter().find(|s| s.id == patient.person.site).map(|s| ClinicView {
            name: s.name.clone(),
            country: s.country.clone(),
            accreditations: s.accreditations.clone(),
        });
        Ok::<_, String>((views, clinic))
    };
    let (plans, clinic) = match loaded.await {
        Ok(v) => v,
        Err(e) => return unavailable(t, e),
    };
    let mut response = render(HomePage {
        c: patient.chrome("/portal"),
        welcome: t.msg_args("welcome-name", &[("name", patient.person.name.clone().into())]),
        notice,
        error,
        clinic,
        plans,
    });
    *response.status_mut() = status;
    response
}

#[derive(Deserialize)]
struct WithdrawForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: Option<String>,
}

async fn withdraw(State(state): State<AppState>, headers: HeaderMap, Path(plan): Path<String>, Form(form): Form<WithdrawForm>) -> Response {
    let patient = match patient(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = patient.check_csrf(&form.csrf) {
        return r;
    }
    let plan = match own_plan(&state, &patient, &plan).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if form.confirm.is_none() {
        let error = patient.t.msg("withdraw-must-confirm");
        return home_page(&state, &patient, None, Some(error), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let reason: String = form.reason.trim().chars().take(500).collect();
    match submit_as_patient(&state, &patient, &plan.site, Command::WithdrawConsent { plan: plan.id.clone(), reason }).await {
        Ok(_) => Redirect::to("/portal?done=withdrawn").into_response(),
        Err(r) => r,
    }
}

/// A plan of the signed-in patient; any other plan is "not found".
async fn own_plan(state: &AppState, patient: &Patient, plan: &str) -> Result<Plan, Response> {
    let not_found = || message(patient.t, true, patient.session.csrf_token.clone(), StatusCode::NOT_FOUND, "error-not-found");
    match state.reader().get::<Plan>(plan).await {
        Ok(Some(p)) if p.patient == patient.person.id => Ok(p),
        Ok(_) => Err(not_found()),
        Err(e) => Err(unavailable(patient.t, e)),
    }
}

// ---------- questionnaires ----------

#[derive(Template)]
#[template(path = "portal/questionnaire.html")]
struct QuestionnairePage {
    c: Chrome,
    title: String,
    intro: String,
    error: Option<String>,
    action: String,
    items: Vec<crate::kit::questionnaires::ItemView>,
}

/// The open questionnaire of a plan, or the page to show instead.
async fn open_questionnaire(
    state: &AppState,
    patient: &Patient,
    plan: &str,
    time_point: &str,
    instrument: &str,
) -> Result<(Plan, &'static celltrace_outcomes::Instrument), Response> {
    use celltrace_outcomes::schedule::VisitState;
    let plan = own_plan(state, patient, plan).await?;
    let closed = || message(patient.t, true, patient.session.csrf_token.clone(), StatusCode::CONFLICT, "questionnaire-closed");
    let statuses = crate::kit::questionnaires::plan_status(&plan, Timestamp(now_micros())).map_err(|e| unavailable(patient.t, e))?;
    let open = statuses
        .iter()
        .any(|s| s.time_point == time_point && s.instrument == instrument && matches!(s.state, VisitState::Due | VisitState::Overdue));
    if !open || plan.current_consent().is_none() {
        return Err(closed());
    }
    let definition = crate::kit::questionnaires::instruments()
        .map_err(|e| unavailable(patient.t, e))?
        .get(instrument)
        .ok_or_else(closed)?;
    Ok((plan, definition))
}

async fn questionnaire_form(State(state): State<AppState>, headers: HeaderMap, Path((plan, time_point, instrument)): Path<(String, String, String)>) -> Response {
    let patient = match patient(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match open_questionnaire(&state, &patient, &plan, &time_point, &instrument).await {
        Ok((plan, definition)) => questionnaire_page(&patient, &plan, &time_point, definition, &Default::default(), None),
        Err(r) => r,
    }
}

fn questionnaire_page(
    patient: &Patient,
    plan: &Plan,
    time_point: &str,
    definition: &celltrace_outcomes::Instrument,
    answers: &std::collections::BTreeMap<String, u8>,
    error: Option<String>,
) -> Response {
    let t = patient.t;
    let action = format!("/portal/plans/{}/questionnaires/{}/{}", plan.id, time_point, definition.id);
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let mut response = render(QuestionnairePage {
        c: patient.chrome(&action),
        title: questionnaire_label(&t, time_point, &definition.id),
        intro: t.msg("questionnaire-intro"),
        items: crate::kit::questionnaires::item_views(definition, t.lang, answers, error.is_some()),
        error,
        action,
    });
    *response.status_mut() = status;
    response
}

async fn questionnaire_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((plan, time_point, instrument)): Path<(String, String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let patient = match patient(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let csrf = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or_default();
    if let Err(r) = patient.check_csrf(csrf) {
        return r;
    }
    let (plan, definition) = match open_questionnaire(&state, &patient, &plan, &time_point, &instrument).await {
        Ok(open) => open,
        Err(r) => return r,
    };
    let answers = crate::kit::questionnaires::answers_from(&form);
    if definition.items.iter().any(|i| !answers.contains_key(&i.id)) {
        return questionnaire_page(&patient, &plan, &time_point, definition, &answers, Some(patient.t.msg("questionnaire-incomplete")));
    }
    let visit = match celltrace_domain::ids::VisitId::parse(&format!("visit-{}", uuid::Uuid::now_v7())) {
        Ok(v) => v,
        Err(e) => return auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let command = Command::AnswerQuestionnaire {
        plan: plan.id.clone(),
        visit,
        time_point: time_point.clone(),
        instrument: definition.id.clone(),
        answers,
        language: language_of(patient.t.lang),
    };
    match submit_as_patient(&state, &patient, &plan.site, command).await {
        Ok(_) => Redirect::to("/portal?done=answered").into_response(),
        Err(r) => r,
    }
}

// ---------- consent documents ----------

fn risk_keys(product: ProductType) -> Vec<&'static str> {
    let mut keys = vec!["consent-risk-general", "consent-risk-inflammation", "consent-risk-no-response", "consent-risk-long-term"];
    keys.push(match product {
        ProductType::AutologousAdipose => "consent-risk-adipose",
        ProductType::AutologousBoneMarrow => "consent-risk-bone-marrow",
        ProductType::CordBloodHpc | ProductType::AllogeneicMsc => "consent-risk-donor",
        ProductType::MscExosome => "consent-risk-exosome",
        ProductType::Prp => "consent-risk-prp",
        ProductType::EmbryonicDerived => "consent-risk-embryonic",
    });
    if product == ProductType::EmbryonicDerived {
        keys.push("consent-risk-donor");
    }
    keys
}

struct ConsentParties<'a> {
    patient: &'a Person,
    clinic: String,
    physician: String,
    witness: Option<String>,
}

/// The consent document of `plan` in `t`'s language, from the template
/// version the patient signed (or the current one before signing).
fn consent_page(t: Tr, chrome: Chrome, plan: &Plan, parties: &ConsentParties<'_>, back: Option<String>) -> Result<ConsentPage, String> {
    let consent = plan.consents.last();
    let version = consent.map(|c| c.template_version.as_str()).unwrap_or(CONSENT_VERSION);
    if !celltrace_i18n::consent_version_known(version) {
        return Err(format!(
            "This consent was signed on template {} version {version}, which this installation does not hold. Use the signed paper copy kept by the clinic.",
            consent.map(|c| c.template.as_str()).unwrap_or(CONSENT_TEMPLATE)
        ));
    }
    let language = t.lang.native_name().to_owned();
    let (evidence_key, meaning_key, _) = evidence_keys(plan.evidence.status);
    let mut evidence = vec![t.msg_args("consent-evidence-status", &[("status", t.msg(evidence_key).into())]), t.msg(meaning_key)];
    if plan.evidence.status == EvidenceStatus::Unproven {
        evidence.push(t.msg("unproven-warning"));
    }
    if let Some(trial) = &plan.trial {
        evidence.push(t.msg_args("evidence-trial", &[("trial", trial.registration.clone().into())]));
    }
    evidence.push(t.msg_args("evidence-summary", &[("version", plan.evidence.data_version.clone().into())]));
    let sections = vec![
        Section {
            heading: t.msg("consent-section-treatment"),
            english: None,
            paragraphs: vec![t.msg_args(
                "consent-treatment-text",
                &[
                    ("product", t.msg(product_key(plan.product_type)).into()),
                    ("condition", format!("{} ({})", plan.indication.name, plan.indication.icd10).into()),
                    ("route", plan.route.clone().into()),
                    ("sessions", t.digits(&plan.sessions.to_string()).into()),
                    ("dose", plan.dose.to_string().into()),
                ],
            )],
        },
        Section { heading: t.msg("consent-section-evidence"), paragraphs: evidence, english: Some(plan.evidence.summary.clone()) },
        Section { heading: t.msg("consent-section-risks"), paragraphs: risk_keys(plan.product_type).into_iter().map(|k| t.msg(k)).collect(), english: None },
        Section {
            heading: t.msg("consent-section-cost"),
            english: None,
            paragraphs: vec![t.msg_args("consent-cost-text", &[("cost", t.amount(&plan.cost_quote.currency, plan.cost_quote.minor, 2).into())])],
        },
        Section { heading: t.msg("consent-section-alternatives"), paragraphs: vec![t.msg("consent-alternatives-text")], english: None },
        Section { heading: t.msg("consent-section-withdraw"), paragraphs: vec![t.msg("consent-withdraw-text")], english: None },
    ];
    let signed = |at: Option<Timestamp>| match at {
        Some(at) => t.msg_args("consent-signed-at", &[("date", when(&t, at).into())]),
        None => t.msg("consent-not-signed"),
    };
    let mut signatures = vec![
        SignatureLine { role: t.msg("consent-sign-patient"), name: parties.patient.name.clone(), signed: signed(consent.map(|c| c.patient_signed_at)) },
        SignatureLine { role: t.msg("consent-sign-physician"), name: parties.physician.clone(), signed: signed(consent.map(|c| c.patient_signed_at)) },
    ];
    if let Some(witness) = &parties.witness {
        signatures.push(SignatureLine { role: t.msg("consent-sign-witness"), name: witness.clone(), signed: signed(consent.map(|c| c.patient_signed_at)) });
    }
    if let Some(w) = consent.and_then(|c| c.withdrawn.as_ref()) {
        signatures.push(SignatureLine { role: t.msg("withdraw-heading"), name: w.reason.clone(), signed: t.msg_args("consent-withdrawn", &[("date", when(&t, w.at).into())]) });
    }
    Ok(ConsentPage {
        c: chrome,
        title: t.msg("consent-doc-title"),
        version_line: t.msg_args(
            "consent-doc-version",
            &[("template", CONSENT_TEMPLATE.into()), ("version", version.to_owned().into()), ("language", language.clone().into())],
        ),
        patient: format!("{} · {}", parties.patient.name, parties.patient.mrn),
        clinic: parties.clinic.clone(),
        physician: parties.physician.clone(),
        sections,
        statement: t.msg_args("consent-statement", &[("language", language.into())]),
        signatures,
        back,
    })
}

async fn parties<'a>(state: &AppState, plan: &Plan, patient: &'a Person) -> Result<ConsentParties<'a>, String> {
    let db = state.db();
    let staff_name = |id: String| async move {
        db.reader().get::<celltrace_domain::model::Staff>(&id).await.map(|s| s.map(|s| s.name).unwrap_or(id))
    };
    let physician_id = plan.consents.last().map(|c| c.physician.to_string()).unwrap_or_else(|| plan.physician.to_string());
    let physician = staff_name(physician_id).await.map_err(|e| e.to_string())?;
    let witness = match plan.consents.last().and_then(|c| c.witness.as_ref()) {
        Some(w) => Some(staff_name(w.to_string()).await.map_err(|e| e.to_string())?),
        None => None,
    };
    let clinic = db.reader().get::<Site>(plan.site.as_str()).await.map_err(|e| e.to_string())?.map(|s| s.name).unwrap_or_default();
    Ok(ConsentParties { patient, clinic, physician, witness })
}

async fn consent_document(State(state): State<AppState>, headers: HeaderMap, Path(plan): Path<String>) -> Response {
    let patient = match patient(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let plan = match own_plan(&state, &patient, &plan).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = record_read(&state, &patient, "consent document").await {
        return r;
    }
    let parties = match parties(&state, &plan, &patient.person).await {
        Ok(p) => p,
        Err(e) => return unavailable(patient.t, e),
    };
    let chrome = patient.chrome(&format!("/portal/plans/{}/consent", plan.id));
    match consent_page(patient.t, chrome, &plan, &parties, Some("/portal".into())) {
        Ok(page) => render(page),
        Err(e) => auth::refusal(StatusCode::NOT_FOUND, &e),
    }
}

#[derive(Deserialize, Default)]
struct DocumentQuery {
    #[serde(default)]
    lang: Option<String>,
}

/// The consent document for staff to print for signature, in the patient's
/// language unless another is asked for.
async fn staff_consent_document(
    State(state): State<AppState>,
    Can { viewer, .. }: Can<ViewPatients>,
    Path(plan): Path<String>,
    Query(query): Query<DocumentQuery>,
) -> Response {
    let plan = match state.reader().get::<Plan>(&plan).await {
        Ok(Some(p)) if p.site == viewer.site.id => p,
        Ok(_) => return auth::refusal(StatusCode::NOT_FOUND, "This plan was not found at this site. Check the link, or switch to the site it belongs to."),
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    let person: Person = match state.reader().get::<Person>(plan.patient.as_str()).await {
        Ok(Some(p)) => p,
        Ok(None) => return auth::refusal(StatusCode::NOT_FOUND, "The plan's patient is missing."),
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    if let Err(r) = crate::pages::record_view(&state, &viewer, &person.id, "consent document").await {
        return r;
    }
    let lang = query.lang.as_deref().and_then(Lang::parse).unwrap_or_else(|| lang_of(person.language));
    let t = match tr(lang) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let parties = match parties(&state, &plan, &person).await {
        Ok(p) => p,
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e),
    };
    let chrome = Chrome { t, csrf: String::new(), signed_in: false, next: String::new() };
    match consent_page(t, chrome, &plan, &parties, Some(format!("/patients/{}", person.id))) {
        Ok(page) => render(page),
        Err(e) => auth::refusal(StatusCode::NOT_FOUND, &e),
    }
}

// ---------- the patient's data ----------

async fn my_data(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let patient = match patient(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = record_read(&state, &patient, "data download").await {
        return r;
    }
    let gathered = async {
        let plans = plans_of(&state, &patient.person.id).await?;
        let units: Vec<Unit> = patient_units(&state, &patient.person.id, &plans).await?;
        let adverse_events: Vec<AdverseEvent> = state.reader().adverse_events_of(std::slice::from_ref(&patient.person.id)).await.map_err(|e| e.to_string())?;
        let own_units: Vec<&Unit> = plans.iter().flat_map(|p| units_of(p, &units)).collect();
        let trail = state.reader().trail(&EntityKey::new(EntityKind::Person, &patient.person.id)).await.map_err(|e| e.to_string())?;
        let audit: Vec<serde_json::Value> = trail
            .iter()
            .map(|(e, _)| {
                serde_json::json!({
                    "entry": e.seq,
                    "recorded_at": e.record.recorded_at,
                    "actor": e.record.actor,
                    "site": e.record.site,
                    "kind": e.record.kind,
                    "hash": celltrace_ledger::to_hex(&e.hash),
                })
            })
            .collect();
        Ok::<_, String>(serde_json::json!({
            "format": "celltrace patient data export 1",
            "exported_at": now_micros(),
            "person": patient.person,
            "plans": plans,
            "units": own_units,
            "adverse_events": adverse_events,
            "audit_trail": audit,
        }))
    };
    match gathered.await {
        Ok(data) => {
            let body = serde_json::to_string_pretty(&data).unwrap_or_default();
            (
                [
                    (header::CONTENT_TYPE, "application/json; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"celltrace-{}.json\"", patient.person.id)),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => unavailable(patient.t, e),
    }
}

// ---------- staff: handing over access ----------

#[derive(Template)]
#[template(path = "portal_code.html")]
struct CodePage {
    layout: Option<crate::view::Layout>,
    name: String,
    patient_number: String,
    code: String,
    expires: String,
    language: String,
}

/// A fresh one-time code, e.g. `K7Q4-M2XP-9D`.
pub fn new_code() -> Result<String, String> {
    let mut bytes = [0u8; 10];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no randomness available: {e}"))?;
    let chars: String = bytes.iter().map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()])).collect();
    Ok(format!("{}-{}-{}", &chars[..4], &chars[4..8], &chars[8..]))
}

async fn issue_code(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(form): Form<CsrfForm>) -> Response {
    if let Err(r) = viewer.check_csrf(&form.csrf) {
        return r;
    }
    let person = match state.reader().get::<Person>(&id).await {
        Ok(Some(p)) if p.site == viewer.site.id => p,
        Ok(_) => return auth::refusal(StatusCode::NOT_FOUND, "This patient was not found at this site. Check the link, or switch to the site they belong to."),
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    if person.kind != PersonKind::Patient {
        return auth::refusal(StatusCode::UNPROCESSABLE_ENTITY, "Portal access is for patients; donors are not given a portal account.");
    }
    let code = match new_code() {
        Ok(c) => c,
        Err(e) => return auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    let now = now_micros();
    let expires_at = now + CODE_MICROS;
    let lang = lang_of(person.language);
    // Granting portal access is a ledger event; the code's hash is stored beside it, together.
    let secret = celltrace_store::Secret::PortalCode {
        person: person.id.clone(),
        code_hash: celltrace_store::portal::code_hash(&code),
        issued_by: viewer.staff.id.clone(),
        language: lang.code().to_owned(),
        expires_at,
    };
    match crate::kit::forms::submit_with_secret(&state, &viewer, Command::GrantPortalAccess { person: person.id.clone() }, secret).await {
        Ok(()) => {}
        Err(Ok(message)) => return auth::refusal(StatusCode::UNPROCESSABLE_ENTITY, &message),
        Err(Err(r)) => return r,
    }
    let page = CodePage {
        layout: Some(crate::view::Layout::new(&viewer, "patients")),
        name: person.name.clone(),
        patient_number: person.id.to_string(),
        code,
        expires: crate::view::when(Timestamp(expires_at)),
        language: lang.native_name().to_owned(),
    };
    let mut response = render(page);
    // The code must not be kept by browsers or proxies.
    if let Ok(v) = "no-store".parse() {
        response.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_random() {
        let a = new_code().expect("code");
        let b = new_code().expect("code");
        assert_eq!(a.len(), 12);
        assert_eq!(a.matches('-').count(), 2);
        assert!(a.chars().filter(|c| *c != '-').all(|c| CODE_ALPHABET.contains(&(c as u8))));
        assert_ne!(a, b);
    }

    #[test]
    fn every_product_has_a_name_and_its_own_risks() {
        let t = Tr::new(Lang::Ar).expect("catalogue");
        for product in ProductType::ALL {
            assert!(!t.msg(product_key(product)).starts_with('['));
            assert!(risk_keys(product).len() >= 5, "general risks plus one for the cell source");
        }
    }

    #[test]
    fn visitors_get_their_cookie_then_browser_language() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, "fr-FR, hi;q=0.8, en;q=0.5".parse().expect("header"));
        assert_eq!(visitor_lang(&headers), Lang::Hi);
        headers.insert(header::COOKIE, format!("{LANG_COOKIE}=ar").parse().expect("header"));
        assert_eq!(visitor_lang(&headers), Lang::Ar);
        assert_eq!(visitor_lang(&HeaderMap::new()), Lang::En);
    }
}
