//! The record lists FHIR search pages through (`read/fhir.rs`), on SQLite
//! and PostgreSQL: a site's records and one person's, by date range, page by
//! page with a keyset cursor and a count of the same range, and records found
//! by id, including ids whose `_` and `:` another system rewrote.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use celltrace_domain::command::Command;
use celltrace_domain::index::{instant_key, record_of_sort, records_value, Index, RecordKind};
use celltrace_domain::model::{Person, Plan, Unit};
use celltrace_domain::time::{Date, Timestamp};
use celltrace_ledger::SigningKey;
use celltrace_store::read::RecordRange;
use celltrace_store::{verify, Database, Engine, EngineOptions};
use celltrace_testkit::{administer, clinic, now, reference, released_unit, submission, witness_grant, TestDb, SITE};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

async fn clinic_with_three_patients(db: &TestDb) -> Engine {
    let database = Database::open(&db.url).await.expect("open");
    let engine = Engine::start(database, EngineOptions { max_batch: 256, checkpoint_every: 50, ..EngineOptions::new(key(), reference()) });
    let at = now();
    let mut subs = clinic(at);
    for n in 1..=3 {
        subs.extend(released_unit(n, at));
    }
    subs.push(witness_grant(1, "nurse", "nurse2", at));
    subs.push(administer(1, "nurse", "nurse2", at));
    subs.push(submission("nurse", at, Command::WithdrawConsent { plan: "plan-2".parse().expect("id"), reason: "changed mind".into() }));
    for sub in subs {
        let name = sub.command.name();
        engine.submit(sub).await.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    engine
}

fn records(index: Index, scope: &str, record: RecordKind, status: Option<&str>) -> RecordRange {
    RecordRange::all(index, records_value(scope, record, status))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sites_records_page_by_keyset_and_count_by_range() {
    for db in TestDb::all().await {
        let engine = clinic_with_three_patients(&db).await;
        let reader = engine.database().reader();
        let people = records(Index::Records, SITE, RecordKind::Person, None);
        assert_eq!(reader.record_count(&people).await.expect("count"), 3, "{}", db.backend);
        let mut seen = Vec::new();
        let mut after: Option<(String, String)> = None;
        loop {
            let page = reader.record_page::<Person>(&people, after.as_ref().map(|(s, i)| (s.as_str(), i.as_str())), 2).await.expect("page");
            assert!(page.items.len() <= 2);
            seen.extend(page.items.iter().map(|f| f.item.id.to_string()));
            let Some(last) = page.items.last() else { break };
            after = Some((last.sort.clone(), last.item.id.to_string()));
            if !page.more {
                break;
            }
        }
        seen.sort();
        assert_eq!(seen, ["p-1", "p-2", "p-3"], "{}: every person exactly once", db.backend);

        // Birth dates (1975-06-01) as a range of sort keys, before 1970 included.
        let born = Date::new(1975, 6, 1).expect("date").start();
        let in_range = RecordRange { from: instant_key(born), to: Some(instant_key(Timestamp(born.0 + Timestamp::DAY))), ..people.clone() };
        assert_eq!(reader.record_count(&in_range).await.expect("count"), 3);
        let before = RecordRange { from: instant_key(Timestamp(i64::MIN)), to: Some(instant_key(born)), ..people.clone() };
        assert_eq!(reader.record_count(&before).await.expect("count"), 0);
        assert!(reader.record_page::<Person>(&before, None, 10).await.expect("page").items.is_empty());

        // Units by status: two released, one administered; a plan's records one row each.
        assert_eq!(reader.record_count(&records(Index::Records, SITE, RecordKind::Unit, Some("released"))).await.expect("count"), 2);
        let given = reader.record_page::<Unit>(&records(Index::Records, SITE, RecordKind::Unit, Some("administered")), None, 10).await.expect("page");
        assert_eq!((given.items.len(), given.items[0].item.id.as_str(), given.more), (1, "u-1", false));
        let administrations = reader.record_page::<Plan>(&records(Index::Records, SITE, RecordKind::Administration, None), None, 10).await.expect("page");
        assert_eq!(administrations.items.len(), 1);
        assert_eq!(record_of_sort(&administrations.items[0].sort), "adm-1-nurse");
        assert_eq!(reader.record_count(&records(Index::Records, SITE, RecordKind::Consent, Some("withdrawn"))).await.expect("count"), 1);
        assert_eq!(reader.record_count(&records(Index::Records, SITE, RecordKind::Consent, Some("in_force"))).await.expect("count"), 2);
        assert_eq!(reader.record_count(&records(Index::Records, "all", RecordKind::Staff, None)).await.expect("count"), 6);

        let report = verify::verify(engine.database(), &key().verifying_key()).await.expect("verify");
        assert!(report.ok(), "{}: verify recomputes the new entries: {:#?}", db.backend, report.findings);
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_persons_records_and_records_by_id() {
    for db in TestDb::all().await {
        let engine = clinic_with_three_patients(&db).await;
        let reader = engine.database().reader();
        let qc = reader.record_page::<Unit>(&records(Index::PersonRecords, "p-1", RecordKind::Qc, None), None, 10).await.expect("page");
        assert_eq!(qc.items.iter().map(|f| record_of_sort(&f.sort)).collect::<Vec<_>>(), ["u-1-qc-1"], "{}", db.backend);
        let collections = records(Index::PersonRecords, "p-2", RecordKind::Collection, None);
        assert_eq!(reader.record_count(&collections).await.expect("count"), 1);
        let consent = reader.record_page::<Plan>(&records(Index::PersonRecords, "p-2", RecordKind::Consent, Some("withdrawn")), None, 10).await.expect("page");
        assert_eq!(consent.items.iter().map(|f| f.item.id.as_str()).collect::<Vec<_>>(), ["plan-2"]);

        let found = reader.records_by_id::<Plan>(RecordKind::Administration, "adm-1-nurse", false).await.expect("lookup");
        assert_eq!(found.iter().map(|f| (f.sort.as_str(), f.item.id.as_str())).collect::<Vec<_>>(), [("adm-1-nurse", "plan-1")]);
        // The same id with `_` where it has `-` (as an id rewritten elsewhere) finds it.
        let rewritten = reader.records_by_id::<Unit>(RecordKind::Collection, "col_1", false).await.expect("lookup");
        assert_eq!(rewritten.iter().map(|f| f.sort.as_str()).collect::<Vec<_>>(), ["col-1"]);
        let by_prefix = reader.records_by_id::<Unit>(RecordKind::Unit, "u-", true).await.expect("lookup");
        assert_eq!(by_prefix.len(), 3, "{}", db.backend);
        assert!(reader.records_by_id::<Unit>(RecordKind::Unit, "u-", false).await.expect("lookup").is_empty());
        assert!(reader.records_by_id::<Plan>(RecordKind::Unit, "u-1", false).await.expect("lookup").is_empty(), "a unit record is no plan");
        db.drop_database().await;
    }
}
