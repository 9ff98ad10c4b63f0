//! Commands: what someone asks celltrace to do. A command is only an intent;
//! `decide` turns it into events or a rejection.

use crate::ids::*;
use crate::model::*;
use crate::time::{Date, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum Actor {
    /// A signed-in member of staff.
    Staff(StaffId),
    /// A patient in the portal.
    Patient(PersonId),
    /// The local operator at the command line (bootstrap, demo loading, imports).
    System(String),
}

impl Actor {
    /// The actor as one word for the ledger, e.g. `staff:u-7`.
    pub fn ledger_name(&self) -> String {
        match self {
            Actor::Staff(id) => format!("staff:{id}"),
            Actor::Patient(id) => format!("patient:{id}"),
            Actor::System(name) => format!("system:{name}"),
        }
    }
}

/// A command with who asks, where, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Submission {
    /// Chosen by the submitter; a second submission with the same id is refused.
    pub id: CommandId,
    /// Who asks.
    pub actor: Actor,
    /// The site the actor works at for this command.
    pub site: SiteId,
    /// The clock reading when received.
    pub at: Timestamp,
    /// What is asked.
    pub command: Command,
}

/// A new unit produced by a processing step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUnit {
    /// Identifier of the child unit.
    pub unit: UnitId,
    /// ISBT 128 product code of the child.
    pub product_code: String,
    /// Quantity in its container.
    pub quantity: Quantity,
    /// Expiry.
    pub expires_at: Timestamp,
}

