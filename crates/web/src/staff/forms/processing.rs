//! The lab's forms for a unit: a processing step (which may make new units)
//! and its storage location.

use super::quantity;
use crate::auth::{Can, RecordLab, ViewUnits, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::kit::records::site_unit;
use crate::routes::{Access, Route};
use crate::{now_micros, AppState};
use axum::extract::{Form, Path, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::command::{Command, NewUnit};
use celltrace_domain::ids::*;
use celltrace_domain::model::*;
use celltrace_domain::time::Timestamp;

/// The routes of the processing and storage forms.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/units/{id}/process", Access::Staff(Permission::RecordLab), process_form),
        Route::post("/units/{id}/process", Access::Staff(Permission::RecordLab), process_submit),
        Route::get("/units/{id}/store", Access::Staff(Permission::ViewUnits), store_form),
        Route::post("/units/{id}/store", Access::Staff(Permission::ViewUnits), store_submit),
    ]
}

// ---------- processing ----------

fn process_spec(unit: &Unit) -> Spec {
    Spec::new("Record a processing step", format!("/units/{}/process", unit.id), "Record the step")
        .intro(unit_intro(unit))
        .fields(vec![
            field("kind", "Step", "select", true).options(&[
                ("isolation", "Isolation"),
                ("expansion", "Expansion"),
                ("harvest", "Harvest"),
                ("cryopreservation", "Cryopreservation"),
                ("thaw", "Thaw"),
                ("exosome_isolation", "Exosome isolation"),
                ("prp_preparation", "PRP preparation"),
                ("division", "Division into aliquots"),
            ]),
            field("outputs", "Product codes of the units made", "text", false).help("Comma-separated, one per new unit (e.g. S1002100 or S10031A0, S10031B0). Leave empty when the step changes this unit in place."),
            field("volume", "Volume of each new unit", "number", false),
            field("unit", "Unit of volume", "select", true).options(&[("mL", "mL"), ("million cells", "million cells"), ("g", "g")]),
            field("shelf_days", "Days until each new unit expires", "number", false).default("2"),
            field("equipment", "Equipment", "text", true),
            field("lots", "Reagent lots", "text", false).help("Comma-separated lot numbers."),
            field("parameters", "Parameters", "text", false).help("name=value pairs separated by semicolons, e.g. spin=12 min; temperature=37 °C"),
        ])
        // The command's inputs are this unit; its `unit` is no field of the form.
        .renames(&[("reagent_lots", "lots"), ("quantity", "volume"), ("expires_at", "shelf_days"), ("inputs", ""), ("unit", "")])
}

async fn process_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordLab>, Path(id): Path<String>) -> Result<Response, AppError> {
    let unit = site_unit(&state, &viewer, &id).await?;
    render_form(&viewer, &process_spec(&unit), None, None)
}

async fn process_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordLab>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let unit = site_unit(&state, &viewer, &id).await?;
    let spec = process_spec(&unit);
    let outcome = process(&state, &viewer, &spec, &unit, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn process(state: &AppState, viewer: &Viewer, spec: &Spec, unit: &Unit, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let kind = choice::<ProcessingKind>(values, "kind")?;
    let codes: Vec<String> = value(values, "outputs").split(',').map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty()).collect();
    let now = Timestamp(now_micros());
    let mut outputs = Vec::new();
    if !codes.is_empty() {
        let each = quantity(values, "volume", "unit").ok_or_else(|| FormRefusal::invalid("volume", "Volume of each new unit: enter a number above zero."))?;
        let days = value(values, "shelf_days").parse::<i64>().map_err(|_| FormRefusal::invalid("shelf_days", "Days until each new unit expires: enter a whole number."))?;
        for code in codes {
            outputs.push(NewUnit { unit: new_id("u")?, product_code: code, quantity: each.clone(), expires_at: now.plus_days(days.clamp(0, 3650)) });
        }
    }
    let parameters = value(values, "parameters")
        .split(';')
        .filter_map(|p| p.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect();
    let next = match outputs.first() {
        Some(o) => format!("/units/{}", o.unit),
        None => format!("/units/{}", unit.id),
    };
    let command = Command::RecordProcessingStep {
        step: new_id::<StepId>("step")?,
        kind,
        inputs: vec![unit.id.clone()],
        outputs,
        equipment: value(values, "equipment"),
        reagent_lots: value(values, "lots").split(',').map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect(),
        parameters,
    };
    submit(state, viewer, command).await?;
    Ok(next)
}

// ---------- storage ----------

fn store_spec(unit: &Unit) -> Spec {
    Spec::new("Store the unit", format!("/units/{}/store", unit.id), "Record the location")
        .intro(unit_intro(unit))
        .fields(vec![field("freezer", "Freezer or tank", "text", true), field("rack", "Rack", "text", true), field("box", "Box", "text", true), field("position", "Position", "text", true)])
        .renames(&[("unit", "")])
}

/// Storage is for the lab and logistics; the capability checked is seeing
/// units, and the rules refuse anyone else.
async fn store_form(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Result<Response, AppError> {
    let unit = site_unit(&state, &viewer, &id).await?;
    render_form(&viewer, &store_spec(&unit), None, None)
}

async fn store_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let unit = site_unit(&state, &viewer, &id).await?;
    let spec = store_spec(&unit);
    let outcome = store(&state, &viewer, &spec, &unit, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn store(state: &AppState, viewer: &Viewer, spec: &Spec, unit: &Unit, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let location = StorageLocation { freezer: value(values, "freezer"), rack: value(values, "rack"), r#box: value(values, "box"), position: value(values, "position") };
    submit(state, viewer, Command::StoreUnit { unit: unit.id.clone(), location }).await?;
    Ok(format!("/units/{}", unit.id))
}
