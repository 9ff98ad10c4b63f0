//! Every identifier system, code system and extension URL the resources use,
//! in one place so an interface partner can be told them all.
//!
//! ISBT 128: ICCBBA publishes URIs for its data elements under
//! `https://www.isbt128.org/uri/`; HL7's own BiologicallyDerivedProduct example
//! uses `…/DonationIdentificationNumber` for the DIN, so celltrace uses that
//! family rather than an OID (ICCBBA assigns none per data element) or a URL of
//! its own. The unit code (DIN followed by product code, which names one unit
//! per ISBT 128) has no ICCBBA URI, so it is a celltrace identifier.
//! Systems celltrace defines live under `http://celltrace.org/fhir/`.

/// ISBT 128 Donation Identification Number (13 characters, no flags).
pub const ISBT128_DIN: &str = "https://www.isbt128.org/uri/DonationIdentificationNumber";
/// ISBT 128 product code (8 characters).
pub const ISBT128_PRODUCT_CODE: &str = "https://www.isbt128.org/uri/ProductCode";
/// ISBT 128 Facility Identification Number (5 characters).
pub const ISBT128_FIN: &str = "https://www.isbt128.org/uri/FacilityIdentificationNumber";

/// Root of the systems celltrace defines.
pub const CELLTRACE: &str = "http://celltrace.org/fhir";
/// DIN followed by product code: one unit.
pub const UNIT_CODE: &str = "http://celltrace.org/fhir/sid/isbt128-unit-code";
/// Medical record numbers; the registering site's id follows, e.g. `…/mrn/clinic`.
pub const MRN_BASE: &str = "http://celltrace.org/fhir/sid/mrn";
/// celltrace record ids (collections, administrations, consents, adverse events, visits).
pub const RECORD_ID: &str = "http://celltrace.org/fhir/sid/record";
/// Ledger entries: the sequence number.
pub const LEDGER_ENTRY: &str = "http://celltrace.org/fhir/sid/ledger-entry";
/// Actors that are not people (bootstrap, imports).
pub const SYSTEM_ACTOR: &str = "http://celltrace.org/fhir/sid/system-actor";
/// Product types of the catalogue (`autologous-adipose`...).
pub const PRODUCT_TYPE: &str = "http://celltrace.org/fhir/CodeSystem/product-type";
/// Kinds of processing step.
pub const PROCESSING_KIND: &str = "http://celltrace.org/fhir/CodeSystem/processing-kind";
/// celltrace procedures: `collection`, `administration`.
pub const PROCEDURE: &str = "http://celltrace.org/fhir/CodeSystem/procedure";
/// QC tests, by the name the lab recorded.
pub const QC_TEST: &str = "http://celltrace.org/fhir/CodeSystem/qc-test";
/// Questionnaire instruments (`nprs`, `koos`...).
pub const INSTRUMENT: &str = "http://celltrace.org/fhir/CodeSystem/instrument";
/// Ledger event kinds (`unit_released`...).
pub const LEDGER_EVENT: &str = "http://celltrace.org/fhir/CodeSystem/ledger-event";
/// Meanings of e-signatures (`release`...).
pub const SIGNATURE_MEANING: &str = "http://celltrace.org/fhir/CodeSystem/signature-meaning";
/// Patient or donor.
pub const PERSON_KIND: &str = "http://celltrace.org/fhir/CodeSystem/person-kind";
/// Kinds of site.
pub const SITE_KIND: &str = "http://celltrace.org/fhir/CodeSystem/site-kind";
/// Root of celltrace extensions (`…/StructureDefinition/unit-status`...).
pub const EXTENSION_BASE: &str = "http://celltrace.org/fhir/StructureDefinition";
/// Canonical URL root of celltrace questionnaires (`…/Questionnaire/nprs`).
pub const QUESTIONNAIRE_BASE: &str = "http://celltrace.org/fhir/Questionnaire";

/// ICD-10-CM.
pub const ICD10CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
/// LOINC.
pub const LOINC: &str = "http://loinc.org";
/// BCP 47 language tags.
pub const BCP47: &str = "urn:ietf:bcp:47";
/// HL7 v2 table 0203, identifier types.
pub const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
/// Observation categories.
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// Observation interpretation (N, A).
pub const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
/// Data absent reasons.
pub const DATA_ABSENT: &str = "http://terminology.hl7.org/CodeSystem/data-absent-reason";
/// Adverse event seriousness.
pub const AE_SERIOUSNESS: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness";
/// Adverse event severity.
pub const AE_SEVERITY: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-severity";
/// Adverse event causality assessment (WHO-UMC).
pub const AE_CAUSALITY: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-causality-assess";
/// Consent scopes.
pub const CONSENT_SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
/// Provenance participant types.
pub const PROVENANCE_PARTICIPANT: &str = "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
/// ASTM E1762 signature types.
pub const SIGNATURE_TYPE: &str = "urn:iso-astm:E1762-95:2013";
/// The standard extension giving an answer option its score.
pub const ORDINAL_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";