/// Everything celltrace can be asked to change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Command {
    /// Register a site (administrator, or the local operator for the first one).
    RegisterSite {
        /// New site id.
        site: SiteId,
        /// Name.
        name: String,
        /// Kind.
        kind: SiteKind,
        /// ISO country code.
        country: String,
        /// Accreditations.
        accreditations: Vec<String>,
        /// ISBT 128 facility identification number (5 characters).
        fin: String,
    },
    /// Register a member of staff with roles at sites.
    RegisterStaff {
        /// New staff id.
        staff: StaffId,
        /// Full name.
        name: String,
        /// Login name.
        username: String,
        /// Sites and roles.
        memberships: Vec<Membership>,
    },
    /// Set whether the site permits unproven treatments (medical director).
    SetSitePolicy {
        /// Whether unproven treatments may proceed with safeguards.
        allows_unproven: bool,
    },
    /// Replace the product description table labels print (administrator).
    LoadProductCatalogue {
        /// Rows.
        entries: Vec<ProductDescription>,
        /// Where the table came from.
        source: String,
    },
    /// Replace the evidence data the guard rates plans with (administrator).
    /// The adapter has already parsed and checked the files.
    LoadEvidenceData {
        /// The data's version.
        version: String,
        /// `indications.toml`.
        indications: String,
        /// `status.toml`.
        status: String,
        /// `approved_products.toml`.
        approved_products: String,
        /// Where the files came from.
        source: String,
    },
    /// Register a patient or donor.
    RegisterPerson {
        /// New person id.
        person: PersonId,
        /// Patient or donor.
        kind: PersonKind,
        /// Medical record number.
        mrn: String,
        /// Name in any script.
        name: String,
        /// Date of birth.
        date_of_birth: Date,
        /// Sex.
        sex: Sex,
        /// Preferred language.
        language: Language,
        /// Contact.
        contact: String,
    },
    /// Record that someone opened a patient's record (audit of reads).
    RecordRecordViewed {
        /// Whose record.
        person: PersonId,
        /// What was looked at.
        view: String,
    },
    /// Order a treatment plan; the evidence guard rates it.
    CreatePlan {
        /// New plan id.
        plan: PlanId,
        /// Patient.
        patient: PersonId,
        /// Condition.
        indication: Indication,
        /// Product type.
        product_type: ProductType,
        /// Route.
        route: String,
        /// Sessions.
        sessions: u32,
        /// Dose per session.
        dose: Quantity,
        /// Quote.
        cost_quote: Money,
        /// Rating from the evidence data.
        evidence: EvidenceRating,
        /// Trial, for investigational use.
        trial: Option<Trial>,
    },
    /// Record the patient's signed acknowledgement of the unproven-treatment warning.
    AcknowledgeEvidenceWarning {
        /// Plan.
        plan: PlanId,
    },
    /// Medical director's e-signed override of an evidence block.
    OverrideEvidenceBlock {
        /// Plan.
        plan: PlanId,
        /// The director's signature.
        signature: Signature,
    },
    /// Record an eligibility assessment.
    AssessEligibility {
        /// Plan.
        plan: PlanId,
        /// New assessment id.
        assessment: AssessmentId,
        /// Criteria.
        criteria: Vec<Criterion>,
        /// Days the assessment stays current.
        valid_days: u32,
    },
    /// Record a signed consent.
    RecordConsent {
        /// Plan.
        plan: PlanId,
        /// New consent id.
        consent: ConsentId,
        /// Template.
        template: String,
        /// Template version.
        template_version: String,
        /// Language.
        language: Language,
        /// Witness signature, where one signed.
        witness: Option<Signature>,
    },
    /// Withdraw consent; everything downstream stops.
    WithdrawConsent {
        /// Plan.
        plan: PlanId,
        /// Reason.
        reason: String,
    },
    /// Record a collection and its starting-material unit.
    RecordCollection {
        /// New collection id.
        collection: CollectionId,
        /// The person the material comes from.
        source_person: PersonId,
        /// The plan it is collected for (autologous), if any.
        plan: Option<PlanId>,
        /// Tissue.
        tissue: SourceTissue,
        /// Product type it will become.
        product_type: ProductType,
        /// New unit id.
        unit: UnitId,
        /// Donation identification number assigned.
        din: String,
        /// Product code of the starting material.
        product_code: String,
        /// Volume collected.
        quantity: Quantity,
        /// When collected.
        collected_at: Timestamp,
        /// Expiry of the starting material.
        expires_at: Timestamp,
    },
    /// Record a processing step; outputs become child units of the inputs.
    RecordProcessingStep {
        /// New step id.
        step: StepId,
        /// Kind.
        kind: ProcessingKind,
        /// Input units.
        inputs: Vec<UnitId>,
        /// Child units made (empty when the step changes units in place).
        outputs: Vec<NewUnit>,
        /// Equipment.
        equipment: String,
        /// Reagent lots.
        reagent_lots: Vec<String>,
        /// Parameters.
        parameters: Vec<(String, String)>,
    },
    /// Record a QC result on a unit.
    RecordQcResult {
        /// Unit.
        unit: UnitId,
        /// Test.
        test: String,
        /// Value.
        value: String,
        /// Specification.
        specification: String,
        /// In specification.
        in_spec: bool,
    },
    /// Release a unit with a QA e-signature.
    ReleaseUnit {
        /// Unit.
        unit: UnitId,
        /// QA signature.
        signature: Signature,
    },
    /// Release out of specification with QA and physician signatures.
    ExceptionalRelease {
        /// Unit.
        unit: UnitId,
        /// QA signature.
        qa: Signature,
        /// Physician signature.
        physician: Signature,
        /// Why.
        justification: String,
        /// Patient informed.
        patient_informed: bool,
    },
    /// Discard a unit.
    DiscardUnit {
        /// Unit.
        unit: UnitId,
        /// Why.
        reason: String,
    },
    /// Put a unit in a storage location.
    StoreUnit {
        /// Unit.
        unit: UnitId,
        /// Where.
        location: StorageLocation,
    },
    /// Allocate an allogeneic unit to a plan.
    AllocateUnit {
        /// Unit.
        unit: UnitId,
        /// Plan.
        plan: PlanId,
    },
    /// Dispatch units to another site with a signed custody transfer.
    DispatchShipment {
        /// New shipment id.
        shipment: ShipmentId,
        /// Destination.
        to_site: SiteId,
        /// Units.
        units: Vec<UnitId>,
        /// Courier.
        courier: String,
        /// Dispatcher's signature.
        signature: Signature,
    },
    /// Receive a shipment with a signed custody transfer.
    ReceiveShipment {
        /// Shipment.
        shipment: ShipmentId,
        /// Container and seals intact.
        condition_ok: bool,
        /// Temperature excursions found in the logger file.
        excursions: Vec<String>,
        /// Receiver's signature.
        signature: Signature,
    },
    /// Administer a unit after bedside verification.
    AdministerUnit {
        /// New administration id.
        administration: AdministrationId,
        /// Unit scanned.
        unit: UnitId,
        /// Patient whose wristband was scanned.
        patient: PersonId,
        /// Plan.
        plan: PlanId,
        /// Dose given.
        dose: Quantity,
        /// Anatomical site.
        body_site: String,
        /// Witness signature.
        witness: Signature,
    },
    /// Record a follow-up result.
    RecordFollowUp {
        /// Plan.
        plan: PlanId,
        /// New visit id.
        visit: VisitId,
        /// Time point.
        time_point: String,
        /// Instrument.
        instrument: String,
        /// Score in thousandths.
        score_milli: Option<i64>,
        /// Notes.
        notes: String,
    },
    /// Record a patient's answers to a questionnaire: the patient in the
    /// portal, or a nurse or physician from the paper form.
    AnswerQuestionnaire {
        /// Plan.
        plan: PlanId,
        /// New response id.
        visit: VisitId,
        /// Time point.
        time_point: String,
        /// Instrument id.
        instrument: String,
        /// Instrument version.
        instrument_version: String,
        /// Item id → option value.
        answers: std::collections::BTreeMap<String, u8>,
        /// Registry score name → score in thousandths (computed by the adapter).
        scores: std::collections::BTreeMap<String, Option<i64>>,
        /// Language the questions were shown in.
        language: Language,
    },
    /// Report an adverse event.
    ReportAdverseEvent {
        /// New id.
        adverse_event: AdverseEventId,
        /// Patient.
        patient: PersonId,
        /// Plan.
        plan: Option<PlanId>,
        /// Unit.
        unit: Option<UnitId>,
        /// CTCAE term.
        term: String,
        /// Grade 1–5.
        grade: u8,
        /// Onset.
        onset: Date,
        /// Seriousness criteria.
        seriousness: BTreeSet<Seriousness>,
        /// Relatedness.
        relatedness: Relatedness,
        /// Action taken.
        action: String,
        /// Outcome.
        outcome: String,
        /// Narrative.
        description: String,
    },
    /// Medical director's review of an adverse event.
    ReviewAdverseEvent {
        /// Event.
        adverse_event: AdverseEventId,
        /// Review note.
        note: String,
    },
}

