//! Compares the registry statistics with an independent Python computation
//! (scipy t intervals, statsmodels Wilson intervals, numpy Kaplan–Meier):
//! `scripts/stats_reference.py`. Needs `pip install scipy statsmodels numpy`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use celltrace_outcomes::stats::{
    report, AdverseEvent, GroupKey, GroupReport, PatientRecord, ReportConfig,
};
use celltrace_outcomes::{Direction, Mcid};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const TOL: f64 = 1e-6;
const PIP: &str = "pip install scipy statsmodels numpy";

fn time_points() -> Vec<String> {
    ["m1", "m3", "m6", "m12"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// A seeded cohort: several groups (two of them tiny), missing baselines and
/// follow-ups (absent and explicit null), adverse events with ties, events
/// before treatment, censoring at last contact.
fn cohort(seed: u64, patients: usize) -> Vec<PatientRecord> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let indications = ["M17.11", "M51.36", "L65.9"];
    let products = ["autologous-adipose", "prp"];
    let sites = ["site-a", "site-b"];
    let tps = time_points();
    let mut out = Vec::with_capacity(patients + 4);
    for i in 0..patients + 4 {
        let group = if i >= patients {
            // Tiny groups: 3 patients and 1 patient.
            GroupKey {
                indication: "D57.1".into(),
                product_type: if i < patients + 3 {
                    "cord-blood-hpc"
                } else {
                    "allogeneic-msc"
                }
                .into(),
                site: "site-c".into(),
            }
        } else {
            GroupKey {
                indication: indications[rng.gen_range(0..3)].into(),
                product_type: products[rng.gen_range(0..2)].into(),
                site: sites[rng.gen_range(0..2)].into(),
            }
        };
        let baseline_int: i32 = rng.gen_range(3..=10);
        let baseline = if rng.gen_bool(0.06) {
            None
        } else if rng.gen_bool(0.3) {
            // Non-integer scores too (e.g. KOOS-like fractions).
            Some(f64::from(baseline_int) + f64::from(rng.gen_range(0..4)) / 3.0)
        } else {
            Some(f64::from(baseline_int))
        };
        let mut follow_ups = BTreeMap::new();
        for (k, tp) in tps.iter().enumerate() {
            let p_missing = 0.08 + 0.1 * k as f64;
            if rng.gen_bool(p_missing) {
                if rng.gen_bool(0.5) {
                    follow_ups.insert(tp.clone(), None);
                }
                continue;
            }
            let drop: i32 = rng.gen_range(-2..=5);
            let v = f64::from((baseline_int - drop).clamp(0, 10));
            follow_ups.insert(tp.clone(), Some(v));
        }
        let treated_at_day = rng.gen_range(0..1000_i64);
        let last_contact_day = treated_at_day + rng.gen_range(-3..400_i64);
        let mut adverse_events = Vec::new();
        for _ in 0..rng.gen_range(0..4) {
            if rng.gen_bool(0.55) {
                adverse_events.push(AdverseEvent {
                    day: treated_at_day + rng.gen_range(-10..200_i64),
                    grade: rng.gen_range(1..=5),
                });
            }
        }
        out.push(PatientRecord {
            patient: format!("p{i:05}"),
            group,
            baseline,
            follow_ups,
            treated_at_day,
            adverse_events,
            last_contact_day,
        });
    }
    out
}

fn run_python(input: &Value) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/stats_reference.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); install Python 3 and then: {PIP}"));
    let body = serde_json::to_vec(input).unwrap();
    // The script exits early (closing the pipe) when a package is missing:
    // report its message rather than the broken pipe.
    let written = child.stdin.take().unwrap().write_all(&body);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "stats_reference.py failed ({}): {stderr}\nIf a package is missing: {PIP}",
        out.status
    );
    written.unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(what: &str, rust: f64, py: &Value) {
    let p = py
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: python gave {py}"));
    assert!((rust - p).abs() <= TOL, "{what}: rust {rust} vs python {p}");
}

fn count(what: &str, rust: usize, py: &Value) {
    assert_eq!(Some(rust as u64), py.as_u64(), "{what}");
}

