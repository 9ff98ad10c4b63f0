//! Forms: registering a patient or donor, reporting an adverse event, QC
//! results and release.

use crate::routes::{Access, Route};
use celltrace_domain::access::Permission;
use crate::auth::{Can, RecordClinical, RecordLab, Release, Viewer};
use crate::AppState;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use celltrace_domain::command::Command;
use celltrace_domain::ids::{AdverseEventId, PersonId};
use celltrace_domain::model::*;
use celltrace_domain::time::Date;
use std::collections::BTreeSet;
use crate::kit::forms::*;

/// The form routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/patients/new", Access::Staff(Permission::RecordClinical), person_form),
        Route::post("/patients/new", Access::Staff(Permission::RecordClinical), person_submit),
        Route::get("/patients/{id}/adverse-event", Access::Staff(Permission::RecordClinical), adverse_form),
        Route::post("/patients/{id}/adverse-event", Access::Staff(Permission::RecordClinical), adverse_submit),
        Route::get("/units/{id}/qc", Access::Staff(Permission::RecordLab), qc_form),
        Route::post("/units/{id}/qc", Access::Staff(Permission::RecordLab), qc_submit),
        Route::get("/units/{id}/release", Access::Staff(Permission::Release), release_form),
        Route::post("/units/{id}/release", Access::Staff(Permission::Release), release_submit),
    ]
}

// ---------- register a patient or donor ----------

fn person_fields() -> Vec<Field> {
    vec![
        field("kind", "Patient or donor", "select", true).options(&[("patient", "Patient"), ("donor", "Donor")]).default("patient"),
        field("mrn", "Medical record number", "text", true),
        field("name", "Full name", "text", true).help("In any script, as on the person's identification."),
        field("date_of_birth", "Date of birth", "date", true),
        field("sex", "Sex", "select", true).options(&[("female", "Female"), ("male", "Male"), ("other", "Other or not stated")]),
        field("language", "Preferred language", "select", true).options(&[("en", "English"), ("ar", "العربية (Arabic)"), ("hi", "हिन्दी (Hindi)")]),
        field("contact", "Phone or e-mail", "text", false),
    ]
}

fn person_spec(viewer: &Viewer) -> Spec {
    Spec {
        title: "Register a patient or donor".into(),
        intro: vec![format!("At {}.", viewer.site.name)],
        action: "/patients/new".into(),
        fields: person_fields(),
        signature: None,
        submit: "Register",
    }
}

async fn person_form(Can { viewer, .. }: Can<RecordClinical>) -> Response {
    render_form(&viewer, person_spec(&viewer), None, None)
}

async fn person_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let again = |error: String| render_form(&viewer, person_spec(&viewer), Some(&values), Some(error));
    if let Some(e) = missing_required(&person_fields(), &values) {
        return again(e);
    }
    let date_of_birth = match Date::parse(&value(&values, "date_of_birth")) {
        Ok(d) => d,
        Err(e) => return again(format!("Date of birth: {e}")),
    };
    let (Ok(kind), Ok(sex), Ok(language)) = (choice(&values, "kind"), choice(&values, "sex"), choice(&values, "language")) else {
        return again("Choose one of the offered options.".into());
    };
    let Ok(person) = PersonId::parse(&format!("p-{}", uuid::Uuid::now_v7().simple())) else {
        return again("Could not make an identifier; try again.".into());
    };
    let command = Command::RegisterPerson {
        person: person.clone(),
        kind,
        mrn: value(&values, "mrn"),
        name: value(&values, "name"),
        date_of_birth,
        sex,
        language,
        contact: value(&values, "contact"),
    };
    match submit(&state, &viewer, command).await {
        Ok(()) => Redirect::to(&format!("/patients/{person}")).into_response(),
        Err(Ok(message)) => again(message),
        Err(Err(r)) => r,
    }
}

// ---------- adverse event ----------

