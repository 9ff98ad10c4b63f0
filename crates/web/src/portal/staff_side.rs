//! The staff pages that serve the portal: handing a patient a one-time code
//! on a printed slip (granting portal access is a ledger event; the code's
//! hash is stored with it, the code itself is shown once), and printing a
//! plan's consent document for signature in the patient's language.

use super::consent::{consent_page, parties};
use super::{lang_of, render, tr, Chrome, CsrfForm};
use crate::auth::{self, Can, RecordClinical, ViewPatients};
use crate::error::AppError;
use crate::kit::layout::{self, Layout};
use crate::kit::records::{new_command_id, record_view, site_person, site_plan};
use crate::{now_micros, AppState};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Form;
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::model::Person;
use celltrace_domain::time::Timestamp;
use celltrace_i18n::Lang;
use serde::Deserialize;

/// How long a one-time code stays valid (7 days).
pub const CODE_MICROS: i64 = 7 * 24 * 3_600_000_000;
/// Characters of one-time codes: no 0/O, 1/I/L, so they read off paper.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

#[derive(Template)]
#[template(path = "portal_code.html")]
struct CodePage {
    layout: Option<Layout>,
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

/// Issues a patient of this site a one-time code (replacing any earlier
/// one) and shows the slip to hand over. The rules decide who may grant
/// access and to whom (patients, not donors).
pub(super) async fn issue_code(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(form): Form<CsrfForm>) -> Result<Response, AppError> {
    if !auth::same_secret(&form.csrf, &viewer.session.csrf_token) {
        return Err(AppError::form_expired());
    }
    let person = site_person(&state, &viewer, &id).await?;
    let code = new_code().map_err(AppError::internal)?;
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
    let submission = Submission {
        id: new_command_id()?,
        actor: Actor::Staff(viewer.staff.id.clone()),
        site: viewer.site.id.clone(),
        at: Timestamp(now),
        command: Command::GrantPortalAccess { person: person.id.clone() },
    };
    state.engine.submit_with_secret(submission, secret).await?;
    let page = CodePage {
        layout: Some(Layout::new(&viewer, "patients")),
        name: person.name.clone(),
        patient_number: person.id.to_string(),
        code,
        expires: layout::when(Timestamp(expires_at)),
        language: lang.native_name().to_owned(),
    };
    let mut response = render(StatusCode::OK, &page)?;
    // The code must not be kept by browsers or proxies.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize, Default)]
pub(super) struct DocumentQuery {
    #[serde(default)]
    lang: Option<String>,
}

/// The consent document for staff to print for signature, in the patient's
/// language unless another is asked for.
pub(super) async fn consent_document(
    State(state): State<AppState>,
    Can { viewer, .. }: Can<ViewPatients>,
    Path(plan): Path<String>,
    Query(query): Query<DocumentQuery>,
) -> Result<Response, AppError> {
    let plan = site_plan(&state, &viewer, &plan).await?;
    let person = state
        .reader()
        .get::<Person>(plan.patient.as_str())
        .await?
        .ok_or_else(|| AppError::internal(format!("plan {} is of {}, who has no record", plan.id, plan.patient)))?;
    record_view(&state, &viewer, &person.id, "consent document").await?;
    let lang = query.lang.as_deref().and_then(Lang::parse).unwrap_or_else(|| lang_of(person.language));
    let t = tr(lang)?;
    let parties = parties(&state, &plan, &person).await?;
    // Printed from a staff page: no portal session; another language is asked for with ?lang=.
    let chrome = Chrome { t, csrf: String::new(), signed_in: false, next: String::new() };
    render(StatusCode::OK, &consent_page(t, chrome, &plan, &parties, Some(format!("/patients/{}", person.id)))?)
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
}
