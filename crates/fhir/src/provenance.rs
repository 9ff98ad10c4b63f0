//! Provenance from ledger entries: who recorded what, when, at which site,
//! with the entry's sequence number and hash, and any e-signatures the event
//! carries. Also which FHIR resources a domain event touches.

use crate::ids::{fhir_id, reference, reference_with_display};
use crate::json::{coding, concept, extension, prune};
use crate::resources::code_of;
use crate::search::ResourceType;
use crate::systems::*;
use crate::time::date_time;
use celltrace_domain::command::Actor;
use celltrace_domain::ids::SiteId;
use celltrace_domain::model::{Signature, SignatureMeaning};
use celltrace_domain::time::Timestamp;
use celltrace_domain::Event;
use serde_json::{json, Value};

/// A FHIR resource a ledger entry concerns: its type and celltrace id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TargetRef {
    /// Resource type.
    pub resource_type: ResourceType,
    /// celltrace id (mapped with [`fhir_id`] in the reference).
    pub id: String,
}

impl TargetRef {
    /// A target.
    pub fn new(resource_type: ResourceType, id: impl ToString) -> TargetRef {
        TargetRef { resource_type, id: id.to_string() }
    }
}

/// One ledger entry as a Provenance needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    /// Sequence number in the chain.
    pub seq: u64,
    /// The entry's hash, hex.
    pub hash: String,
    /// When the ledger recorded it.
    pub recorded_at: Timestamp,
    /// Who submitted the command.
    pub actor: Actor,
    /// The actor's name for people, when known (a member of staff's full name).
    pub actor_name: Option<String>,
    /// Site the command was submitted at.
    pub site: Option<SiteId>,
    /// Event kind, e.g. `unit_released`.
    pub kind: String,
    /// Resources the event concerns ([`event_targets`] finds them for an event).
    pub targets: Vec<TargetRef>,
    /// E-signatures the event carries ([`event_signatures`]).
    pub signatures: Vec<Signature>,
}

/// The Provenance of a ledger entry, id `ledger-{seq}`; `None` when the entry
/// concerns no FHIR resource (FHIR requires at least one target). The
/// sequence number and hash are in the `ledger-sequence` and `ledger-hash`
/// extensions, so a reader can check the entry against `celltrace verify`.
pub fn provenance(entry: &LedgerEntry) -> Option<Value> {
    if entry.targets.is_empty() {
        return None;
    }
    let who = match &entry.actor {
        Actor::Staff(id) => reference_with_display(ResourceType::Practitioner, id.as_str(), entry.actor_name.as_deref()),
        Actor::Patient(id) => reference_with_display(ResourceType::Patient, id.as_str(), entry.actor_name.as_deref()),
        // Not a person: an identifier and a name, no resource to point at.
        Actor::System(name) => json!({
            "identifier": { "system": SYSTEM_ACTOR, "value": name },
            "display": format!("system:{name}"),
        }),
    };
    let on_behalf = entry.site.as_ref().map(|s| reference(ResourceType::Organization, s.as_str()));
    let kind_code = if crate::json::is_code(&entry.kind) { coding(LEDGER_EVENT, &entry.kind, "") } else { Value::Null };
    let signatures: Vec<Value> = entry
        .signatures
        .iter()
        .map(|s| {
            let (code, display) = astm_signature_type(s.meaning);
            json!({
                "type": [
                    coding(SIGNATURE_TYPE, code, display),
                    coding(SIGNATURE_MEANING, &code_of(&s.meaning), s.meaning.statement()),
                ],
                "when": date_time(s.signed_at),
                "who": reference(ResourceType::Practitioner, s.signer.as_str()),
            })
        })
        .collect();
    let mut agents = vec![json!({
        "type": concept(PROVENANCE_PARTICIPANT, "author", "Author", ""),
        "who": who,
        "onBehalfOf": on_behalf,
    })];
    agents.extend(entry.signatures.iter().map(|s| {
        json!({
            "type": concept(PROVENANCE_PARTICIPANT, "attester", "Attester", s.meaning.statement()),
            "who": reference(ResourceType::Practitioner, s.signer.as_str()),
        })
    }));
    Some(prune(json!({
        "resourceType": "Provenance",
        "id": fhir_id(&format!("ledger-{}", entry.seq)),
        "extension": [
            extension("ledger-sequence", "valueString", json!(entry.seq.to_string())),
            extension("ledger-hash", "valueString", json!(entry.hash)),
        ],
        "target": entry.targets.iter().map(|t| reference(t.resource_type, &t.id)).collect::<Vec<_>>(),
        "occurredDateTime": date_time(entry.recorded_at),
        "recorded": date_time(entry.recorded_at),
        "activity": { "coding": [kind_code], "text": entry.kind.replace('_', " ") },
        "agent": agents,
        "signature": signatures,
    })))
}

