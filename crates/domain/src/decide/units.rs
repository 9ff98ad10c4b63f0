//! Units of cellular material: collection (with its DIN), processing steps
//! and lineage, QC results (with the incubation a result needs), release
//! (plain or exceptional), storage, discard, and allocation of donor units
//! by the site that holds them.

use super::checks::{check_din, person, plan, same_site, staff_actor, text, unit, unit_here};
use super::rejection::{reject, reject_at, Rejection, RejectionCode as Code};
use super::signatures::{grants_used_once, sign};
use crate::command::{Command, NewUnit, Submission};
use crate::event::Event;
use crate::ids::*;
use crate::model::*;
use crate::state::State;
use crate::time::Timestamp;

/// Days a QC test's culture must incubate before its result may be recorded,
/// for the tests that have one: sterility by the compendial culture method
/// (14 days; 7 for an automated rapid culture system), mycoplasma by culture
/// (28 days). Nucleic-acid (PCR/NAT) mycoplasma tests have none. Tests are
/// recognised by name, as laboratories write them.
pub fn incubation_days(test: &str) -> Option<u32> {
    let name = test.to_lowercase();
    let rapid = ["rapid", "bact/alert", "bactalert", "automated", "2.6.27"].iter().any(|w| name.contains(w));
    if name.contains("sterility") {
        return Some(if rapid { 7 } else { 14 });
    }
    if name.contains("mycoplasma") {
        let nucleic = ["pcr", "nat", "nucleic", "qpcr"].iter().any(|w| name.split(|c: char| !c.is_alphanumeric()).any(|t| t == *w) || name.contains("nucleic"));
        return (!nucleic).then_some(28);
    }
    None
}

/// When the sample for `test` was taken: the pending record of the test, if
/// one was made, otherwise the last manipulation of the unit (a sample for a
/// release test is taken after it).
fn sampled_at(u: &Unit, test: &str) -> Timestamp {
    let pending = u.qc.iter().rev().find(|r| r.test.eq_ignore_ascii_case(test)).filter(|r| r.pending).map(|r| r.at);
    pending.unwrap_or_else(|| u.steps.iter().map(|s| s.at).chain(std::iter::once(u.created_at)).max().unwrap_or(u.created_at))
}

/// A unit that may be released at this site now: here, in quarantine, with
/// QC results, not expired. Whether the results allow a plain release is the
/// caller's question (plain or exceptional release).
fn releasable<'s>(state: &'s State, sub: &Submission, id: &UnitId) -> Result<&'s Unit, Rejection> {
    let u = unit(state, id)?;
    unit_here(u, sub)?;
    if u.status != UnitStatus::Quarantine {
        return reject(Code::NotInQuarantine, format!("Unit {} is {}; it cannot be released.", u.din, u.status.label()));
    }
    if u.qc.is_empty() {
        return reject(Code::NoQc, format!("Unit {} has no QC results; record them before release.", u.din));
    }
    if u.expires_at <= sub.at {
        return reject(Code::Expired, format!("Unit {} has expired; it cannot be released.", u.din));
    }
    Ok(u)
}

fn first_din(units: &[&Unit]) -> String {
    units.first().map(|u| u.din.clone()).unwrap_or_default()
}

fn available(u: &Unit, what: &str) -> Result<(), Rejection> {
    if !matches!(u.status, UnitStatus::Quarantine | UnitStatus::Released) {
        return reject_at("unit", Code::UnitUnavailable, format!("Unit {} is {}; it cannot be {what}.", u.din, u.status.label()));
    }
    Ok(())
}

