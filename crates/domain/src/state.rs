//! The state `decide` reads and `apply` builds: every entity by kind and id.
//! A store loads only the entities a command names (`Submission::keys`), so the
//! same rules run on a handful of rows or on a full replay of the ledger.

use crate::command::{Actor, Command, Submission};
use crate::event::Event;
use crate::ids::*;
use crate::model::*;
use crate::reference::ReferenceData;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Kinds of entity kept as projections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// [`Site`].
    Site,
    /// [`Staff`].
    Staff,
    /// [`Person`].
    Person,
    /// [`Plan`].
    Plan,
    /// [`Unit`].
    Unit,
    /// [`Shipment`].
    Shipment,
    /// [`AdverseEvent`].
    AdverseEvent,
    /// [`ProductCatalogue`] (one entity).
    Catalogue,
    /// [`ApiToken`].
    ApiToken,
    /// [`SigningGrant`].
    SigningGrant,
}

impl EntityKind {
    /// Every kind, in a stable order.
    pub const ALL: [EntityKind; 10] = [
        EntityKind::Site,
        EntityKind::Staff,
        EntityKind::Person,
        EntityKind::Plan,
        EntityKind::Unit,
        EntityKind::Shipment,
        EntityKind::AdverseEvent,
        EntityKind::Catalogue,
        EntityKind::ApiToken,
        EntityKind::SigningGrant,
    ];

    /// The kind as stored, e.g. `adverse_event`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Site => "site",
            EntityKind::Staff => "staff",
            EntityKind::Person => "person",
            EntityKind::Plan => "plan",
            EntityKind::Unit => "unit",
            EntityKind::Shipment => "shipment",
            EntityKind::AdverseEvent => "adverse_event",
            EntityKind::Catalogue => "catalogue",
            EntityKind::ApiToken => "api_token",
            EntityKind::SigningGrant => "signing_grant",
        }
    }

    /// The kind named by `text`, if any.
    pub fn parse(text: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One entity: its kind and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntityKey {
    /// Kind.
    pub kind: EntityKind,
    /// Identifier text.
    pub id: String,
}

impl EntityKey {
    /// A key from a kind and any identifier.
    pub fn new(kind: EntityKind, id: impl fmt::Display) -> EntityKey {
        EntityKey { kind, id: id.to_string() }
    }
}

impl fmt::Display for EntityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.id)
    }
}

/// A value that must be unique across the whole deployment (a DIN, a username,
/// a release of a unit). Stores enforce these with a unique constraint, so the
/// rule holds however many servers write.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Claim {
    /// What kind of value, e.g. `din`.
    pub namespace: &'static str,
    /// The value.
    pub value: String,
    /// Who holds it (an entity id).
    pub owner: String,
}

/// The projection of one entity, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectionRow {
    /// Which entity.
    pub key: EntityKey,
    /// Site it belongs to (for site-scoped queries).
    pub site: String,
    /// The person it concerns, if any: the patient or donor of a clinical
    /// record, the member of staff who owns an API token.
    pub person: Option<String>,
    /// Its status word, for work queues.
    pub status: String,
    /// What a scanner or keyboard identifies it by: a unit's DIN followed by
    /// its product code, a person's MRN as a wristband carries it (letters and digits).
    pub reference: Option<String>,
    /// The entity as JSON.
    pub body: String,
}

/// Entities by kind and id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Sites.
    pub sites: BTreeMap<SiteId, Site>,
    /// Staff.
    pub staff: BTreeMap<StaffId, Staff>,
    /// Patients and donors.
    pub persons: BTreeMap<PersonId, Person>,
    /// Plans.
    pub plans: BTreeMap<PlanId, Plan>,
    /// Units.
    pub units: BTreeMap<UnitId, Unit>,
    /// Shipments.
    pub shipments: BTreeMap<ShipmentId, Shipment>,
    /// Adverse events.
    pub adverse_events: BTreeMap<AdverseEventId, AdverseEvent>,
    /// The product description table, once loaded.
    pub catalogue: Option<ProductCatalogue>,
    /// Evidence data loaded by an administrator, when it replaces the shipped data.
    pub evidence_data: Option<EvidenceDataset>,
    /// API tokens.
    #[serde(default)]
    pub api_tokens: BTreeMap<ApiTokenId, ApiToken>,
    /// Signing grants.
    #[serde(default)]
    pub signing_grants: BTreeMap<SigningGrantId, SigningGrant>,
    /// The reference data the rules consult (evidence, schedules, instruments).
    #[serde(skip)]
    pub reference: ReferenceData,
}

