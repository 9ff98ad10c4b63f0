//! Registry statistics over plain per-patient records.
//!
//! Everything is computed "as observed": a missing or non-finite value is
//! left out of the calculation it would feed and counted as missing; nothing
//! is imputed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dist::{t_quantile, Z_975};
use crate::instrument::Mcid;

/// Smallest number of patients a published cell may describe.
pub const MIN_CELL_PATIENTS: usize = 5;

/// The registry's grouping: indication × product type × site.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GroupKey {
    /// Indication (e.g. an ICD-10-CM code or label).
    pub indication: String,
    /// Product type identifier (e.g. `autologous-adipose`).
    pub product_type: String,
    /// Treating site.
    pub site: String,
}

/// One adverse event: day (same day scale as the treatment day) and CTCAE grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdverseEvent {
    /// Day of onset.
    pub day: i64,
    /// CTCAE grade (1–5; other values are counted under their own number).
    pub grade: u8,
}

/// One treated patient as the registry sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientRecord {
    /// Patient identifier (pseudonymous).
    pub patient: String,
    /// Group of the patient's treatment.
    pub group: GroupKey,
    /// Baseline score, if recorded.
    pub baseline: Option<f64>,
    /// Score at each follow-up time point (absent or `None` = missing).
    pub follow_ups: BTreeMap<String, Option<f64>>,
    /// Day of treatment.
    pub treated_at_day: i64,
    /// Adverse events.
    pub adverse_events: Vec<AdverseEvent>,
    /// Day of the last contact (end of observation for censoring).
    pub last_contact_day: i64,
}

/// What to compute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportConfig {
    /// Follow-up time points, in report order (keys of `follow_ups`).
    pub time_points: Vec<String>,
    /// MCID and direction of the score being analysed.
    pub mcid: Mcid,
}

/// Mean with its 95 % t confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanCi {
    /// Number of values.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 denominator).
    pub sd: f64,
    /// Lower 95 % bound: mean − t(0.975, n−1) · sd/√n.
    pub lower: f64,
    /// Upper 95 % bound.
    pub upper: f64,
}

/// A proportion with its Wilson score 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Proportion {
    /// Successes.
    pub k: usize,
    /// Trials.
    pub n: usize,
    /// k / n.
    pub estimate: f64,
    /// Lower Wilson bound.
    pub lower: f64,
    /// Upper Wilson bound.
    pub upper: f64,
}

/// Mean and 95 % CI (t distribution, n − 1 degrees of freedom) of `values`.
///
/// `None` when fewer than two values are given or any is not finite.
#[must_use]
pub fn mean_ci(values: &[f64]) -> Option<MeanCi> {
    let n = values.len();
    if n < 2 || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    let mean = values.iter().sum::<f64>() / nf;
    let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    let sd = (ss / (nf - 1.0)).sqrt();
    let t = t_quantile(0.975, nf - 1.0)?;
    let half = t * sd / nf.sqrt();
    if !(mean.is_finite() && half.is_finite()) {
        return None;
    }
    Some(MeanCi {
        n,
        mean,
        sd,
        lower: mean - half,
        upper: mean + half,
    })
}

/// Wilson score 95 % interval for `k` successes out of `n`.
///
/// `None` when `n` is 0 or `k > n`. Bounds are kept within [0, 1] and around
/// the estimate (against rounding at k = 0 or k = n).
#[must_use]
pub fn wilson(k: usize, n: usize) -> Option<Proportion> {
    if n == 0 || k > n {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let (kf, nf) = (k as f64, n as f64);
    let p = kf / nf;
    let z2 = Z_975 * Z_975;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = Z_975 * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    Some(Proportion {
        k,
        n,
        estimate: p,
        lower: (centre - half).clamp(0.0, p),
        upper: (centre + half).clamp(p, 1.0),
    })
}

/// One step of a Kaplan–Meier curve, at a time where events happened.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KmStep {
    /// Days since treatment.
    pub time: i64,
    /// Patients still observed and event-free just before `time`.
    pub n_at_risk: usize,
    /// First events at `time`.
    pub n_events: usize,
    /// Patients censored at `time` (counted at risk at `time`).
    pub n_censored: usize,
    /// Event-free probability after `time`.
    pub survival: f64,
    /// Greenwood standard error of `survival`; `None` once survival reaches 0.
    pub std_err: Option<f64>,
    /// Lower 95 % bound (log–log transform); `None` once survival reaches 0.
    pub lower: Option<f64>,
    /// Upper 95 % bound (log–log transform); `None` once survival reaches 0.
    pub upper: Option<f64>,
}

