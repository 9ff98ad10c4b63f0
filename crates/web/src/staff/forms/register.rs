//! Registering a patient or donor at the viewer's site.

use crate::auth::{Can, RecordClinical, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::routes::{Access, Route};
use crate::AppState;
use axum::extract::{Form, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::ids::PersonId;
use celltrace_domain::time::Date;

/// The routes of the registration form.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/patients/new", Access::Staff(Permission::RecordClinical), form),
        Route::post("/patients/new", Access::Staff(Permission::RecordClinical), submit_form),
    ]
}

fn spec(viewer: &Viewer) -> Spec {
    Spec::new("Register a patient or donor", "/patients/new", "Register").intro(vec![format!("At {}.", viewer.site.name)]).fields(vec![
        field("kind", "Patient or donor", "select", true).options(&[("patient", "Patient"), ("donor", "Donor")]).default("patient"),
        field("mrn", "Medical record number", "text", true),
        field("name", "Full name", "text", true).help("In any script, as on the person's identification."),
        field("date_of_birth", "Date of birth", "date", true),
        field("sex", "Sex", "select", true).options(&[("female", "Female"), ("male", "Male"), ("other", "Other or not stated")]),
        field("language", "Preferred language", "select", true).options(&[("en", "English"), ("ar", "العربية (Arabic)"), ("hi", "हिन्दी (Hindi)")]),
        field("contact", "Phone or e-mail", "text", false),
    ])
}

async fn form(Can { viewer, .. }: Can<RecordClinical>) -> Result<Response, AppError> {
    render_form(&viewer, &spec(&viewer), None, None)
}

async fn submit_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let spec = spec(&viewer);
    let outcome = register(&state, &viewer, &spec, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn register(state: &AppState, viewer: &Viewer, spec: &Spec, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let date_of_birth = Date::parse(&value(values, "date_of_birth")).map_err(|e| FormRefusal::invalid("date_of_birth", format!("Date of birth: {e}")))?;
    let person: PersonId = new_id("p")?;
    let command = Command::RegisterPerson {
        person: person.clone(),
        kind: choice(values, "kind")?,
        mrn: value(values, "mrn"),
        name: value(values, "name"),
        date_of_birth,
        sex: choice(values, "sex")?,
        language: choice(values, "language")?,
        contact: value(values, "contact"),
    };
    submit(state, viewer, command).await?;
    Ok(format!("/patients/{person}"))
}
