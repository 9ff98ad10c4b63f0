//! The entities of the vein-to-vein path as the rules see them. These are the
//! projections that events build; they carry no persistence or wire concerns.

use crate::ids::*;
use crate::time::{Date, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What staff may do; a member holds one or more roles at each of their sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Registers patients, orders plans, assesses eligibility, consents, administers.
    Physician,
    /// Collections, bedside verification, administration, follow-up.
    Nurse,
    /// Processing batch records, QC results, storage.
    LabTechnologist,
    /// Release with e-signature, exceptional release, recalls.
    QualityAssurance,
    /// Shipments, custody transfers, receipts.
    Logistics,
    /// Site policy, overrides, serious adverse event review.
    MedicalDirector,
    /// Read-only access and ledger verification.
    Auditor,
    /// Users, roles, sites and catalogue.
    Administrator,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 8] = [
        Role::Physician,
        Role::Nurse,
        Role::LabTechnologist,
        Role::QualityAssurance,
        Role::Logistics,
        Role::MedicalDirector,
        Role::Auditor,
        Role::Administrator,
    ];

    /// The role's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Physician => "physician",
            Role::Nurse => "nurse",
            Role::LabTechnologist => "lab technologist",
            Role::QualityAssurance => "quality assurance",
            Role::Logistics => "logistics",
            Role::MedicalDirector => "medical director",
            Role::Auditor => "auditor",
            Role::Administrator => "administrator",
        }
    }
}

/// What a site does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    /// Where patients are seen and treated.
    Clinic,
    /// Where material is collected.
    CollectionCentre,
    /// Where material is processed, tested and stored.
    ProcessingLab,
    /// A cord blood bank holding donor units.
    CordBloodBank,
}

/// A collection centre, processing lab, clinic or bank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Site {
    /// Identifier.
    pub id: SiteId,
    /// Display name.
    pub name: String,
    /// What the site does.
    pub kind: SiteKind,
    /// ISO 3166 country code.
    pub country: String,
    /// Accreditations held (FACT, JACIE, AABB...), possibly none.
    pub accreditations: Vec<String>,
    /// ISBT 128 facility identification number.
    pub fin: String,
    /// Whether the medical director allows unproven treatments (with safeguards).
    pub allows_unproven: bool,
}

/// Roles held at one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    /// The site.
    pub site: SiteId,
    /// Roles held there.
    pub roles: BTreeSet<Role>,
}

/// A member of staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Staff {
    /// Identifier.
    pub id: StaffId,
    /// Full name.
    pub name: String,
    /// Login name, unique.
    pub username: String,
    /// Sites and roles.
    pub memberships: Vec<Membership>,
    /// False once the account is disabled.
    pub active: bool,
    /// When the password was last set through a `SetPassword` command (older
    /// accounts were given theirs outside the ledger and have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_set_at: Option<Timestamp>,
    /// Why and when the account was last deactivated, while it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated: Option<Deactivation>,
}

/// Why and when an account was deactivated, and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deactivation {
    /// Who deactivated it (ledger name of the actor).
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// Why.
    pub reason: String,
}

impl Staff {
    /// Whether this person holds `role` at `site` and is active.
    pub fn holds(&self, role: Role, site: &SiteId) -> bool {
        self.active
            && self
                .memberships
                .iter()
                .any(|m| &m.site == site && m.roles.contains(&role))
    }

    /// Whether this person belongs to `site` at all.
    pub fn belongs_to(&self, site: &SiteId) -> bool {
        self.active && self.memberships.iter().any(|m| &m.site == site)
    }
}

/// Patient or donor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    /// Receives treatment.
    Patient,
    /// Gives material for others.
    Donor,
}

/// Administrative sex as recorded on identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Other or not stated.
    Other,
}

/// Languages the portal and consents speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// English.
    En,
    /// Arabic (right to left).
    Ar,
    /// Hindi (Devanagari).
    Hi,
}

