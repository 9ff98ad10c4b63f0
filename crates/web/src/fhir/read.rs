//! `GET /fhir/{type}/{id}`: one resource by its FHIR id, found through the
//! read model's record ids (mapped ids included), served only when the
//! site rule lets the token see it (404 otherwise, as for a record that does
//! not exist); reading a patient's record is recorded first.

use super::records::{by_fhir_id, context_for, questionnaire_defs, record_reads, resource_of, visible, Row};
use super::{fhir_json, provenance, resource_type, Requester};
use crate::error::AppError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use celltrace_fhir::ResourceType;
use std::collections::BTreeSet;

/// The records of `rt` with this FHIR id that the requester may see.
pub async fn find(state: &AppState, requester: &Requester, rt: ResourceType, fhir_id: &str) -> Result<Vec<Row>, AppError> {
    let mut out = Vec::new();
    for kind in rt.records() {
        for row in by_fhir_id(state.reader(), *kind, fhir_id).await? {
            if visible(state, requester, &row.entity).await? {
                out.push(row);
            }
        }
    }
    Ok(out)
}

/// One resource.
pub async fn read(State(state): State<AppState>, requester: Requester, Path((segment, id)): Path<(String, String)>) -> Result<Response, AppError> {
    let rt = resource_type(&segment)?;
    let resource = match rt {
        ResourceType::Questionnaire => questionnaire_defs()?.iter().find(|d| celltrace_fhir::fhir_id(&d.id) == id).map(celltrace_fhir::questionnaire),
        ResourceType::Provenance => provenance::read(&state, &requester, &id).await?,
        _ => match find(&state, &requester, rt, &id).await?.into_iter().next() {
            Some(row) => {
                let ctx = context_for(&state, &requester, [&row.entity]).await?;
                let resource = resource_of(&row, &ctx);
                if resource.is_some() {
                    let subject: BTreeSet<_> = celltrace_fhir::subject_of(row.kind, row.entity.holder()).into_iter().collect();
                    record_reads(&state, &requester, subject, rt.as_str()).await?;
                }
                resource
            }
            None => None,
        },
    };
    let resource = resource.ok_or_else(|| AppError::not_found(&format!("{segment}/{id}")))?;
    Ok(fhir_json(&resource))
}
