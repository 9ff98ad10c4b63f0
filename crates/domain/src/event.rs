//! Events: facts that happened, in the order the ledger recorded them. They
//! carry everything `apply` needs, so the state can always be rebuilt from them.

use crate::ids::*;
use crate::model::*;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Something that happened. The serialised form is part of the ledger and must
/// stay readable forever: add variants and optional fields, never change one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Event {
    /// A site was registered.
    SiteRegistered {
        /// The site.
        site: Site,
    },
    /// A member of staff was registered.
    StaffRegistered {
        /// The member.
        staff: Staff,
    },
    /// A member of staff's sites and roles were replaced.
    StaffMembershipsChanged {
        /// Whose.
        staff: StaffId,
        /// The new sites and roles.
        memberships: Vec<Membership>,
        /// Why.
        reason: String,
    },
    /// An account was deactivated: its sessions and tokens stop working.
    StaffDeactivated {
        /// Whose.
        staff: StaffId,
        /// Who, when, why.
        deactivation: Deactivation,
    },
    /// An account was reactivated.
    StaffReactivated {
        /// Whose.
        staff: StaffId,
        /// Who (ledger name).
        by: String,
        /// When.
        at: Timestamp,
        /// Why.
        reason: String,
    },
    /// A password was set (its hash is kept beside the ledger, never in it).
    PasswordSet {
        /// Whose.
        staff: StaffId,
        /// Why.
        change: PasswordChange,
        /// When.
        at: Timestamp,
    },
    /// An API token was issued.
    ApiTokenIssued {
        /// The token's record (its hash, never the token).
        token: ApiToken,
    },
    /// An API token was revoked.
    ApiTokenRevoked {
        /// Which.
        token: ApiTokenId,
        /// Who, when, why.
        revocation: Deactivation,
    },
    /// A patient was given a one-time code to the portal (the code's hash is kept beside).
    PortalAccessGranted {
        /// The patient.
        person: PersonId,
        /// Who handed it over.
        by: StaffId,
        /// When.
        at: Timestamp,
    },
    /// A signer authenticated to sign one command.
    SigningGrantIssued {
        /// The grant.
        grant: SigningGrant,
    },
    /// A physician of another site asked for a unit for their plan.
    UnitRequested {
        /// The unit.
        unit: UnitId,
        /// The request.
        request: AllocationRequest,
    },
    /// A site's evidence policy changed.
    SitePolicySet {
        /// Site.
        site: SiteId,
        /// New policy.
        allows_unproven: bool,
    },
    /// The evidence data the guard uses was replaced.
    EvidenceDataLoaded {
        /// The data now in force.
        dataset: EvidenceDataset,
    },
    /// The product description table was replaced.
    ProductCatalogueLoaded {
        /// The new table.
        catalogue: ProductCatalogue,
    },
    /// A patient or donor was registered.
    PersonRegistered {
        /// The person.
        person: Person,
    },
    /// Someone read a patient's record.
    RecordViewed {
        /// Whose record.
        person: PersonId,
        /// What was looked at.
        view: String,
    },
    /// A plan was created and rated by the evidence guard.
    PlanCreated {
        /// The plan as created (active or blocked).
        plan: Plan,
    },
    /// The patient signed the plain-language warning for an unproven treatment.
    EvidenceWarningAcknowledged {
        /// Plan.
        plan: PlanId,
        /// When.
        at: Timestamp,
    },
    /// The medical director overrode an evidence block.
    EvidenceBlockOverridden {
        /// Plan.
        plan: PlanId,
        /// Signature.
        signature: Signature,
        /// Why (older overrides recorded none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Eligibility was assessed.
    EligibilityAssessed {
        /// Plan.
        plan: PlanId,
        /// Assessment.
        assessment: Eligibility,
    },
    /// A consent was signed.
    ConsentRecorded {
        /// Plan.
        plan: PlanId,
        /// Consent.
        consent: Consent,
    },
    /// Consent was withdrawn and the plan stopped.
    ConsentWithdrawn {
        /// Plan.
        plan: PlanId,
        /// Consent.
        consent: ConsentId,
        /// Withdrawal.
        withdrawal: Withdrawal,
    },
    /// Material was collected into a new unit.
    CollectionRecorded {
        /// Collection.
        collection: CollectionId,
        /// Tissue.
        tissue: SourceTissue,
        /// Plan it was collected for.
        plan: Option<PlanId>,
        /// Collector.
        collector: StaffId,
        /// The starting-material unit.
        unit: Unit,
    },
    /// A processing step was performed.
    ProcessingStepRecorded {
        /// Step.
        step: StepRecord,
        /// Inputs.
        inputs: Vec<UnitId>,
        /// Child units made.
        outputs: Vec<Unit>,
    },
    /// A QC result was recorded.
    QcResultRecorded {
        /// Unit.
        unit: UnitId,
        /// Result.
        result: QcResult,
    },
    /// A unit was released.
    UnitReleased {
        /// Unit.
        unit: UnitId,
        /// Signatures (QA; plus physician for exceptional release).
        signatures: Vec<Signature>,
        /// Out of specification.
        exceptional: bool,
        /// Justification for exceptional release.
        justification: Option<String>,
    },
    /// A unit was discarded.
    UnitDiscarded {
        /// Unit.
        unit: UnitId,
        /// Why.
        reason: String,
    },
    /// A unit was stored.
    UnitStored {
        /// Unit.
        unit: UnitId,
        /// Location.
        location: StorageLocation,
    },
    /// An allogeneic unit was allocated to a plan.
    UnitAllocated {
        /// Unit.
        unit: UnitId,
        /// Plan.
        plan: PlanId,
    },
    /// Units left a site.
    ShipmentDispatched {
        /// Shipment.
        shipment: Shipment,
    },
    /// Units arrived.
    ShipmentReceived {
        /// Shipment.
        shipment: ShipmentId,
        /// Destination, now holding the units.
        to_site: SiteId,
        /// Units.
        units: Vec<UnitId>,
        /// Receiver's signature.
        signature: Signature,
        /// Condition.
        condition_ok: bool,
        /// Excursions.
        excursions: Vec<String>,
        /// Received without a temperature record, as a signed exception.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        temperature_exception: Option<TemperatureException>,
    },
    /// A unit was given to a patient.
    UnitAdministered {
        /// Plan.
        plan: PlanId,
        /// Administration.
        administration: Administration,
    },
    /// Every planned session has been given.
    PlanCompleted {
        /// Plan.
        plan: PlanId,
    },
    /// A follow-up was recorded.
    FollowUpRecorded {
        /// Plan.
        plan: PlanId,
        /// Result.
        follow_up: FollowUp,
    },
    /// A questionnaire was answered.
    QuestionnaireAnswered {
        /// Plan.
        plan: PlanId,
        /// The answers and their scores.
        response: QuestionnaireResponse,
    },
    /// An adverse event was reported.
    AdverseEventReported {
        /// Event.
        adverse_event: AdverseEvent,
    },
    /// A medical director reviewed an adverse event.
    AdverseEventReviewed {
        /// Event.
        adverse_event: AdverseEventId,
        /// Reviewer.
        reviewer: StaffId,
        /// When.
        at: Timestamp,
        /// Note.
        note: String,
    },
}