/// A patient or donor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    /// Identifier.
    pub id: PersonId,
    /// Registering site.
    pub site: SiteId,
    /// Patient or donor.
    pub kind: PersonKind,
    /// Medical record number at the registering site.
    pub mrn: String,
    /// Full name, in any script.
    pub name: String,
    /// Date of birth.
    pub date_of_birth: Date,
    /// Sex.
    pub sex: Sex,
    /// Preferred language.
    pub language: Language,
    /// Phone or e-mail.
    pub contact: String,
}

/// Product types of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ProductType {
    /// Autologous adipose-derived cells (SVF or expanded MSC).
    AutologousAdipose,
    /// Autologous bone-marrow cells (BMAC or expanded MSC).
    AutologousBoneMarrow,
    /// Allogeneic HPC, cord blood.
    CordBloodHpc,
    /// Allogeneic umbilical-cord or donor MSC.
    AllogeneicMsc,
    /// Embryonic-stem-cell-derived products.
    EmbryonicDerived,
    /// MSC-derived exosomes / extracellular vesicles.
    MscExosome,
    /// Platelet-rich plasma.
    Prp,
}

impl ProductType {
    /// Whether the product is made from the patient's own material.
    pub fn is_autologous(self) -> bool {
        matches!(
            self,
            ProductType::AutologousAdipose | ProductType::AutologousBoneMarrow | ProductType::Prp
        )
    }

    /// Every catalogue product type, in catalogue order.
    pub const ALL: [ProductType; 7] = [
        ProductType::AutologousAdipose,
        ProductType::AutologousBoneMarrow,
        ProductType::CordBloodHpc,
        ProductType::AllogeneicMsc,
        ProductType::EmbryonicDerived,
        ProductType::MscExosome,
        ProductType::Prp,
    ];

    /// The catalogue identifier, e.g. `autologous-adipose`.
    pub fn code(self) -> &'static str {
        match self {
            ProductType::AutologousAdipose => "autologous-adipose",
            ProductType::AutologousBoneMarrow => "autologous-bone-marrow",
            ProductType::CordBloodHpc => "cord-blood-hpc",
            ProductType::AllogeneicMsc => "allogeneic-msc",
            ProductType::EmbryonicDerived => "embryonic-derived",
            ProductType::MscExosome => "msc-exosome",
            ProductType::Prp => "prp",
        }
    }
}

/// The condition treated, with its ICD-10-CM code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Indication {
    /// ICD-10-CM code, e.g. `M54.50`.
    pub icd10: String,
    /// Name for people.
    pub name: String,
}

/// Regulatory and evidence status of a product type for an indication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceStatus {
    /// A regulator approved a product of this type for this indication.
    Approved,
    /// Under registered trials: only inside a trial.
    Investigational,
    /// No approval, no supporting trial evidence.
    Unproven,
    /// Never outside an approved trial.
    ResearchOnly,
}

/// A registered clinical trial the plan is part of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trial {
    /// Registration number, `NCT` and eight digits.
    pub registration: String,
    /// Ethics committee approval reference.
    pub ethics_approval: String,
}

/// What the evidence guard knew when it rated the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceRating {
    /// Status for this indication and product type.
    pub status: EvidenceStatus,
    /// Plain summary shown to staff and patient.
    pub summary: String,
    /// Sources of the rating.
    pub sources: Vec<String>,
    /// Version of the evidence data used.
    pub data_version: String,
}

/// An amount with its unit, exact to a thousandth (e.g. 10.5 million cells).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quantity {
    /// Amount in thousandths of `unit`.
    pub milli: i64,
    /// Unit of measure, e.g. `million cells`, `mL`.
    pub unit: String,
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whole = self.milli / 1000;
        let frac = (self.milli % 1000).abs();
        if frac == 0 {
            write!(f, "{whole} {}", self.unit)
        } else {
            let digits = format!("{frac:03}");
            write!(f, "{whole}.{} {}", digits.trim_end_matches('0'), self.unit)
        }
    }
}

