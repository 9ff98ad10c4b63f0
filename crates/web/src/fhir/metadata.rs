//! `GET /fhir/metadata`: the CapabilityStatement, public as FHIR asks, with
//! the configured address as `implementation.url`.

use super::{base_url, fhir_json};
use crate::AppState;
use axum::extract::State;
use axum::response::Response;

/// The CapabilityStatement.
pub async fn metadata(State(state): State<AppState>) -> Response {
    fhir_json(&celltrace_fhir::capability_statement(&base_url(&state)))
}
