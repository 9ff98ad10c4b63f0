//! The patient's home page: each of their plans (what it is, the evidence
//! for it, their consent, their questionnaires, the story of their cells)
//! and their clinic. It reads this patient's plans and units through their
//! index entries, each unit's trail, and the sites those name, by id: its
//! cost follows the patient's record, not the database.

use super::questionnaire::{self, QuestionnaireLine};
use super::story::{Histories, StoryUnit};
use super::{evidence_keys, product_key, record_read, render, when, Chrome, Patient, PatientRecord};
use crate::error::AppError;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use celltrace_domain::model::{EvidenceStatus, Plan, PlanStatus, Site};
use celltrace_i18n::Tr;
use serde::Deserialize;

struct ConsentView {
    signed: Option<String>,
    withdrawn: Option<String>,
    can_withdraw: bool,
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

fn plan_status_key(status: PlanStatus) -> (&'static str, &'static str) {
    match status {
        PlanStatus::Active => ("plan-status-active", "ok"),
        PlanStatus::Blocked => ("plan-status-blocked", "stop"),
        PlanStatus::Completed => ("plan-status-completed", "ok"),
        PlanStatus::Stopped => ("plan-status-stopped", "warn"),
    }
}

/// A source that is a web address is shown as a link.
fn link_of(source: &str) -> Option<String> {
    (source.starts_with("https://") || source.starts_with("http://")).then(|| source.to_owned())
}

fn plan_view(t: &Tr, plan: &Plan, story: Vec<StoryUnit>) -> Result<PlanView, AppError> {
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
        sources: plan.evidence.sources.iter().map(|s| (s.clone(), link_of(s))).collect(),
        trial: plan.trial.as_ref().map(|trial| t.msg_args("evidence-trial", &[("trial", trial.registration.clone().into())])),
        unproven: plan.evidence.status == EvidenceStatus::Unproven,
        acknowledged: plan.warning_acknowledged_at.map(|at| t.msg_args("warning-acknowledged", &[("date", when(t, at).into())])),
        consent,
        story,
        questionnaires: questionnaire::lines(t, plan)?,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct HomeQuery {
    #[serde(default)]
    done: Option<String>,
}

pub(super) async fn home(State(state): State<AppState>, patient: Patient, Query(query): Query<HomeQuery>) -> Result<Response, AppError> {
    let notice = match query.done.as_deref() {
        Some("withdrawn") => Some(patient.t.msg("withdraw-done")),
        Some("answered") => Some(patient.t.msg("questionnaire-saved")),
        _ => None,
    };
    home_page(&state, &patient, notice, None, StatusCode::OK).await
}

/// The home page, with a notice (what was just done) or an error (what a
/// form of the page needs), answered with `status`.
pub(super) async fn home_page(state: &AppState, patient: &Patient, notice: Option<String>, error: Option<String>, status: StatusCode) -> Result<Response, AppError> {
    let t = patient.t;
    record_read(state, patient, "portal home").await?;
    let record = PatientRecord::load(state, &patient.person.id).await?;
    let told: Vec<_> = record.plans.iter().flat_map(|plan| record.units_of(plan)).collect();
    let histories = Histories::load(state, &told).await?;
    let mut site_ids = histories.sites();
    site_ids.insert(patient.person.site.to_string());
    let sites: Vec<Site> = state.reader().get_many::<Site>(&site_ids.into_iter().collect::<Vec<_>>()).await?;
    let mut plans = Vec::with_capacity(record.plans.len());
    for plan in &record.plans {
        let story = record.units_of(plan).into_iter().map(|unit| histories.tell(&t, unit, &sites)).collect();
        plans.push(plan_view(&t, plan, story)?);
    }
    let site = sites
        .iter()
        .find(|s| s.id == patient.person.site)
        .ok_or_else(|| AppError::internal(format!("{} is registered at {}, which has no record", patient.person.id, patient.person.site)))?;
    let clinic = Some(ClinicView { name: site.name.clone(), country: site.country.clone(), accreditations: site.accreditations.clone() });
    let welcome = t.msg_args("welcome-name", &[("name", patient.person.name.clone().into())]);
    render(status, &HomePage { c: patient.chrome("/portal"), welcome, notice, error, clinic, plans })
}