/// Money in minor units of a currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    /// Amount in cents (or the currency's minor unit).
    pub minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

/// Where a plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// May proceed.
    Active,
    /// Stopped by the evidence guard until overridden or revised.
    Blocked,
    /// Every session given.
    Completed,
    /// Stopped (consent withdrawn or cancelled).
    Stopped,
}

/// One criterion of an eligibility assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Criterion {
    /// Short code, e.g. `no_active_infection`.
    pub code: String,
    /// What was checked.
    pub description: String,
    /// Met or not.
    pub met: bool,
    /// Finding that supports the answer.
    pub detail: String,
}

/// An eligibility assessment of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Eligibility {
    /// Identifier.
    pub id: AssessmentId,
    /// Assessor.
    pub assessed_by: StaffId,
    /// When assessed.
    pub assessed_at: Timestamp,
    /// Until when the assessment counts.
    pub valid_until: Timestamp,
    /// Criteria, each met or failed.
    pub criteria: Vec<Criterion>,
}

impl Eligibility {
    /// Eligible when every criterion is met.
    pub fn eligible(&self) -> bool {
        !self.criteria.is_empty() && self.criteria.iter().all(|c| c.met)
    }
}

/// A signed consent for a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    /// Identifier.
    pub id: ConsentId,
    /// Template identifier.
    pub template: String,
    /// Template version.
    pub template_version: String,
    /// Language the patient read it in.
    pub language: Language,
    /// When the patient signed.
    pub patient_signed_at: Timestamp,
    /// Physician who discussed and signed.
    pub physician: StaffId,
    /// Witness, where one signed.
    pub witness: Option<StaffId>,
    /// The witness's signature as recorded (consents recorded before
    /// signatures carried their proof have only `witness`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_signature: Option<Signature>,
    /// Trial named in the consent, for investigational plans.
    pub trial: Option<String>,
    /// When and why withdrawn.
    pub withdrawn: Option<Withdrawal>,
}

/// A withdrawal of consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Withdrawal {
    /// When.
    pub at: Timestamp,
    /// Reason given, possibly empty.
    pub reason: String,
}

/// An e-signature as recorded: who signed, when (the server's clock), what
/// the signature means, and how celltrace knows the signer gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signature {
    /// The signer.
    pub signer: StaffId,
    /// Meaning of the signature, shown to the signer.
    pub meaning: SignatureMeaning,
    /// When signed, by the server's clock.
    pub signed_at: Timestamp,
    /// How the signer proved it was them.
    #[serde(default, skip_serializing_if = "SignatureProof::is_not_recorded")]
    pub proof: SignatureProof,
}

/// What a command asks to be signed: the signer and the meaning, and, when the
/// signer is not the person submitting the command, the signing grant that
/// proves the signer authenticated for this meaning on this very command.
/// The time of the signature is never the caller's: the server records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignatureRequest {
    /// The signer.
    pub signer: StaffId,
    /// Meaning of the signature.
    pub meaning: SignatureMeaning,
    /// The signer's grant, required when the signer is someone other than
    /// the authenticated submitter (`issue_signing_grant`, made by the signer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<SigningGrantId>,
}

impl SignatureRequest {
    /// The submitter's own signature.
    pub fn own(signer: StaffId, meaning: SignatureMeaning) -> SignatureRequest {
        SignatureRequest { signer, meaning, grant: None }
    }

    /// Another person's signature, proven by their grant.
    pub fn granted(signer: StaffId, meaning: SignatureMeaning, grant: SigningGrantId) -> SignatureRequest {
        SignatureRequest { signer, meaning, grant: Some(grant) }
    }
}

