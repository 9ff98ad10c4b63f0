//! Recording the collection of a plan's starting material, with a DIN of
//! the site assigned by the database (shared with the donation form).

use super::{plan_intro, quantity};
use crate::auth::{Can, RecordClinical, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::kit::records::site_plan;
use crate::routes::{Access, Route};
use crate::{now_micros, AppState};
use axum::extract::{Form, Path, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::ids::*;
use celltrace_domain::model::*;
use celltrace_domain::time::Timestamp;

/// The routes of the collection form.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/plans/{id}/collection", Access::Staff(Permission::RecordClinical), form),
        Route::post("/plans/{id}/collection", Access::Staff(Permission::RecordClinical), submit_form),
    ]
}

/// Command fields the collection forms show under other names; the
/// command's `unit` (the new unit's id) is not the form's unit of volume.
pub(crate) const RENAMES: &[(&str, &str)] = &[("quantity", "volume"), ("expires_at", "shelf_hours"), ("unit", ""), ("din", ""), ("plan", ""), ("source_person", "")];

fn spec(plan: &Plan) -> Spec {
    let mut intro = plan_intro(plan);
    intro.push("A donation identification number (DIN) of this site is assigned when you record the collection.".into());
    Spec::new("Record the collection", format!("/plans/{}/collection", plan.id), "Record the collection")
        .intro(intro)
        .fields(vec![
            field("tissue", "Source tissue", "select", true).options(&[("adipose", "Adipose (lipoaspirate)"), ("bone_marrow", "Bone marrow aspirate"), ("peripheral_blood", "Peripheral blood"), ("cord_blood", "Umbilical cord blood"), ("cord_tissue", "Umbilical cord tissue")]),
            field("product_code", "ISBT 128 product code", "text", true).help("8 characters, e.g. S1001100."),
            field("volume", "Volume collected", "number", true),
            field("unit", "Unit of volume", "select", true).options(&[("mL", "mL"), ("g", "g")]),
            field("shelf_hours", "Hours until the starting material expires", "number", true).default("48"),
        ])
        .renames(RENAMES)
}

async fn form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Result<Response, AppError> {
    let plan = site_plan(&state, &viewer, &id).await?;
    render_form(&viewer, &spec(&plan), None, None)
}

async fn submit_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let plan = site_plan(&state, &viewer, &id).await?;
    let spec = spec(&plan);
    let outcome = collect(&state, &viewer, &spec, &plan, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn collect(state: &AppState, viewer: &Viewer, spec: &Spec, plan: &Plan, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let (command, unit) = collection_command(state, viewer, values, &plan.patient, Some(plan.id.clone()), plan.product_type).await?;
    submit(state, viewer, command).await?;
    Ok(format!("/units/{unit}"))
}

/// The collection a form describes, with a DIN of the site assigned by the
/// database, and the new unit's id.
pub(crate) async fn collection_command(state: &AppState, viewer: &Viewer, values: &Values, source: &PersonId, plan: Option<PlanId>, product_type: ProductType) -> Result<(Command, UnitId), Failure> {
    let volume = quantity(values, "volume", "unit").ok_or_else(|| FormRefusal::invalid("volume", "Volume collected: enter a number above zero."))?;
    let shelf_hours = value(values, "shelf_hours").parse::<i64>().map_err(|_| FormRefusal::invalid("shelf_hours", "Hours until the starting material expires: enter a whole number."))?;
    let tissue = choice::<SourceTissue>(values, "tissue")?;
    let now = Timestamp(now_micros());
    let (year, ..) = now.utc_parts();
    let year = u8::try_from(year.rem_euclid(100)).map_err(AppError::internal)?;
    let din = state.db().assign_din(&viewer.site.fin, year).await?;
    let unit: UnitId = new_id("u")?;
    let command = Command::RecordCollection {
        collection: new_id("col")?,
        source_person: source.clone(),
        plan,
        tissue,
        product_type,
        unit: unit.clone(),
        din: din.to_string(),
        product_code: value(values, "product_code").to_uppercase(),
        quantity: volume,
        collected_at: now,
        expires_at: Timestamp(now.0 + shelf_hours.clamp(1, 24 * 365) * 3_600_000_000),
    };
    Ok((command, unit))
}