pub(super) fn decide(state: &State, sub: &Submission) -> Result<Vec<Event>, Rejection> {
    use Role::*;
    let now = sub.at;
    grants_used_once(&sub.command)?;
    match &sub.command {
        Command::RecordCollection { collection, source_person, plan: plan_id, tissue, product_type, unit: unit_id, din, product_code, quantity, collected_at, expires_at } => {
            let collector = staff_actor(state, sub, &[Nurse, Physician])?;
            let source = person(state, source_person)?;
            same_site("person", &source.site, sub)?;
            if state.units.contains_key(unit_id) {
                return reject_at("unit", Code::Duplicate, format!("Unit {unit_id} already exists."));
            }
            check_din(din, state.sites.get(&sub.site))?;
            text("product_code", "product code", product_code, 16)?;
            if quantity.milli <= 0 {
                return reject_at("quantity", Code::Quantity, "The volume collected must be more than zero.");
            }
            if *expires_at <= *collected_at {
                return reject_at("expires_at", Code::Expiry, "The expiry must be after the collection time.");
            }
            if *collected_at > now {
                return reject_at("collected_at", Code::CollectedAt, "The collection time is in the future; check it.");
            }
            let intended_use = if product_type.is_autologous() {
                let Some(plan_id) = plan_id else {
                    return reject_at("plan", Code::PlanRequired, "Autologous material must be collected for a plan of the same patient.");
                };
                let p = plan(state, plan_id)?;
                if &p.patient != source_person {
                    return reject_at("plan", Code::OtherPatient, "Autologous material must come from the plan's own patient.");
                }
                if p.product_type != *product_type {
                    return reject_at("product_type", Code::ProductType, format!("The plan is for {}, not {}.", p.product_type.code(), product_type.code()));
                }
                if p.status != PlanStatus::Active {
                    return reject_at("plan", Code::PlanNotActive, format!("Plan {plan_id} is not active; collection must not start."));
                }
                if p.current_consent().is_none() {
                    return reject_at("plan", Code::ConsentMissing, "No consent in force for this plan: obtain consent before collection.");
                }
                IntendedUse::Autologous { patient: source_person.clone() }
            } else {
                if source.kind != PersonKind::Donor {
                    return reject_at("source_person", Code::NotADonor, format!("{} is not registered as a donor.", source.name));
                }
                IntendedUse::Allogeneic
            };
            Ok(vec![Event::CollectionRecorded {
                collection: collection.clone(),
                tissue: *tissue,
                plan: plan_id.clone(),
                collector: collector.id.clone(),
                unit: Unit {
                    id: unit_id.clone(),
                    din: din.clone(),
                    product_code: product_code.clone(),
                    product_type: *product_type,
                    source_person: source_person.clone(),
                    intended_use,
                    collection: collection.clone(),
                    parents: Vec::new(),
                    site: sub.site.clone(),
                    quantity: quantity.clone(),
                    collected_at: *collected_at,
                    expires_at: *expires_at,
                    status: UnitStatus::Quarantine,
                    qc: Vec::new(),
                    release: Vec::new(),
                    exceptional: false,
                    steps: Vec::new(),
                    location: None,
                    in_transit: None,
                    allocated_to: None,
                    requests: Vec::new(),
                    administered_in: None,
                    discard_reason: None,
                    created_at: now,
                },
            }])
        }
        Command::RecordProcessingStep { step, kind, inputs, outputs, equipment, reagent_lots, parameters } => {
            let operator = staff_actor(state, sub, &[LabTechnologist])?;
            if inputs.is_empty() {
                return reject_at("inputs", Code::Inputs, "Scan at least one input unit.");
            }
            text("equipment", "equipment", equipment, 200)?;
            for lot in reagent_lots {
                text("reagent_lots", "reagent lot", lot, 100)?;
            }
            for (name, value) in parameters {
                text("parameters", "parameter name", name, 100)?;
                text("parameters", "parameter value", value, 200)?;
            }
            let mut parents = Vec::new();
            for id in inputs {
                let u = unit(state, id)?;
                unit_here(u, sub)?;
                available(u, "processed")?;
                parents.push(u);
            }
            let first = parents.first().ok_or_else(|| Rejection::new(Code::Inputs, "Scan at least one input unit.").at("inputs"))?;
            if parents.iter().any(|u| u.intended_use != first.intended_use) {
                return reject_at(
                    "inputs",
                    Code::Pooling,
                    "These units belong to different patients or uses: material of two patients is never pooled.",
                );
            }
            if parents.iter().any(|u| u.product_type != first.product_type) {
                return reject_at("inputs", Code::Pooling, "Inputs of different product types cannot be combined.");
            }
            let mut seen = std::collections::BTreeSet::new();
            let mut codes = std::collections::BTreeSet::new();
            for NewUnit { unit: id, product_code, .. } in outputs {
                if state.units.contains_key(id) || inputs.contains(id) || !seen.insert(id) {
                    return reject_at("outputs", Code::Duplicate, format!("Unit {id} already exists; an output must be a new unit."));
                }
                isbt128::parse_content(isbt128::StructureId::ProductCode, product_code).map_err(|e| {
                    Rejection::new(Code::ProductCode, format!("Output {id}: '{product_code}' is not an ISBT 128 product code: {e}")).at("outputs")
                })?;
                if !codes.insert(product_code) || parents.iter().any(|p| &p.product_code == product_code) {
                    return reject_at(
                        "outputs",
                        Code::DivisionCode,
                        format!("Two units of DIN {} would share product code {product_code}: give each division its own division code (e.g. A0, B0).", first_din(&parents)),
                    );
                }
            }
            let record = StepRecord {
                id: step.clone(),
                kind: *kind,
                operator: operator.id.clone(),
                equipment: equipment.clone(),
                reagent_lots: reagent_lots.iter().map(|l| l.trim().to_owned()).collect(),
                parameters: parameters.clone(),
                at: now,
            };
            let children = outputs
                .iter()
                .map(|o| {
                    if o.quantity.milli <= 0 {
                        return reject_at("outputs", Code::Quantity, format!("Output {} needs a quantity above zero.", o.unit));
                    }
                    Ok(Unit {
                        id: o.unit.clone(),
                        din: first.din.clone(),
                        product_code: o.product_code.clone(),
                        product_type: first.product_type,
                        source_person: first.source_person.clone(),
                        intended_use: first.intended_use.clone(),
                        collection: first.collection.clone(),
                        parents: inputs.clone(),
                        site: sub.site.clone(),
                        quantity: o.quantity.clone(),
                        collected_at: first.collected_at,
                        expires_at: o.expires_at,
                        status: UnitStatus::Quarantine,
                        qc: Vec::new(),
                        release: Vec::new(),
                        exceptional: false,
                        steps: vec![record.clone()],
                        location: None,
                        in_transit: None,
                        allocated_to: None,
                        requests: Vec::new(),
                        administered_in: None,
                        discard_reason: None,
                        created_at: now,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(vec![Event::ProcessingStepRecorded { step: record, inputs: inputs.clone(), outputs: children }])
        }
        Command::RecordQcResult { unit: id, test, value, specification, outcome } => {
            let tech = staff_actor(state, sub, &[LabTechnologist])?;
            let u = unit(state, id)?;
            unit_here(u, sub)?;
            if u.status != UnitStatus::Quarantine {
                return reject(Code::NotInQuarantine, format!("Unit {} is {}; QC results are recorded before release.", u.din, u.status.label()));
            }
            text("test", "test", test, 100)?;
            text("value", "result", value, 100)?;
            text("specification", "specification", specification, 100)?;
            if *outcome != QcOutcome::Pending {
                if let Some(days) = incubation_days(test) {
                    let sampled = sampled_at(u, test);
                    let ready = sampled.plus_days(i64::from(days));
                    if now < ready {
                        return reject_at(
                            "outcome",
                            Code::IncubationIncomplete,
                            format!(
                                "A {test} result needs {days} days of incubation after sampling ({}); enter it on or after {}, or record the sample as pending now.",
                                sampled.date(),
                                ready.date()
                            ),
                        );
                    }
                }
            }
            Ok(vec![Event::QcResultRecorded {
                unit: id.clone(),
                result: QcResult {
                    test: test.trim().to_owned(),
                    value: value.trim().to_owned(),
                    specification: specification.trim().to_owned(),
                    in_spec: *outcome == QcOutcome::InSpecification,
                    pending: *outcome == QcOutcome::Pending,
                    performed_by: tech.id.clone(),
                    at: now,
                },
            }])
        }
        Command::ReleaseUnit { unit: id, signature } => {
            let qa = staff_actor(state, sub, &[QualityAssurance])?;
            let signature = sign(state, sub, "signature", signature, SignatureMeaning::Release, &[QualityAssurance])?;
            if signature.signer != qa.id {
                return reject_at("signature", Code::Signer, "The QA releasing the unit must sign personally.");
            }
            let u = releasable(state, sub, id)?;
            let latest = u.latest_qc();
            let pending: Vec<&str> = latest.iter().filter(|r| r.pending).map(|r| r.test.as_str()).collect();
            if !pending.is_empty() {
                return reject(
                    Code::QcPending,
                    format!("Unit {} has results pending ({}). Wait for them, or release exceptionally with physician and QA signatures and the patient informed.", u.din, pending.join(", ")),
                );
            }
            let out: Vec<&str> = latest.iter().filter(|r| !r.in_spec).map(|r| r.test.as_str()).collect();
            if !out.is_empty() {
                return reject(
                    Code::OutOfSpecification,
                    format!("Unit {} is out of specification ({}). Only an exceptional release with physician and QA signatures is possible.", u.din, out.join(", ")),
                );
            }
            Ok(vec![Event::UnitReleased { unit: id.clone(), signatures: vec![signature], exceptional: false, justification: None }])
        }
        Command::ExceptionalRelease { unit: id, qa, physician, justification, patient_informed } => {
            let actor = staff_actor(state, sub, &[QualityAssurance])?;
            let qa = sign(state, sub, "qa", qa, SignatureMeaning::ExceptionalRelease, &[QualityAssurance])?;
            if qa.signer != actor.id {
                return reject_at("qa", Code::Signer, "The QA releasing the unit must sign personally.");
            }
            let physician = sign(state, sub, "physician", physician, SignatureMeaning::ExceptionalRelease, &[Physician])?;
            if qa.signer == physician.signer {
                return reject_at("physician", Code::Signer, "Exceptional release needs two different people: QA and a physician.");
            }
            text("justification", "justification", justification, 2000)?;
            if !patient_informed {
                return reject_at("patient_informed", Code::PatientNotInformed, "The patient must be informed before an exceptional release.");
            }
            let u = releasable(state, sub, id)?;
            if u.latest_qc().iter().all(|r| r.in_spec && !r.pending) {
                return reject(Code::NothingExceptional, format!("Every result of unit {} is in specification: release it normally.", u.din));
            }
            Ok(vec![Event::UnitReleased {
                unit: id.clone(),
                signatures: vec![qa, physician],
                exceptional: true,
                justification: Some(justification.trim().to_owned()),
            }])
        }
        Command::DiscardUnit { unit: id, reason } => {
            staff_actor(state, sub, &[QualityAssurance, LabTechnologist])?;
            let u = unit(state, id)?;
            unit_here(u, sub)?;
            if matches!(u.status, UnitStatus::Administered | UnitStatus::Discarded | UnitStatus::Consumed) {
                return reject(Code::UnitUnavailable, format!("Unit {} is {}; it cannot be discarded.", u.din, u.status.label()));
            }
            text("reason", "reason", reason, 500)?;
            Ok(vec![Event::UnitDiscarded { unit: id.clone(), reason: reason.clone() }])
        }
        Command::StoreUnit { unit: id, location } => {
            staff_actor(state, sub, &[LabTechnologist, Logistics])?;
            let u = unit(state, id)?;
            unit_here(u, sub)?;
            available(u, "stored")?;
            for (field, value) in [("freezer", &location.freezer), ("rack", &location.rack), ("box", &location.r#box), ("position", &location.position)] {
                text(field, field, value, 40)?;
            }
            Ok(vec![Event::UnitStored { unit: id.clone(), location: location.clone() }])
        }
        Command::RequestUnit { unit: id, plan: plan_id } => {
            let physician = staff_actor(state, sub, &[Physician])?;
            let p = plan(state, plan_id)?;
            same_site("plan", &p.site, sub)?;
            let u = unit(state, id)?;
            suitable_for(u, p)?;
            if u.site == sub.site && u.in_transit.is_none() {
                return reject_at("unit", Code::Allocation, format!("Unit {} is at your site: allocate it directly.", u.din));
            }
            if u.requests.iter().any(|r| &r.plan == plan_id) {
                return reject_at("unit", Code::Duplicate, format!("Unit {} is already requested for plan {plan_id}.", u.din));
            }
            Ok(vec![Event::UnitRequested {
                unit: id.clone(),
                request: AllocationRequest { plan: plan_id.clone(), site: sub.site.clone(), requested_by: physician.id.clone(), at: now },
            }])
        }
        Command::AllocateUnit { unit: id, plan: plan_id } => {
            staff_actor(state, sub, &[Physician, QualityAssurance])?;
            let p = plan(state, plan_id)?;
            let u = unit(state, id)?;
            // Only the site holding a unit gives it away: a clinic asks, the bank allocates.
            unit_here(u, sub)?;
            if p.site != sub.site && !u.requests.iter().any(|r| &r.plan == plan_id) {
                return reject(
                    Code::NoAllocationRequest,
                    format!("Plan {plan_id} is at site {}: a physician there must request unit {} first; your site then allocates it.", p.site, u.din),
                );
            }
            suitable_for(u, p)?;
            Ok(vec![Event::UnitAllocated { unit: id.clone(), plan: plan_id.clone() }])
        }
        _ => reject(Code::Forbidden, "not a unit command"),
    }
}

/// An allogeneic unit of the plan's product type, available, not allocated,
/// for an active plan of someone other than its donor.
fn suitable_for(u: &Unit, p: &Plan) -> Result<(), Rejection> {
    if u.intended_use != IntendedUse::Allogeneic {
        return reject_at("unit", Code::Autologous, format!("Unit {} is autologous: it can only go to its own patient.", u.din));
    }
    if u.product_type != p.product_type {
        return reject_at("unit", Code::ProductType, format!("The unit is {} but the plan is for {}.", u.product_type.code(), p.product_type.code()));
    }
    available(u, "allocated")?;
    if let Some(other) = &u.allocated_to {
        return reject_at("unit", Code::AlreadyAllocated, format!("Unit {} is already allocated to plan {other}.", u.din));
    }
    if u.source_person == p.patient {
        return reject_at("plan", Code::Allocation, "An allogeneic unit cannot be allocated to its own donor's plan.");
    }
    if p.status != PlanStatus::Active {
        return reject_at("plan", Code::PlanNotActive, format!("Plan {} is not active.", p.id));
    }
    Ok(())
}
