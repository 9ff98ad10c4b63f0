//! Property tests: scoring never panics; Wilson bounds are sane; Kaplan–Meier
//! survival is non-increasing within [0, 1]; the report never panics.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use celltrace_outcomes::stats::{AdverseEvent, GroupKey, PatientRecord, ReportConfig};
use celltrace_outcomes::{
    kaplan_meier, parse_instrument, public_export, report, score, wilson, Direction, Mcid,
    ScoreError,
};
use proptest::prelude::*;

const INSTRUMENTS: [&str; 3] = [
    include_str!("../../../data/instruments/nprs.toml"),
    include_str!("../../../data/instruments/koos.toml"),
    include_str!("../../../data/instruments/pgic.toml"),
];

fn item_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "pain", "change", "P1", "P9", "S3", "A17", "SP5", "Q1", "Q4"
        ])
        .prop_map(str::to_owned),
        "[A-Za-z0-9_]{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn scoring_never_panics(which in 0usize..3, answers in prop::collection::btree_map(item_name(), any::<u8>(), 0..50)) {
        let instrument = parse_instrument(INSTRUMENTS[which]).unwrap();
        match score(&instrument, &answers) {
            Ok(scores) => {
                for s in scores.subscales.values().chain(std::iter::once(&scores.total)) {
                    if let Some(v) = s.value() {
                        prop_assert!(v.is_finite());
                        prop_assert!((0.0..=100.0).contains(&v));
                    }
                }
            }
            Err(ScoreError::UnknownItem { item, .. }) => prop_assert!(instrument.item(&item).is_none()),
            Err(ScoreError::NotAnOption { item, value, .. }) => {
                prop_assert!(!instrument.item(&item).unwrap().allows(value));
            }
        }
    }

    #[test]
    fn parsing_never_panics(text in "\\PC{0,200}") {
        let _ = parse_instrument(&text);
    }

    #[test]
    fn parsing_mutated_instruments_never_panics(which in 0usize..3, at in any::<prop::sample::Index>(), junk in "[\\[\\]={}\",a-z0-9 \n]{0,8}") {
        let text = INSTRUMENTS[which];
        let mut cut = at.index(text.len() + 1);
        while !text.is_char_boundary(cut) { cut -= 1; }
        let mutated = format!("{}{}{}", &text[..cut], junk, &text[cut..]);
        if let Err(e) = parse_instrument(&mutated) {
            prop_assert!(e.line >= 1 && e.line <= mutated.lines().count() + 1);
            prop_assert!(!e.field.is_empty());
        }
    }

    #[test]
    fn wilson_bounds_within_unit_interval_and_contain_estimate(n in 1usize..100_000, frac in 0.0f64..=1.0) {
        let k = ((n as f64) * frac).floor() as usize;
        let p = wilson(k.min(n), n).unwrap();
        prop_assert!(0.0 <= p.lower && p.lower <= p.estimate && p.estimate <= p.upper && p.upper <= 1.0, "{p:?}");
        prop_assert!(p.upper - p.lower > 0.0);
    }

    #[test]
    fn km_survival_non_increasing_in_unit_interval(obs in prop::collection::vec((-5i64..400, any::<bool>()), 0..300)) {
        let km = kaplan_meier(&obs);
        prop_assert_eq!(km.n, obs.len());
        let mut last = 1.0f64;
        for s in &km.steps {
            prop_assert!((0.0..=1.0).contains(&s.survival));
            prop_assert!(s.survival <= last);
            if let (Some(lo), Some(hi)) = (s.lower, s.upper) {
                prop_assert!(0.0 <= lo && lo <= s.survival && s.survival <= hi && hi <= 1.0, "{s:?}");
            }
            last = s.survival;
        }
    }

    #[test]
    fn report_never_panics(
        rows in prop::collection::vec(
            (0u8..3, prop::option::of(prop_oneof![any::<f64>(), -10.0f64..10.0]),
             prop::collection::btree_map(prop::sample::select(vec!["m1", "m3", "x"]), prop::option::of(-10.0f64..10.0), 0..3),
             any::<i64>(), prop::collection::vec((any::<i64>(), any::<u8>()), 0..3), any::<i64>()),
            0..40),
        mcid in prop_oneof![Just(f64::NAN), 0.0f64..5.0],
    ) {
        let records: Vec<PatientRecord> = rows.into_iter().enumerate().map(|(i, (g, b, f, t, aes, last))| PatientRecord {
            patient: i.to_string(),
            group: GroupKey { indication: g.to_string(), product_type: "prp".into(), site: "s".into() },
            baseline: b,
            follow_ups: f.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<BTreeMap<_, _>>(),
            treated_at_day: t,
            adverse_events: aes.into_iter().map(|(day, grade)| AdverseEvent { day, grade }).collect(),
            last_contact_day: last,
        }).collect();
        let config = ReportConfig {
            time_points: vec!["m1".into(), "m3".into()],
            mcid: Mcid { value: mcid, direction: Direction::LowerIsBetter },
        };
        let r = report(&records, &config);
        prop_assert_eq!(r.pooled.n_treated, records.len());
        let _ = public_export(&r);
    }
}
