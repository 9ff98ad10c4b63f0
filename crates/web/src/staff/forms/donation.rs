//! Recording a donation: allogeneic material from a screened donor, with a
//! DIN of the site assigned by the database.

use super::collection::{collection_command, RENAMES};
use crate::auth::{Can, RecordClinical, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::kit::records::site_person;
use crate::routes::{Access, Route};
use crate::AppState;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::model::Person;

/// The routes of the donation form.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/patients/{id}/donation", Access::Staff(Permission::RecordClinical), form),
        Route::post("/patients/{id}/donation", Access::Staff(Permission::RecordClinical), submit_form),
    ]
}

fn spec(person: &Person) -> Spec {
    Spec::new(format!("Record a donation: {}", person.name), format!("/patients/{}/donation", person.id), "Record the donation")
        .intro(vec!["Allogeneic material from a screened donor. A DIN of this site is assigned when you record the collection.".into()])
        .fields(vec![
            field("product_type", "Product type", "select", true).options(&[("cord-blood-hpc", "HPC, Cord Blood"), ("allogeneic-msc", "Allogeneic MSC"), ("msc-exosome", "MSC for exosome production")]),
            field("tissue", "Source tissue", "select", true).options(&[("cord_blood", "Umbilical cord blood"), ("cord_tissue", "Umbilical cord tissue"), ("bone_marrow", "Bone marrow aspirate"), ("peripheral_blood", "Peripheral blood")]),
            field("product_code", "ISBT 128 product code", "text", true).help("8 characters, e.g. S3001V00."),
            field("volume", "Volume collected", "number", true),
            field("unit", "Unit of volume", "select", true).options(&[("mL", "mL"), ("g", "g")]),
            field("shelf_hours", "Hours until the starting material expires", "number", true).default("48"),
        ])
        .renames(RENAMES)
}

async fn form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Result<Response, AppError> {
    let person = site_person(&state, &viewer, &id).await?;
    render_form(&viewer, &spec(&person), None, None)
}

async fn submit_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let person = site_person(&state, &viewer, &id).await?;
    let spec = spec(&person);
    let outcome = donate(&state, &viewer, &spec, &person, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn donate(state: &AppState, viewer: &Viewer, spec: &Spec, person: &Person, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let product_type = celltrace_evidence::parse_product_type(&value(values, "product_type")).ok_or_else(|| FormRefusal::invalid("product_type", "Choose the product type."))?;
    let (command, unit) = collection_command(state, viewer, values, &person.id, None, product_type).await?;
    submit(state, viewer, command).await?;
    Ok(format!("/units/{unit}"))
}
