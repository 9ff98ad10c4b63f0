//! Lookback and recall on the demo: the indexed `Reader::recall` finds the
//! culture medium lot printed on a unit's processing steps, agrees with the
//! whole-state reference for every origin in the demo, and the lookback page
//! shows the whole tree and every recipient — to a network-wide auditor
//! every site's records, to a site's QA only their site's, with what was
//! withheld counted (issue 13).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use celltrace_domain::lookback::{lookback, Origin};
use celltrace_store::Database;
use common::web::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lot_printed_on_processing_steps_recalls_its_units_and_their_patients() {
    let (db, _app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let reader = database.reader();
    for lot in ["MEM-2026-0088", "mem-2026-0088", "MEM-2026-0088 alpha-MEM"] {
        let recall = reader.recall(&Origin::ReagentLot(lot.into())).await.expect("recall");
        let affected: Vec<&str> = recall.affected.iter().map(|u| u.id.as_str()).collect();
        assert!(affected.contains(&"u-layla-msc") && affected.contains(&"u-fatima-msc"), "{lot}: {affected:?}");
        assert!(
            recall.recipients.iter().any(|r| r.unit.as_str() == "u-layla-msc" && r.plan.as_str() == "plan-layla" && r.patient.as_str() == "p-layla" && r.site.as_str() == "dubai-clinic"),
            "{lot}: {:?}",
            recall.recipients
        );
        let ancestors: Vec<&str> = recall.ancestors.iter().map(|u| u.id.as_str()).collect();
        assert!(ancestors.contains(&"u-layla-lipo") && !affected.contains(&"u-layla-lipo"), "the tree goes up to the lipoaspirate the medium was never used on: {ancestors:?}");
    }

    // Every origin the demo holds gives what the whole-state walk gives.
    let state = database.load_state().await.expect("state");
    let mut origins: Vec<Origin> = Vec::new();
    for unit in state.units.values() {
        origins.push(Origin::Unit(unit.id.to_string()));
        origins.push(Origin::Din(unit.din.to_lowercase()));
        for step in &unit.steps {
            origins.push(Origin::Step(step.id.to_string()));
            origins.extend(step.reagent_lots.iter().map(|l| Origin::ReagentLot(l.clone())));
        }
    }
    for person in state.persons.values() {
        origins.push(Origin::Donor(person.id.to_string()));
        origins.push(Origin::Donor(person.mrn.clone()));
    }
    origins.extend(state.shipments.keys().map(|s| Origin::Shipment(s.to_string())));
    assert!(origins.len() > 50, "the demo has lineage to trace");
    for origin in &origins {
        let expected = lookback(&state, origin);
        let found = reader.recall(origin).await.expect("recall");
        let affected: Vec<_> = found.affected.iter().map(|u| u.id.clone()).collect();
        assert_eq!(affected, expected.affected.into_iter().collect::<Vec<_>>(), "{origin:?}");
        let ancestors: Vec<_> = found.ancestors.iter().map(|u| u.id.clone()).collect();
        assert_eq!(ancestors, expected.ancestors.into_iter().collect::<Vec<_>>(), "{origin:?}");
        let recipients: Vec<_> = found.recipients.iter().map(|r| (r.unit.clone(), r.plan.clone(), r.patient.clone())).collect();
        assert_eq!(recipients, expected.recipients, "{origin:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lookback_page_shows_each_viewer_the_records_of_their_sites() {
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");

    // The auditor audits at every site: the whole network, patients of other sites by id only.
    let mut auditor = Client::new(&app);
    auditor.login("auditor", "celltrace-demo").await;
    let traced = auditor.get("/lookback?by=lot&q=mem-2026-0088").await;
    assert_eq!(traced.status, StatusCode::OK, "{}", traced.body);
    assert!(traced.body.contains("network-wide") && !traced.body.contains("Not shown"), "{}", traced.body);
    for unit in ["u-layla-msc", "u-fatima-msc"] {
        let stored: celltrace_domain::model::Unit = database.reader().get(unit).await.expect("read").expect("unit");
        assert!(traced.body.contains(&format!("{} {}", stored.din, stored.product_code)), "{unit}: {}", traced.body);
    }
    assert!(traced.body.contains("Where it came from"), "the tree upwards");
    assert!(traced.body.contains("Layla Al-Hassan") && traced.body.contains("plan-layla"), "the auditor works at Dubai: Layla is named there");
    let by_donor = auditor.get("/lookback?by=donor&q=LCB-50071").await;
    assert!(by_donor.body.contains("A999426000301 S3002V00") && by_donor.body.contains("patient p-aarav at delhi-centre"), "other sites' patients are not named: {}", by_donor.body);
    // Naming a patient is a read of their record, in the ledger.
    let trail = database.reader().trail(&celltrace_domain::EntityKey::new(celltrace_domain::EntityKind::Person, "p-layla")).await.expect("trail");
    assert!(trail.iter().any(|(e, _)| e.record.kind == "record_viewed" && e.record.actor == "staff:auditor" && String::from_utf8_lossy(&e.record.payload).contains("lookback")));

    // Dubai's QA sees Dubai's records; what the recall reached elsewhere is counted, not shown.
    let mut qa = Client::new(&app);
    qa.login("qa.dubai", "celltrace-demo").await;
    let dubai = qa.get("/lookback?by=lot&q=MEM-2026-0088").await;
    assert_eq!(dubai.status, StatusCode::OK);
    assert!(dubai.body.contains("Layla Al-Hassan"), "the Dubai patient who received a unit is named at Dubai: {}", dubai.body);
    assert!(dubai.body.contains("Not shown") && dubai.body.contains("mumbai-lab"), "{}", dubai.body);
    assert!(!dubai.body.contains(">mumbai-lab</td>"), "no Mumbai record is listed: {}", dubai.body);
    let delhi = qa.get("/lookback?by=donor&q=d-cord-wilson").await;
    assert!(!delhi.body.contains("p-aarav") && !delhi.body.contains("A999426000301 S3002V00"), "{}", delhi.body);
    assert!(delhi.body.contains("Not shown") && delhi.body.contains("delhi-centre"), "{}", delhi.body);

    // By processing step, and a value of no kind.
    let step = auditor.get("/lookback?by=step&q=step-layla-exp").await;
    assert!(step.body.contains("u-layla-msc") || step.body.contains("S1003100"), "{}", step.body);
    assert_eq!(auditor.get("/lookback?by=colour&q=red").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nothing = auditor.get("/lookback?by=lot&q=NO-SUCH-LOT").await;
    assert!(nothing.body.contains("No unit matches"), "{}", nothing.body);
}