impl Command {
    /// The command's name, as used in messages and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::RegisterSite { .. } => "register_site",
            Command::RegisterStaff { .. } => "register_staff",
            Command::SetSitePolicy { .. } => "set_site_policy",
            Command::LoadProductCatalogue { .. } => "load_product_catalogue",
            Command::LoadEvidenceData { .. } => "load_evidence_data",
            Command::RegisterPerson { .. } => "register_person",
            Command::RecordRecordViewed { .. } => "record_record_viewed",
            Command::CreatePlan { .. } => "create_plan",
            Command::AcknowledgeEvidenceWarning { .. } => "acknowledge_evidence_warning",
            Command::OverrideEvidenceBlock { .. } => "override_evidence_block",
            Command::AssessEligibility { .. } => "assess_eligibility",
            Command::RecordConsent { .. } => "record_consent",
            Command::WithdrawConsent { .. } => "withdraw_consent",
            Command::RecordCollection { .. } => "record_collection",
            Command::RecordProcessingStep { .. } => "record_processing_step",
            Command::RecordQcResult { .. } => "record_qc_result",
            Command::ReleaseUnit { .. } => "release_unit",
            Command::ExceptionalRelease { .. } => "exceptional_release",
            Command::DiscardUnit { .. } => "discard_unit",
            Command::StoreUnit { .. } => "store_unit",
            Command::AllocateUnit { .. } => "allocate_unit",
            Command::DispatchShipment { .. } => "dispatch_shipment",
            Command::ReceiveShipment { .. } => "receive_shipment",
            Command::AdministerUnit { .. } => "administer_unit",
            Command::RecordFollowUp { .. } => "record_follow_up",
            Command::AnswerQuestionnaire { .. } => "answer_questionnaire",
            Command::ReportAdverseEvent { .. } => "report_adverse_event",
            Command::ReviewAdverseEvent { .. } => "review_adverse_event",
        }
    }
}