/// How celltrace knows the signer gave a signature.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum SignatureProof {
    /// Recorded before celltrace kept the proof of signatures.
    #[default]
    NotRecorded,
    /// The signer is the person who submitted the command, authenticated by
    /// their session (and password re-entry in the web) or API token.
    Submitter,
    /// The signer authenticated separately for this meaning on this command,
    /// which recorded a single-use signing grant.
    Grant {
        /// The grant used (spent by this signature).
        grant: SigningGrantId,
        /// How the signer authenticated for the grant.
        method: AuthenticationMethod,
    },
}

impl SignatureProof {
    fn is_not_recorded(&self) -> bool {
        matches!(self, SignatureProof::NotRecorded)
    }
}

/// How a person authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthenticationMethod {
    /// Username and password, re-entered for this signature.
    Password,
    /// Username, password and a one-time code of their second factor.
    PasswordAndTotp,
    /// Their own API token.
    ApiToken,
}

/// Proof that a signer authenticated to sign one command with one meaning:
/// recorded by the signer, bound to the submitter, the site and the exact
/// content of the command, short-lived and spent by its first use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SigningGrant {
    /// Identifier, quoted by the command that uses it.
    pub id: SigningGrantId,
    /// Who authenticated.
    pub signer: StaffId,
    /// What they agree to.
    pub meaning: SignatureMeaning,
    /// Site of the command.
    pub site: SiteId,
    /// Who may submit the command.
    pub submitter: StaffId,
    /// SHA-256 (hex) of the command as `Command::signing_digest` computes it.
    pub command_digest: String,
    /// How the signer authenticated.
    pub method: AuthenticationMethod,
    /// When, by the server's clock.
    pub issued_at: Timestamp,
    /// Last moment it can be used.
    pub expires_at: Timestamp,
}

impl SigningGrant {
    /// How long a grant stays usable: long enough to submit the form it was made for.
    pub const LIFETIME_MICROS: i64 = 5 * 60 * 1_000_000;
}

/// What an e-signature attests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignatureMeaning {
    /// QA: the unit meets its specification and is released.
    Release,
    /// QA or physician: released although out of specification.
    ExceptionalRelease,
    /// Hand-over of custody.
    CustodyTransfer,
    /// Witnessed the consent.
    ConsentWitness,
    /// Medical director overrides the evidence guard.
    EvidenceOverride,
    /// Second person witnessed the administration.
    AdministrationWitness,
    /// The receiver accepts units that arrived without a temperature record.
    TemperatureException,
}

impl SignatureMeaning {
    /// The sentence the signer agrees to.
    pub fn statement(self) -> &'static str {
        match self {
            SignatureMeaning::Release => "I confirm that this unit meets its specification and release it for use.",
            SignatureMeaning::ExceptionalRelease => "I authorise release of this unit outside its specification; the patient has been informed.",
            SignatureMeaning::CustodyTransfer => "I hand over (or take over) custody of these units in the stated condition.",
            SignatureMeaning::ConsentWitness => "I witnessed the patient sign this consent.",
            SignatureMeaning::EvidenceOverride => "I authorise this treatment despite its evidence status, under the site's policy.",
            SignatureMeaning::AdministrationWitness => "I witnessed the identity checks and the administration of this unit.",
            SignatureMeaning::TemperatureException => "I accept these units without a temperature record, for the reason stated.",
        }
    }
}

/// A recorded administration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Administration {
    /// Identifier.
    pub id: AdministrationId,
    /// Unit given.
    pub unit: UnitId,
    /// Dose given.
    pub dose: Quantity,
    /// Route.
    pub route: String,
    /// Anatomical site.
    pub body_site: String,
    /// Who administered.
    pub operator: StaffId,
    /// Second person.
    pub witness: StaffId,
    /// The witness's signature as recorded (older administrations have only `witness`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_signature: Option<Signature>,
    /// When.
    pub at: Timestamp,
}

/// A follow-up visit or questionnaire result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUp {
    /// Identifier.
    pub id: VisitId,
    /// Time point, e.g. `baseline`, `1m`, `3m`.
    pub time_point: String,
    /// Instrument, e.g. `NPRS`.
    pub instrument: String,
    /// Score in thousandths, when scored.
    pub score_milli: Option<i64>,
    /// Clinician notes.
    pub notes: String,
    /// Who recorded it.
    pub recorded_by: StaffId,
    /// When.
    pub at: Timestamp,
}