/// ASTM E1762 signature type of a celltrace signature meaning.
fn astm_signature_type(meaning: SignatureMeaning) -> (&'static str, &'static str) {
    match meaning {
        SignatureMeaning::Release | SignatureMeaning::ExceptionalRelease => ("1.2.840.10065.1.12.1.5", "Verification Signature"),
        SignatureMeaning::ConsentWitness => ("1.2.840.10065.1.12.1.11", "Consent Witness Signature"),
        SignatureMeaning::AdministrationWitness => ("1.2.840.10065.1.12.1.9", "Event Witness Signature"),
        SignatureMeaning::CustodyTransfer | SignatureMeaning::EvidenceOverride | SignatureMeaning::TemperatureException => {
            ("1.2.840.10065.1.12.1.1", "Author's Signature")
        }
    }
}

/// The FHIR resources an event creates or changes. Plans, shipments and the
/// catalogue have no FHIR resource here, so their events touch none, unless
/// they change units (shipments) or a consent.
pub fn event_targets(event: &Event) -> Vec<TargetRef> {
    use ResourceType as R;
    let unit = |u: &dyn ToString| TargetRef::new(R::BiologicallyDerivedProduct, u.to_string());
    match event {
        Event::SiteRegistered { site } => vec![TargetRef::new(R::Organization, &site.id)],
        Event::SitePolicySet { site, .. } => vec![TargetRef::new(R::Organization, site)],
        Event::StaffRegistered { staff } => vec![TargetRef::new(R::Practitioner, &staff.id)],
        Event::PersonRegistered { person } => vec![TargetRef::new(R::Patient, &person.id)],
        Event::RecordViewed { person, .. } => vec![TargetRef::new(R::Patient, person)],
        Event::ConsentRecorded { consent, .. } => vec![TargetRef::new(R::Consent, &consent.id)],
        Event::ConsentWithdrawn { consent, .. } => vec![TargetRef::new(R::Consent, consent)],
        Event::CollectionRecorded { collection, unit: u, .. } => {
            vec![TargetRef::new(R::Procedure, collection), unit(&u.id)]
        }
        Event::ProcessingStepRecorded { inputs, outputs, .. } => {
            inputs.iter().map(|u| unit(u)).chain(outputs.iter().map(|u| unit(&u.id))).collect()
        }
        Event::QcResultRecorded { unit: u, .. }
        | Event::UnitReleased { unit: u, .. }
        | Event::UnitDiscarded { unit: u, .. }
        | Event::UnitStored { unit: u, .. }
        | Event::UnitAllocated { unit: u, .. } => vec![unit(u)],
        Event::ShipmentDispatched { shipment } => shipment.units.iter().map(|u| unit(u)).collect(),
        Event::ShipmentReceived { units, .. } => units.iter().map(|u| unit(u)).collect(),
        Event::UnitAdministered { administration, .. } => {
            vec![TargetRef::new(R::Procedure, &administration.id), unit(&administration.unit)]
        }
        Event::FollowUpRecorded { follow_up, .. } => vec![TargetRef::new(R::Observation, &follow_up.id)],
        Event::AdverseEventReported { adverse_event } => vec![TargetRef::new(R::AdverseEvent, &adverse_event.id)],
        Event::AdverseEventReviewed { adverse_event, .. } => vec![TargetRef::new(R::AdverseEvent, adverse_event)],
        // Plans, eligibility, the catalogue (and events added later) have no FHIR resource here.
        _ => Vec::new(),
    }
}

/// The e-signatures an event carries.
pub fn event_signatures(event: &Event) -> Vec<Signature> {
    match event {
        Event::EvidenceBlockOverridden { signature, .. } | Event::ShipmentReceived { signature, .. } => vec![signature.clone()],
        Event::UnitReleased { signatures, .. } => signatures.clone(),
        Event::ShipmentDispatched { shipment } => vec![shipment.dispatched.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(targets: Vec<TargetRef>) -> LedgerEntry {
        LedgerEntry {
            seq: 42,
            hash: "ab".repeat(32),
            recorded_at: Timestamp(1_780_000_000_000_000),
            actor: Actor::Staff("qa_1".parse().expect("id")),
            actor_name: Some("Quinn".into()),
            site: Some("lab".parse().expect("id")),
            kind: "unit_released".into(),
            targets,
            signatures: vec![Signature { signer: "qa_1".parse().expect("id"), meaning: SignatureMeaning::Release, signed_at: Timestamp(1_780_000_000_000_000), proof: celltrace_domain::model::SignatureProof::Submitter }],
        }
    }

    #[test]
    fn provenance_names_entry_actor_and_signature() {
        let p = provenance(&entry(vec![TargetRef::new(ResourceType::BiologicallyDerivedProduct, "u1")])).expect("targets");
        assert_eq!(p["id"], "ledger-42");
        assert_eq!(p["target"][0]["reference"], "BiologicallyDerivedProduct/u1");
        assert_eq!(p["agent"][0]["who"]["reference"], format!("Practitioner/{}", fhir_id("qa_1")));
        assert_eq!(p["agent"][0]["onBehalfOf"]["reference"], "Organization/lab");
        assert_eq!(p["signature"][0]["type"][0]["code"], "1.2.840.10065.1.12.1.5");
        assert_eq!(p["extension"][1]["valueString"], "ab".repeat(32));
    }

    #[test]
    fn no_target_no_provenance() {
        assert_eq!(provenance(&entry(vec![])), None);
    }
}
