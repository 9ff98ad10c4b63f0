//! Recording a follow-up of a plan at a time point of its schedule: a score
//! or a clinician's assessment. Whether the time point's window is open is
//! the rules' answer.

use super::{patient_page, plan_intro};
use crate::auth::{Can, RecordClinical, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::kit::records::site_plan;
use crate::routes::{Access, Route};
use crate::AppState;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::ids::VisitId;
use celltrace_domain::model::Plan;

/// The routes of the follow-up form.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/plans/{id}/follow-up", Access::Staff(Permission::RecordClinical), form),
        Route::post("/plans/{id}/follow-up", Access::Staff(Permission::RecordClinical), submit_form),
    ]
}

fn spec(plan: &Plan) -> Spec {
    Spec::new("Record a follow-up", format!("/plans/{}/follow-up", plan.id), "Record the follow-up")
        .intro(plan_intro(plan))
        .fields(vec![
            field("time_point", "Time point", "select", true).options(&[("baseline", "Baseline"), ("1m", "1 month"), ("3m", "3 months"), ("6m", "6 months"), ("12m", "12 months")]),
            field("instrument", "Instrument", "select", true).options(&[("NPRS", "NPRS (0-10 pain)"), ("KOOS pain", "KOOS pain subscale (0-100)"), ("PGIC", "Patient global impression of change (1-7)"), ("clinician", "Clinician assessment (no score)")]),
            field("score", "Score", "number", false).help("Leave empty for a clinician assessment."),
            field("notes", "Notes", "textarea", false),
        ])
        .renames(&[("score_milli", "score"), ("plan", ""), ("visit", "")])
}

async fn form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Result<Response, AppError> {
    let plan = site_plan(&state, &viewer, &id).await?;
    render_form(&viewer, &spec(&plan), None, None)
}

async fn submit_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let plan = site_plan(&state, &viewer, &id).await?;
    let spec = spec(&plan);
    let outcome = record(&state, &viewer, &spec, &plan, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn record(state: &AppState, viewer: &Viewer, spec: &Spec, plan: &Plan, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let score = value(values, "score");
    let score_milli = if score.is_empty() {
        None
    } else {
        let s = score.parse::<f64>().ok().filter(|s| s.is_finite()).ok_or_else(|| FormRefusal::invalid("score", "Score: enter a number, or leave it empty."))?;
        Some((s * 1000.0).round() as i64)
    };
    let command = Command::RecordFollowUp {
        plan: plan.id.clone(),
        visit: new_id::<VisitId>("visit")?,
        time_point: value(values, "time_point"),
        instrument: value(values, "instrument"),
        score_milli,
        notes: value(values, "notes"),
    };
    submit(state, viewer, command).await?;
    Ok(patient_page(plan))
}