/// Who entered a questionnaire's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "by", content = "staff")]
pub enum ResponseSource {
    /// The patient, in the portal.
    Portal,
    /// A member of staff, from the patient's paper form.
    Paper(StaffId),
}

/// A patient's answers to one instrument at one time point, with the scores
/// the adapter computed from the shipped instrument definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuestionnaireResponse {
    /// Identifier.
    pub id: VisitId,
    /// Time point of the plan's schedule, e.g. `baseline`, `3m`.
    pub time_point: String,
    /// Instrument id, e.g. `nprs`, `koos`.
    pub instrument: String,
    /// Instrument definition version the answers were given on.
    pub instrument_version: String,
    /// Item id → option value; unanswered items are absent.
    pub answers: std::collections::BTreeMap<String, u8>,
    /// Registry score name (e.g. `NPRS`, `KOOS pain`) → score in thousandths, or none when not scorable.
    pub scores: std::collections::BTreeMap<String, Option<i64>>,
    /// Language the questions were shown in.
    pub language: Language,
    /// Who entered the answers.
    pub source: ResponseSource,
    /// When.
    pub at: Timestamp,
}

/// A treatment plan and everything that hangs on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Plan {
    /// Identifier.
    pub id: PlanId,
    /// Treating site.
    pub site: SiteId,
    /// Patient.
    pub patient: PersonId,
    /// Ordering physician.
    pub physician: StaffId,
    /// Condition treated.
    pub indication: Indication,
    /// Product type.
    pub product_type: ProductType,
    /// Route, e.g. `intradiscal`.
    pub route: String,
    /// Sessions planned.
    pub sessions: u32,
    /// Dose per session.
    pub dose: Quantity,
    /// Quoted cost.
    pub cost_quote: Money,
    /// Evidence rating at creation.
    pub evidence: EvidenceRating,
    /// Trial, for investigational use.
    pub trial: Option<Trial>,
    /// Where it stands.
    pub status: PlanStatus,
    /// Why the guard blocked it, when it did.
    pub blocked_reason: Option<String>,
    /// The patient's signed acknowledgement of the plain-language warning.
    pub warning_acknowledged_at: Option<Timestamp>,
    /// The medical director's override.
    pub override_signature: Option<Signature>,
    /// Why the director overrode the evidence block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// Eligibility assessments, latest last.
    pub eligibility: Vec<Eligibility>,
    /// Consents, latest last.
    pub consents: Vec<Consent>,
    /// Administrations given.
    pub administrations: Vec<Administration>,
    /// Follow-up results.
    pub follow_ups: Vec<FollowUp>,
    /// Questionnaire answers (portal or paper); older records have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responses: Vec<QuestionnaireResponse>,
    /// When created.
    pub created_at: Timestamp,
}

impl Plan {
    /// The consent in force: the latest one, if not withdrawn.
    pub fn current_consent(&self) -> Option<&Consent> {
        self.consents.last().filter(|c| c.withdrawn.is_none())
    }

    /// The latest eligibility assessment.
    pub fn current_eligibility(&self) -> Option<&Eligibility> {
        self.eligibility.last()
    }
}

/// Tissue a collection takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SourceTissue {
    /// Lipoaspirate.
    Adipose,
    /// Bone marrow aspirate.
    BoneMarrow,
    /// Umbilical cord blood.
    CordBlood,
    /// Umbilical cord tissue.
    CordTissue,
    /// Peripheral blood (PRP).
    PeripheralBlood,
    /// MSC culture conditioned medium (exosomes).
    ConditionedMedium,
}