const SERIOUSNESS: &[(&str, &str)] = &[
    ("death", "Resulted in death"),
    ("life_threatening", "Life-threatening"),
    ("hospitalisation", "Required or prolonged hospitalisation"),
    ("disability", "Persistent or significant disability"),
    ("congenital_anomaly", "Congenital anomaly"),
    ("important_medical_event", "Other important medical event"),
];

async fn adverse_fields(state: &AppState, person: &Person) -> Vec<Field> {
    let plans: Vec<(String, String)> = state
        .reader()
        .plans_of(&person.id)
        .await
        .unwrap_or_default()
        .iter()
        .map(|p| (p.id.to_string(), format!("{} — {}", p.product_type.code(), p.indication.name)))
        .collect();
    // No default: a serious event must name its plan, and the rules refuse it otherwise.
    let mut plan_options = vec![(String::new(), "Choose… (or: not linked to a plan)".to_owned())];
    plan_options.extend(plans);
    let mut plan_field = field("plan", "Treatment plan", "select", false);
    plan_field.options = plan_options;
    vec![
        plan_field,
        {
            let mut term = field("term", "CTCAE term", "datalist", true).help("Start typing: the CTCAE v5.0 terms are offered, e.g. Injection site reaction, Joint effusion, Fever.");
            term.options = state.reference.ctcae().terms().iter().map(|t| (t.term.clone(), t.soc.clone())).collect();
            term
        },
        field("grade", "CTCAE grade", "select", true).options(&[("1", "1 — mild"), ("2", "2 — moderate"), ("3", "3 — severe or medically significant"), ("4", "4 — life-threatening"), ("5", "5 — death")]),
        field("onset", "Onset date", "date", true),
        field("seriousness", "Seriousness criteria (tick all that apply)", "checkboxes", false).options(SERIOUSNESS),
        field("relatedness", "Relation to the product", "select", true)
            .options(&[("not_assessed", "Not yet assessed"), ("unrelated", "Unrelated"), ("unlikely", "Unlikely"), ("possible", "Possible"), ("probable", "Probable"), ("definite", "Definite")])
            .default("not_assessed"),
        field("action", "Action taken", "text", true),
        field("outcome", "Outcome", "text", true),
        field("description", "What happened", "textarea", true),
    ]
}

fn adverse_spec(person: &Person, fields: Vec<Field>) -> Spec {
    Spec {
        title: format!("Report an adverse event: {}", person.name),
        intro: vec![format!("MRN {}. Serious events go to the medical director's queue.", person.mrn)],
        action: format!("/patients/{}/adverse-event", person.id),
        fields,
        signature: None,
        submit: "Report the adverse event",
    }
}

