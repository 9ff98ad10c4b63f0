//! The story of a patient's cells, told from the ledger in the patient's
//! words: collected, processed, tested, released, stored, shipped, given.
//! Each unit's entries come from its own audit trail; the sites they name
//! are read once, by id, for all the units of a page.

use super::when;
use crate::error::AppError;
use crate::AppState;
use celltrace_domain::event::Event;
use celltrace_domain::ids::UnitId;
use celltrace_domain::model::{ProcessingKind, Site, Unit};
use celltrace_domain::time::Timestamp;
use celltrace_domain::{EntityKey, EntityKind};
use celltrace_i18n::Tr;
use std::collections::{BTreeMap, BTreeSet};

/// One line of a unit's story.
pub(super) struct StoryLine {
    pub(super) when: String,
    pub(super) text: String,
}

/// A unit and its story.
pub(super) struct StoryUnit {
    pub(super) title: String,
    pub(super) lines: Vec<StoryLine>,
}

/// One ledger entry of a unit: when, at which site, and what happened.
struct Happening {
    at: Timestamp,
    site: String,
    event: Event,
}

/// The decoded ledger entries of some units, and the sites they name.
pub(super) struct Histories {
    by_unit: BTreeMap<UnitId, Vec<Happening>>,
}

impl Histories {
    /// Reads the audit trail of each of `units` (each once). An entry that
    /// does not decode is a corrupt ledger, not a gap in the story.
    pub(super) async fn load(state: &AppState, units: &[&Unit]) -> Result<Histories, AppError> {
        let mut by_unit = BTreeMap::new();
        for unit in units {
            if by_unit.contains_key(&unit.id) {
                continue;
            }
            let trail = state.reader().trail(&EntityKey::new(EntityKind::Unit, &unit.id)).await?;
            let mut happenings = Vec::with_capacity(trail.len());
            for (entry, _) in trail {
                let event = serde_json::from_slice::<Event>(&entry.record.payload)
                    .map_err(|e| AppError::internal(format!("ledger entry {} does not decode: {e}", entry.seq)))?;
                happenings.push(Happening { at: Timestamp(entry.record.recorded_at), site: entry.record.site, event });
            }
            by_unit.insert(unit.id.clone(), happenings);
        }
        Ok(Histories { by_unit })
    }

    /// Every site the stories name: where each entry was recorded, and where
    /// shipments went from and to.
    pub(super) fn sites(&self) -> BTreeSet<String> {
        let mut sites = BTreeSet::new();
        for happening in self.by_unit.values().flatten() {
            sites.insert(happening.site.clone());
            match &happening.event {
                Event::ShipmentDispatched { shipment } => {
                    sites.insert(shipment.from_site.to_string());
                    sites.insert(shipment.to_site.to_string());
                }
                Event::ShipmentReceived { to_site, .. } => {
                    sites.insert(to_site.to_string());
                }
                _ => {}
            }
        }
        sites
    }

    /// The story of `unit` in `t`'s language; `sites` names the sites (an
    /// unnamed one is shown by its id).
    pub(super) fn tell(&self, t: &Tr, unit: &Unit, sites: &[Site]) -> StoryUnit {
        let name = |id: &str| sites.iter().find(|s| s.id.as_str() == id).map(|s| s.name.clone()).unwrap_or_else(|| id.to_owned());
        let mut lines = Vec::new();
        for happening in self.by_unit.get(&unit.id).into_iter().flatten() {
            let at_site = name(&happening.site);
            let text = match &happening.event {
                Event::CollectionRecorded { .. } => t.msg_args("story-collected", &[("site", at_site.into())]),
                Event::ProcessingStepRecorded { step, .. } => t.msg_args("story-processed", &[("site", at_site.into()), ("step", t.msg(step_key(step.kind)).into())]),
                Event::QcResultRecorded { unit: tested, result } if *tested == unit.id => {
                    let verdict = t.msg(if result.in_spec { "story-test-pass" } else { "story-test-fail" });
                    t.msg_args("story-tested", &[("test", result.test.clone().into()), ("result", verdict.into())])
                }
                Event::UnitReleased { unit: released, exceptional, .. } if *released == unit.id => t.msg(if *exceptional { "story-exceptional" } else { "story-released" }),
                Event::UnitStored { unit: stored, .. } if *stored == unit.id => t.msg_args("story-stored", &[("site", at_site.into())]),
                Event::UnitAllocated { .. } => t.msg("story-allocated"),
                Event::ShipmentDispatched { shipment } => {
                    t.msg_args("story-shipped", &[("from", name(shipment.from_site.as_str()).into()), ("to", name(shipment.to_site.as_str()).into())])
                }
                Event::ShipmentReceived { to_site, .. } => t.msg_args("story-received", &[("site", name(to_site.as_str()).into())]),
                Event::UnitAdministered { .. } => t.msg("story-administered"),
                Event::UnitDiscarded { unit: discarded, .. } if *discarded == unit.id => t.msg("story-discarded"),
                // Other entries (reads, corrections, another unit's results) are not part of this unit's story.
                _ => continue,
            };
            lines.push(StoryLine { when: when(t, happening.at), text });
        }
        let title = t.msg_args("story-unit", &[("din", unit.din.clone().into()), ("product", unit.product_code.clone().into())]);
        StoryUnit { title, lines }
    }
}

fn step_key(kind: ProcessingKind) -> &'static str {
    match kind {
        ProcessingKind::Isolation => "step-isolation",
        ProcessingKind::Expansion => "step-expansion",
        ProcessingKind::Harvest => "step-harvest",
        ProcessingKind::Cryopreservation => "step-cryopreservation",
        ProcessingKind::Thaw => "step-thaw",
        ProcessingKind::ExosomeIsolation => "step-exosome-isolation",
        ProcessingKind::PrpPreparation => "step-prp-preparation",
        ProcessingKind::Division => "step-division",
    }
}