impl Event {
    /// The event's kind as stored in the ledger.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::SiteRegistered { .. } => "site_registered",
            Event::StaffRegistered { .. } => "staff_registered",
            Event::StaffMembershipsChanged { .. } => "staff_memberships_changed",
            Event::StaffDeactivated { .. } => "staff_deactivated",
            Event::StaffReactivated { .. } => "staff_reactivated",
            Event::PasswordSet { .. } => "password_set",
            Event::ApiTokenIssued { .. } => "api_token_issued",
            Event::ApiTokenRevoked { .. } => "api_token_revoked",
            Event::PortalAccessGranted { .. } => "portal_access_granted",
            Event::SigningGrantIssued { .. } => "signing_grant_issued",
            Event::UnitRequested { .. } => "unit_requested",
            Event::SitePolicySet { .. } => "site_policy_set",
            Event::ProductCatalogueLoaded { .. } => "product_catalogue_loaded",
            Event::EvidenceDataLoaded { .. } => "evidence_data_loaded",
            Event::PersonRegistered { .. } => "person_registered",
            Event::RecordViewed { .. } => "record_viewed",
            Event::PlanCreated { .. } => "plan_created",
            Event::EvidenceWarningAcknowledged { .. } => "evidence_warning_acknowledged",
            Event::EvidenceBlockOverridden { .. } => "evidence_block_overridden",
            Event::EligibilityAssessed { .. } => "eligibility_assessed",
            Event::ConsentRecorded { .. } => "consent_recorded",
            Event::ConsentWithdrawn { .. } => "consent_withdrawn",
            Event::CollectionRecorded { .. } => "collection_recorded",
            Event::ProcessingStepRecorded { .. } => "processing_step_recorded",
            Event::QcResultRecorded { .. } => "qc_result_recorded",
            Event::UnitReleased { .. } => "unit_released",
            Event::UnitDiscarded { .. } => "unit_discarded",
            Event::UnitStored { .. } => "unit_stored",
            Event::UnitAllocated { .. } => "unit_allocated",
            Event::ShipmentDispatched { .. } => "shipment_dispatched",
            Event::ShipmentReceived { .. } => "shipment_received",
            Event::UnitAdministered { .. } => "unit_administered",
            Event::PlanCompleted { .. } => "plan_completed",
            Event::FollowUpRecorded { .. } => "follow_up_recorded",
            Event::QuestionnaireAnswered { .. } => "questionnaire_answered",
            Event::AdverseEventReported { .. } => "adverse_event_reported",
            Event::AdverseEventReviewed { .. } => "adverse_event_reviewed",
        }
    }
}

impl Event {
    /// Every e-signature the event records.
    pub fn signatures(&self) -> Vec<&Signature> {
        match self {
            Event::EvidenceBlockOverridden { signature, .. } => vec![signature],
            Event::ConsentRecorded { consent, .. } => consent.witness_signature.iter().collect(),
            Event::UnitReleased { signatures, .. } => signatures.iter().collect(),
            Event::ShipmentDispatched { shipment } => vec![&shipment.dispatched],
            Event::ShipmentReceived { signature, temperature_exception, .. } => {
                std::iter::once(signature).chain(temperature_exception.iter().map(|e| &e.signature)).collect()
            }
            Event::UnitAdministered { administration, .. } => administration.witness_signature.iter().collect(),
            _ => Vec::new(),
        }
    }
}
