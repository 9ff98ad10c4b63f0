//! Commands: what someone asks celltrace to do. A command is only an intent;
//! `decide` turns it into events or a rejection.

use crate::ids::*;
use crate::model::*;
use crate::time::{Date, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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
    /// Change the sites and roles of a member of staff (administrator of
    /// every site concerned).
    ChangeStaffMemberships {
        /// Whose.
        staff: StaffId,
        /// The new sites and roles, replacing the old.
        memberships: Vec<Membership>,
        /// Why.
        reason: String,
    },
    /// Deactivate an account: its sessions and API tokens stop working at once.
    DeactivateStaff {
        /// Whose.
        staff: StaffId,
        /// Why.
        reason: String,
    },
    /// Reactivate a deactivated account.
    ReactivateStaff {
        /// Whose.
        staff: StaffId,
        /// Why.
        reason: String,
    },
    /// Record that a password was set (the hash is stored beside, never in the ledger).
    SetPassword {
        /// Whose.
        staff: StaffId,
        /// Why.
        change: PasswordChange,
    },
    /// Issue an API token to a member of staff (administrator, or the local operator).
    IssueApiToken {
        /// The token's public identifier.
        token: ApiTokenId,
        /// Whose credential it is.
        staff: StaffId,
        /// What it is for.
        label: String,
        /// SHA-256 of the secret token, hex (the token itself is never recorded).
        token_hash: String,
        /// When it stops working, if it should.
        expires_at: Option<Timestamp>,
    },
    /// Revoke an API token (administrator, its owner, or the local operator).
    RevokeApiToken {
        /// Which.
        token: ApiTokenId,
        /// Why.
        reason: String,
    },
    /// Give a patient access to the portal (a one-time code, stored beside as a hash).
    GrantPortalAccess {
        /// The patient.
        person: PersonId,
    },
    /// The signer proves they authenticated to sign one command: the grant is
    /// bound to the submitter, the site and the command's content, is
    /// short-lived, and is spent by its first use.
    IssueSigningGrant {
        /// New grant id, quoted by the command that uses it.
        grant: SigningGrantId,
        /// What the signer agrees to.
        meaning: SignatureMeaning,
        /// Who will submit the command.
        submitter: StaffId,
        /// `Command::signing_digest` of that command.
        command_digest: String,
        /// How the signer authenticated.
        method: AuthenticationMethod,
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
        /// The unit at the viewer's site that showed the person (a label of
        /// autologous material), when the viewer may not otherwise see patients.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via_unit: Option<UnitId>,
    },
    /// Order a treatment plan; the evidence guard rates it with the evidence
    /// data in force (the caller never supplies a rating).
    CreatePlan {
        /// New plan id.
        plan: PlanId,
        /// Patient.
        patient: PersonId,
        /// ICD-10-CM code of the condition, e.g. `M54.50`.
        indication: String,
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
        signature: SignatureRequest,
        /// Why the director overrides it.
        #[serde(default)]
        reason: String,
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
        witness: Option<SignatureRequest>,
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
        /// In specification, out of it, or pending (sample sent).
        outcome: QcOutcome,
    },
    /// Release a unit with a QA e-signature.
    ReleaseUnit {
        /// Unit.
        unit: UnitId,
        /// QA signature.
        signature: SignatureRequest,
    },
    /// Release out of specification, or with results pending, with QA and
    /// physician signatures.
    ExceptionalRelease {
        /// Unit.
        unit: UnitId,
        /// QA signature.
        qa: SignatureRequest,
        /// Physician signature.
        physician: SignatureRequest,
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
    /// Ask the site holding an allogeneic unit to allocate it to a plan of
    /// this site (a physician of the plan's site).
    RequestUnit {
        /// Unit.
        unit: UnitId,
        /// Plan.
        plan: PlanId,
    },
    /// Allocate an allogeneic unit to a plan: done at the site holding the
    /// unit, for a plan of that site or one whose site requested it.
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
        signature: SignatureRequest,
    },
    /// Receive a shipment with a signed custody transfer.
    ReceiveShipment {
        /// Shipment.
        shipment: ShipmentId,
        /// Container and seals intact.
        condition_ok: bool,
        /// The temperature record: excursions read from the logger, or why it is missing.
        temperature_log: TemperatureLog,
        /// Receiver's signature.
        signature: SignatureRequest,
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
        witness: SignatureRequest,
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
        /// Item id → option value (the rules check and score them).
        answers: std::collections::BTreeMap<String, u8>,
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
            Command::ChangeStaffMemberships { .. } => "change_staff_memberships",
            Command::DeactivateStaff { .. } => "deactivate_staff",
            Command::ReactivateStaff { .. } => "reactivate_staff",
            Command::SetPassword { .. } => "set_password",
            Command::IssueApiToken { .. } => "issue_api_token",
            Command::RevokeApiToken { .. } => "revoke_api_token",
            Command::GrantPortalAccess { .. } => "grant_portal_access",
            Command::IssueSigningGrant { .. } => "issue_signing_grant",
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
            Command::RequestUnit { .. } => "request_unit",
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

impl Command {
    /// The signature requests the command carries, in order.
    pub fn signature_requests(&self) -> Vec<&SignatureRequest> {
        match self {
            Command::OverrideEvidenceBlock { signature, .. }
            | Command::ReleaseUnit { signature, .. }
            | Command::DispatchShipment { signature, .. } => vec![signature],
            Command::ReceiveShipment { signature, temperature_log, .. } => match temperature_log {
                TemperatureLog::Missing { exception, .. } => vec![signature, exception],
                TemperatureLog::Read { .. } => vec![signature],
            },
            Command::RecordConsent { witness, .. } => witness.iter().collect(),
            Command::ExceptionalRelease { qa, physician, .. } => vec![qa, physician],
            Command::AdministerUnit { witness, .. } => vec![witness],
            _ => Vec::new(),
        }
    }

    fn signature_requests_mut(&mut self) -> Vec<&mut SignatureRequest> {
        match self {
            Command::OverrideEvidenceBlock { signature, .. }
            | Command::ReleaseUnit { signature, .. }
            | Command::DispatchShipment { signature, .. } => vec![signature],
            Command::ReceiveShipment { signature, temperature_log, .. } => match temperature_log {
                TemperatureLog::Missing { exception, .. } => vec![signature, exception],
                TemperatureLog::Read { .. } => vec![signature],
            },
            Command::RecordConsent { witness, .. } => witness.iter_mut().collect(),
            Command::ExceptionalRelease { qa, physician, .. } => vec![qa, physician],
            Command::AdministerUnit { witness, .. } => vec![witness],
            _ => Vec::new(),
        }
    }

    /// What a signing grant binds to: SHA-256 (hex) of the submitter, the
    /// site and the command with every grant reference left out (a grant
    /// cannot name itself). Any change to the command's content after the
    /// signer authenticated gives another digest, and the grant is refused.
    pub fn signing_digest(&self, submitter: &StaffId, site: &SiteId) -> String {
        let mut bare = self.clone();
        for request in bare.signature_requests_mut() {
            request.grant = None;
        }
        let mut hasher = Sha256::new();
        hasher.update(b"celltrace signing digest 1\n");
        hasher.update(submitter.as_str().as_bytes());
        hasher.update(b"\n");
        hasher.update(site.as_str().as_bytes());
        hasher.update(b"\n");
        // Plain data with string keys only: serialising cannot fail, and
        // field order is the declaration order, so the bytes are stable.
        hasher.update(serde_json::to_vec(&bare).unwrap_or_default());
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Sets the grant of the request signed by `signer` with `meaning`.
    pub fn attach_grant(&mut self, signer: &StaffId, meaning: SignatureMeaning, grant: SigningGrantId) -> bool {
        match self.signature_requests_mut().into_iter().find(|r| &r.signer == signer && r.meaning == meaning) {
            Some(request) => {
                request.grant = Some(grant);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id<T: std::str::FromStr>(s: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        s.parse().expect("id")
    }

    #[test]
    fn the_signing_digest_ignores_grants_and_binds_everything_else() {
        let release = |unit: &str, grant: Option<&str>| Command::ExceptionalRelease {
            unit: id(unit),
            qa: SignatureRequest::own(id("qa"), SignatureMeaning::ExceptionalRelease),
            physician: SignatureRequest { signer: id("doc"), meaning: SignatureMeaning::ExceptionalRelease, grant: grant.map(id) },
            justification: "no other unit".into(),
            patient_informed: true,
        };
        let (qa, site) = (id("qa"), id("lab"));
        let digest = release("u-1", None).signing_digest(&qa, &site);
        assert_eq!(digest.len(), 64);
        assert_eq!(release("u-1", Some("g-1")).signing_digest(&qa, &site), digest, "the grant itself is left out");
        assert_ne!(release("u-2", None).signing_digest(&qa, &site), digest, "another unit");
        assert_ne!(release("u-1", None).signing_digest(&id("qa2"), &site), digest, "another submitter");
        assert_ne!(release("u-1", None).signing_digest(&qa, &id("lab2")), digest, "another site");
        let mut with = release("u-1", None);
        assert!(with.attach_grant(&id("doc"), SignatureMeaning::ExceptionalRelease, id("g-9")));
        assert!(!with.attach_grant(&id("nobody"), SignatureMeaning::ExceptionalRelease, id("g-9")));
        assert_eq!(with.signature_requests()[1].grant, Some(id("g-9")));
    }
}
