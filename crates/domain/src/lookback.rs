//! Lookback and recall: from a reagent lot, a processing step, a donor, a
//! DIN, a unit or a shipment, every unit that descends from the starting ones
//! and every patient who received one.
//!
//! [`Origin`] is what a recall starts from, for the store's indexed query
//! (`Reader::recall`) and for [`lookback`], the REFERENCE implementation: a
//! brute-force walk of a whole [`State`], kept only so tests can prove the
//! indexed query gives the same answer. No request path calls it: it reads
//! every unit and plan, so its cost grows with the database.
//!
//! Values are matched as the read model's index files them: a lot by its
//! number ([`lot_key`]: the first word on the label, any case), a DIN or MRN
//! by its letters and digits ([`code_key`]), ids exactly; surrounding spaces
//! never matter.

use crate::ids::{PersonId, PlanId, UnitId};
use crate::index::{code_key, lot_key};
use crate::model::Unit;
use crate::state::State;
use std::collections::{BTreeMap, BTreeSet};

/// What a lookback starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Units processed with this reagent or consumable lot.
    ReagentLot(String),
    /// Units a processing step (batch record) made or worked on, by step id.
    Step(String),
    /// Units collected from this person (by id, or by MRN at any site).
    Donor(String),
    /// Units of this donation identification number.
    Din(String),
    /// This unit.
    Unit(String),
    /// The units of this shipment.
    Shipment(String),
}

/// What a lookback found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookback {
    /// Units the search started from.
    pub starting: BTreeSet<UnitId>,
    /// Those units and all their descendants.
    pub affected: BTreeSet<UnitId>,
    /// Units the starting ones were made from, directly or not, that are not
    /// themselves affected: where the material came from.
    pub ancestors: BTreeSet<UnitId>,
    /// Administrations of affected units (the unit, the plan and the
    /// patient), by plan id and then in the order they were given.
    pub recipients: Vec<(UnitId, PlanId, PersonId)>,
}

fn starts(unit: &Unit, origin: &Origin, state: &State) -> bool {
    match origin {
        Origin::ReagentLot(lot) => {
            let wanted = lot_key(lot);
            !wanted.is_empty() && unit.steps.iter().any(|s| s.reagent_lots.iter().any(|l| lot_key(l) == wanted))
        }
        Origin::Step(step) => unit.steps.iter().any(|s| s.id.as_str() == step.trim()),
        Origin::Donor(who) => {
            let mrn = code_key(who);
            unit.source_person.as_str() == who.trim() || (!mrn.is_empty() && state.persons.get(&unit.source_person).is_some_and(|p| code_key(&p.mrn) == mrn))
        }
        Origin::Din(din) => {
            let wanted = code_key(din);
            !wanted.is_empty() && code_key(&unit.din) == wanted
        }
        Origin::Unit(id) => unit.id.as_str() == id.trim(),
        Origin::Shipment(id) => state.shipments.get(id.trim()).is_some_and(|s| s.units.contains(&unit.id)),
    }
}

/// Runs a lookback over the whole state: the reference the store's indexed
/// `Reader::recall` is tested against. Tests only.
pub fn lookback(state: &State, origin: &Origin) -> Lookback {
    let mut children: BTreeMap<&UnitId, Vec<&UnitId>> = BTreeMap::new();
    for unit in state.units.values() {
        for parent in &unit.parents {
            children.entry(parent).or_default().push(&unit.id);
        }
    }
    let starting: BTreeSet<UnitId> = state.units.values().filter(|u| starts(u, origin, state)).map(|u| u.id.clone()).collect();
    let mut affected = BTreeSet::new();
    let mut stack: Vec<&UnitId> = starting.iter().collect();
    while let Some(id) = stack.pop() {
        if affected.insert(id.clone()) {
            stack.extend(children.get(id).into_iter().flatten().copied());
        }
    }
    // Every ancestor of a starting unit, walking through affected ones too
    // (a pool can join an affected unit and an unaffected one).
    let mut walked = BTreeSet::new();
    let mut stack: Vec<&UnitId> = starting.iter().filter_map(|id| state.units.get(id)).flat_map(|u| u.parents.iter()).collect();
    while let Some(id) = stack.pop() {
        if walked.insert(id.clone()) {
            stack.extend(state.units.get(id).into_iter().flat_map(|u| u.parents.iter()));
        }
    }
    let ancestors = walked.difference(&affected).cloned().collect();
    let mut recipients = Vec::new();
    for plan in state.plans.values() {
        for a in &plan.administrations {
            if affected.contains(&a.unit) {
                recipients.push((a.unit.clone(), plan.id.clone(), plan.patient.clone()));
            }
        }
    }
    Lookback { starting, affected, ancestors, recipients }
}
