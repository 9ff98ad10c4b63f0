//! The outcomes registry of celltrace, pure: each treated plan becomes a
//! registry record per analysed score (baseline, follow-up scores,
//! adverse events), grouped by indication × product type × site, and
//! `celltrace-outcomes` computes the statistics.
//!
//! [`Cohort`] is built plan by plan, so a caller can read treated plans a
//! page at a time and keep only the small records; [`reference::analyse`]
//! is the whole-state computation it is tested against. [`export`] holds the
//! publishable aggregate export (small cells suppressed).

pub mod export;
pub mod reference;

use celltrace_domain::model::{AdverseEvent, Plan, PlanStatus};
use celltrace_domain::time::Timestamp;
use celltrace_outcomes::stats::{self, GroupKey, PatientRecord, Report, ReportConfig};
use celltrace_outcomes::{Direction, Mcid};
use serde::Serialize;
use std::collections::BTreeMap;

/// The time points a plan's questionnaires are due at, in report order.
pub const TIME_POINTS: [&str; 4] = ["1m", "3m", "6m", "12m"];

/// The scores the registry analyses: the follow-up instrument name, and its
/// minimal clinically important difference (from the shipped instruments).
pub const ANALYSES: [(&str, Mcid); 2] = [
    ("NPRS", Mcid { value: 2.0, direction: Direction::LowerIsBetter }),
    ("KOOS pain", Mcid { value: 11.3, direction: Direction::HigherIsBetter }),
];

/// One analysed score.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// Instrument as recorded at follow-up.
    pub instrument: &'static str,
    /// Its MCID.
    pub mcid: Mcid,
    /// Patients treated with at least one score of this instrument.
    pub patients: usize,
    /// The statistics.
    pub report: Report,
}

/// The file-name form of an instrument, e.g. `koos-pain`.
pub fn slug(instrument: &str) -> String {
    instrument.to_lowercase().replace(' ', "-")
}

/// Whether the registry counts `plan`: given at least once, and neither
/// stopped nor cancelled.
pub fn counts(plan: &Plan) -> bool {
    matches!(plan.status, PlanStatus::Active | PlanStatus::Completed) && !plan.administrations.is_empty()
}

/// Whether `event` belongs to `plan`'s record: an event of its patient,
/// linked to this plan or to none.
pub fn belongs(event: &AdverseEvent, plan: &Plan) -> bool {
    event.patient == plan.patient && event.plan.as_ref().is_none_or(|p| p == &plan.id)
}

fn day(micros: i64) -> i64 {
    micros.div_euclid(Timestamp::DAY)
}

/// The registry record of a treated plan for `instrument`, if it has any
/// score of it; `adverse_events` are the plan's own ([`belongs`]), in id order.
pub(crate) fn record<'a>(plan: &Plan, adverse_events: impl Iterator<Item = &'a AdverseEvent>, instrument: &str) -> Option<PatientRecord> {
    let first = plan.administrations.first()?;
    // Scores come from staff follow-ups and from answered questionnaires (portal or paper).
    let mut scores: Vec<(i64, &str, Option<i64>)> = plan
        .follow_ups
        .iter()
        .filter(|f| f.instrument == instrument)
        .map(|f| (f.at.0, f.time_point.as_str(), f.score_milli))
        .chain(plan.responses.iter().filter_map(|r| r.scores.get(instrument).map(|s| (r.at.0, r.time_point.as_str(), *s))))
        .collect();
    if scores.is_empty() {
        return None;
    }
    scores.sort_by_key(|(at, _, _)| *at);
    // The latest score recorded for a time point counts (a corrected entry follows the first).
    let value = |point: &str| scores.iter().rev().filter(|(_, p, _)| *p == point).find_map(|(_, _, s)| *s).map(|m| m as f64 / 1000.0);
    let last_contact = plan
        .follow_ups
        .iter()
        .map(|f| f.at.0)
        .chain(plan.responses.iter().map(|r| r.at.0))
        .chain(std::iter::once(first.at.0))
        .max()
        .unwrap_or(first.at.0);
    Some(PatientRecord {
        patient: plan.id.to_string(),
        group: GroupKey { indication: plan.indication.name.clone(), product_type: plan.product_type.code().to_owned(), site: plan.site.to_string() },
        baseline: value("baseline"),
        follow_ups: TIME_POINTS.iter().map(|p| ((*p).to_owned(), value(p))).collect(),
        treated_at_day: day(first.at.0),
        adverse_events: adverse_events.map(|a| stats::AdverseEvent { day: a.onset.days_since_epoch(), grade: a.grade }).collect(),
        last_contact_day: day(last_contact),
    })
}

/// The analyses of `records` (one list per entry of [`ANALYSES`]), each in
/// plan id order.
pub(crate) fn analyses<'r>(records: impl Iterator<Item = Vec<&'r PatientRecord>>) -> Vec<Analysis> {
    ANALYSES
        .iter()
        .zip(records)
        .map(|((instrument, mcid), records)| {
            let records: Vec<PatientRecord> = records.into_iter().cloned().collect();
            let config = ReportConfig { time_points: TIME_POINTS.iter().map(|p| (*p).to_owned()).collect(), mcid: *mcid };
            Analysis { instrument, mcid: *mcid, patients: records.len(), report: stats::report(&records, &config) }
        })
        .collect()
}

/// The registry's cohort, built one treated plan at a time, in any order:
/// only the registry records are kept, keyed by plan id so the statistics
/// see the patients in one fixed order (plan id) whatever order they came in.
#[derive(Debug, Clone, Default)]
pub struct Cohort {
    /// One map per entry of [`ANALYSES`]: plan id → record.
    records: [BTreeMap<String, PatientRecord>; ANALYSES.len()],
}

impl Cohort {
    /// An empty cohort.
    pub fn new() -> Cohort {
        Cohort::default()
    }

    /// Adds `plan` if the registry counts it ([`counts`]), with those of
    /// `adverse_events` that belong to it ([`belongs`]; others are ignored,
    /// so a caller may pass the events of many patients at once). Adding a
    /// plan again replaces it.
    pub fn add(&mut self, plan: &Plan, adverse_events: &[AdverseEvent]) {
        if !counts(plan) {
            return;
        }
        let mut own: Vec<&AdverseEvent> = adverse_events.iter().filter(|a| belongs(a, plan)).collect();
        own.sort_by(|a, b| a.id.cmp(&b.id));
        own.dedup_by(|a, b| a.id == b.id);
        for ((instrument, _), records) in ANALYSES.iter().zip(self.records.iter_mut()) {
            match record(plan, own.iter().copied(), instrument) {
                Some(r) => records.insert(plan.id.to_string(), r),
                None => records.remove(plan.id.as_str()),
            };
        }
    }

    /// Plans with a record for at least one analysed score.
    pub fn len(&self) -> usize {
        let mut plans: Vec<&String> = self.records.iter().flat_map(BTreeMap::keys).collect();
        plans.sort_unstable();
        plans.dedup();
        plans.len()
    }

    /// Whether no plan has a record.
    pub fn is_empty(&self) -> bool {
        self.records.iter().all(BTreeMap::is_empty)
    }

    /// The registry: one analysis per entry of [`ANALYSES`].
    pub fn analyse(&self) -> Vec<Analysis> {
        analyses(self.records.iter().map(|records| records.values().collect()))
    }
}