/// Kaplan–Meier estimate of time to an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KaplanMeier {
    /// Patients in the analysis.
    pub n: usize,
    /// Patients with the event.
    pub n_events: usize,
    /// Steps at each distinct event time, in time order.
    pub steps: Vec<KmStep>,
}

impl KaplanMeier {
    /// Event-free probability at `time` (1 before the first event).
    #[must_use]
    pub fn survival_at(&self, time: i64) -> f64 {
        self.steps
            .iter()
            .take_while(|s| s.time <= time)
            .last()
            .map_or(1.0, |s| s.survival)
    }
}

/// Kaplan–Meier estimate from `(time, event)` pairs (`event` false = censored),
/// with Greenwood variance and log–log 95 % intervals:
/// `S^exp(±z·√Σ dᵢ/(nᵢ(nᵢ−dᵢ)) / |ln S|)`.
#[must_use]
pub fn kaplan_meier(observations: &[(i64, bool)]) -> KaplanMeier {
    let mut obs: Vec<(i64, bool)> = observations.to_vec();
    obs.sort_unstable();
    let n = obs.len();
    let n_events = obs.iter().filter(|o| o.1).count();
    let mut steps = Vec::new();
    let mut at_risk = n;
    let mut survival = 1.0_f64;
    let mut greenwood = 0.0_f64;
    let mut i = 0;
    while i < obs.len() {
        let time = obs[i].0;
        let mut d = 0usize;
        let mut c = 0usize;
        while i < obs.len() && obs[i].0 == time {
            if obs[i].1 {
                d += 1;
            } else {
                c += 1;
            }
            i += 1;
        }
        if d > 0 {
            #[allow(clippy::cast_precision_loss)]
            let (df, nf) = (d as f64, at_risk as f64);
            survival *= 1.0 - df / nf;
            let (std_err, lower, upper) = if d < at_risk && survival > 0.0 {
                greenwood += df / (nf * (nf - df));
                let se = survival * greenwood.sqrt();
                let ln_s = survival.ln();
                let w = Z_975 * greenwood.sqrt() / ln_s.abs();
                (
                    Some(se),
                    Some(survival.powf(w.exp())),
                    Some(survival.powf((-w).exp())),
                )
            } else {
                survival = 0.0;
                (None, None, None)
            };
            steps.push(KmStep {
                time,
                n_at_risk: at_risk,
                n_events: d,
                n_censored: c,
                survival,
                std_err,
                lower,
                upper,
            });
        }
        at_risk -= d + c;
    }
    KaplanMeier { n, n_events, steps }
}

/// Statistics of one group at one follow-up time point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimePointStats {
    /// Time point label.
    pub time_point: String,
    /// Patients treated in the group.
    pub n_treated: usize,
    /// Patients with a score at this time point.
    pub n_followed: usize,
    /// Patients without a score at this time point (loss to follow-up or missed visit).
    pub n_missing: usize,
    /// Patients with both baseline and this time point (the change analysis).
    pub n_evaluable: usize,
    /// Mean change (follow-up − baseline) with 95 % t CI; `None` when n < 2.
    pub change: Option<MeanCi>,
    /// Patients whose improvement reaches the MCID, with Wilson 95 % CI; `None` when n = 0.
    pub responders: Option<Proportion>,
}

/// Adverse events of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AeStats {
    /// Patients in the group.
    pub n_patients: usize,
    /// Adverse events on or after treatment.
    pub n_events: usize,
    /// Events per patient; `None` when there are no patients.
    pub events_per_patient: Option<f64>,
    /// Patients with at least one event, with Wilson 95 % CI.
    pub patients_with_event: Option<Proportion>,
    /// Events by grade.
    pub events_by_grade: BTreeMap<u8, usize>,
    /// Patients by the worst grade of their events.
    pub patients_by_worst_grade: BTreeMap<u8, usize>,
    /// Events dated before treatment, left out of everything above.
    pub excluded_before_treatment: usize,
}