/// Whose body a unit may go into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "use")]
pub enum IntendedUse {
    /// Only the person it came from.
    Autologous {
        /// That person.
        patient: PersonId,
    },
    /// Any suitable recipient it is allocated to.
    Allogeneic,
}

/// Where a unit is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    /// Awaiting QC and release.
    Quarantine,
    /// Released for use.
    Released,
    /// Used up by processing into child units.
    Consumed,
    /// Given to a patient.
    Administered,
    /// Rejected or destroyed.
    Discarded,
}

impl UnitStatus {
    /// The status in words.
    pub fn label(self) -> &'static str {
        match self {
            UnitStatus::Quarantine => "in quarantine (not released)",
            UnitStatus::Released => "released",
            UnitStatus::Consumed => "consumed by processing",
            UnitStatus::Administered => "already administered",
            UnitStatus::Discarded => "discarded",
        }
    }
}

/// A QC test result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QcResult {
    /// Test, e.g. `viability`.
    pub test: String,
    /// Result as reported.
    pub value: String,
    /// Specification, e.g. `>= 70 %`.
    pub specification: String,
    /// Whether the result meets the specification (meaningless while pending).
    pub in_spec: bool,
    /// A sample sent whose result is not in yet (e.g. a sterility culture).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
    /// Who.
    pub performed_by: StaffId,
    /// When.
    pub at: Timestamp,
}

impl QcResult {
    /// The outcome in one word.
    pub fn outcome(&self) -> QcOutcome {
        match (self.pending, self.in_spec) {
            (true, _) => QcOutcome::Pending,
            (false, true) => QcOutcome::InSpecification,
            (false, false) => QcOutcome::OutOfSpecification,
        }
    }
}

/// What a QC result says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QcOutcome {
    /// Meets the specification.
    InSpecification,
    /// Does not meet it.
    OutOfSpecification,
    /// Sample sent; the result is not in yet.
    Pending,
}

/// A processing step that touched a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepRecord {
    /// Identifier.
    pub id: StepId,
    /// Kind of step.
    pub kind: ProcessingKind,
    /// Operator.
    pub operator: StaffId,
    /// Equipment used.
    pub equipment: String,
    /// Reagent lot numbers.
    pub reagent_lots: Vec<String>,
    /// Parameters as name and value.
    pub parameters: Vec<(String, String)>,
    /// When.
    pub at: Timestamp,
}

/// Kinds of processing step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProcessingKind {
    /// Cell isolation (e.g. SVF, mononuclear cells).
    Isolation,
    /// Culture expansion passage.
    Expansion,
    /// Harvest.
    Harvest,
    /// Cryopreservation.
    Cryopreservation,
    /// Thaw.
    Thaw,
    /// Exosome isolation.
    ExosomeIsolation,
    /// PRP preparation.
    PrpPreparation,
    /// Division into aliquots.
    Division,
}

/// A storage position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StorageLocation {
    /// Freezer or tank.
    pub freezer: String,
    /// Rack.
    pub rack: String,
    /// Box.
    pub r#box: String,
    /// Position in the box.
    pub position: String,
}

/// A unit of cellular material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unit {
    /// Identifier.
    pub id: UnitId,
    /// ISBT 128 Donation Identification Number (13 characters, no flags).
    pub din: String,
    /// ISBT 128 product code.
    pub product_code: String,
    /// Product type.
    pub product_type: ProductType,
    /// Who the material came from.
    pub source_person: PersonId,
    /// Whose body it may go into.
    pub intended_use: IntendedUse,
    /// Collection it came from.
    pub collection: CollectionId,
    /// Parent units (empty for starting material).
    pub parents: Vec<UnitId>,
    /// Site holding it now.
    pub site: SiteId,
    /// Quantity in the container.
    pub quantity: Quantity,
    /// When the source material was collected (inherited by child units).
    pub collected_at: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Status.
    pub status: UnitStatus,
    /// QC results.
    pub qc: Vec<QcResult>,
    /// Release signatures (one, or two for exceptional release).
    pub release: Vec<Signature>,
    /// Whether released outside specification.
    pub exceptional: bool,
    /// Steps performed on or producing it.
    pub steps: Vec<StepRecord>,
    /// Storage location.
    pub location: Option<StorageLocation>,
    /// Shipment it is travelling in.
    pub in_transit: Option<ShipmentId>,
    /// Plan it is allocated to (allogeneic units).
    pub allocated_to: Option<PlanId>,
    /// Requests of other sites' physicians to allocate it to their plans,
    /// decided by the site holding it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<AllocationRequest>,
    /// Administration that used it.
    pub administered_in: Option<AdministrationId>,
    /// Why discarded.
    pub discard_reason: Option<String>,
    /// When created.
    pub created_at: Timestamp,
}

