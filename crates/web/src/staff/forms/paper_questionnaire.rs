//! The paper questionnaire form: staff enter the answers a patient gave on
//! paper, checked and scored by the rules like the portal's. The form opens
//! while the questionnaire is due; what is submitted is the rules' to
//! decide (its window, the instrument, the answers), by the same codes as
//! every other entry path.

use crate::auth::{Can, RecordClinical, Viewer};
use crate::error::AppError;
use crate::kit::forms::{csrf_ok, new_id, submit, Failure, FormRefusal, Values};
use crate::kit::layout::Layout;
use crate::kit::questionnaires::*;
use crate::kit::records::site_plan;
use crate::routes::{Access, Route};
use crate::{now_micros, AppState};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::model::{Language, Person, Plan};
use celltrace_domain::time::Timestamp;
use celltrace_domain::{Rejection, RejectionCode};
use celltrace_i18n::Lang;
use celltrace_outcomes::schedule::VisitState;
use celltrace_outcomes::Instrument;
use std::collections::BTreeMap;

/// The paper-entry routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/plans/{plan}/questionnaires/{time_point}/{instrument}", Access::Staff(Permission::RecordClinical), form),
        Route::post("/plans/{plan}/questionnaires/{time_point}/{instrument}", Access::Staff(Permission::RecordClinical), submit_form),
    ]
}

#[derive(Template)]
#[template(path = "paper_questionnaire.html")]
struct PaperPage {
    layout: Option<Layout>,
    title: String,
    patient: String,
    licence: String,
    error: Option<String>,
    code: Option<&'static str>,
    field: Option<String>,
    action: String,
    csrf: String,
    items: Vec<ItemView>,
    language: String,
}

/// The plan (at the viewer's site), its patient and the instrument.
async fn open(state: &AppState, viewer: &Viewer, plan: &str, instrument: &str) -> Result<(Plan, Person, &'static Instrument), AppError> {
    let plan = site_plan(state, viewer, plan).await?;
    let person = state.reader().get::<Person>(plan.patient.as_str()).await?.ok_or_else(|| AppError::internal(format!("the patient {} of plan {} is missing", plan.patient, plan.id)))?;
    let definition = instruments().map_err(AppError::internal)?.get(instrument).ok_or_else(|| AppError::not_found(&format!("The instrument '{instrument}' (shipped: nprs, koos, pgic)")))?;
    Ok((plan, person, definition))
}

/// Whether the questionnaire is due now, for showing the form; a
/// questionnaire that is not says why, with the code the rules would give.
fn due(plan: &Plan, time_point: &str, instrument: &str) -> Result<(), AppError> {
    let statuses = plan_status(plan, Timestamp(now_micros())).map_err(AppError::internal)?;
    let refuse = |code, message: String| Err(AppError::rejected(Rejection::new(code, format!("{message} Nothing was recorded."))));
    let Some(status) = statuses.iter().find(|s| s.time_point == time_point && s.instrument == instrument) else {
        return Err(AppError::not_found(&format!("The {instrument} questionnaire at {time_point} of this plan's schedule")));
    };
    if plan.current_consent().is_none() {
        return refuse(RejectionCode::NoConsent, "The plan has no consent in force.".into());
    }
    match status.state {
        VisitState::Due | VisitState::Overdue => Ok(()),
        VisitState::Completed => refuse(RejectionCode::AlreadyAnswered, format!("The {instrument} questionnaire for {time_point} is already answered.")),
        VisitState::Upcoming | VisitState::Missed => refuse(RejectionCode::OutsideWindow, format!("The {instrument} questionnaire for {time_point} is not in its window.")),
    }
}

fn page(viewer: &Viewer, plan: &Plan, person: &Person, time_point: &str, definition: &Instrument, answers: &BTreeMap<String, u8>, refusal: Option<&FormRefusal>) -> Result<Response, AppError> {
    let field = refusal.and_then(|r| r.field.as_ref()).map(|b| match b {
        crate::kit::forms::Blame::Command(f) | crate::kit::forms::Blame::Form(f) => f.clone(),
    });
    let html = PaperPage {
        layout: Some(Layout::new(viewer, "patients")),
        title: format!("{} at {time_point}, from the paper form", definition.name),
        patient: person.name.clone(),
        licence: definition.licence.clone(),
        action: format!("/plans/{}/questionnaires/{}/{}", plan.id, time_point, definition.id),
        csrf: viewer.session.csrf_token.clone(),
        items: item_views(definition, Lang::En, answers, false),
        language: format!("{:?}", person.language).to_lowercase(),
        error: refusal.map(|r| r.message.clone()),
        code: refusal.and_then(|r| r.code).map(RejectionCode::as_str),
        field,
    }
    .render()?;
    let status = if refusal.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Html(html)).into_response())
}

async fn form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path((plan, time_point, instrument)): Path<(String, String, String)>) -> Result<Response, AppError> {
    let (plan, person, definition) = open(&state, &viewer, &plan, &instrument).await?;
    due(&plan, &time_point, &instrument)?;
    page(&viewer, &plan, &person, &time_point, definition, &BTreeMap::new(), None)
}

async fn submit_form(
    State(state): State<AppState>,
    Can { viewer, .. }: Can<RecordClinical>,
    Path((plan, time_point, instrument)): Path<(String, String, String)>,
    Form(values): Form<Values>,
) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let (plan, person, definition) = open(&state, &viewer, &plan, &instrument).await?;
    let answers = answers_from(&values);
    let sheet = Sheet { plan: &plan, person: &person, time_point: &time_point, definition };
    match record(&state, &viewer, &sheet, &values, &answers).await {
        Ok(()) => Ok(Redirect::to(&format!("/patients/{}", plan.patient)).into_response()),
        Err(Failure::Refused(refusal)) => page(&viewer, &plan, &person, &time_point, definition, &answers, Some(&refusal)),
        Err(Failure::Error(error)) => Err(error),
    }
}

/// The paper form being entered: whose, which time point and instrument.
struct Sheet<'a> {
    plan: &'a Plan,
    person: &'a Person,
    time_point: &'a str,
    definition: &'a Instrument,
}

async fn record(state: &AppState, viewer: &Viewer, sheet: &Sheet<'_>, values: &Values, answers: &BTreeMap<String, u8>) -> Result<(), Failure> {
    // Blank items on paper stay blank: the rules score the answers with the instrument's missing-item rule.
    let language = match crate::kit::forms::value(values, "language").as_str() {
        "" => sheet.person.language,
        chosen => serde_json::from_value::<Language>(serde_json::Value::String(chosen.to_owned())).map_err(|_| FormRefusal::invalid("language", "Choose the language of the paper form."))?,
    };
    let command = Command::AnswerQuestionnaire {
        plan: sheet.plan.id.clone(),
        visit: new_id("visit")?,
        time_point: sheet.time_point.to_owned(),
        instrument: sheet.definition.id.clone(),
        answers: answers.clone(),
        language,
    };
    submit(state, viewer, command).await?;
    Ok(())
}
