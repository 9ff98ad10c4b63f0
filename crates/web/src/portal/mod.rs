//! The patient portal: a patient signs in with a one-time code handed over at
//! the clinic (then a password of their own) and reads their plan, the
//! evidence for it, their consent, the story of their cells and their data, in
//! English, Arabic or Hindi. Staff issue the codes and print consent documents
//! (`staff_side`).
//!
//! This module owns the portal's routes and what every portal page shares:
//! the header with the language switch, translation, rendering, the patient's
//! own records and commands, and the error page `crate::error` shows for every
//! portal [`AppError`]. Each feature is a module of its own. Every read is a
//! typed, indexed query of this patient's records: a page costs what the
//! patient's record holds, never what the database holds.

mod consent;
mod data;
mod home;
mod language;
mod questionnaire;
mod session;
mod staff_side;
mod story;

pub use session::{Patient, PORTAL_COOKIE, PORTAL_SESSION_MICROS};
pub use staff_side::{new_code, CODE_MICROS};

use crate::error::AppError;
use crate::routes::{Access, Route};
use crate::{auth, now_micros, AppState};
use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use celltrace_domain::access::Permission;
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::{PersonId, SiteId};
use celltrace_domain::model::{EvidenceStatus, IntendedUse, Language, Plan, ProductType, Unit};
use celltrace_domain::time::{Date, Timestamp};
use celltrace_i18n::{Lang, Tr};

/// The language a visitor chose before signing in.
pub const LANG_COOKIE: &str = "ct_lang";
/// How long a visitor's language choice is kept (a year).
const LANG_COOKIE_SECONDS: i64 = 365 * 24 * 3600;

/// Every route of the portal, and the two staff pages that serve it.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/portal", Access::Patient, home::home),
        Route::get("/portal/login", Access::Public, session::login_form),
        Route::post("/portal/login", Access::Public, session::login),
        Route::get("/portal/activate", Access::Public, session::activate_form),
        Route::post("/portal/activate", Access::Public, session::activate),
        Route::post("/portal/logout", Access::Patient, session::logout),
        Route::post("/portal/language", Access::Public, language::choose_language),
        Route::get("/portal/plans/{plan}/consent", Access::Patient, consent::consent_document),
        Route::post("/portal/plans/{plan}/withdraw", Access::Patient, consent::withdraw),
        Route::get("/portal/my-data.json", Access::Patient, data::my_data),
        Route::get("/portal/plans/{plan}/questionnaires/{time_point}/{instrument}", Access::Patient, questionnaire::form),
        Route::post("/portal/plans/{plan}/questionnaires/{time_point}/{instrument}", Access::Patient, questionnaire::submit),
        Route::post("/patients/{id}/portal-code", Access::Staff(Permission::RecordClinical), staff_side::issue_code),
        Route::get("/plans/{plan}/consent-document", Access::Staff(Permission::ViewPatients), staff_side::consent_document),
    ]
}

// ---------- languages ----------

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

/// The message catalogue of `lang`; the catalogues ship inside the binary,
/// so failing to load one is a fault of the build.
fn tr(lang: Lang) -> Result<Tr, AppError> {
    Tr::new(lang).map_err(|e| AppError::internal(format!("the portal's message catalogue: {e}")))
}

/// The language of a request, for pages shown before (or without) a
/// session: the visitor's cookie, then their browser's, then English.
pub fn request_language(headers: &HeaderMap) -> Lang {
    if let Some(lang) = auth::cookie(headers, LANG_COOKIE).as_deref().and_then(Lang::parse) {
        return lang;
    }
    // A header that is not text names no language, like a missing one.
    let accepted = match headers.get(header::ACCEPT_LANGUAGE).map(HeaderValue::to_str) {
        Some(Ok(text)) => text,
        Some(Err(_)) | None => "",
    };
    accepted.split(',').find_map(|part| Lang::parse(part.split(';').next().unwrap_or_default())).unwrap_or(Lang::En)
}

