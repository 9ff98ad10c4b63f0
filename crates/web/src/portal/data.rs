//! The patient's data, as a JSON file they can download and keep: their
//! record, plans, the units of their plans, their adverse events and the
//! audit trail of their record. Read through this patient's index entries
//! only; the download itself is recorded in the ledger.

use super::{record_read, Patient, PatientRecord};
use crate::error::AppError;
use crate::{now_micros, AppState};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use celltrace_domain::model::Unit;
use celltrace_domain::{EntityKey, EntityKind};

/// The format name a program reading the file can check.
const FORMAT: &str = "celltrace patient data export 1";

pub(super) async fn my_data(State(state): State<AppState>, patient: Patient) -> Result<Response, AppError> {
    record_read(&state, &patient, "data download").await?;
    let person = &patient.person;
    let reader = state.reader();
    let record = PatientRecord::load(&state, &person.id).await?;
    let adverse_events = reader.adverse_events_of(std::slice::from_ref(&person.id)).await?;
    let units: Vec<&Unit> = record.plans.iter().flat_map(|p| record.units_of(p)).collect();
    let trail = reader.trail(&EntityKey::new(EntityKind::Person, &person.id)).await?;
    let audit: Vec<serde_json::Value> = trail
        .iter()
        .map(|(e, _)| {
            serde_json::json!({
                "entry": e.seq,
                "recorded_at": e.record.recorded_at,
                "actor": e.record.actor,
                "site": e.record.site,
                "kind": e.record.kind,
                "hash": celltrace_ledger::to_hex(&e.hash),
            })
        })
        .collect();
    let data = serde_json::json!({
        "format": FORMAT,
        "exported_at": now_micros(),
        "person": person,
        "plans": record.plans,
        "units": units,
        "adverse_events": adverse_events,
        "audit_trail": audit,
    });
    let body = serde_json::to_string_pretty(&data).map_err(|e| AppError::internal(format!("the data export: {e}")))?;
    let disposition = format!("attachment; filename=\"celltrace-{}.json\"", person.id);
    Ok(([(header::CONTENT_TYPE, "application/json; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], body).into_response())
}
