//! Lookback and recall: from a reagent lot, a donor, a DIN, a unit or a
//! shipment, every unit that descends from the starting ones and every
//! patient who received one.

use crate::ids::{PersonId, PlanId, UnitId};
use crate::model::Unit;
use crate::state::State;
use std::collections::{BTreeMap, BTreeSet};

/// What a lookback starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Units processed with this reagent lot.
    ReagentLot(String),
    /// Units collected from this person (by id or MRN).
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
    /// Administrations of affected units: the unit, the plan and the patient.
    pub recipients: Vec<(UnitId, PlanId, PersonId)>,
}

fn starts(unit: &Unit, origin: &Origin, state: &State) -> bool {
    match origin {
        Origin::ReagentLot(lot) => unit.steps.iter().any(|s| s.reagent_lots.iter().any(|l| l.eq_ignore_ascii_case(lot.trim()))),
        Origin::Donor(who) => {
            unit.parents.is_empty()
                && (unit.source_person.as_str() == who.trim() || state.persons.get(&unit.source_person).is_some_and(|p| p.mrn.eq_ignore_ascii_case(who.trim())))
        }
        Origin::Din(din) => unit.din.eq_ignore_ascii_case(din.trim()),
        Origin::Unit(id) => unit.id.as_str() == id.trim(),
        Origin::Shipment(id) => state.shipments.get(id.trim()).is_some_and(|s| s.units.contains(&unit.id)),
    }
}

/// Runs a lookback over the whole state.
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
    let mut recipients = Vec::new();
    for plan in state.plans.values() {
        for a in &plan.administrations {
            if affected.contains(&a.unit) {
                recipients.push((a.unit.clone(), plan.id.clone(), plan.patient.clone()));
            }
        }
    }
    Lookback { starting, affected, recipients }
}
