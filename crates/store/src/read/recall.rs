//! Lookback and recall from the read model's index: the units an origin
//! names (a lot, a processing step, a donor, a DIN, a unit, a shipment),
//! every unit made from them, where they came from, and every patient who
//! received one. Each step is an index range scan (one query per level of
//! the lineage), so the cost follows the size of the answer, never the size
//! of the database. `celltrace_domain::lookback::lookback` is the whole-state
//! reference the tests hold this to.

use super::reader::Reader;
use crate::StoreError;
use celltrace_domain::ids::{PersonId, PlanId, SiteId, UnitId};
use celltrace_domain::index::{code_key, scoped, Index};
use celltrace_domain::lookback::Origin;
use celltrace_domain::model::{Person, Shipment, Unit};
use celltrace_domain::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

/// One administration of an affected unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The unit given.
    pub unit: UnitId,
    /// The plan it was given in.
    pub plan: PlanId,
    /// The patient of the plan.
    pub patient: PersonId,
    /// The site of the plan (where the patient is treated).
    pub site: SiteId,
    /// When it was given.
    pub at: Timestamp,
}

/// What a recall found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recall {
    /// The units the origin names, by id.
    pub starting: Vec<UnitId>,
    /// Those units and every unit made from them, directly or not, each
    /// once, by id.
    pub affected: Vec<Unit>,
    /// The units the starting ones were made from, directly or not, that
    /// are not themselves affected, by id: the tree upwards.
    pub ancestors: Vec<Unit>,
    /// Every administration of an affected unit, by plan id and then in the
    /// order given.
    pub recipients: Vec<Recipient>,
}

impl Reader {
    /// The recall from `origin`: see [`Recall`]. Values are matched as the
    /// index files them (a lot by its number, a DIN or MRN by its letters
    /// and digits). A donor named by MRN is looked up at every site (MRNs
    /// are per site): one lookup per site, of which a deployment has few.
    pub async fn recall(&self, origin: &Origin) -> Result<Recall, StoreError> {
        let starting = self.origin_units(origin).await?;
        let starting_ids: Vec<UnitId> = starting.iter().map(|u| u.id.clone()).collect();
        let descendants = self.descendants_of(&starting_ids).await?;
        let mut affected: Vec<Unit> = starting.into_iter().chain(descendants).collect();
        affected.sort_by(|a, b| a.id.cmp(&b.id));
        affected.dedup_by(|a, b| a.id == b.id);
        let affected_ids: BTreeSet<UnitId> = affected.iter().map(|u| u.id.clone()).collect();
        let ancestors = self.ancestors_outside(&affected, &starting_ids, &affected_ids).await?;
        let given: Vec<UnitId> = affected_ids.iter().cloned().collect();
        let mut recipients = Vec::new();
        for plan in self.plans_given(&given).await? {
            for a in plan.administrations.iter().filter(|a| affected_ids.contains(&a.unit)) {
                recipients.push(Recipient { unit: a.unit.clone(), plan: plan.id.clone(), patient: plan.patient.clone(), site: plan.site.clone(), at: a.at });
            }
        }
        let mut starting_ids = starting_ids;
        starting_ids.sort();
        starting_ids.dedup();
        Ok(Recall { starting: starting_ids, affected, ancestors, recipients })
    }

    /// The units `origin` names, each once.
    async fn origin_units(&self, origin: &Origin) -> Result<Vec<Unit>, StoreError> {
        let mut units = match origin {
            Origin::ReagentLot(lot) => self.units_with_lot(lot).await?,
            Origin::Step(step) => self.units_of_step(step.trim()).await?,
            Origin::Din(din) if code_key(din).is_empty() => Vec::new(),
            Origin::Din(din) => self.units_by_din(din).await?,
            Origin::Unit(id) => self.get::<Unit>(id.trim()).await?.into_iter().collect(),
            Origin::Shipment(id) => match self.get::<Shipment>(id.trim()).await? {
                Some(shipment) => self.get_many::<Unit>(&shipment.units.iter().map(ToString::to_string).collect::<Vec<_>>()).await?,
                None => Vec::new(),
            },
            Origin::Donor(who) => {
                let mut people: BTreeSet<PersonId> = self.get::<Person>(who.trim()).await?.map(|p| p.id).into_iter().collect();
                let mrn = code_key(who);
                if !mrn.is_empty() {
                    let keys: Vec<String> = self.sites().await?.iter().map(|s| scoped(&s.id, &mrn)).collect();
                    people.extend(self.all_under::<Person>(Index::Mrn, &keys).await?.into_iter().map(|p| p.id));
                }
                let mut units = Vec::new();
                for person in &people {
                    units.extend(self.units_from(person).await?);
                }
                units
            }
        };
        units.sort_by(|a, b| a.id.cmp(&b.id));
        units.dedup_by(|a, b| a.id == b.id);
        Ok(units)
    }

    /// Every ancestor of `starting` that is not in `affected`, by id; walks
    /// through affected units too (a pool may join an affected unit with
    /// one that is not), one query per level.
    async fn ancestors_outside(&self, affected: &[Unit], starting: &[UnitId], affected_ids: &BTreeSet<UnitId>) -> Result<Vec<Unit>, StoreError> {
        let by_id: BTreeMap<&UnitId, &Unit> = affected.iter().map(|u| (&u.id, u)).collect();
        let parents_of = |id: &UnitId| by_id.get(id).map(|u| u.parents.clone()).unwrap_or_default();
        let mut walked: BTreeSet<UnitId> = BTreeSet::new();
        let mut ancestors = Vec::new();
        let mut level: Vec<UnitId> = starting.iter().flat_map(parents_of).collect();
        while !level.is_empty() {
            let mut next = Vec::new();
            let mut to_read = Vec::new();
            for id in level {
                if !walked.insert(id.clone()) {
                    continue;
                }
                if affected_ids.contains(&id) {
                    next.extend(parents_of(&id));
                } else {
                    to_read.push(id.to_string());
                }
            }
            for unit in self.get_many::<Unit>(&to_read).await? {
                next.extend(unit.parents.iter().cloned());
                ancestors.push(unit);
            }
            level = next;
        }
        ancestors.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(ancestors)
    }
}