/// All statistics of one group (or of the pooled cohort).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupReport {
    /// The group; `None` for the pooled cohort.
    pub group: Option<GroupKey>,
    /// Patients treated.
    pub n_treated: usize,
    /// Patients with a baseline score.
    pub n_with_baseline: usize,
    /// One entry per configured time point, in order.
    pub time_points: Vec<TimePointStats>,
    /// Adverse events.
    pub adverse_events: AeStats,
    /// Time to first adverse event (event = first AE on or after treatment;
    /// censored at last contact). Patients whose last contact precedes their
    /// treatment and who had no event are left out (`excluded_from_km`).
    pub time_to_first_ae: KaplanMeier,
    /// Patients left out of the Kaplan–Meier analysis (inconsistent dates).
    pub excluded_from_km: usize,
}

/// The registry report: one entry per group, in group order, and the pooled cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Per group.
    pub groups: Vec<GroupReport>,
    /// All patients together.
    pub pooled: GroupReport,
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

fn group_report(
    group: Option<GroupKey>,
    records: &[&PatientRecord],
    config: &ReportConfig,
) -> GroupReport {
    let n = records.len();
    let mut time_points = Vec::with_capacity(config.time_points.len());
    let mut changes = Vec::with_capacity(n);
    for tp in &config.time_points {
        changes.clear();
        let mut followed = 0usize;
        let mut responders = 0usize;
        for r in records {
            let Some(f) = finite(r.follow_ups.get(tp).copied().flatten()) else {
                continue;
            };
            followed += 1;
            if let Some(b) = finite(r.baseline) {
                changes.push(f - b);
                if config.mcid.is_responder(b, f) {
                    responders += 1;
                }
            }
        }
        time_points.push(TimePointStats {
            time_point: tp.clone(),
            n_treated: n,
            n_followed: followed,
            n_missing: n - followed,
            n_evaluable: changes.len(),
            change: mean_ci(&changes),
            responders: wilson(responders, changes.len()),
        });
    }

    let mut events_by_grade = BTreeMap::new();
    let mut patients_by_worst_grade = BTreeMap::new();
    let mut n_events = 0usize;
    let mut with_event = 0usize;
    let mut excluded_before = 0usize;
    let mut km_obs = Vec::with_capacity(n);
    let mut excluded_from_km = 0usize;
    for r in records {
        let mut worst: Option<u8> = None;
        let mut first: Option<i64> = None;
        for ae in &r.adverse_events {
            if ae.day < r.treated_at_day {
                excluded_before += 1;
                continue;
            }
            n_events += 1;
            *events_by_grade.entry(ae.grade).or_insert(0usize) += 1;
            worst = Some(worst.map_or(ae.grade, |w| w.max(ae.grade)));
            first = Some(first.map_or(ae.day, |f| f.min(ae.day)));
        }
        if let Some(w) = worst {
            with_event += 1;
            *patients_by_worst_grade.entry(w).or_insert(0usize) += 1;
        }
        match first {
            Some(day) => km_obs.push((day.saturating_sub(r.treated_at_day), true)),
            None if r.last_contact_day >= r.treated_at_day => {
                km_obs.push((r.last_contact_day.saturating_sub(r.treated_at_day), false));
            }
            None => excluded_from_km += 1,
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let events_per_patient = (n > 0).then(|| n_events as f64 / n as f64);

    GroupReport {
        group,
        n_treated: n,
        n_with_baseline: records
            .iter()
            .filter(|r| finite(r.baseline).is_some())
            .count(),
        time_points,
        adverse_events: AeStats {
            n_patients: n,
            n_events,
            events_per_patient,
            patients_with_event: wilson(with_event, n),
            events_by_grade,
            patients_by_worst_grade,
            excluded_before_treatment: excluded_before,
        },
        time_to_first_ae: kaplan_meier(&km_obs),
        excluded_from_km,
    }
}

/// Compute the registry report: per group (indication × product type × site)
/// and pooled.
#[must_use]
pub fn report(records: &[PatientRecord], config: &ReportConfig) -> Report {
    let mut by_group: BTreeMap<&GroupKey, Vec<&PatientRecord>> = BTreeMap::new();
    for r in records {
        by_group.entry(&r.group).or_default().push(r);
    }
    let groups = by_group
        .into_iter()
        .map(|(g, rs)| group_report(Some(g.clone()), &rs, config))
        .collect();
    let all: Vec<&PatientRecord> = records.iter().collect();
    Report {
        groups,
        pooled: group_report(None, &all, config),
    }
}

// ---------------------------------------------------------------------------
// Public aggregate export

/// A published cell: its numbers, or only the mark that it was suppressed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", content = "value", rename_all = "snake_case")]
pub enum Cell<T> {
    /// Fewer than [`MIN_CELL_PATIENTS`] patients: numbers withheld.
    Suppressed,
    /// The numbers.
    Shown(T),
}

impl<T> Cell<T> {
    fn when(patients: usize, value: T) -> Self {
        if patients < MIN_CELL_PATIENTS {
            Cell::Suppressed
        } else {
            Cell::Shown(value)
        }
    }

    /// Whether the cell was suppressed.
    #[must_use]
    pub fn is_suppressed(&self) -> bool {
        matches!(self, Cell::Suppressed)
    }
}

/// Adverse events as published: per-grade counts describing 1–4 patients are suppressed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportAe {
    /// Events on or after treatment.
    pub n_events: usize,
    /// Events per patient.
    pub events_per_patient: Option<f64>,
    /// Patients with at least one event.
    pub patients_with_event: Cell<Option<Proportion>>,
    /// Patients by worst grade.
    pub patients_by_worst_grade: BTreeMap<u8, Cell<usize>>,
}

/// One group (or the pooled cohort) as published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportRow {
    /// The group; `None` for the pooled cohort.
    pub group: Option<GroupKey>,
    /// Patients treated.
    pub n_treated: Cell<usize>,
    /// Per time point; suppressed when fewer than 5 patients have a score or a change.
    pub time_points: Vec<(String, Cell<TimePointStats>)>,
    /// Adverse events; suppressed when the group has fewer than 5 patients.
    pub adverse_events: Cell<ExportAe>,
    /// Kaplan–Meier steps; each suppressed when fewer than 5 patients are at risk.
    pub time_to_first_ae: Cell<Vec<Cell<KmStep>>>,
}

