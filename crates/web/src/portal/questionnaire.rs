//! The patient's questionnaires: what each plan asks and when (the lines on
//! the home page), the form of one that is open now, in the patient's
//! language, and their answers, recorded with the patient as the actor.

use super::{date_of, own_plan, render, submit_as_patient, Chrome, Patient};
use crate::error::AppError;
use crate::kit::questionnaires::{self as kit, ItemView};
use crate::{now_micros, AppState};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use celltrace_domain::command::Command;
use celltrace_domain::ids::VisitId;
use celltrace_domain::model::{Plan, PlanStatus};
use celltrace_domain::time::{Date, Timestamp};
use celltrace_i18n::Tr;
use celltrace_outcomes::schedule::VisitState;
use celltrace_outcomes::Instrument;
use std::collections::BTreeMap;

/// One questionnaire of a plan as the home page lists it.
pub(super) struct QuestionnaireLine {
    pub(super) label: String,
    pub(super) state: String,
    pub(super) class: &'static str,
    pub(super) link: Option<String>,
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

/// "6 months · Pain score", in the reader's words (a time point or an
/// instrument without a translation is shown by its id).
fn label(t: &Tr, time_point: &str, instrument: &str) -> String {
    let when = time_point_key(time_point).map(|k| t.msg(k)).unwrap_or_else(|| time_point.to_owned());
    let what = instrument_key(instrument).map(|k| t.msg(k)).unwrap_or_else(|| instrument.to_owned());
    format!("{when} · {what}")
}

fn day_date(t: &Tr, day: i64) -> String {
    date_of(t, Date::from_days_since_epoch(day))
}

/// Where each questionnaire of `plan` stands today.
fn statuses(plan: &Plan) -> Result<Vec<celltrace_outcomes::schedule::TimePointStatus>, AppError> {
    kit::plan_status(plan, Timestamp(now_micros())).map_err(|e| AppError::internal(format!("the questionnaire schedule: {e}")))
}

/// The plan's questionnaires as the patient sees them: what to answer now,
/// what opens later, what was answered or missed. A blocked plan, or one
/// without consent in force, asks nothing.
pub(super) fn lines(t: &Tr, plan: &Plan) -> Result<Vec<QuestionnaireLine>, AppError> {
    if plan.status == PlanStatus::Blocked || plan.current_consent().is_none() {
        return Ok(Vec::new());
    }
    Ok(statuses(plan)?
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
            QuestionnaireLine { label: label(t, &s.time_point, &s.instrument), state, class, link }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "portal/questionnaire.html")]
struct QuestionnairePage {
    c: Chrome,
    title: String,
    intro: String,
    error: Option<String>,
    action: String,
    items: Vec<ItemView>,
}

/// The patient's plan and the instrument of a questionnaire open now; one
/// that is answered, not yet open or closed is a conflict the portal
/// explains in the patient's words.
async fn open_questionnaire(state: &AppState, patient: &Patient, plan: &str, time_point: &str, instrument: &str) -> Result<(Plan, &'static Instrument), AppError> {
    let plan = own_plan(state, patient, plan).await?;
    let closed = || AppError::conflict("questionnaire_closed", format!("The {instrument} questionnaire for {time_point} is not open now."));
    let open = statuses(&plan)?
        .iter()
        .any(|s| s.time_point == time_point && s.instrument == instrument && matches!(s.state, VisitState::Due | VisitState::Overdue));
    if !open || plan.current_consent().is_none() {
        return Err(closed());
    }
    let definition = kit::instruments().map_err(|e| AppError::internal(format!("the shipped instruments: {e}")))?.get(instrument).ok_or_else(closed)?;
    Ok((plan, definition))
}

fn page(patient: &Patient, plan: &Plan, time_point: &str, definition: &Instrument, answers: &BTreeMap<String, u8>, error: Option<String>) -> Result<Response, AppError> {
    let t = patient.t;
    let action = format!("/portal/plans/{}/questionnaires/{}/{}", plan.id, time_point, definition.id);
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    render(
        status,
        &QuestionnairePage {
            c: patient.chrome(&action),
            title: label(&t, time_point, &definition.id),
            intro: t.msg("questionnaire-intro"),
            items: kit::item_views(definition, t.lang, answers, error.is_some()),
            error,
            action,
        },
    )
}

pub(super) async fn form(State(state): State<AppState>, patient: Patient, Path((plan, time_point, instrument)): Path<(String, String, String)>) -> Result<Response, AppError> {
    let (plan, definition) = open_questionnaire(&state, &patient, &plan, &time_point, &instrument).await?;
    page(&patient, &plan, &time_point, definition, &BTreeMap::new(), None)
}

pub(super) async fn submit(
    State(state): State<AppState>,
    patient: Patient,
    Path((plan, time_point, instrument)): Path<(String, String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let csrf = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or_default();
    patient.check_csrf(csrf)?;
    let (plan, definition) = open_questionnaire(&state, &patient, &plan, &time_point, &instrument).await?;
    let answers = kit::answers_from(&form);
    if definition.items.iter().any(|i| !answers.contains_key(&i.id)) {
        return page(&patient, &plan, &time_point, definition, &answers, Some(patient.t.msg("questionnaire-incomplete")));
    }
    let visit = VisitId::parse(&format!("visit-{}", uuid::Uuid::now_v7())).map_err(AppError::internal)?;
    let command = Command::AnswerQuestionnaire {
        plan: plan.id.clone(),
        visit,
        time_point,
        instrument: definition.id.clone(),
        answers,
        language: super::language_of(patient.t.lang),
    };
    submit_as_patient(&state, &patient, &plan.site, command).await?;
    Ok(Redirect::to("/portal?done=answered").into_response())
}
