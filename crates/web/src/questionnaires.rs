//! The paper questionnaire form: staff enter the answers a patient gave on
//! paper, checked and scored like the portal's.

use celltrace_domain::model::Plan;
use celltrace_domain::time::Timestamp;
use celltrace_i18n::Lang;
use celltrace_outcomes::Instrument;
use std::collections::BTreeMap;
use crate::kit::questionnaires::*;


#[derive(askama::Template)]
#[template(path = "paper_questionnaire.html")]
struct PaperPage {
    layout: Option<crate::view::Layout>,
    title: String,
    patient: String,
    licence: String,
    error: Option<String>,
    action: String,
    csrf: String,
    items: Vec<ItemView>,
    language: String,
}

/// The paper-entry routes.
pub fn routes() -> Vec<crate::routes::Route> {
    use crate::routes::{Access, Route};
    use celltrace_domain::access::Permission;
    vec![
        Route::get("/plans/{plan}/questionnaires/{time_point}/{instrument}", Access::Staff(Permission::RecordClinical), paper_form),
        Route::post("/plans/{plan}/questionnaires/{time_point}/{instrument}", Access::Staff(Permission::RecordClinical), paper_submit),
    ]
}

type Refusal = axum::response::Response;

async fn open_for_staff(
    state: &crate::AppState,
    viewer: &crate::auth::Viewer,
    plan: &str,
    time_point: &str,
    instrument: &str,
) -> Result<(Plan, celltrace_domain::model::Person, &'static Instrument), Refusal> {
    use axum::http::StatusCode;
    
    let refuse = |status, text: &str| crate::auth::refusal(status, text);
    let plan = match state.reader().get::<Plan>(plan).await {
        Ok(Some(p)) if p.site == viewer.site.id => p,
        Ok(_) => return Err(refuse(StatusCode::NOT_FOUND, "This plan was not found at this site. Check the link, or switch to the site it belongs to.")),
        Err(e) => return Err(refuse(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())),
    };
    let person = match state.reader().get::<celltrace_domain::model::Person>(plan.patient.as_str()).await {
        Ok(Some(p)) => p,
        Ok(None) => return Err(refuse(StatusCode::NOT_FOUND, "The plan's patient is missing.")),
        Err(e) => return Err(refuse(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())),
    };
    let definition = instruments().map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, &e))?.get(instrument).ok_or_else(|| {
        refuse(StatusCode::NOT_FOUND, &format!("There is no instrument '{instrument}'. Shipped: nprs, koos, pgic."))
    })?;
    let open = staff_lines(&plan, true).into_iter().any(|(what, _, link)| what == format!("{time_point} {instrument}") && link.is_some());
    if !open {
        return Err(refuse(
            StatusCode::CONFLICT,
            &format!("The {instrument} questionnaire for {time_point} is not open for this plan (not scheduled, not in its window, already answered, or no consent in force). Nothing was recorded."),
        ));
    }
    Ok((plan, person, definition))
}

fn paper_page(viewer: &crate::auth::Viewer, plan: &Plan, person: &celltrace_domain::model::Person, time_point: &str, definition: &Instrument, answers: &BTreeMap<String, u8>, error: Option<String>) -> Refusal {
    use askama::Template;
    use axum::response::IntoResponse;
    let page = PaperPage {
        layout: Some(crate::view::Layout::new(viewer, "patients")),
        title: format!("{} at {time_point}, from the paper form", definition.name),
        patient: person.name.clone(),
        licence: definition.licence.clone(),
        action: format!("/plans/{}/questionnaires/{}/{}", plan.id, time_point, definition.id),
        csrf: viewer.session.csrf_token.clone(),
        items: item_views(definition, Lang::En, answers, false),
        language: format!("{:?}", person.language).to_lowercase(),
        error: error.clone(),
    };
    match page.render() {
        Ok(html) => {
            let status = if error.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
            (status, axum::response::Html(html)).into_response()
        }
        Err(e) => crate::auth::refusal(axum::http::StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn paper_form(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    crate::auth::Can { viewer, .. }: crate::auth::Can<crate::auth::RecordClinical>,
    axum::extract::Path((plan, time_point, instrument)): axum::extract::Path<(String, String, String)>,
) -> Refusal {
    match open_for_staff(&state, &viewer, &plan, &time_point, &instrument).await {
        Ok((plan, person, definition)) => paper_page(&viewer, &plan, &person, &time_point, definition, &BTreeMap::new(), None),
        Err(r) => r,
    }
}

async fn paper_submit(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    crate::auth::Can { viewer, .. }: crate::auth::Can<crate::auth::RecordClinical>,
    axum::extract::Path((plan, time_point, instrument)): axum::extract::Path<(String, String, String)>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Refusal {
    use axum::response::IntoResponse;
    use celltrace_domain::command::{Actor, Command, Submission};
    let csrf = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or_default();
    if let Err(r) = viewer.check_csrf(csrf) {
        return r;
    }
    let (plan, person, definition) = match open_for_staff(&state, &viewer, &plan, &time_point, &instrument).await {
        Ok(open) => open,
        Err(r) => return r,
    };
    let answers = answers_from(&form);
    let again = |e: String| paper_page(&viewer, &plan, &person, &time_point, definition, &answers, Some(e));
    if answers.is_empty() {
        return again("No answer was entered. Enter what the patient marked on the paper form; leave blank what they left blank.".into());
    }
    // Blank items on paper stay blank: the rules score the answers with the instrument's missing-item rule.
    let language = form
        .iter()
        .find(|(k, _)| k == "language")
        .and_then(|(_, v)| serde_json::from_value(serde_json::Value::String(v.clone())).ok())
        .unwrap_or(person.language);
    let (Ok(id), Ok(visit)) = (
        celltrace_domain::ids::CommandId::parse(&uuid::Uuid::now_v7().to_string()),
        celltrace_domain::ids::VisitId::parse(&format!("visit-{}", uuid::Uuid::now_v7())),
    ) else {
        return again("Could not make an identifier.".into());
    };
    let submission = Submission {
        id,
        actor: Actor::Staff(viewer.staff.id.clone()),
        site: viewer.site.id.clone(),
        at: Timestamp(crate::now_micros()),
        command: Command::AnswerQuestionnaire {
            plan: plan.id.clone(),
            visit,
            time_point: time_point.clone(),
            instrument: definition.id.clone(),
            answers: answers.clone(),
            language,
        },
    };
    match state.engine.submit(submission).await {
        Ok(_) => axum::response::Redirect::to(&format!("/patients/{}", plan.patient)).into_response(),
        Err(celltrace_store::SubmitError::Rejected(r)) => again(r.message),
        Err(celltrace_store::SubmitError::Store(e)) => crate::auth::refusal(axum::http::StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}
