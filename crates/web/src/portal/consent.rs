//! Consent: the consent document of a plan, in the reader's language and
//! from the template version the patient signed (patients read it here;
//! staff print it for signature from `staff_side`), and withdrawing
//! consent from the portal, recorded with the patient as the actor.

use super::home::home_page;
use super::{evidence_keys, own_plan, product_key, record_read, render, submit_as_patient, when, Chrome, Patient};
use crate::error::AppError;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use celltrace_domain::command::Command;
use celltrace_domain::model::{EvidenceStatus, Person, Plan, ProductType, Site, Staff};
use celltrace_domain::time::Timestamp;
use celltrace_i18n::{Tr, CONSENT_TEMPLATE, CONSENT_VERSION};
use serde::Deserialize;

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
pub(super) struct ConsentPage {
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

/// The risks a consent names: the general ones, and those of the cell source.
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

/// Who a consent document names.
pub(super) struct ConsentParties<'a> {
    patient: &'a Person,
    clinic: String,
    physician: String,
    witness: Option<String>,
}

/// The names of the clinic, the physician and the witness of `plan`'s
/// consent, each read by id.
pub(super) async fn parties<'a>(state: &AppState, plan: &Plan, patient: &'a Person) -> Result<ConsentParties<'a>, AppError> {
    let reader = state.reader();
    let consent = plan.consents.last();
    let staff_name = |id: String| async move {
        match reader.get::<Staff>(&id).await? {
            Some(staff) => Ok::<_, AppError>(staff.name),
            None => Err(AppError::internal(format!("plan {} names {id}, who has no account", plan.id))),
        }
    };
    let physician = staff_name(consent.map(|c| c.physician.to_string()).unwrap_or_else(|| plan.physician.to_string())).await?;
    let witness = match consent.and_then(|c| c.witness.as_ref()) {
        Some(w) => Some(staff_name(w.to_string()).await?),
        None => None,
    };
    let clinic = reader.get::<Site>(plan.site.as_str()).await?.ok_or_else(|| AppError::internal(format!("plan {} is held by {}, which has no record", plan.id, plan.site)))?.name;
    Ok(ConsentParties { patient, clinic, physician, witness })
}

/// The consent document of `plan` in `t`'s language, from the template
/// version the patient signed (or the current one before signing).
pub(super) fn consent_page(t: Tr, chrome: Chrome, plan: &Plan, parties: &ConsentParties<'_>, back: Option<String>) -> Result<ConsentPage, AppError> {
    let consent = plan.consents.last();
    let version = consent.map(|c| c.template_version.as_str()).unwrap_or(CONSENT_VERSION);
    if !celltrace_i18n::consent_version_known(version) {
        return Err(AppError::conflict(
            "consent_template_unknown",
            format!(
                "This consent was signed on template {} version {version}, which this installation does not hold. Use the signed paper copy kept by the clinic.",
                consent.map(|c| c.template.as_str()).unwrap_or(CONSENT_TEMPLATE)
            ),
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
    let signed_at = consent.map(|c| c.patient_signed_at);
    let mut signatures = vec![
        SignatureLine { role: t.msg("consent-sign-patient"), name: parties.patient.name.clone(), signed: signed(signed_at) },
        SignatureLine { role: t.msg("consent-sign-physician"), name: parties.physician.clone(), signed: signed(signed_at) },
    ];
    if let Some(witness) = &parties.witness {
        signatures.push(SignatureLine { role: t.msg("consent-sign-witness"), name: witness.clone(), signed: signed(signed_at) });
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

/// The patient's own consent document.
pub(super) async fn consent_document(State(state): State<AppState>, patient: Patient, Path(plan): Path<String>) -> Result<Response, AppError> {
    let plan = own_plan(&state, &patient, &plan).await?;
    record_read(&state, &patient, "consent document").await?;
    let parties = parties(&state, &plan, &patient.person).await?;
    let chrome = patient.chrome(&format!("/portal/plans/{}/consent", plan.id));
    render(StatusCode::OK, &consent_page(patient.t, chrome, &plan, &parties, Some("/portal".into()))?)
}

#[derive(Deserialize)]
pub(super) struct WithdrawForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Withdraws the patient's consent to a plan of theirs, once they ticked
/// the box that says they mean it.
pub(super) async fn withdraw(State(state): State<AppState>, patient: Patient, Path(plan): Path<String>, Form(form): Form<WithdrawForm>) -> Result<Response, AppError> {
    patient.check_csrf(&form.csrf)?;
    let plan = own_plan(&state, &patient, &plan).await?;
    if form.confirm.is_none() {
        let error = patient.t.msg("withdraw-must-confirm");
        return home_page(&state, &patient, None, Some(error), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let reason: String = form.reason.trim().chars().take(500).collect();
    submit_as_patient(&state, &patient, &plan.site, Command::WithdrawConsent { plan: plan.id.clone(), reason }).await?;
    Ok(Redirect::to("/portal?done=withdrawn").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_product_names_its_own_risks() {
        for product in ProductType::ALL {
            assert!(risk_keys(product).len() >= 5, "general risks plus one for the cell source");
        }
    }
}
