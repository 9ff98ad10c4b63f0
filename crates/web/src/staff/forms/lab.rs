//! Quality control and release of a unit: QC results (a result read before
//! its incubation is over is the rules' refusal), the QA's signed release,
//! and the exceptional release signed by QA and a physician with the
//! patient informed.

use crate::auth::{Can, RecordLab, Release, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::kit::records::site_unit;
use crate::routes::{Access, Route};
use crate::AppState;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::model::*;

/// The routes of the QC and release forms.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/units/{id}/qc", Access::Staff(Permission::RecordLab), qc_form),
        Route::post("/units/{id}/qc", Access::Staff(Permission::RecordLab), qc_submit),
        Route::get("/units/{id}/release", Access::Staff(Permission::Release), release_form),
        Route::post("/units/{id}/release", Access::Staff(Permission::Release), release_submit),
        Route::get("/units/{id}/exceptional-release", Access::Staff(Permission::Release), exceptional_form),
        Route::post("/units/{id}/exceptional-release", Access::Staff(Permission::Release), exceptional_submit),
    ]
}

fn unit_page(unit: &Unit) -> String {
    format!("/units/{}", unit.id)
}

// ---------- QC ----------

fn qc_spec(unit: &Unit) -> Spec {
    Spec::new("Record a QC result", format!("/units/{}/qc", unit.id), "Record the result")
        .intro(unit_intro(unit))
        .fields(vec![
            field("test", "Test", "text", true).help("e.g. viability, cell count, sterility, endotoxin, mycoplasma, identity markers"),
            field("value", "Result", "text", true),
            field("specification", "Specification", "text", true).help("e.g. >= 70 %"),
            field("outcome", "Outcome", "select", true).options(&[("", "Choose…"), ("in_specification", "Within specification"), ("out_of_specification", "Out of specification"), ("pending", "Pending (sample sent, result not in yet)")]),
        ])
        .renames(&[("unit", "")])
}

async fn qc_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordLab>, Path(id): Path<String>) -> Result<Response, AppError> {
    let unit = site_unit(&state, &viewer, &id).await?;
    render_form(&viewer, &qc_spec(&unit), None, None)
}

async fn qc_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordLab>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let unit = site_unit(&state, &viewer, &id).await?;
    let spec = qc_spec(&unit);
    let outcome = record_qc(&state, &viewer, &spec, &unit, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn record_qc(state: &AppState, viewer: &Viewer, spec: &Spec, unit: &Unit, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let command = Command::RecordQcResult {
        unit: unit.id.clone(),
        test: value(values, "test"),
        value: value(values, "value"),
        specification: value(values, "specification"),
        outcome: choice(values, "outcome")?,
    };
    submit(state, viewer, command).await?;
    Ok(unit_page(unit))
}

// ---------- release ----------

fn release_spec(unit: &Unit) -> Spec {
    Spec::new("Release the unit", format!("/units/{}/release", unit.id), "Sign and release").intro(unit_intro(unit)).signature(SignatureMeaning::Release).renames(&[("unit", "")])
}

async fn release_form(State(state): State<AppState>, Can { viewer, .. }: Can<Release>, Path(id): Path<String>) -> Result<Response, AppError> {
    let unit = site_unit(&state, &viewer, &id).await?;
    render_form(&viewer, &release_spec(&unit), None, None)
}

async fn release_submit(State(state): State<AppState>, Can { viewer, .. }: Can<Release>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let unit = site_unit(&state, &viewer, &id).await?;
    let spec = release_spec(&unit);
    let outcome = release(&state, &viewer, &unit, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn release(state: &AppState, viewer: &Viewer, unit: &Unit, values: &Values) -> Result<String, Failure> {
    let signature = own_signature(state, viewer, values, SignatureMeaning::Release).await?;
    submit(state, viewer, Command::ReleaseUnit { unit: unit.id.clone(), signature }).await?;
    Ok(unit_page(unit))
}

// ---------- exceptional release ----------

fn exceptional_spec(unit: &Unit) -> Spec {
    let mut intro = unit_intro(unit);
    intro.push("Out of specification, or results still pending: release only with the physician's and your signatures, after the patient has been informed.".into());
    Spec::new("Exceptional release", format!("/units/{}/exceptional-release", unit.id), "Sign the exceptional release")
        .intro(intro)
        .fields(vec![
            field("justification", "Justification", "textarea", true),
            field("patient_informed", "Patient informed", "select", true).options(&[("no", "Not yet"), ("yes", "Yes, the patient has been informed")]),
            field("physician", "Physician username", "text", true),
            field("physician_password", "Physician password", "password", true),
        ])
        .signature(SignatureMeaning::ExceptionalRelease)
        // The QA's signature is the viewer's own, under the form.
        .renames(&[("qa", "signature_password"), ("unit", "")])
}

async fn exceptional_form(State(state): State<AppState>, Can { viewer, .. }: Can<Release>, Path(id): Path<String>) -> Result<Response, AppError> {
    let unit = site_unit(&state, &viewer, &id).await?;
    render_form(&viewer, &exceptional_spec(&unit), None, None)
}

async fn exceptional_submit(State(state): State<AppState>, Can { viewer, .. }: Can<Release>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let unit = site_unit(&state, &viewer, &id).await?;
    let spec = exceptional_spec(&unit);
    let outcome = release_exceptionally(&state, &viewer, &spec, &unit, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn release_exceptionally(state: &AppState, viewer: &Viewer, spec: &Spec, unit: &Unit, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let physician = authenticate_cosigner(state, viewer, values, "physician", "physician_password", SignatureMeaning::ExceptionalRelease).await?;
    let qa = own_signature(state, viewer, values, SignatureMeaning::ExceptionalRelease).await?;
    let command = Command::ExceptionalRelease {
        unit: unit.id.clone(),
        physician: SignatureRequest::own(physician.signer.clone(), SignatureMeaning::ExceptionalRelease),
        qa,
        justification: value(values, "justification"),
        patient_informed: value(values, "patient_informed") == "yes",
    };
    submit_with_cosigners(state, viewer, command, &[physician]).await?;
    Ok(unit_page(unit))
}