impl Unit {
    /// The latest result of each QC test, in the order the tests were first recorded.
    pub fn latest_qc(&self) -> Vec<&QcResult> {
        let mut latest: Vec<&QcResult> = Vec::new();
        for result in &self.qc {
            match latest.iter_mut().find(|r| r.test.eq_ignore_ascii_case(&result.test)) {
                Some(slot) => *slot = result,
                None => latest.push(result),
            }
        }
        latest
    }
}

/// A physician's request to allocate a unit held at another site to their plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllocationRequest {
    /// The plan.
    pub plan: PlanId,
    /// The plan's site.
    pub site: SiteId,
    /// The requesting physician.
    pub requested_by: StaffId,
    /// When.
    pub at: Timestamp,
}

/// Shipment state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// On the way.
    InTransit,
    /// Received.
    Received,
}

/// A shipment of units between sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shipment {
    /// Identifier.
    pub id: ShipmentId,
    /// From.
    pub from_site: SiteId,
    /// To.
    pub to_site: SiteId,
    /// Units.
    pub units: Vec<UnitId>,
    /// Courier.
    pub courier: String,
    /// Dispatch custody signature.
    pub dispatched: Signature,
    /// Receipt custody signature.
    pub received: Option<Signature>,
    /// Whether the receiver found container and seals intact.
    pub condition_ok: Option<bool>,
    /// Temperature excursions found in the logger file.
    pub excursions: Vec<String>,
    /// Received without a temperature record: why, and the receiver's signed exception.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_exception: Option<TemperatureException>,
    /// Status.
    pub status: ShipmentStatus,
}

/// A receipt accepted without the data logger's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemperatureException {
    /// Why there is no record.
    pub reason: String,
    /// The receiver's signature accepting the units without it.
    pub signature: Signature,
}

/// What the receiver has of the shipment's temperature history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "record")]
pub enum TemperatureLog {
    /// The data logger's file was read; these excursions were found (none is fine).
    Read {
        /// Excursions found, in words.
        excursions: Vec<String>,
    },
    /// No record is available: accepted only as a signed exception with a reason.
    Missing {
        /// Why there is no record.
        reason: String,
        /// The receiver's signature accepting the units without a record
        /// (meaning `temperature_exception`).
        exception: SignatureRequest,
    },
}

/// Seriousness criteria of an adverse event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Seriousness {
    /// Resulted in death.
    Death,
    /// Life-threatening.
    LifeThreatening,
    /// Required or prolonged hospitalisation.
    Hospitalisation,
    /// Persistent disability.
    Disability,
    /// Congenital anomaly.
    CongenitalAnomaly,
    /// Other important medical event.
    ImportantMedicalEvent,
}

/// Relation of an adverse event to the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Relatedness {
    /// Not yet assessed by a physician.
    NotAssessed,
    /// Not related.
    Unrelated,
    /// Unlikely.
    Unlikely,
    /// Possible.
    Possible,
    /// Probable.
    Probable,
    /// Definite.
    Definite,
}