/// A set of records `decide` needs that a submission cannot name by key: the
/// store finds them through an index (e.g. every plan of a patient).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lookup {
    /// Every plan whose patient is this person.
    PlansOf(PersonId),
}

/// A stored entity whose JSON does not decode (the store is damaged or newer).
#[derive(Debug, thiserror::Error)]
#[error("stored {key} is not readable: {source}")]
pub struct LoadError {
    /// Which entity.
    pub key: EntityKey,
    /// Why.
    #[source]
    pub source: serde_json::Error,
}

fn key<I: fmt::Display>(kind: EntityKind, id: &I) -> EntityKey {
    EntityKey::new(kind, id)
}

impl Submission {
    /// Every entity `decide` may read for this submission: the actor, the site,
    /// and whatever the command names (including ids that must not exist yet).
    pub fn keys(&self) -> Vec<EntityKey> {
        let mut keys = vec![key(EntityKind::Site, &self.site)];
        match &self.actor {
            Actor::Staff(id) => keys.push(key(EntityKind::Staff, id)),
            Actor::Patient(id) => keys.push(key(EntityKind::Person, id)),
            Actor::System(_) => {}
        }
        let sig = |keys: &mut Vec<EntityKey>, s: &SignatureRequest| {
            keys.push(key(EntityKind::Staff, &s.signer));
            if let Some(grant) = &s.grant {
                keys.push(key(EntityKind::SigningGrant, grant));
            }
        };
        let evidence = key(EntityKind::Catalogue, &EvidenceDataset::ID);
        match &self.command {
            Command::RegisterSite { .. } | Command::SetSitePolicy { .. } => {}
            Command::LoadProductCatalogue { .. } => keys.push(key(EntityKind::Catalogue, &ProductCatalogue::ID)),
            Command::LoadEvidenceData { .. } => keys.push(key(EntityKind::Catalogue, &EvidenceDataset::ID)),
            Command::RegisterStaff { staff, memberships, .. } => {
                keys.push(key(EntityKind::Staff, staff));
                keys.extend(memberships.iter().map(|m| key(EntityKind::Site, &m.site)));
            }
            Command::ChangeStaffMemberships { staff, memberships, .. } => {
                keys.push(key(EntityKind::Staff, staff));
                keys.extend(memberships.iter().map(|m| key(EntityKind::Site, &m.site)));
            }
            Command::DeactivateStaff { staff, .. } | Command::ReactivateStaff { staff, .. } | Command::SetPassword { staff, .. } => {
                keys.push(key(EntityKind::Staff, staff))
            }
            Command::IssueApiToken { token, staff, .. } => {
                keys.push(key(EntityKind::ApiToken, token));
                keys.push(key(EntityKind::Staff, staff));
            }
            Command::RevokeApiToken { token, .. } => keys.push(key(EntityKind::ApiToken, token)),
            Command::GrantPortalAccess { person } => keys.push(key(EntityKind::Person, person)),
            Command::IssueSigningGrant { grant, submitter, .. } => {
                keys.push(key(EntityKind::SigningGrant, grant));
                keys.push(key(EntityKind::Staff, submitter));
            }
            Command::RegisterPerson { person, .. } => keys.push(key(EntityKind::Person, person)),
            Command::RecordRecordViewed { person, via_unit, .. } => {
                keys.push(key(EntityKind::Person, person));
                if let Some(unit) = via_unit {
                    keys.push(key(EntityKind::Unit, unit));
                }
            }
            Command::CreatePlan { plan, patient, .. } => {
                keys.push(key(EntityKind::Plan, plan));
                keys.push(key(EntityKind::Person, patient));
                keys.push(evidence);
            }
            Command::AcknowledgeEvidenceWarning { plan }
            | Command::AssessEligibility { plan, .. }
            | Command::WithdrawConsent { plan, .. }
            | Command::RecordFollowUp { plan, .. }
            | Command::AnswerQuestionnaire { plan, .. } => keys.push(key(EntityKind::Plan, plan)),
            Command::OverrideEvidenceBlock { plan, .. } | Command::RecordConsent { plan, .. } => {
                keys.push(key(EntityKind::Plan, plan));
            }
            Command::RecordCollection { source_person, plan, unit, .. } => {
                keys.push(key(EntityKind::Person, source_person));
                keys.push(key(EntityKind::Unit, unit));
                if let Some(plan) = plan {
                    keys.push(key(EntityKind::Plan, plan));
                }
            }
            Command::RecordProcessingStep { inputs, outputs, .. } => {
                keys.extend(inputs.iter().map(|u| key(EntityKind::Unit, u)));
                keys.extend(outputs.iter().map(|u| key(EntityKind::Unit, &u.unit)));
            }
            Command::RecordQcResult { unit, .. }
            | Command::DiscardUnit { unit, .. }
            | Command::StoreUnit { unit, .. } => keys.push(key(EntityKind::Unit, unit)),
            Command::ReleaseUnit { unit, .. } | Command::ExceptionalRelease { unit, .. } => {
                keys.push(key(EntityKind::Unit, unit));
            }
            Command::AllocateUnit { unit, plan } | Command::RequestUnit { unit, plan } => {
                keys.push(key(EntityKind::Unit, unit));
                keys.push(key(EntityKind::Plan, plan));
            }
            Command::DispatchShipment { shipment, to_site, units, .. } => {
                keys.push(key(EntityKind::Shipment, shipment));
                keys.push(key(EntityKind::Site, to_site));
                keys.extend(units.iter().map(|u| key(EntityKind::Unit, u)));
            }
            Command::ReceiveShipment { shipment, .. } => {
                // The units are named by the shipment; the store follows that link.
                keys.push(key(EntityKind::Shipment, shipment));
            }
            Command::AdministerUnit { unit, patient, plan, .. } => {
                keys.push(key(EntityKind::Unit, unit));
                keys.push(key(EntityKind::Person, patient));
                keys.push(key(EntityKind::Plan, plan));
                keys.push(evidence);
            }
            Command::ReportAdverseEvent { adverse_event, patient, plan, unit, .. } => {
                keys.push(key(EntityKind::AdverseEvent, adverse_event));
                keys.push(key(EntityKind::Person, patient));
                if let Some(plan) = plan {
                    keys.push(key(EntityKind::Plan, plan));
                }
                if let Some(unit) = unit {
                    keys.push(key(EntityKind::Unit, unit));
                }
            }
            Command::ReviewAdverseEvent { adverse_event, .. } => {
                keys.push(key(EntityKind::AdverseEvent, adverse_event))
            }
        }
        for request in self.command.signature_requests() {
            sig(&mut keys, request);
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// The records `decide` needs that only an index can find.
    pub fn lookups(&self) -> Vec<Lookup> {
        match &self.command {
            Command::ReportAdverseEvent { patient, .. } => vec![Lookup::PlansOf(patient.clone())],
            _ => Vec::new(),
        }
    }

    /// Keys that can only be known once some entities are loaded (the units of
    /// a shipment being received).
    pub fn dependent_keys(&self, state: &State) -> Vec<EntityKey> {
        match &self.command {
            Command::ReceiveShipment { shipment, .. } => state
                .shipments
                .get(shipment)
                .map(|s| s.units.iter().map(|u| key(EntityKind::Unit, u)).collect())
                .unwrap_or_default(),
            // An administrator revoking someone's token acts on the owner's account.
            Command::RevokeApiToken { token, .. } => {
                state.api_tokens.get(token).map(|t| vec![key(EntityKind::Staff, &t.staff)]).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }
}

impl Event {
    /// The entities this event changes.
    pub fn keys(&self) -> Vec<EntityKey> {
        match self {
            Event::SiteRegistered { site } => vec![key(EntityKind::Site, &site.id)],
            Event::SitePolicySet { site, .. } => vec![key(EntityKind::Site, site)],
            Event::StaffRegistered { staff } => vec![key(EntityKind::Staff, &staff.id)],
            Event::StaffMembershipsChanged { staff, .. }
            | Event::StaffDeactivated { staff, .. }
            | Event::StaffReactivated { staff, .. }
            | Event::PasswordSet { staff, .. } => vec![key(EntityKind::Staff, staff)],
            Event::ApiTokenIssued { token } => vec![key(EntityKind::ApiToken, &token.id)],
            Event::ApiTokenRevoked { token, .. } => vec![key(EntityKind::ApiToken, token)],
            Event::PortalAccessGranted { .. } => Vec::new(),
            Event::SigningGrantIssued { grant } => vec![key(EntityKind::SigningGrant, &grant.id)],
            Event::UnitRequested { unit, .. } => vec![key(EntityKind::Unit, unit)],
            Event::PersonRegistered { person } => vec![key(EntityKind::Person, &person.id)],
            Event::ProductCatalogueLoaded { .. } => vec![key(EntityKind::Catalogue, &ProductCatalogue::ID)],
            Event::EvidenceDataLoaded { .. } => vec![key(EntityKind::Catalogue, &EvidenceDataset::ID)],
            Event::RecordViewed { .. } => Vec::new(),
            Event::PlanCreated { plan } => vec![key(EntityKind::Plan, &plan.id)],
            Event::EvidenceWarningAcknowledged { plan, .. }
            | Event::EvidenceBlockOverridden { plan, .. }
            | Event::EligibilityAssessed { plan, .. }
            | Event::ConsentRecorded { plan, .. }
            | Event::ConsentWithdrawn { plan, .. }
            | Event::PlanCompleted { plan }
            | Event::FollowUpRecorded { plan, .. }
            | Event::QuestionnaireAnswered { plan, .. } => vec![key(EntityKind::Plan, plan)],
            Event::CollectionRecorded { unit, .. } => vec![key(EntityKind::Unit, &unit.id)],
            Event::ProcessingStepRecorded { inputs, outputs, .. } => inputs
                .iter()
                .map(|u| key(EntityKind::Unit, u))
                .chain(outputs.iter().map(|u| key(EntityKind::Unit, &u.id)))
                .collect(),
            Event::QcResultRecorded { unit, .. }
            | Event::UnitReleased { unit, .. }
            | Event::UnitDiscarded { unit, .. }
            | Event::UnitStored { unit, .. }
            | Event::UnitAllocated { unit, .. } => vec![key(EntityKind::Unit, unit)],
            Event::ShipmentDispatched { shipment } => std::iter::once(key(EntityKind::Shipment, &shipment.id))
                .chain(shipment.units.iter().map(|u| key(EntityKind::Unit, u)))
                .collect(),
            Event::ShipmentReceived { shipment, units, .. } => std::iter::once(key(EntityKind::Shipment, shipment))
                .chain(units.iter().map(|u| key(EntityKind::Unit, u)))
                .collect(),
            Event::UnitAdministered { plan, administration } => {
                vec![key(EntityKind::Plan, plan), key(EntityKind::Unit, &administration.unit)]
            }
            Event::AdverseEventReported { adverse_event } => {
                vec![key(EntityKind::AdverseEvent, &adverse_event.id)]
            }
            Event::AdverseEventReviewed { adverse_event, .. } => {
                vec![key(EntityKind::AdverseEvent, adverse_event)]
            }
        }
    }

    /// The records whose audit trail this event belongs to: the entities it
    /// changes, and the patient whose record was read.
    pub fn subjects(&self) -> Vec<EntityKey> {
        match self {
            Event::RecordViewed { person, .. } | Event::PortalAccessGranted { person, .. } => {
                vec![key(EntityKind::Person, person)]
            }
            // A token belongs in its owner's trail too.
            Event::ApiTokenIssued { token } => vec![key(EntityKind::ApiToken, &token.id), key(EntityKind::Staff, &token.staff)],
            Event::SigningGrantIssued { grant } => vec![key(EntityKind::SigningGrant, &grant.id), key(EntityKind::Staff, &grant.signer)],
            // An adverse event belongs in the trail of the patient and plan it concerns.
            Event::AdverseEventReported { adverse_event } => {
                let mut subjects = self.keys();
                subjects.push(key(EntityKind::Person, &adverse_event.patient));
                subjects.extend(adverse_event.plan.iter().map(|p| key(EntityKind::Plan, p)));
                subjects
            }
            _ => self.keys(),
        }
    }

    /// The deployment-wide unique values this event takes.
    pub fn claims(&self) -> Vec<Claim> {
        let claim = |namespace, value: String, owner: String| Claim { namespace, value, owner };
        // A signing grant is spent by the signature that uses it: once, across every server.
        let mut claims: Vec<Claim> = self
            .signatures()
            .into_iter()
            .filter_map(|s| match &s.proof {
                SignatureProof::Grant { grant, .. } => Some(claim("signing_grant", grant.to_string(), s.signer.to_string())),
                _ => None,
            })
            .collect();
        claims.extend(self.own_claims());
        claims
    }

    fn own_claims(&self) -> Vec<Claim> {
        let claim = |namespace, value: String, owner: String| Claim { namespace, value, owner };
        match self {
            Event::ApiTokenIssued { token } => vec![claim("api_token", token.token_hash.clone(), token.id.to_string())],
            Event::SiteRegistered { site } => vec![claim("fin", site.fin.clone(), site.id.to_string())],
            Event::StaffRegistered { staff } => {
                vec![claim("username", staff.username.to_lowercase(), staff.id.to_string())]
            }
            Event::PersonRegistered { person } => vec![claim(
                "mrn",
                format!("{}/{}", person.site, person.mrn),
                person.id.to_string(),
            )],
            Event::CollectionRecorded { collection, unit, .. } => vec![
                claim("din", unit.din.clone(), collection.to_string()),
                claim("unit_code", format!("{}{}", unit.din, unit.product_code), unit.id.to_string()),
            ],
            // DIN and product code together name one unit (ISBT 128): divisions need their own codes.
            Event::ProcessingStepRecorded { outputs, .. } => outputs
                .iter()
                .map(|u| claim("unit_code", format!("{}{}", u.din, u.product_code), u.id.to_string()))
                .collect(),
            Event::UnitReleased { unit, .. } => vec![claim("release", unit.to_string(), unit.to_string())],
            Event::UnitAdministered { administration, .. } => vec![claim(
                "administration",
                administration.unit.to_string(),
                administration.id.to_string(),
            )],
            _ => Vec::new(),
        }
    }
}

impl State {
    /// Applies one event. Events were decided against this state's rules, so
    /// applying never fails; a reference to an unknown entity is skipped.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::SiteRegistered { site } => {
                self.sites.insert(site.id.clone(), site.clone());
            }
            Event::SitePolicySet { site, allows_unproven } => {
                if let Some(s) = self.sites.get_mut(site) {
                    s.allows_unproven = *allows_unproven;
                }
            }
            Event::StaffRegistered { staff } => {
                self.staff.insert(staff.id.clone(), staff.clone());
            }
            Event::StaffMembershipsChanged { staff, memberships, .. } => {
                if let Some(s) = self.staff.get_mut(staff) {
                    s.memberships = memberships.clone();
                }
            }
            Event::StaffDeactivated { staff, deactivation } => {
                if let Some(s) = self.staff.get_mut(staff) {
                    s.active = false;
                    s.deactivated = Some(deactivation.clone());
                }
            }
            Event::StaffReactivated { staff, .. } => {
                if let Some(s) = self.staff.get_mut(staff) {
                    s.active = true;
                    s.deactivated = None;
                }
            }
            Event::PasswordSet { staff, at, .. } => {
                if let Some(s) = self.staff.get_mut(staff) {
                    s.password_set_at = Some(*at);
                }
            }
            Event::ApiTokenIssued { token } => {
                self.api_tokens.insert(token.id.clone(), token.clone());
            }
            Event::ApiTokenRevoked { token, revocation } => {
                if let Some(t) = self.api_tokens.get_mut(token) {
                    t.revoked = Some(revocation.clone());
                }
            }
            Event::PortalAccessGranted { .. } => {}
            Event::SigningGrantIssued { grant } => {
                self.signing_grants.insert(grant.id.clone(), grant.clone());
            }
            Event::UnitRequested { unit, request } => {
                if let Some(u) = self.units.get_mut(unit) {
                    u.requests.push(request.clone());
                }
            }
            Event::PersonRegistered { person } => {
                self.persons.insert(person.id.clone(), person.clone());
            }
            Event::EvidenceDataLoaded { dataset } => {
                self.evidence_data = Some(dataset.clone());
            }
            Event::ProductCatalogueLoaded { catalogue } => {
                self.catalogue = Some(catalogue.clone());
            }
            Event::RecordViewed { .. } => {}
            Event::PlanCreated { plan } => {
                self.plans.insert(plan.id.clone(), plan.clone());
            }
            Event::EvidenceWarningAcknowledged { plan, at } => {
                if let Some(p) = self.plans.get_mut(plan) {
                    p.warning_acknowledged_at = Some(*at);
                }
            }
            Event::EvidenceBlockOverridden { plan, signature, reason } => {
                if let Some(p) = self.plans.get_mut(plan) {
                    p.override_signature = Some(signature.clone());
                    p.override_reason = reason.clone();
                    p.status = PlanStatus::Active;
                }
            }
            Event::EligibilityAssessed { plan, assessment } => {
                if let Some(p) = self.plans.get_mut(plan) {
                    p.eligibility.push(assessment.clone());
                }
            }
            Event::ConsentRecorded { plan, consent } => {
                if let Some(p) = self.plans.get_mut(plan) {
                    p.consents.push(consent.clone());
                }
            }
            Event::ConsentWithdrawn { plan, consent, withdrawal } => {
                if let Some(p) = self.plans.get_mut(plan) {
                    if let Some(c) = p.consents.iter_mut().find(|c| &c.id == consent) {
                        c.withdrawn = Some(withdrawal.clone());
                    }
                    p.status = PlanStatus::Stopped;
                }
            }
            Event::CollectionRecorded { unit, .. } => {
                self.units.insert(unit.id.clone(), unit.clone());
            }
            Event::ProcessingStepRecorded { step, inputs, outputs } => {
                for id in inputs {
                    if let Some(u) = self.units.get_mut(id) {
                        u.steps.push(step.clone());
                        if !outputs.is_empty() {
                            u.status = UnitStatus::Consumed;
                        }
                    }
                }
                for unit in outputs {
                    self.units.insert(unit.id.clone(), unit.clone());
                }
            }
            Event::QcResultRecorded { unit, result } => {
                if let Some(u) = self.units.get_mut(unit) {
                    u.qc.push(result.clone());
                }
            }
            Event::UnitReleased { unit, signatures, exceptional, .. } => {
                if let Some(u) = self.units.get_mut(unit) {
                    u.status = UnitStatus::Released;
                    u.release = signatures.clone();
                    u.exceptional = *exceptional;
                }
            }
            Event::UnitDiscarded { unit, reason } => {
                if let Some(u) = self.units.get_mut(unit) {
                    u.status = UnitStatus::Discarded;
                    u.discard_reason = Some(reason.clone());
                }
            }
            Event::UnitStored { unit, location } => {
                if let Some(u) = self.units.get_mut(unit) {
                    u.location = Some(location.clone());
                }
            }
            Event::UnitAllocated { unit, plan } => {
                if let Some(u) = self.units.get_mut(unit) {
                    u.allocated_to = Some(plan.clone());
                }
            }
            Event::ShipmentDispatched { shipment } => {
                for id in &shipment.units {
                    if let Some(u) = self.units.get_mut(id) {
                        u.in_transit = Some(shipment.id.clone());
                        u.location = None;
                    }
                }
                self.shipments.insert(shipment.id.clone(), shipment.clone());
            }
            Event::ShipmentReceived { shipment, to_site, units, signature, condition_ok, excursions, temperature_exception } => {
                for id in units {
                    if let Some(u) = self.units.get_mut(id) {
                        u.in_transit = None;
                        u.site = to_site.clone();
                    }
                }
                if let Some(s) = self.shipments.get_mut(shipment) {
                    s.status = ShipmentStatus::Received;
                    s.received = Some(signature.clone());
                    s.condition_ok = Some(*condition_ok);
                    s.excursions = excursions.clone();
                    s.temperature_exception = temperature_exception.clone();
                }
            }
            Event::UnitAdministered { plan, administration } => {
                if let Some(u) = self.units.get_mut(&administration.unit) {
                    u.status = UnitStatus::Administered;
                    u.administered_in = Some(administration.id.clone());
                }
                if let Some(p) = self.plans.get_mut(plan) {
                    p.administrations.push(administration.clone());
                }
            }
            Event::PlanCompleted { plan } => {
                if let Some(p) = self.plans.get_mut(plan) {
                    p.status = PlanStatus::Completed;
                }
            }
            Event::FollowUpRecorded { plan, follow_up } => {
                if let Some(p) = self.plans.get_mut(plan) {
                    p.follow_ups.push(follow_up.clone());
                }
            }
            Event::QuestionnaireAnswered { plan, response } => {
                if let Some(p) = self.plans.get_mut(plan) {
                    p.responses.push(response.clone());
                }
            }
            Event::AdverseEventReported { adverse_event } => {
                self.adverse_events.insert(adverse_event.id.clone(), adverse_event.clone());
            }
            Event::AdverseEventReviewed { adverse_event, reviewer, at, note } => {
                if let Some(a) = self.adverse_events.get_mut(adverse_event) {
                    a.review = Some((reviewer.clone(), *at, note.clone()));
                }
            }
        }
    }

    /// The stored form of one entity, or `None` when it does not exist.
    pub fn row(&self, key: &EntityKey) -> Option<ProjectionRow> {
        fn row<T: Serialize>(key: &EntityKey, site: &SiteId, person: Option<&PersonId>, status: &str, value: &T) -> ProjectionRow {
            ProjectionRow {
                key: key.clone(),
                site: site.to_string(),
                person: person.map(|p| p.to_string()),
                status: status.to_owned(),
                reference: None,
                // Serialising these plain data types cannot fail (no maps with non-string keys).
                body: serde_json::to_string(value).unwrap_or_default(),
            }
        }
        fn status_word<T: Serialize>(value: &T) -> String {
            serde_json::to_value(value)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        }
        match key.kind {
            EntityKind::Site => {
                let s = self.sites.get(key.id.as_str())?;
                Some(row(key, &s.id, None, "active", s))
            }
            EntityKind::Staff => {
                let s = self.staff.get(key.id.as_str())?;
                let site = s.memberships.first().map(|m| m.site.clone()).or_else(|| SiteId::parse("none").ok())?;
                Some(row(key, &site, None, if s.active { "active" } else { "disabled" }, s))
            }
            EntityKind::Person => {
                let p = self.persons.get(key.id.as_str())?;
                // Wristbands carry the MRN in ISBT 128 DS025, which allows only letters and digits.
                let wristband: String = p.mrn.chars().filter(char::is_ascii_alphanumeric).collect();
                Some(ProjectionRow { reference: Some(wristband), ..row(key, &p.site, Some(&p.id), &status_word(&p.kind), p) })
            }
            EntityKind::Plan => {
                let p = self.plans.get(key.id.as_str())?;
                Some(row(key, &p.site, Some(&p.patient), &status_word(&p.status), p))
            }
            EntityKind::Unit => {
                let u = self.units.get(key.id.as_str())?;
                let status = if u.in_transit.is_some() { "in_transit".to_owned() } else { status_word(&u.status) };
                Some(ProjectionRow {
                    reference: Some(format!("{}{}", u.din, u.product_code)),
                    ..row(key, &u.site, Some(&u.source_person), &status, u)
                })
            }
            EntityKind::Shipment => {
                let s = self.shipments.get(key.id.as_str())?;
                Some(row(key, &s.from_site, None, &status_word(&s.status), s))
            }
            EntityKind::AdverseEvent => {
                let a = self.adverse_events.get(key.id.as_str())?;
                let status = if a.review.is_some() { "reviewed" } else { "open" };
                Some(row(key, &a.site, Some(&a.patient), status, a))
            }
            EntityKind::ApiToken => {
                let t = self.api_tokens.get(key.id.as_str())?;
                let status = if t.revoked.is_some() { "revoked" } else { "active" };
                // Listed by their owner (the `person` column is whoever a record concerns).
                Some(ProjectionRow {
                    key: key.clone(),
                    site: "all".to_owned(),
                    person: Some(t.staff.to_string()),
                    status: status.to_owned(),
                    reference: Some(t.token_hash.clone()),
                    body: serde_json::to_string(t).unwrap_or_default(),
                })
            }
            EntityKind::SigningGrant => {
                let g = self.signing_grants.get(key.id.as_str())?;
                Some(ProjectionRow { reference: Some(g.command_digest.clone()), ..row(key, &g.site, None, "issued", g) })
            }
            EntityKind::Catalogue if key.id == EvidenceDataset::ID => {
                let d = self.evidence_data.as_ref()?;
                Some(ProjectionRow {
                    key: key.clone(),
                    site: "all".to_owned(),
                    person: None,
                    status: "loaded".to_owned(),
                    reference: Some(d.version.clone()),
                    body: serde_json::to_string(d).unwrap_or_default(),
                })
            }
            EntityKind::Catalogue => {
                let c = self.catalogue.as_ref().filter(|_| key.id == ProductCatalogue::ID)?;
                Some(ProjectionRow {
                    key: key.clone(),
                    site: "all".to_owned(),
                    person: None,
                    status: "loaded".to_owned(),
                    reference: None,
                    body: serde_json::to_string(c).unwrap_or_default(),
                })
            }
        }
    }

    /// Puts a stored entity (as produced by [`State::row`]) back into the state.
    pub fn load(&mut self, key: &EntityKey, body: &str) -> Result<(), LoadError> {
        let fail = |source| LoadError { key: key.clone(), source };
        match key.kind {
            EntityKind::Site => {
                let v: Site = serde_json::from_str(body).map_err(fail)?;
                self.sites.insert(v.id.clone(), v);
            }
            EntityKind::Staff => {
                let v: Staff = serde_json::from_str(body).map_err(fail)?;
                self.staff.insert(v.id.clone(), v);
            }
            EntityKind::Person => {
                let v: Person = serde_json::from_str(body).map_err(fail)?;
                self.persons.insert(v.id.clone(), v);
            }
            EntityKind::Plan => {
                let v: Plan = serde_json::from_str(body).map_err(fail)?;
                self.plans.insert(v.id.clone(), v);
            }
            EntityKind::Unit => {
                let v: Unit = serde_json::from_str(body).map_err(fail)?;
                self.units.insert(v.id.clone(), v);
            }
            EntityKind::Shipment => {
                let v: Shipment = serde_json::from_str(body).map_err(fail)?;
                self.shipments.insert(v.id.clone(), v);
            }
            EntityKind::AdverseEvent => {
                let v: AdverseEvent = serde_json::from_str(body).map_err(fail)?;
                self.adverse_events.insert(v.id.clone(), v);
            }
            EntityKind::ApiToken => {
                let v: ApiToken = serde_json::from_str(body).map_err(fail)?;
                self.api_tokens.insert(v.id.clone(), v);
            }
            EntityKind::SigningGrant => {
                let v: SigningGrant = serde_json::from_str(body).map_err(fail)?;
                self.signing_grants.insert(v.id.clone(), v);
            }
            EntityKind::Catalogue if key.id == EvidenceDataset::ID => {
                self.evidence_data = Some(serde_json::from_str(body).map_err(fail)?);
            }
            EntityKind::Catalogue => {
                self.catalogue = Some(serde_json::from_str(body).map_err(fail)?);
            }
        }
        Ok(())
    }

    /// Every entity key present, in a stable order.
    pub fn all_keys(&self) -> Vec<EntityKey> {
        let mut keys = Vec::new();
        keys.extend(self.sites.keys().map(|k| key(EntityKind::Site, k)));
        keys.extend(self.staff.keys().map(|k| key(EntityKind::Staff, k)));
        keys.extend(self.persons.keys().map(|k| key(EntityKind::Person, k)));
        keys.extend(self.plans.keys().map(|k| key(EntityKind::Plan, k)));
        keys.extend(self.units.keys().map(|k| key(EntityKind::Unit, k)));
        keys.extend(self.shipments.keys().map(|k| key(EntityKind::Shipment, k)));
        keys.extend(self.adverse_events.keys().map(|k| key(EntityKind::AdverseEvent, k)));
        keys.extend(self.api_tokens.keys().map(|k| key(EntityKind::ApiToken, k)));
        keys.extend(self.signing_grants.keys().map(|k| key(EntityKind::SigningGrant, k)));
        if self.catalogue.is_some() {
            keys.push(key(EntityKind::Catalogue, &ProductCatalogue::ID));
        }
        if self.evidence_data.is_some() {
            keys.push(key(EntityKind::Catalogue, &EvidenceDataset::ID));
        }
        keys
    }
}
