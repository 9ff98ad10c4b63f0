//! Time the full registry report over 100,000 generated patients.
//!
//! `cargo run --release -p celltrace-outcomes --example registry_bench [patients]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use celltrace_outcomes::stats::{AdverseEvent, GroupKey, PatientRecord, ReportConfig};
use celltrace_outcomes::{public_export, report, Direction, Mcid};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() {
    let patients: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let indications = ["M17.11", "M51.36", "M75.1", "L65.9", "D57.1"];
    let products = [
        "autologous-adipose",
        "autologous-bone-marrow",
        "prp",
        "msc-exosome",
    ];
    let sites: Vec<String> = (0..10).map(|s| format!("site-{s}")).collect();
    let time_points: Vec<String> = ["m1", "m3", "m6", "m12"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();

    let t0 = Instant::now();
    let records: Vec<PatientRecord> = (0..patients)
        .map(|i| {
            let baseline = rng.gen_range(3..=10);
            let mut follow_ups = BTreeMap::new();
            for (k, tp) in time_points.iter().enumerate() {
                if rng.gen_bool(0.1 + 0.1 * k as f64) {
                    continue; // missed visit / lost to follow-up
                }
                let v = f64::from((baseline - rng.gen_range(-2..=5)).clamp(0, 10));
                follow_ups.insert(tp.clone(), Some(v));
            }
            let treated_at_day = rng.gen_range(0..1500_i64);
            let adverse_events = (0..rng.gen_range(0..3))
                .map(|_| AdverseEvent {
                    day: treated_at_day + rng.gen_range(0..365),
                    grade: rng.gen_range(1..=5),
                })
                .collect();
            PatientRecord {
                patient: format!("p{i:06}"),
                group: GroupKey {
                    indication: indications[rng.gen_range(0..indications.len())].to_owned(),
                    product_type: products[rng.gen_range(0..products.len())].to_owned(),
                    site: sites[rng.gen_range(0..sites.len())].clone(),
                },
                baseline: (!rng.gen_bool(0.05)).then_some(f64::from(baseline)),
                follow_ups,
                treated_at_day,
                adverse_events,
                last_contact_day: treated_at_day + rng.gen_range(0..730),
            }
        })
        .collect();
    let generated = t0.elapsed();

    let config = ReportConfig {
        time_points,
        mcid: Mcid {
            value: 2.0,
            direction: Direction::LowerIsBetter,
        },
    };
    let t1 = Instant::now();
    let r = report(&records, &config);
    let computed = t1.elapsed();
    let t2 = Instant::now();
    let export = public_export(&r);
    let exported = t2.elapsed();

    let suppressed = export
        .iter()
        .flat_map(|row| &row.time_points)
        .filter(|(_, c)| c.is_suppressed())
        .count();
    println!("patients: {patients}, groups: {}", r.groups.len());
    println!("generate cohort: {generated:?}");
    println!("full report (all groups + pooled, 4 time points, AEs, Kaplan-Meier): {computed:?}");
    println!("public export: {exported:?} ({suppressed} suppressed time-point cells)");
    let m12 = &r.pooled.time_points[3];
    if let Some(c) = m12.change {
        println!(
            "pooled m12: n={} mean change {:.3} (95% CI {:.3} to {:.3})",
            c.n, c.mean, c.lower, c.upper
        );
    }
    println!("pooled KM steps: {}", r.pooled.time_to_first_ae.steps.len());
}
