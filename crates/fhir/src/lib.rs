//! celltrace's records as HL7 FHIR R4 (4.0.1) JSON: one function per resource
//! type, taking the entity that holds the record and a [`Context`] of the
//! names it mentions, and returning a `serde_json::Value`. Pure: no I/O, no
//! web or database types, and never the whole state.
//!
//! A `/fhir` handler needs only this surface:
//!
//! - `GET /fhir/metadata` → [`capability_statement`]
//! - `GET /fhir/{type}/{id}` → [`ResourceType::parse`], the type's record
//!   kinds ([`ResourceType::records`]) looked up by id, then [`record`] (or
//!   [`questionnaire`], [`provenance`] for the shipped instruments and the ledger)
//! - `GET /fhir/{type}?…` → [`SearchParams::parse`], [`SearchParams::strategy`]
//!   (which index reads answer it), [`record`] per row, [`searchset`] with a
//!   [`PageCursor`] for the `next` link
//! - `GET /fhir/Patient/{id}/$everything` → [`compartment`], [`everything`]
//! - the entities a page mentions → [`Needs`], loaded into a [`Context`]
//! - any refusal → [`SearchError::operation_outcome`] or [`operation_outcome`]
//!
//! Ids: celltrace ids are the FHIR logical ids when they fit FHIR's
//! `[A-Za-z0-9\-\.]{1,64}`; others are mapped by [`fhir_id`]. Times are UTC
//! with `Z`. Identifier and code systems are listed in [`systems`] (ISBT 128
//! DINs use ICCBBA's `https://www.isbt128.org/uri/DonationIdentificationNumber`).
//! Output is checked against the `fhir.resources` R4B models by
//! `scripts/fhir_validate.py` (see `tests/validate.rs`).

pub mod context;
pub mod ids;
mod json;
pub mod provenance;
pub mod query;
pub mod questionnaire;
pub mod records;
pub mod resources;
pub mod search;
pub mod server;
pub mod systems;
pub mod time;

pub use context::{Context, Needs};
pub use ids::{fhir_id, is_fhir_id};
pub use provenance::{event_signatures, event_targets, provenance, LedgerEntry, TargetRef};
pub use query::{unit_availability, ListKey, Lists, Lookup, PageCursor, Scope, Strategy};
pub use questionnaire::{questionnaire, questionnaire_response, AnswerOptionDef, QuestionnaireDef, QuestionnaireItem, ResponseInput};
pub use records::{compartment, record, resource_type_of, subject_of, Holder, PatientRecords};
pub use resources::{
    administration_procedure, adverse_event, collection_procedure, consent, follow_up_observation, organization, patient, practitioner,
    product, qc_observation,
};
pub use search::{ResourceType, SearchError, SearchParams};
pub use server::{bundle_searchset, capability_statement, everything, operation_outcome, searchset, IssueSeverity, IssueType};
