//! `celltrace registry report --format json` on the demo: the treated
//! patients of each scored instrument, grouped, with loss to follow-up shown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use celltrace_testkit::TestDb;
use common::{celltrace, text};

#[test]
fn the_registry_report_covers_the_demo_cohort() {
    let db = TestDb::sqlite();
    let loaded = celltrace(&db, &["demo"]);
    assert!(loaded.status.success(), "{}", text(&loaded));
    let out = celltrace(&db, &["registry", "report", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let analyses = report["analyses"].as_array().expect("analyses");
    let by_instrument = |name: &str| analyses.iter().find(|a| a["instrument"] == name).expect("instrument analysed");

    // Layla (adipose, back pain) and Omar (PRP, tendon) were treated and scored with NPRS.
    let nprs = by_instrument("NPRS");
    assert_eq!(nprs["patients"], 2);
    assert_eq!(nprs["report"]["groups"].as_array().map(Vec::len), Some(2));
    let pooled = &nprs["report"]["pooled"];
    assert_eq!(pooled["n_treated"], 2);
    let three_months = pooled["time_points"].as_array().expect("time points").iter().find(|t| t["time_point"] == "3m").expect("3m");
    assert_eq!((three_months["n_followed"].as_u64(), three_months["n_missing"].as_u64()), (Some(1), Some(1)), "loss to follow-up is shown, not imputed");

    // The knee trial's two patients were scored with KOOS pain; one had a grade 2 joint effusion.
    let koos = by_instrument("KOOS pain");
    assert_eq!(koos["patients"], 2);
    let ae = &koos["report"]["pooled"]["adverse_events"];
    assert_eq!((ae["n_events"].as_u64(), ae["events_by_grade"]["2"].as_u64()), (Some(1), Some(1)));
}