async fn adverse_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Response {
    let person = match site_person(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let fields = adverse_fields(&state, &person).await;
    render_form(&viewer, adverse_spec(&person, fields), None, None)
}

async fn adverse_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let person = match site_person(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let fields = adverse_fields(&state, &person).await;
    let missing = missing_required(&fields, &values);
    let again = |error: String| render_form(&viewer, adverse_spec(&person, fields), Some(&values), Some(error));
    if let Some(e) = missing {
        return again(e);
    }
    let onset = match Date::parse(&value(&values, "onset")) {
        Ok(d) => d,
        Err(e) => return again(format!("Onset date: {e}")),
    };
    let Ok(grade) = value(&values, "grade").parse::<u8>() else { return again("Choose a CTCAE grade.".into()) };
    // Whether the term exists and allows this grade is the rules' question (the same for every entry path).
    let term_name = value(&values, "term");
    let seriousness: Result<BTreeSet<Seriousness>, _> = values_of(&values, "seriousness")
        .into_iter()
        .map(|s| serde_json::from_value(serde_json::Value::String(s)))
        .collect();
    let (Ok(seriousness), Ok(relatedness)) = (seriousness, choice::<Relatedness>(&values, "relatedness")) else {
        return again("Choose one of the offered options.".into());
    };
    let plan = value(&values, "plan");
    let (Ok(adverse_event), Ok(plan)) = (AdverseEventId::parse(&format!("ae-{}", uuid::Uuid::now_v7().simple())), (!plan.is_empty()).then(|| plan.parse()).transpose()) else {
        return again("The plan chosen is not valid.".into());
    };
    let command = Command::ReportAdverseEvent {
        adverse_event,
        patient: person.id.clone(),
        plan,
        unit: None,
        term: term_name,
        grade,
        onset,
        seriousness,
        relatedness,
        action: value(&values, "action"),
        outcome: value(&values, "outcome"),
        description: value(&values, "description"),
    };
    match submit(&state, &viewer, command).await {
        Ok(()) => Redirect::to(&format!("/patients/{id}")).into_response(),
        Err(Ok(message)) => again(message),
        Err(Err(r)) => r,
    }
}

// ---------- QC and release ----------

fn qc_fields() -> Vec<Field> {
    vec![
        field("test", "Test", "text", true).help("e.g. viability, cell count, sterility, endotoxin, mycoplasma, identity markers"),
        field("value", "Result", "text", true),
        field("specification", "Specification", "text", true).help("e.g. >= 70 %"),
        field("outcome", "Outcome", "select", true).options(&[("", "Choose…"), ("in_specification", "Within specification"), ("out_of_specification", "Out of specification"), ("pending", "Pending (sample sent, result not in yet)")]),
    ]
}


fn qc_spec(unit: &Unit) -> Spec {
    Spec {
        title: "Record a QC result".into(),
        intro: unit_intro(unit),
        action: format!("/units/{}/qc", unit.id),
        fields: qc_fields(),
        signature: None,
        submit: "Record the result",
    }
}

fn release_spec(unit: &Unit) -> Spec {
    Spec {
        title: "Release the unit".into(),
        intro: unit_intro(unit),
        action: format!("/units/{}/release", unit.id),
        fields: Vec::new(),
        signature: Some(SignatureMeaning::Release),
        submit: "Sign and release",
    }
}

async fn qc_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordLab>, Path(id): Path<String>) -> Response {
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    render_form(&viewer, qc_spec(&unit), None, None)
}

async fn qc_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordLab>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let again = |error: String| render_form(&viewer, qc_spec(&unit), Some(&values), Some(error));
    if let Some(e) = missing_required(&qc_fields(), &values) {
        return again(e);
    }
    let command = Command::RecordQcResult {
        unit: unit.id.clone(),
        test: value(&values, "test"),
        value: value(&values, "value"),
        specification: value(&values, "specification"),
        outcome: match choice(&values, "outcome") {
            Ok(outcome) => outcome,
            Err(_) => return again("Outcome: choose within specification, out of specification or pending.".into()),
        },
    };
    match submit(&state, &viewer, command).await {
        Ok(()) => Redirect::to(&format!("/units/{id}")).into_response(),
        Err(Ok(message)) => again(message),
        Err(Err(r)) => r,
    }
}

async fn release_form(State(state): State<AppState>, Can { viewer, .. }: Can<Release>, Path(id): Path<String>) -> Response {
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    render_form(&viewer, release_spec(&unit), None, None)
}

async fn release_submit(State(state): State<AppState>, Can { viewer, .. }: Can<Release>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let again = |error: String| render_form(&viewer, release_spec(&unit), Some(&values), Some(error));
    let signature = match own_signature(&state, &viewer, &values, SignatureMeaning::Release).await {
        Ok(s) => s,
        Err(message) => return again(message),
    };
    match submit(&state, &viewer, Command::ReleaseUnit { unit: unit.id.clone(), signature }).await {
        Ok(()) => Redirect::to(&format!("/units/{id}")).into_response(),
        Err(Ok(message)) => again(message),
        Err(Err(r)) => r,
    }
}