/// An adverse event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdverseEvent {
    /// Identifier.
    pub id: AdverseEventId,
    /// Reporting site.
    pub site: SiteId,
    /// Patient.
    pub patient: PersonId,
    /// Plan, when known.
    pub plan: Option<PlanId>,
    /// Unit suspected, when known.
    pub unit: Option<UnitId>,
    /// CTCAE v5.0 term.
    pub term: String,
    /// CTCAE grade 1–5.
    pub grade: u8,
    /// Onset date.
    pub onset: Date,
    /// Seriousness criteria (empty when not serious).
    pub seriousness: BTreeSet<Seriousness>,
    /// Relatedness.
    pub relatedness: Relatedness,
    /// Action taken.
    pub action: String,
    /// Outcome.
    pub outcome: String,
    /// Narrative.
    pub description: String,
    /// Reporter.
    pub reported_by: StaffId,
    /// When reported.
    pub reported_at: Timestamp,
    /// Medical director's review.
    pub review: Option<(StaffId, Timestamp, String)>,
}

impl AdverseEvent {
    /// Serious when any seriousness criterion applies or the grade is 4 or 5.
    pub fn is_serious(&self) -> bool {
        !self.seriousness.is_empty() || self.grade >= 4
    }
}

/// One row of a site's product description table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductDescription {
    /// A full 8-character ISBT 128 product code, or its 5-character
    /// product description code (PDC) to describe every variant.
    pub code: String,
    /// The text printed on labels.
    pub description: String,
}

/// The product description texts labels print. ICCBBA's database is licensed,
/// so each deployment loads its own table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductCatalogue {
    /// Rows as loaded.
    pub entries: Vec<ProductDescription>,
    /// Where the table came from (file name, version).
    pub source: String,
    /// When loaded.
    pub loaded_at: Timestamp,
}

/// Evidence data an administrator loaded to replace the data shipped with
/// celltrace: the three data files as text, checked by the adapter that read
/// them. Plans record the version they were rated with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceDataset {
    /// The data's own version, as written in its files.
    pub version: String,
    /// `indications.toml`.
    pub indications: String,
    /// `status.toml`.
    pub status: String,
    /// `approved_products.toml`.
    pub approved_products: String,
    /// Where the files came from.
    pub source: String,
    /// When loaded.
    pub loaded_at: Timestamp,
}

impl EvidenceDataset {
    /// The identifier of the one evidence entity (a catalogue kind).
    pub const ID: &'static str = "evidence-data";
    /// The largest file accepted, in bytes.
    pub const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;
}

impl ProductCatalogue {
    /// The identifier of the one catalogue entity.
    pub const ID: &'static str = "product-descriptions";

    /// The description of a product code: the exact code first, then its PDC.
    pub fn describe(&self, product_code: &str) -> Option<&str> {
        let pdc = product_code.get(..5);
        self.entries
            .iter()
            .find(|e| e.code == product_code)
            .or_else(|| self.entries.iter().find(|e| Some(e.code.as_str()) == pdc))
            .map(|e| e.description.as_str())
    }
}

/// A bearer credential that acts as a member of staff in the JSON and FHIR
/// APIs. Only the SHA-256 of the token is kept; the token itself is shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    /// Identifier (not secret), shown in lists and used to revoke it.
    pub id: ApiTokenId,
    /// Whose credential it is.
    pub staff: StaffId,
    /// What it is for, in the issuer's words.
    pub label: String,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Who issued it (ledger name of the actor).
    pub issued_by: String,
    /// When.
    pub issued_at: Timestamp,
    /// When it stops working, if it does.
    pub expires_at: Option<Timestamp>,
    /// When, why and by whom it was revoked.
    pub revoked: Option<Deactivation>,
}

impl ApiToken {
    /// Whether it authenticates at `now`.
    pub fn usable(&self, now: Timestamp) -> bool {
        self.revoked.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// Why a password is being set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PasswordChange {
    /// The account's first password, given by whoever created it.
    Initial,
    /// The person changed their own password (after entering the old one).
    SelfService,
    /// An administrator reset it; the person's sessions end.
    AdministratorReset,
}