/// Keeps `lang` as the visitor's choice on this device.
fn lang_cookie(https: bool, lang: Lang) -> String {
    auth::set_cookie(https, LANG_COOKIE, lang.code(), LANG_COOKIE_SECONDS)
}

// ---------- pages ----------

/// What the header of every portal page needs.
struct Chrome {
    t: Tr,
    csrf: String,
    signed_in: bool,
    /// Where the language switch returns to.
    next: String,
}

impl Chrome {
    /// The header for someone who is not signed in.
    fn visitor(t: Tr, csrf: String, next: &str) -> Chrome {
        Chrome { t, csrf, signed_in: false, next: next.to_owned() }
    }
}

/// A form that carries nothing but its CSRF token.
#[derive(serde::Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Template)]
#[template(path = "portal/message.html")]
struct MessagePage {
    c: Chrome,
    title: String,
    message: String,
}

/// The portal's page for an error, in the visitor's language. The English
/// detail of the error is for staff and programs; patients read a message
/// chosen by what kind of failure it was.
pub fn error_page(lang: Lang, error: &AppError, request_id: &str) -> String {
    let t = match Tr::new(lang) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(request_id, "the portal's error page has no message catalogue: {e}");
            return error.message().to_owned();
        }
    };
    let status = error.status();
    let message = match (error.code(), status) {
        ("form_expired", _) => t.msg("error-form-expired"),
        ("questionnaire_closed", _) => t.msg("questionnaire-closed"),
        (_, StatusCode::NOT_FOUND) => t.msg("error-not-found"),
        (_, StatusCode::TOO_MANY_REQUESTS) => t.msg("error-throttled"),
        (_, StatusCode::SERVICE_UNAVAILABLE) => t.msg("error-unavailable"),
        (_, s) if s.is_server_error() => t.msg_args("error-internal", &[("reference", request_id.to_owned().into())]),
        _ => t.msg("error-refused"),
    };
    let page = MessagePage { c: Chrome::visitor(t, String::new(), "/portal"), title: t.msg("portal-title"), message };
    page.render().unwrap_or_else(|e| {
        tracing::error!(request_id, "the portal's error page could not be rendered: {e}");
        error.message().to_owned()
    })
}

/// A page with its status.
fn render(status: StatusCode, page: &impl Template) -> Result<Response, AppError> {
    Ok((status, Html(page.render()?)).into_response())
}

/// Adds a `Set-Cookie` header to `response`.
fn add_cookie(response: &mut Response, cookie: &str) -> Result<(), AppError> {
    let value = HeaderValue::from_str(cookie).map_err(|e| AppError::internal(format!("a cookie that is no header value: {e}")))?;
    response.headers_mut().append(header::SET_COOKIE, value);
    Ok(())
}

// ---------- the patient's records and commands ----------

/// Submits `command` as the signed-in patient at `site`, now; a refusal by
/// the rules is an [`AppError`] the portal shows in the patient's words.
async fn submit_as_patient(state: &AppState, patient: &Patient, site: &SiteId, command: Command) -> Result<(), AppError> {
    let submission = Submission {
        id: crate::kit::records::new_command_id()?,
        actor: Actor::Patient(patient.person.id.clone()),
        site: site.clone(),
        at: Timestamp(now_micros()),
        command,
    };
    state.engine.submit(submission).await?;
    Ok(())
}

/// Records in the ledger that the patient read their own record, before it
/// is shown: a patient's reads are in their audit trail like staff's.
async fn record_read(state: &AppState, patient: &Patient, view: &str) -> Result<(), AppError> {
    let command = Command::RecordRecordViewed { person: patient.person.id.clone(), view: view.to_owned(), via_unit: None };
    submit_as_patient(state, patient, &patient.person.site, command).await
}

