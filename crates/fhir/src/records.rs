//! One record as its resource: a record is found in the read model by kind
//! and id (`celltrace_domain::index::RecordKind`), inside the entity that
//! holds it (a plan holds its administrations, follow-ups, consents and
//! answers; a unit its collection and QC results). Also the person a record
//! is about (whose read it is) and one patient's compartment for
//! `Patient/{id}/$everything`.

use crate::context::Context;
use crate::questionnaire::{questionnaire_response, ResponseInput};
use crate::resources;
use crate::search::ResourceType;
use celltrace_domain::command::Actor;
use celltrace_domain::ids::PersonId;
use celltrace_domain::index::{qc_record_id, RecordKind};
use celltrace_domain::model::{AdverseEvent, Person, Plan, QuestionnaireResponse, ResponseSource, Site, Staff, Unit};
use serde_json::Value;
use std::collections::BTreeSet;

/// The entity a record was found in.
#[derive(Debug, Clone, Copy)]
pub enum Holder<'a> {
    /// A patient or donor.
    Person(&'a Person),
    /// A unit (itself, its collection, its QC results).
    Unit(&'a Unit),
    /// A plan (administrations, follow-ups, consents, questionnaire answers).
    Plan(&'a Plan),
    /// An adverse event.
    AdverseEvent(&'a AdverseEvent),
    /// A member of staff.
    Staff(&'a Staff),
    /// A site.
    Site(&'a Site),
}

/// The resource type a kind of record is served as.
pub fn resource_type_of(kind: RecordKind) -> ResourceType {
    match kind {
        RecordKind::Person => ResourceType::Patient,
        RecordKind::Unit => ResourceType::BiologicallyDerivedProduct,
        RecordKind::Collection | RecordKind::Administration => ResourceType::Procedure,
        RecordKind::Qc | RecordKind::FollowUp => ResourceType::Observation,
        RecordKind::Consent => ResourceType::Consent,
        RecordKind::Response => ResourceType::QuestionnaireResponse,
        RecordKind::AdverseEvent => ResourceType::AdverseEvent,
        RecordKind::Staff => ResourceType::Practitioner,
        RecordKind::Site => ResourceType::Organization,
    }
}

/// The QuestionnaireResponse of a plan's answers; `None` when the instrument
/// is not one the context knows (it cannot be described).
pub fn response(plan: &Plan, r: &QuestionnaireResponse, ctx: &Context) -> Option<Value> {
    let def = ctx.questionnaires.iter().find(|d| d.id == r.instrument)?;
    let author = match &r.source {
        ResponseSource::Portal => Actor::Patient(plan.patient.clone()),
        ResponseSource::Paper(staff) => Actor::Staff(staff.clone()),
    };
    let input = ResponseInput { id: r.id.to_string(), patient: plan.patient.clone(), author, authored: r.at, answers: r.answers.clone() };
    Some(questionnaire_response(def, &input))
}

/// The resource of the record `id` of `kind` held by `holder`; `None` when
/// the holder holds no such record.
pub fn record(kind: RecordKind, id: &str, holder: Holder<'_>, ctx: &Context) -> Option<Value> {
    match (kind, holder) {
        (RecordKind::Person, Holder::Person(p)) if p.id.as_str() == id => Some(resources::patient(p, ctx)),
        (RecordKind::Unit, Holder::Unit(u)) if u.id.as_str() == id => Some(resources::product(u, ctx)),
        (RecordKind::Collection, Holder::Unit(u)) if u.parents.is_empty() && u.collection.as_str() == id => Some(resources::collection_procedure(u, ctx)),
        (RecordKind::Qc, Holder::Unit(u)) => (0..u.qc.len()).find(|i| qc_record_id(u, *i) == id).and_then(|i| resources::qc_observation(u, i, ctx)),
        (RecordKind::Administration, Holder::Plan(p)) => {
            p.administrations.iter().find(|a| a.id.as_str() == id).map(|a| resources::administration_procedure(p, a, ctx))
        }
        (RecordKind::FollowUp, Holder::Plan(p)) => p.follow_ups.iter().find(|f| f.id.as_str() == id).map(|f| resources::follow_up_observation(p, f, ctx)),
        (RecordKind::Consent, Holder::Plan(p)) => p.consents.iter().find(|c| c.id.as_str() == id).map(|c| resources::consent(p, c, ctx)),
        (RecordKind::Response, Holder::Plan(p)) => p.responses.iter().find(|r| r.id.as_str() == id).and_then(|r| response(p, r, ctx)),
        (RecordKind::AdverseEvent, Holder::AdverseEvent(a)) if a.id.as_str() == id => Some(resources::adverse_event(a, ctx)),
        (RecordKind::Staff, Holder::Staff(s)) if s.id.as_str() == id => Some(resources::practitioner(s)),
        (RecordKind::Site, Holder::Site(s)) if s.id.as_str() == id => Some(resources::organization(s)),
        _ => None,
    }
}

/// The patient whose record a read of this kind of record shows: the
/// patient themself, and the subject of procedures, observations, consents,
/// answers and adverse events. A unit, staff or a site is no patient's record.
pub fn subject_of(kind: RecordKind, holder: Holder<'_>) -> Option<PersonId> {
    match (kind, holder) {
        (RecordKind::Person, Holder::Person(p)) => Some(p.id.clone()),
        (RecordKind::Collection | RecordKind::Qc, Holder::Unit(u)) => Some(u.source_person.clone()),
        (RecordKind::Administration | RecordKind::FollowUp | RecordKind::Consent | RecordKind::Response, Holder::Plan(p)) => Some(p.patient.clone()),
        (RecordKind::AdverseEvent, Holder::AdverseEvent(a)) => Some(a.patient.clone()),
        _ => None,
    }
}

/// One patient's records, as the caller read them through the patient's
/// own indexes (their cost is that of the patient, not of the database).
#[derive(Debug, Clone, Copy)]
pub struct PatientRecords<'a> {
    /// The patient.
    pub person: &'a Person,
    /// Their plans.
    pub plans: &'a [Plan],
    /// Units collected from them.
    pub own_units: &'a [Unit],
    /// Units allocated to, requested for or given in their plans.
    pub allocated_units: &'a [Unit],
    /// Their adverse events.
    pub adverse_events: &'a [AdverseEvent],
}

/// The patient's compartment, Patient first: the units collected from them
/// with their collections and QC results, the units allocated to their plans,
/// their administrations, follow-ups, consents and answers, and their adverse
/// events. A unit from a donor is shown without the donor's name, so one
/// person's export names no one else.
pub fn compartment(records: &PatientRecords<'_>, ctx: &Context) -> Vec<Value> {
    let person = records.person;
    let own_ctx = ctx.naming_only(&person.id);
    let mut out = vec![resources::patient(person, ctx)];
    let mut units_seen = BTreeSet::new();
    for u in records.own_units {
        if !units_seen.insert(u.id.clone()) {
            continue;
        }
        out.push(resources::product(u, &own_ctx));
        if u.parents.is_empty() {
            out.push(resources::collection_procedure(u, &own_ctx));
        }
        out.extend((0..u.qc.len()).filter_map(|i| resources::qc_observation(u, i, &own_ctx)));
    }
    for u in records.allocated_units {
        if units_seen.insert(u.id.clone()) {
            out.push(resources::product(u, &own_ctx));
        }
    }
    for plan in records.plans {
        out.extend(plan.administrations.iter().map(|a| resources::administration_procedure(plan, a, &own_ctx)));
        out.extend(plan.follow_ups.iter().map(|f| resources::follow_up_observation(plan, f, &own_ctx)));
        out.extend(plan.consents.iter().map(|c| resources::consent(plan, c, &own_ctx)));
        out.extend(plan.responses.iter().filter_map(|r| response(plan, r, &own_ctx)));
    }
    out.extend(records.adverse_events.iter().map(|a| resources::adverse_event(a, &own_ctx)));
    out
}
