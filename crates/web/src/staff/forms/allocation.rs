//! Allocating an allogeneic unit to an active plan. Only the site holding
//! a unit gives it away (a clinic asks, the bank allocates): that, like
//! every other condition, is the rules' answer to the submission, so a
//! unit of another site posted here is refused by the rules, by name.

use crate::auth::{Can, RecordClinical, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::kit::records::site_unit;
use crate::routes::{Access, Route};
use crate::AppState;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::ids::{PlanId, UnitId};
use celltrace_domain::index::Index;
use celltrace_domain::model::*;

/// The routes of the allocation form.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/units/{id}/allocate", Access::Staff(Permission::RecordClinical), form),
        Route::post("/units/{id}/allocate", Access::Staff(Permission::RecordClinical), submit_form),
    ]
}

/// Plans offered per page of the choice (the active plans of the unit's product type here).
const PLANS_OFFERED: u32 = 100;

/// The form for `unit` when it is at the viewer's site; for a unit that is
/// not, only its id (nothing of another site's record is shown).
async fn spec(state: &AppState, viewer: &Viewer, id: &str, unit: Option<&Unit>) -> Result<Spec, AppError> {
    let (intro, plans) = match unit {
        Some(unit) => {
            let key = format!("{}|active|{}", viewer.site.id, unit.product_type.code());
            let page = state.reader().page::<Plan>(Index::SitePlansByType, &key, None, PLANS_OFFERED).await?;
            let plans = page.items.iter().map(|p| (p.id.to_string(), format!("{} — {} ({})", p.id, p.indication.name, p.patient))).collect();
            (unit_intro(unit), plans)
        }
        None => (vec![format!("Unit {id}")], Vec::new()),
    };
    Ok(Spec::new("Allocate the unit to a plan", format!("/units/{id}/allocate"), "Allocate").intro(intro).fields(vec![field("plan", "Plan", "select", true).choices(plans)]).renames(&[("unit", "")]))
}

async fn form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Result<Response, AppError> {
    let unit = site_unit(&state, &viewer, &id).await?;
    render_form(&viewer, &spec(&state, &viewer, &id, Some(&unit)).await?, None, None)
}

async fn submit_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    // The unit is read only to show the form again; whether it may be allocated from here is the rules' answer.
    let unit = state.reader().get::<Unit>(&id).await?.filter(|u| u.site == viewer.site.id);
    let spec = spec(&state, &viewer, &id, unit.as_ref()).await?;
    let outcome = allocate(&state, &viewer, &spec, &id, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn allocate(state: &AppState, viewer: &Viewer, spec: &Spec, id: &str, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let plan = value(values, "plan").parse::<PlanId>().map_err(|_| FormRefusal::invalid("plan", "Choose a plan."))?;
    let unit = id.parse::<UnitId>().map_err(|_| AppError::not_found("This unit"))?;
    submit(state, viewer, Command::AllocateUnit { unit, plan }).await?;
    Ok(format!("/units/{id}"))
}