/// A plan of the signed-in patient; any other plan is "not found".
async fn own_plan(state: &AppState, patient: &Patient, plan: &str) -> Result<Plan, AppError> {
    match state.reader().get::<Plan>(plan).await? {
        Some(p) if p.patient == patient.person.id => Ok(p),
        _ => Err(AppError::not_found("This plan")),
    }
}

/// A patient's plans and the units of their record: their own material
/// (and what was made from it) and the units allocated to their plans.
/// Read through the patient's index entries only.
struct PatientRecord {
    plans: Vec<Plan>,
    units: Vec<Unit>,
}

impl PatientRecord {
    async fn load(state: &AppState, person: &PersonId) -> Result<PatientRecord, AppError> {
        let reader = state.reader();
        let plans = reader.plans_of(person).await?;
        let mut units = reader.units_from(person).await?;
        for plan in &plans {
            units.extend(reader.units_for_plan(plan.id.as_str()).await?);
        }
        units.sort_by(|a, b| a.id.cmp(&b.id));
        units.dedup_by(|a, b| a.id == b.id);
        Ok(PatientRecord { plans, units })
    }

    /// Units that are part of `plan`: the patient's own material of the
    /// plan's product type, and donor units allocated to the plan; starting
    /// material first, as the story runs.
    fn units_of(&self, plan: &Plan) -> Vec<&Unit> {
        let mut own: Vec<&Unit> = self
            .units
            .iter()
            .filter(|u| match &u.intended_use {
                IntendedUse::Autologous { patient } => patient == &plan.patient && u.product_type == plan.product_type,
                IntendedUse::Allogeneic => u.allocated_to.as_ref() == Some(&plan.id),
            })
            .collect();
        own.sort_by_key(|u| (u.created_at, u.id.to_string()));
        own
    }
}

// ---------- words shared by the pages ----------

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

/// The status's name, what it means, and its badge class.
fn evidence_keys(status: EvidenceStatus) -> (&'static str, &'static str, &'static str) {
    match status {
        EvidenceStatus::Approved => ("evidence-status-approved", "evidence-meaning-approved", "ok"),
        EvidenceStatus::Investigational => ("evidence-status-investigational", "evidence-meaning-investigational", "warn"),
        EvidenceStatus::Unproven => ("evidence-status-unproven", "evidence-meaning-unproven", "stop"),
        EvidenceStatus::ResearchOnly => ("evidence-status-research-only", "evidence-meaning-research-only", "stop"),
    }
}

fn date_of(t: &Tr, date: Date) -> String {
    let (y, m, d) = date.parts();
    t.date(y, u32::from(m), u32::from(d))
}

/// The day of `at`, in the reader's calendar words.
fn when(t: &Tr, at: Timestamp) -> String {
    date_of(t, at.date())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitors_get_their_cookie_then_browser_language() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, "fr-FR, hi;q=0.8, en;q=0.5".parse().expect("header"));
        assert_eq!(request_language(&headers), Lang::Hi);
        headers.insert(header::COOKIE, format!("{LANG_COOKIE}=ar").parse().expect("header"));
        assert_eq!(request_language(&headers), Lang::Ar);
        assert_eq!(request_language(&HeaderMap::new()), Lang::En);
    }

    #[test]
    fn every_product_has_a_name() {
        let t = Tr::new(Lang::Ar).expect("catalogue");
        for product in ProductType::ALL {
            assert!(!t.msg(product_key(product)).starts_with('['));
        }
    }

    #[test]
    fn the_error_page_speaks_the_visitors_language_and_hides_causes() {
        let page = error_page(Lang::Ar, &AppError::internal("secret cause"), "req-7");
        assert!(page.contains(r#"<html lang="ar" dir="rtl">"#) && page.contains("req-7") && !page.contains("secret cause"));
        let expired = error_page(Lang::En, &AppError::form_expired(), "req-8");
        assert!(expired.contains(&Tr::new(Lang::En).expect("catalogue").msg("error-form-expired")));
    }
}
