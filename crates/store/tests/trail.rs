//! The paged audit trail (`Reader::trail_page`) on SQLite and PostgreSQL:
//! newest first, page after page with nothing skipped or repeated, and the
//! same entries as the whole trail, for one record and for several merged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use celltrace_domain::command::Command;
use celltrace_domain::{EntityKey, EntityKind};
use celltrace_ledger::SigningKey;
use celltrace_store::{Database, Engine, EngineOptions};
use celltrace_testkit::{clinic, now, reference, released_unit, submission, TestDb};

/// Every page of `records`' trail, `limit` at a time, as sequence numbers.
async fn walk(engine: &Engine, records: &[EntityKey], limit: u32) -> Vec<u64> {
    let mut seqs = Vec::new();
    let mut before = None;
    loop {
        let page = engine.database().reader().trail_page(records, before, limit).await.expect("page");
        assert!(page.entries.len() <= limit as usize);
        seqs.extend(page.entries.iter().map(|(e, _)| e.seq));
        match page.next_before {
            Some(seq) => {
                assert_eq!(page.entries.len(), limit as usize, "only the last page is short");
                before = Some(seq);
            }
            None => return seqs,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trail_pages_newest_first_without_gaps_or_repeats() {
    for db in TestDb::all().await {
        let database = Database::open(&db.url).await.expect("open");
        let engine = Engine::start(database, EngineOptions { max_batch: 256, checkpoint_every: 50, ..EngineOptions::new(SigningKey::from_bytes(&[9; 32]), reference()) });
        let mut subs = clinic(now());
        subs.extend(released_unit(1, now()));
        subs.extend(released_unit(2, now()));
        for n in 0..120 {
            subs.push(submission("nurse", now(), Command::RecordRecordViewed { person: "p-1".parse().expect("id"), view: format!("view {n}"), via_unit: None }));
        }
        for sub in subs {
            let name = sub.command.name();
            engine.submit(sub).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let reader = engine.database().reader();
        let person = EntityKey::new(EntityKind::Person, "p-1");
        let plan = EntityKey::new(EntityKind::Plan, "plan-1");
        let whole: Vec<u64> = reader.trail(&person).await.expect("trail").iter().rev().map(|(e, _)| e.seq).collect();
        assert!(whole.len() > 120, "{}", whole.len());

        // The first page is the newest entries, whatever the trail's length.
        let first = reader.trail_page(std::slice::from_ref(&person), None, 50).await.expect("page");
        assert_eq!(first.entries.iter().map(|(e, _)| e.seq).collect::<Vec<_>>(), whole[..50]);
        assert!(String::from_utf8_lossy(&first.entries[0].0.record.payload).contains("view 119"));
        assert_eq!(walk(&engine, std::slice::from_ref(&person), 50).await, whole, "{}", db.backend);
        assert_eq!(walk(&engine, std::slice::from_ref(&person), 7).await, whole, "{}", db.backend);

        // Several records merged: each entry once, newest first.
        let mut merged: Vec<u64> = whole.clone();
        merged.extend(reader.trail(&plan).await.expect("trail").iter().map(|(e, _)| e.seq));
        merged.sort_unstable_by(|a, b| b.cmp(a));
        merged.dedup();
        assert_eq!(walk(&engine, &[person.clone(), plan.clone()], 10).await, merged, "{}", db.backend);

        // Another patient's trail holds none of these entries; an unknown record has none.
        let other = walk(&engine, &[EntityKey::new(EntityKind::Person, "p-2")], 50).await;
        assert!(!other.is_empty() && other.iter().all(|s| !whole.contains(s)));
        assert!(walk(&engine, &[EntityKey::new(EntityKind::Person, "p-none")], 50).await.is_empty());
        drop(engine);
        db.drop_database().await;
    }
}
