//! `GET /fhir/Patient/{id}/$everything`: one patient's compartment, read
//! through that patient's own indexes (plans, units collected from them and
//! allocated to or given in their plans, adverse events), so its cost is
//! that of the patient, whatever the size of the database.

use super::read::find;
use super::records::{load_context, record_reads, Entity};
use super::{base_url, fhir_json, Requester};
use crate::error::AppError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use celltrace_domain::model::Unit;
use celltrace_fhir::{Needs, PatientRecords, ResourceType};
use std::collections::BTreeSet;

/// The patient's compartment as a searchset Bundle.
pub async fn everything(State(state): State<AppState>, requester: Requester, Path(id): Path<String>) -> Result<Response, AppError> {
    let not_found = || AppError::not_found(&format!("Patient/{id}"));
    let row = find(&state, &requester, ResourceType::Patient, &id).await?.into_iter().next().ok_or_else(not_found)?;
    let Entity::Person(person) = row.entity else { return Err(not_found()) };
    let reader = state.reader();
    let plans = reader.plans_of(&person.id).await?;
    let own_units = reader.units_from(&person.id).await?;
    let mut allocated: Vec<Unit> = Vec::new();
    for plan in &plans {
        allocated.extend(reader.units_for_plan(plan.id.as_str()).await?.into_iter().filter(|u| u.allocated_to.as_ref() == Some(&plan.id)));
    }
    // Units given in a plan stay part of its record after allocation ends.
    let given: BTreeSet<String> = plans.iter().flat_map(|p| p.administrations.iter().map(|a| a.unit.to_string())).collect();
    let missing: Vec<String> = given.into_iter().filter(|u| !allocated.iter().chain(&own_units).any(|a| a.id.as_str() == u)).collect();
    allocated.extend(reader.get_many::<Unit>(&missing).await?);
    let adverse_events = reader.adverse_events_of(std::slice::from_ref(&person.id)).await?;

    let mut needs = Needs::default();
    needs.person(&person);
    own_units.iter().chain(&allocated).for_each(|u| needs.unit(u));
    plans.iter().for_each(|p| needs.plan(p));
    adverse_events.iter().for_each(|a| needs.adverse_event(a));
    let ctx = load_context(&state, &requester, &needs).await?;
    let records = PatientRecords { person: &person, plans: &plans, own_units: &own_units, allocated_units: &allocated, adverse_events: &adverse_events };
    let resources = celltrace_fhir::compartment(&records, &ctx);
    record_reads(&state, &requester, BTreeSet::from([person.id.clone()]), "$everything").await?;
    Ok(fhir_json(&celltrace_fhir::everything(&base_url(&state), &celltrace_fhir::fhir_id(person.id.as_str()), resources)))
}