/// Compares one group; returns the number of floating-point values compared.
fn compare(label: &str, g: &GroupReport, py: &Value) -> usize {
    let mut compared = 0;
    count(&format!("{label} n_treated"), g.n_treated, &py["n_treated"]);
    let ptps = py["time_points"].as_array().unwrap();
    assert_eq!(g.time_points.len(), ptps.len());
    for (tp, ptp) in g.time_points.iter().zip(ptps) {
        let l = format!("{label} {}", tp.time_point);
        assert_eq!(ptp["time_point"], json!(tp.time_point));
        count(
            &format!("{l} n_followed"),
            tp.n_followed,
            &ptp["n_followed"],
        );
        count(&format!("{l} n_missing"), tp.n_missing, &ptp["n_missing"]);
        count(
            &format!("{l} n_evaluable"),
            tp.n_evaluable,
            &ptp["n_evaluable"],
        );
        match (&tp.change, &ptp["change"]) {
            (None, Value::Null) => {}
            (Some(c), pc) if !pc.is_null() => {
                count(&format!("{l} change n"), c.n, &pc["n"]);
                close(&format!("{l} mean change"), c.mean, &pc["mean"]);
                close(&format!("{l} sd"), c.sd, &pc["sd"]);
                close(&format!("{l} change lower"), c.lower, &pc["lower"]);
                close(&format!("{l} change upper"), c.upper, &pc["upper"]);
                compared += 4;
            }
            (r, p) => panic!("{l} change: rust {r:?} vs python {p}"),
        }
        match (&tp.responders, &ptp["responders"]) {
            (None, Value::Null) => {}
            (Some(r), pr) if !pr.is_null() => {
                count(&format!("{l} responders"), r.k, &pr["k"]);
                close(&format!("{l} responder rate"), r.estimate, &pr["estimate"]);
                close(&format!("{l} wilson lower"), r.lower, &pr["lower"]);
                close(&format!("{l} wilson upper"), r.upper, &pr["upper"]);
                compared += 3;
            }
            (r, p) => panic!("{l} responders: rust {r:?} vs python {p}"),
        }
    }
    let ae = &g.adverse_events;
    let pae = &py["adverse_events"];
    count(&format!("{label} AE events"), ae.n_events, &pae["n_events"]);
    if let Some(e) = ae.events_per_patient {
        close(
            &format!("{label} AE per patient"),
            e,
            &pae["events_per_patient"],
        );
        compared += 1;
    }
    let pw = &pae["patients_with_event"];
    if let Some(w) = ae.patients_with_event {
        count(&format!("{label} patients with AE"), w.k, &pw["k"]);
        close(&format!("{label} AE wilson lower"), w.lower, &pw["lower"]);
        close(&format!("{label} AE wilson upper"), w.upper, &pw["upper"]);
        compared += 2;
    }
    let grades: BTreeMap<String, usize> = ae
        .events_by_grade
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    assert_eq!(
        json!(grades),
        pae["events_by_grade"],
        "{label} events by grade"
    );
    let worst: BTreeMap<String, usize> = ae
        .patients_by_worst_grade
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    assert_eq!(
        json!(worst),
        pae["patients_by_worst_grade"],
        "{label} worst grade"
    );

    let km = &g.time_to_first_ae;
    let pkm = &py["time_to_first_ae"];
    count(&format!("{label} KM n"), km.n, &pkm["n"]);
    count(&format!("{label} KM events"), km.n_events, &pkm["n_events"]);
    let psteps = pkm["steps"].as_array().unwrap();
    assert_eq!(km.steps.len(), psteps.len(), "{label} KM steps");
    for (s, ps) in km.steps.iter().zip(psteps) {
        let l = format!("{label} KM t={}", s.time);
        assert_eq!(Some(s.time), ps["time"].as_i64(), "{l}");
        count(&format!("{l} at risk"), s.n_at_risk, &ps["n_at_risk"]);
        count(&format!("{l} events"), s.n_events, &ps["n_events"]);
        count(&format!("{l} censored"), s.n_censored, &ps["n_censored"]);
        close(&format!("{l} survival"), s.survival, &ps["survival"]);
        compared += 1;
        for (name, r) in [
            ("std_err", s.std_err),
            ("lower", s.lower),
            ("upper", s.upper),
        ] {
            match r {
                Some(v) => {
                    close(&format!("{l} {name}"), v, &ps[name]);
                    compared += 1;
                }
                None => assert!(ps[name].is_null(), "{l} {name}: python {}", ps[name]),
            }
        }
    }
    compared
}

fn check(seed: u64, patients: usize, mcid: Mcid) -> usize {
    let records = cohort(seed, patients);
    let config = ReportConfig {
        time_points: time_points(),
        mcid,
    };
    let rust = report(&records, &config);
    let input = json!({ "time_points": config.time_points, "mcid": mcid, "patients": records });
    let py = run_python(&input);
    let pgroups = py["groups"].as_array().unwrap();
    assert_eq!(rust.groups.len(), pgroups.len(), "number of groups");
    assert!(
        rust.groups.len() >= 10,
        "the cohort should have several groups"
    );
    let mut compared = 0;
    for g in &rust.groups {
        let key = g.group.as_ref().unwrap();
        let pg = pgroups
            .iter()
            .find(|p| p["group"] == json!(key))
            .unwrap_or_else(|| panic!("python has no group {key:?}"));
        compared += compare(&format!("{key:?}"), g, pg);
    }
    compared += compare("pooled", &rust.pooled, &py["pooled"]);
    // The tiny groups exercise the n < 2 paths.
    assert!(rust
        .groups
        .iter()
        .any(|g| g.n_treated == 1 && g.time_points.iter().all(|t| t.change.is_none())));
    compared
}

#[test]
fn statistics_match_scipy_statsmodels_numpy_lower_is_better() {
    let compared = check(
        20240611,
        3000,
        Mcid {
            value: 2.0,
            direction: Direction::LowerIsBetter,
        },
    );
    assert!(compared > 2000, "only {compared} values compared");
}

#[test]
fn statistics_match_scipy_statsmodels_numpy_higher_is_better() {
    let compared = check(
        7,
        2500,
        Mcid {
            value: 1.0 / 3.0,
            direction: Direction::HigherIsBetter,
        },
    );
    assert!(compared > 1500, "only {compared} values compared");
}