/// Suppress a value that describes between 1 and 4 patients (0 is shown).
fn small_count<T>(patients: usize, value: T) -> Cell<T> {
    if (1..MIN_CELL_PATIENTS).contains(&patients) {
        Cell::Suppressed
    } else {
        Cell::Shown(value)
    }
}

fn export_row(g: &GroupReport) -> ExportRow {
    let n = g.n_treated;
    let time_points = g
        .time_points
        .iter()
        .map(|tp| {
            let smallest = tp.n_followed.min(tp.n_evaluable).min(n);
            (tp.time_point.clone(), Cell::when(smallest, tp.clone()))
        })
        .collect();
    let ae = &g.adverse_events;
    let by_grade = ae
        .patients_by_worst_grade
        .iter()
        .map(|(&grade, &count)| (grade, small_count(count, count)))
        .collect();
    let with_event = ae.patients_with_event.map_or(0, |p| p.k);
    let export_ae = ExportAe {
        n_events: ae.n_events,
        events_per_patient: ae.events_per_patient,
        patients_with_event: small_count(with_event, ae.patients_with_event),
        patients_by_worst_grade: by_grade,
    };
    let steps = g
        .time_to_first_ae
        .steps
        .iter()
        .map(|s| Cell::when(s.n_at_risk, *s))
        .collect();
    ExportRow {
        group: g.group.clone(),
        n_treated: Cell::when(n, n),
        time_points,
        adverse_events: Cell::when(n, export_ae),
        time_to_first_ae: Cell::when(n, steps),
    }
}

/// The report as it may be published: every cell describing fewer than
/// [`MIN_CELL_PATIENTS`] patients is replaced by [`Cell::Suppressed`].
/// The pooled cohort comes last.
#[must_use]
pub fn public_export(report: &Report) -> Vec<ExportRow> {
    report
        .groups
        .iter()
        .chain(std::iter::once(&report.pooled))
        .map(export_row)
        .collect()
}
