//! The state `decide` reads and `apply` builds: every entity by kind and id.
//! A store loads only the entities a command names (`Submission::keys`), so the
//! same rules run on a handful of rows or on a full replay of the ledger.
//! Which entities a command and an event concern is in `keys`; how an entity
//! is stored (its row and index entries) in `projection`.

use crate::command::{Actor, Command, Submission};
use crate::event::Event;
use crate::ids::*;
use crate::model::*;
use crate::index::{self, IndexEntry};
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

/// An entity type stored as a projection of its own kind: a typed read
/// (`get::<Plan>(id)`) names the kind through the type and cannot name
/// another.
pub trait Projection: Serialize + serde::de::DeserializeOwned + Send + 'static {
    /// The kind it is stored as.
    const KIND: EntityKind;
}

macro_rules! projections {
    ($($ty:ty => $kind:ident),*) => {$(
        impl Projection for $ty {
            const KIND: EntityKind = EntityKind::$kind;
        }
    )*};
}
projections!(Site => Site, Staff => Staff, Person => Person, Plan => Plan, Unit => Unit, Shipment => Shipment, AdverseEvent => AdverseEvent, ApiToken => ApiToken, SigningGrant => SigningGrant);

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
    /// Where the read model's queries find it.
    pub index: Vec<IndexEntry>,
    /// Its name as searched (lower case, without diacritics), for people.
    pub search: Option<String>,
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

mod keys;
mod projection;

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
}
