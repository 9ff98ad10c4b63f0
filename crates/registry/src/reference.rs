//! The registry computed from a whole [`State`] in memory, as celltrace did
//! before the read model: every plan scanned, every adverse event scanned
//! for each. Kept as the reference that [`Cohort`](crate::Cohort), fed page
//! by page from the index, is tested against; no request path calls it, its
//! cost grows with the database.

use crate::{analyses, belongs, record, Analysis, ANALYSES};
use celltrace_domain::model::PlanStatus;
use celltrace_domain::State;
use celltrace_outcomes::stats::PatientRecord;

/// The registry over the whole state, one analysis per scored instrument.
pub fn analyse(state: &State) -> Vec<Analysis> {
    let records: Vec<Vec<PatientRecord>> = ANALYSES
        .iter()
        .map(|(instrument, _)| {
            state
                .plans
                .values()
                .filter(|p| matches!(p.status, PlanStatus::Active | PlanStatus::Completed))
                .filter_map(|p| record(p, state.adverse_events.values().filter(|a| belongs(a, p)), instrument))
                .collect()
        })
        .collect();
    analyses(records.iter().map(|r| r.iter().collect()))
}
