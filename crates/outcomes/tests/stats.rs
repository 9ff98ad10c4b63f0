//! Hand-checked statistics and the public export's small-cell suppression.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use celltrace_outcomes::stats::{AdverseEvent, GroupKey, PatientRecord, ReportConfig};
use celltrace_outcomes::{
    kaplan_meier, mean_ci, public_export, report, wilson, Cell, Direction, Mcid, MIN_CELL_PATIENTS,
};

fn near(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b}");
}

#[test]
fn wilson_worked_values() {
    // outcomes.md §9.2: 12/20 → 38.7–78.1 %, 30/50 → 46.2–72.4 %, 0/10 → 0–27.8 %, 10/10 → 72.2–100 %.
    for (k, n, lo, hi) in [
        (12, 20, 0.387, 0.781),
        (30, 50, 0.462, 0.724),
        (0, 10, 0.0, 0.278),
        (10, 10, 0.722, 1.0),
    ] {
        let p = wilson(k, n).unwrap();
        near(p.lower, lo, 5e-4);
        near(p.upper, hi, 5e-4);
    }
    assert!(wilson(0, 0).is_none());
    assert!(wilson(3, 2).is_none());
}

#[test]
fn mean_ci_paired_t() {
    // d = 1,2,3,4: mean 2.5, sd 1.2909944, t(0.975,3) = 3.1824463 → ±2.0542603.
    let m = mean_ci(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    near(m.mean, 2.5, 1e-12);
    near(m.sd, 1.290_994_448_735_805_6, 1e-12);
    near(m.lower, 2.5 - 2.054_260_256_760_521, 1e-6);
    near(m.upper, 2.5 + 2.054_260_256_760_521, 1e-6);
    assert!(mean_ci(&[1.0]).is_none());
    assert!(mean_ci(&[]).is_none());
    assert!(mean_ci(&[1.0, f64::NAN]).is_none());
}

#[test]
fn kaplan_meier_by_hand() {
    let km = kaplan_meier(&[
        (1, true),
        (2, false),
        (3, true),
        (3, true),
        (4, false),
        (5, true),
    ]);
    assert_eq!((km.n, km.n_events, km.steps.len()), (6, 4, 3));
    let s1 = km.steps[0];
    assert_eq!((s1.time, s1.n_at_risk, s1.n_events), (1, 6, 1));
    near(s1.survival, 5.0 / 6.0, 1e-12);
    let s3 = km.steps[1];
    assert_eq!((s3.time, s3.n_at_risk, s3.n_events), (3, 4, 2));
    near(s3.survival, 5.0 / 12.0, 1e-12);
    let gw: f64 = 1.0 / 30.0 + 2.0 / 8.0;
    near(s3.std_err.unwrap(), 5.0 / 12.0 * gw.sqrt(), 1e-12);
    let w = 1.959_963_984_540_054 * gw.sqrt() / (5.0f64 / 12.0).ln().abs();
    near(s3.lower.unwrap(), (5.0f64 / 12.0).powf(w.exp()), 1e-12);
    near(s3.upper.unwrap(), (5.0f64 / 12.0).powf((-w).exp()), 1e-12);
    let last = km.steps[2];
    assert_eq!((last.time, last.n_at_risk, last.survival), (5, 1, 0.0));
    assert!(last.std_err.is_none() && last.lower.is_none());
    near(km.survival_at(0), 1.0, 0.0);
    near(km.survival_at(4), 5.0 / 12.0, 1e-12);
}

fn patient(i: usize, group: &GroupKey, baseline: Option<f64>, m3: Option<f64>) -> PatientRecord {
    let mut follow_ups = BTreeMap::new();
    follow_ups.insert("m3".to_owned(), m3);
    PatientRecord {
        patient: format!("p{i}"),
        group: group.clone(),
        baseline,
        follow_ups,
        treated_at_day: 100,
        adverse_events: if i % 3 == 0 {
            vec![AdverseEvent {
                day: 110 + i as i64,
                grade: 1,
            }]
        } else {
            vec![]
        },
        last_contact_day: 300,
    }
}

#[test]
fn report_counts_missing_and_responders_without_imputation() {
    let g = GroupKey {
        indication: "M17.11".into(),
        product_type: "prp".into(),
        site: "a".into(),
    };
    let records = vec![
        patient(0, &g, Some(8.0), Some(5.0)), // −3: responder
        patient(1, &g, Some(8.0), Some(6.0)), // −2: responder (exactly the MCID)
        patient(2, &g, Some(8.0), Some(7.0)), // −1
        patient(3, &g, None, Some(2.0)),      // followed, no baseline
        patient(4, &g, Some(6.0), None),      // missing at m3
        PatientRecord {
            adverse_events: vec![AdverseEvent { day: 50, grade: 3 }],
            ..patient(5, &g, Some(6.0), Some(f64::NAN))
        },
    ];
    let config = ReportConfig {
        time_points: vec!["m3".into(), "m12".into()],
        mcid: Mcid {
            value: 2.0,
            direction: Direction::LowerIsBetter,
        },
    };
    let r = report(&records, &config);
    assert_eq!(r.groups.len(), 1);
    let tp = &r.pooled.time_points[0];
    assert_eq!(
        (tp.n_treated, tp.n_followed, tp.n_missing, tp.n_evaluable),
        (6, 4, 2, 3)
    );
    near(tp.change.unwrap().mean, -2.0, 1e-12);
    let resp = tp.responders.unwrap();
    assert_eq!((resp.k, resp.n), (2, 3));
    let m12 = &r.pooled.time_points[1];
    assert_eq!((m12.n_followed, m12.n_missing), (0, 6));
    assert!(m12.change.is_none() && m12.responders.is_none());
    let ae = &r.pooled.adverse_events;
    // Patients 0 and 3 had an AE after treatment; patient 5's AE predates treatment.
    assert_eq!((ae.n_events, ae.excluded_before_treatment), (2, 1));
    assert_eq!(ae.events_by_grade.get(&1), Some(&2));
    assert_eq!(r.pooled.time_to_first_ae.n_events, 2);
    assert_eq!(r.pooled.time_to_first_ae.n, 6);
}

#[test]
fn public_export_suppresses_cells_under_five_patients() {
    let big = GroupKey {
        indication: "M17.11".into(),
        product_type: "prp".into(),
        site: "a".into(),
    };
    let small = GroupKey {
        indication: "M17.11".into(),
        product_type: "prp".into(),
        site: "b".into(),
    };
    let mut records: Vec<PatientRecord> = (0..12)
        .map(|i| patient(i, &big, Some(7.0), if i < 4 { Some(3.0) } else { None }))
        .collect();
    records.extend((100..104).map(|i| patient(i, &small, Some(7.0), Some(4.0))));
    let config = ReportConfig {
        time_points: vec!["m3".into()],
        mcid: Mcid {
            value: 2.0,
            direction: Direction::LowerIsBetter,
        },
    };
    let rows = public_export(&report(&records, &config));
    assert_eq!(rows.len(), 3);
    let big_row = &rows[0];
    assert_eq!(big_row.n_treated, Cell::Shown(12));
    // Only 4 patients followed at m3 in the big group → suppressed.
    assert!(big_row.time_points[0].1.is_suppressed());
    let Cell::Shown(ae) = &big_row.adverse_events else {
        panic!("AE cell of 12 patients shown")
    };
    // 4 patients (0, 3, 6, 9) had a grade-1 AE → that count is suppressed.
    assert_eq!(ae.patients_by_worst_grade.get(&1), Some(&Cell::Suppressed));
    assert!(ae.patients_with_event.is_suppressed());
    let small_row = &rows[1];
    assert!(small_row.n_treated.is_suppressed());
    assert!(small_row.time_points[0].1.is_suppressed());
    assert!(small_row.adverse_events.is_suppressed());
    assert!(small_row.time_to_first_ae.is_suppressed());
    // Pooled: 16 patients, 8 followed at m3 → shown.
    let pooled = &rows[2];
    assert!(pooled.group.is_none());
    assert!(matches!(&pooled.time_points[0].1, Cell::Shown(tp) if tp.n_evaluable == 8));
    // The suppressed cell carries no numbers when serialised.
    let json = serde_json::to_string(&small_row.time_points[0].1).unwrap();
    assert_eq!(json, r#"{"status":"suppressed"}"#);
    assert_eq!(MIN_CELL_PATIENTS, 5);
}
