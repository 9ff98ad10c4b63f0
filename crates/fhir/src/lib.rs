//! celltrace's records as HL7 FHIR R4 (4.0.1) JSON: one function per resource
//! type, taking the domain `State` (or a plain struct defined here) and
//! returning a `serde_json::Value`. Pure: no I/O, no web or database types.
//!
//! A `/fhir` handler needs only this surface:
//!
//! - `GET /fhir/metadata` → [`capability_statement`]
//! - `GET /fhir/{type}/{id}` → [`ResourceType::parse`], then [`read`]
//!   (or [`questionnaire`], [`questionnaire_response`], [`provenance`] for the
//!   types whose data the caller holds)
//! - `GET /fhir/{type}?…` → [`SearchParams::parse`], [`search_state`] (or
//!   [`search`] over caller-built resources), [`searchset`]
//! - `GET /fhir/Patient/{id}/$everything` → [`everything`]
//! - any refusal → [`SearchError::operation_outcome`] or [`operation_outcome`]
//!
//! Ids: celltrace ids are the FHIR logical ids when they fit FHIR's
//! `[A-Za-z0-9\-\.]{1,64}`; others are mapped by [`fhir_id`]. Times are UTC
//! with `Z`. Identifier and code systems are listed in [`systems`] (ISBT 128
//! DINs use ICCBBA's `https://www.isbt128.org/uri/DonationIdentificationNumber`).
//! Output is checked against the `fhir.resources` R4B models by
//! `scripts/fhir_validate.py` (see `tests/validate.rs`).

pub mod ids;
mod json;
pub mod provenance;
pub mod questionnaire;
pub mod resources;
pub mod search;
pub mod server;
pub mod systems;
pub mod time;

pub use ids::{fhir_id, is_fhir_id};
pub use provenance::{event_signatures, event_targets, provenance, LedgerEntry, TargetRef};
pub use questionnaire::{questionnaire, questionnaire_response, AnswerOptionDef, QuestionnaireDef, QuestionnaireItem, ResponseInput};
pub use resources::{
    administration_procedure, adverse_event, biologically_derived_product, collection_procedure, consent, consents,
    follow_up_observation, observations, organization, patient, practitioner, procedures, qc_observations,
};
pub use search::{read, resources_of_type, search, search_state, ResourceType, SearchError, SearchPage, SearchParams};
pub use server::{
    bundle_searchset, capability_statement, everything, operation_outcome, patient_compartment, searchset, IssueSeverity,
    IssueType,
};
