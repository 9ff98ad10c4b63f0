//! Reporting an adverse event of a patient: CTCAE term and grade,
//! seriousness, relatedness, and the plan and unit it may follow. Whether
//! the term allows the grade, whether a serious event names its plan and
//! whether the unit is this site's are the rules' questions.

use crate::auth::{Can, RecordClinical, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::kit::records::site_person;
use crate::routes::{Access, Route};
use crate::AppState;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::ids::{AdverseEventId, PlanId, UnitId};
use celltrace_domain::model::*;
use celltrace_domain::time::Date;
use std::collections::BTreeSet;

/// The routes of the adverse event form.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/patients/{id}/adverse-event", Access::Staff(Permission::RecordClinical), form),
        Route::post("/patients/{id}/adverse-event", Access::Staff(Permission::RecordClinical), submit_form),
    ]
}

const SERIOUSNESS: &[(&str, &str)] = &[
    ("death", "Resulted in death"),
    ("life_threatening", "Life-threatening"),
    ("hospitalisation", "Required or prolonged hospitalisation"),
    ("disability", "Persistent or significant disability"),
    ("congenital_anomaly", "Congenital anomaly"),
    ("important_medical_event", "Other important medical event"),
];

async fn spec(state: &AppState, person: &Person) -> Result<Spec, AppError> {
    let plans = state.reader().plans_of(&person.id).await?;
    // No default: a serious event must name its plan, and the rules refuse it otherwise.
    let mut plan_options = vec![(String::new(), "Choose… (or: not linked to a plan)".to_owned())];
    plan_options.extend(plans.iter().map(|p| (p.id.to_string(), format!("{} — {}", p.product_type.code(), p.indication.name))));
    // The units this patient was given, from the plans' administrations.
    let mut unit_options = vec![(String::new(), "Not linked to a unit".to_owned())];
    unit_options.extend(plans.iter().flat_map(|p| p.administrations.iter().map(move |a| (a.unit.to_string(), format!("{} — given {} ({})", a.unit, a.at.date(), p.id)))));
    let mut term = field("term", "CTCAE term", "datalist", true).help("Start typing: the CTCAE v5.0 terms are offered, e.g. Injection site reaction, Joint effusion, Fever.");
    term.options = state.reference.ctcae().terms().iter().map(|t| (t.term.clone(), t.soc.clone())).collect();
    Ok(Spec::new(format!("Report an adverse event: {}", person.name), format!("/patients/{}/adverse-event", person.id), "Report the adverse event")
        .intro(vec![format!("MRN {}. Serious events go to the medical director's queue.", person.mrn)])
        .fields(vec![
            field("plan", "Treatment plan", "select", false).choices(plan_options),
            field("unit", "Unit given (if the event may relate to it)", "select", false).choices(unit_options),
            term,
            field("grade", "CTCAE grade", "select", true).options(&[("1", "1 — mild"), ("2", "2 — moderate"), ("3", "3 — severe or medically significant"), ("4", "4 — life-threatening"), ("5", "5 — death")]),
            field("onset", "Onset date", "date", true),
            field("seriousness", "Seriousness criteria (tick all that apply)", "checkboxes", false).options(SERIOUSNESS),
            field("relatedness", "Relation to the product", "select", true)
                .options(&[("not_assessed", "Not yet assessed"), ("unrelated", "Unrelated"), ("unlikely", "Unlikely"), ("possible", "Possible"), ("probable", "Probable"), ("definite", "Definite")])
                .default("not_assessed"),
            field("action", "Action taken", "text", true),
            field("outcome", "Outcome", "text", true),
            field("description", "What happened", "textarea", true),
        ]))
}

async fn form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Result<Response, AppError> {
    let person = site_person(&state, &viewer, &id).await?;
    render_form(&viewer, &spec(&state, &person).await?, None, None)
}

async fn submit_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let person = site_person(&state, &viewer, &id).await?;
    let spec = spec(&state, &person).await?;
    let outcome = report(&state, &viewer, &spec, &person, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

/// An optional id chosen in a select ("" for none).
fn optional_id<T: std::str::FromStr>(values: &Values, name: &str) -> Result<Option<T>, FormRefusal> {
    let text = value(values, name);
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| FormRefusal::invalid(name, "Choose one of the offered options."))
}

async fn report(state: &AppState, viewer: &Viewer, spec: &Spec, person: &Person, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let onset = Date::parse(&value(values, "onset")).map_err(|e| FormRefusal::invalid("onset", format!("Onset date: {e}")))?;
    let grade = value(values, "grade").parse::<u8>().map_err(|_| FormRefusal::invalid("grade", "Choose a CTCAE grade."))?;
    let seriousness = values_of(values, "seriousness")
        .into_iter()
        .map(|s| serde_json::from_value(serde_json::Value::String(s)))
        .collect::<Result<BTreeSet<Seriousness>, _>>()
        .map_err(|_| FormRefusal::invalid("seriousness", "Tick seriousness criteria from the list."))?;
    let command = Command::ReportAdverseEvent {
        adverse_event: new_id::<AdverseEventId>("ae")?,
        patient: person.id.clone(),
        plan: optional_id::<PlanId>(values, "plan")?,
        unit: optional_id::<UnitId>(values, "unit")?,
        // Whether the term exists and allows this grade is the rules' question (the same for every entry path).
        term: value(values, "term"),
        grade,
        onset,
        seriousness,
        relatedness: choice(values, "relatedness")?,
        action: value(values, "action"),
        outcome: value(values, "outcome"),
        description: value(values, "description"),
    };
    submit(state, viewer, command).await?;
    Ok(format!("/patients/{}", person.id))
}
