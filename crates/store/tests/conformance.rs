//! One conformance suite, run against SQLite and (when configured) PostgreSQL:
//! the command path writes events and projections together, refuses without
//! changing anything, enforces uniqueness in the database, and `verify` and
//! `backup` agree with what was written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use celltrace_domain::command::Command;
use celltrace_domain::model::{Unit, UnitStatus};
use celltrace_domain::{EntityKey, EntityKind};
use celltrace_ledger::SigningKey;
use celltrace_store::{verify, AtomicError, Database, Engine, EngineOptions, Secret, SubmitError};
use celltrace_testkit::{administer, clinic, now, reference, released_unit, witness_grant, TestDb};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

async fn engine(db: &TestDb) -> Engine {
    let database = Database::open(&db.url).await.expect("open");
    Engine::start(database, EngineOptions { max_batch: 256, checkpoint_every: 50, ..EngineOptions::new(key(), reference()) })
}

async fn submit_all(engine: &Engine, subs: Vec<celltrace_domain::Submission>) {
    for sub in subs {
        let name = sub.command.name();
        engine.submit(sub).await.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

async fn assert_verifies(engine: &Engine) {
    let report = verify::verify(engine.database(), &key().verifying_key()).await.expect("verify");
    assert!(report.ok(), "verify found: {:#?}", report.findings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_projections_are_written_together() {
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        let head_before = engine.database().reader().head().await.expect("head");
        let subs = released_unit(1, at);
        let receipt_count = subs.len();
        submit_all(&engine, subs).await;
        let head = engine.database().reader().head().await.expect("head");
        assert_eq!(head.seq, head_before.seq + receipt_count as u64, "{}", db.backend);
        let unit: Unit = engine.database().reader().get::<Unit>("u-1").await.expect("read").expect("unit exists");
        assert_eq!(unit.status, UnitStatus::Released);
        let stored = engine.database().reader().entity(&EntityKey::new(EntityKind::Unit, "u-1")).await.expect("row").expect("row");
        assert_eq!(stored.status, "released");
        assert_eq!(stored.last_seq, head.seq);
        let trail = engine.database().reader().trail(&EntityKey::new(EntityKind::Unit, "u-1")).await.expect("trail");
        let kinds: Vec<&str> = trail.iter().map(|(e, _)| e.record.kind.as_str()).collect();
        assert_eq!(kinds, ["collection_recorded", "qc_result_recorded", "unit_released"], "{}", db.backend);
        assert_verifies(&engine).await;
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_command_changes_nothing_and_says_why() {
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        submit_all(&engine, released_unit(1, at)).await;
        let head = engine.database().reader().head().await.expect("head");
        let counts = engine.database().reader().counts().await.expect("counts");
        // The wrong patient's wristband: unit u-1 belongs to p-1's plan.
        submit_all(&engine, released_unit(2, at)).await;
        let head = engine.database().reader().head().await.expect("head").seq.max(head.seq);
        submit_all(&engine, vec![witness_grant(1, "nurse", "nurse2", at)]).await;
        let head = head + 1;
        let mut wrong = administer(1, "nurse", "nurse2", at);
        if let Command::AdministerUnit { patient, .. } = &mut wrong.command {
            *patient = "p-2".parse().expect("id");
        }
        match engine.submit(wrong).await {
            Err(SubmitError::Rejected(r)) => {
                assert_eq!(r.code, "same_patient");
                assert!(r.message.contains("STOP"), "{}", r.message);
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        assert_eq!(engine.database().reader().head().await.expect("head").seq, head);
        assert_ne!(engine.database().reader().counts().await.expect("counts"), counts, "the second patient was added");
        let unit: Unit = engine.database().reader().get::<Unit>("u-1").await.expect("read").expect("unit");
        assert_eq!(unit.status, UnitStatus::Released);
        assert_verifies(&engine).await;
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resubmitted_command_is_not_applied_twice() {
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        let subs = released_unit(1, at);
        let first = subs[0].clone();
        submit_all(&engine, subs).await;
        match engine.submit(first).await {
            Err(SubmitError::Rejected(r)) => assert_eq!(r.code, "duplicate_command"),
            other => panic!("expected duplicate_command, got {other:?}"),
        }
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submissions_are_group_committed_and_verify() {
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        let before = engine.stats();
        let mut tasks = Vec::new();
        for n in 0..64u32 {
            let engine = engine.clone();
            tasks.push(tokio::spawn(async move { submit_all(&engine, released_unit(n, at)).await }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let after = engine.stats();
        let submissions = after.submissions - before.submissions;
        let batches = after.batches - before.batches;
        assert_eq!(submissions, 64 * 7);
        assert!(batches < submissions, "{batches} batches for {submissions} submissions: nothing was grouped");
        let reader = engine.database().reader();
        let head = reader.head().await.expect("head").seq;
        let signed = reader.latest_tree_head().await.expect("tree head").map_or(0, |t| t.size);
        assert!(signed > 0, "tree heads are signed every 50 entries, not only on request");
        // Within the cadence (1 s) the tree head covers everything.
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let signed = reader.latest_tree_head().await.expect("tree head").map_or(0, |t| t.size);
        assert_eq!(signed, head, "{}: a tree head covers the ledger a second after the last entry", db.backend);
        assert_verifies(&engine).await;
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_din_is_assigned_to_one_donation_only_even_within_a_batch() {
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        // Prepare two patients up to collection, then collect both with the same DIN at once.
        let mut collections = Vec::new();
        for n in [1u32, 2] {
            let mut subs = released_unit(n, at);
            subs.truncate(4);
            submit_all(&engine, subs).await;
            let mut collect = released_unit(n, at).remove(4);
            if let Command::RecordCollection { din, .. } = &mut collect.command {
                *din = "A999826999999".into();
            }
            collections.push(collect);
        }
        let (a, b) = (collections.remove(0), collections.remove(0));
        let (ra, rb) = tokio::join!(engine.submit(a), engine.submit(b));
        let outcomes = [ra.is_ok(), rb.is_ok()];
        assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{}: exactly one collection gets the DIN", db.backend);
        let rejection = match (ra, rb) {
            (Err(SubmitError::Rejected(r)), _) | (_, Err(SubmitError::Rejected(r))) => r,
            _ => panic!("one must be rejected"),
        };
        assert!(rejection.message.contains("A999826999999"), "{}", rejection.message);
        // And the database itself refuses a second claim, whatever a process believes.
        let dup = sqlx::query("INSERT INTO claims (namespace, value, owner, seq) VALUES ('din', 'A999826999999', 'x', 1)")
            .execute(engine.database().pool())
            .await;
        assert!(dup.is_err(), "the claims table must enforce uniqueness");
        assert_verifies(&engine).await;
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_is_administered_once_under_concurrency() {
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        for n in 0..10 {
            submit_all(&engine, released_unit(n, at)).await;
        }
        for n in 0..10 {
            submit_all(&engine, vec![witness_grant(n, "nurse", "nurse2", at), witness_grant(n, "nurse2", "nurse", at)]).await;
            let (a, b) = tokio::join!(
                engine.submit(administer(n, "nurse", "nurse2", at)),
                engine.submit(administer(n, "nurse2", "nurse", at))
            );
            let ok = [a.is_ok(), b.is_ok()].iter().filter(|x| **x).count();
            assert_eq!(ok, 1, "{}: unit {n}", db.backend);
            let codes: Vec<String> = [a, b]
                .into_iter()
                .filter_map(|r| match r {
                    Err(SubmitError::Rejected(r)) => Some(r.code.as_str().to_owned()),
                    _ => None,
                })
                .collect();
            assert_eq!(codes, ["already_administered"]);
        }
        assert_verifies(&engine).await;
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_refuses_edits_and_forks_at_the_database() {
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        let pool = engine.database().pool();
        let update = sqlx::query("UPDATE ledger SET actor = 'someone else' WHERE seq = 1").execute(pool).await;
        assert!(update.is_err(), "{}: ledger rows cannot be updated", db.backend);
        let delete = sqlx::query("DELETE FROM ledger WHERE seq = 2").execute(pool).await;
        assert!(delete.is_err(), "{}: ledger rows cannot be deleted", db.backend);
        // A second entry 3 (a fork) and an entry after a gap are both refused.
        for (seq, prev) in [(3i64, Some(2i64)), (100, Some(99))] {
            let fork = sqlx::query(
                "INSERT INTO ledger (seq, prev_seq, recorded_at, actor, site, kind, payload, prev_hash, hash, command_id) \
                 VALUES ($1, $2, 0, 'x', 'x', 'x', $3, $4, $5, 'x')",
            )
            .bind(seq)
            .bind(prev)
            .bind(vec![1u8])
            .bind(vec![seq as u8; 32])
            .bind(vec![seq as u8 + 1; 32])
            .execute(pool)
            .await;
            assert!(fork.is_err(), "{}: entry {seq} must be refused", db.backend);
        }
        assert_verifies(&engine).await;
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_a_verifiable_copy() {
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        submit_all(&engine, released_unit(1, at)).await;
        engine.checkpoint().await.expect("checkpoint");
        let path = db.dir.path().join("backup.db");
        celltrace_store::backup::backup(engine.database(), &path).await.expect("backup");
        let copy = Database::connect(&path.display().to_string()).await.expect("open backup");
        let report = verify::verify(&copy, &key().verifying_key()).await.expect("verify backup");
        assert!(report.ok(), "{:#?}", report.findings);
        assert_eq!(report.entries, engine.database().reader().head().await.expect("head").seq);
        assert!(celltrace_store::backup::backup(engine.database(), &path).await.is_err(), "an existing file is never overwritten");
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn din_assignment_is_unique_per_fin_and_year_under_concurrency() {
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        // A DIN already used by a collection (keyed in by hand) is skipped.
        submit_all(&engine, released_unit(3, at)).await;
        let mut tasks = Vec::new();
        for _ in 0..40 {
            let database = engine.database().clone();
            tasks.push(tokio::spawn(async move { database.assign_din("A9998", 26).await.expect("assign").to_string() }));
        }
        let mut dins = Vec::new();
        for t in tasks {
            dins.push(t.await.expect("task"));
        }
        dins.sort();
        let unique: std::collections::BTreeSet<&String> = dins.iter().collect();
        assert_eq!(unique.len(), 40, "{}: every DIN is different", db.backend);
        assert!(!dins.contains(&"A999826000003".to_owned()), "the claimed DIN is skipped");
        assert_eq!(dins.first().map(String::as_str), Some("A999826000001"));
        assert_eq!(dins.last().map(String::as_str), Some("A999826000041"));
        assert_eq!(engine.database().assign_din("A9998", 27).await.expect("new year").to_string(), "A999827000001");
        assert!(engine.database().assign_din("bad", 26).await.is_err());
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_resolve_to_units_and_patients_or_say_why_not() {
    use celltrace_domain::command::NewUnit;
    use celltrace_domain::model::{ProcessingKind, Quantity};
    use celltrace_store::scan::{Resolution, ScanError};
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        submit_all(&engine, released_unit(1, at)).await;
        submit_all(&engine, released_unit(2, at)).await;
        let database = engine.database();
        let site = celltrace_testkit::SITE;

        match database.reader().resolve_scan(site, "=A99982600000100").await {
            Ok(Resolution::Unit(u)) => assert_eq!(u.id.as_str(), "u-1"),
            other => panic!("{}: DIN bar code: {other:?}", db.backend),
        }
        match database.reader().resolve_scan(site, "&#0104MRN2").await {
            Ok(Resolution::Patient(p)) => assert_eq!(p.id.as_str(), "p-2"),
            other => panic!("{}: wristband: {other:?}", db.backend),
        }
        assert!(matches!(database.reader().resolve_scan(site, "&#0104MRN9").await, Err(ScanError::Unknown(_))));
        match database.reader().resolve_scan(site, "=A99982699999900").await {
            Err(ScanError::Unknown(m)) => assert!(m.contains("Unknown DIN A999826999999"), "{m}"),
            other => panic!("unknown DIN: {other:?}"),
        }

        // Divide u-2 into two aliquots: the DIN alone no longer says which unit.
        let divide = celltrace_testkit::submission("tech", at, Command::RecordProcessingStep {
            step: "div-2".parse().expect("id"),
            kind: ProcessingKind::Division,
            inputs: vec!["u-2".parse().expect("id")],
            outputs: ["S50011A0", "S50011B0"]
                .iter()
                .enumerate()
                .map(|(i, code)| NewUnit {
                    unit: format!("u-2-{i}").parse().expect("id"),
                    product_code: (*code).into(),
                    quantity: Quantity { milli: 2000, unit: "mL".into() },
                    expires_at: celltrace_domain::time::Timestamp(at.0 + celltrace_domain::time::Timestamp::DAY),
                })
                .collect(),
            equipment: "sterile connecting device".into(),
            reagent_lots: vec![],
            parameters: vec![],
        });
        submit_all(&engine, vec![divide]).await;
        match database.reader().resolve_scan(site, "=A99982600000200").await {
            Err(ScanError::Ambiguous(m)) => assert!(m.contains("divided product") && m.contains("S50011B0"), "{m}"),
            other => panic!("{}: divided product: {other:?}", db.backend),
        }
        match database.reader().resolve_scan(site, "]C4=A99982600000200=<S50011B0").await {
            Ok(Resolution::Unit(u)) => assert_eq!(u.id.as_str(), "u-2-1"),
            other => panic!("{}: DIN and product code: {other:?}", db.backend),
        }
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_code_works_once_before_it_expires_and_sessions_end() {
    use celltrace_domain::ids::{PersonId, StaffId};
    use celltrace_store::portal::PortalSession;
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let database = engine.database();
        let at = now();
        submit_all(&engine, clinic(at)).await;
        submit_all(&engine, released_unit(1, at).into_iter().take(1).collect()).await;
        let person: PersonId = "p-1".parse().expect("id");
        let nurse: StaffId = "nurse".parse().expect("id");
        let t = at.0;
        // Granting portal access is a ledger event; the code's hash is stored beside it, together.
        let grant = |code: &str, language: &str, expires_at: i64| {
            let secret = Secret::PortalCode { person: person.clone(), code_hash: celltrace_store::portal::code_hash(code), issued_by: nurse.clone(), language: language.into(), expires_at };
            (celltrace_testkit::submission("nurse", at, Command::GrantPortalAccess { person: person.clone() }), secret)
        };
        let (sub, secret) = grant("K7Q4-M2XP-9D", "ar", t + 100);
        engine.submit_with_secret(sub, secret).await.expect("issue");
        let trail = database.reader().trail(&EntityKey::new(EntityKind::Person, "p-1")).await.expect("trail");
        assert!(trail.iter().any(|(e, _)| e.record.kind == "portal_access_granted"), "{}: the grant is in the patient's trail", db.backend);
        assert_eq!(database.portal_password_hash(&person).await.expect("read"), None, "no password before the code is used");
        assert_eq!(database.portal_language(&person).await.expect("read").as_deref(), Some("ar"));
        assert!(!database.redeem_portal_code(&person, "K7Q4-M2XP-9E", "hash-1", t + 1).await.expect("redeem"), "a wrong code");
        assert!(!database.redeem_portal_code(&"p-2".parse().expect("id"), "K7Q4-M2XP-9D", "hash-1", t + 1).await.expect("redeem"), "someone else's code");
        // Case, spaces and dashes do not matter; two racing uses: exactly one wins.
        let (a, b) = tokio::join!(
            database.redeem_portal_code(&person, "k7q4 m2xp 9d", "hash-a", t + 2),
            database.redeem_portal_code(&person, "K7Q4M2XP9D", "hash-b", t + 2)
        );
        assert_eq!(u8::from(a.expect("redeem")) + u8::from(b.expect("redeem")), 1, "{}: the code works once", db.backend);
        let stored = database.portal_password_hash(&person).await.expect("read").expect("password set");
        assert!(stored == "hash-a" || stored == "hash-b");
        assert!(!database.redeem_portal_code(&person, "K7Q4-M2XP-9D", "hash-c", t + 3).await.expect("redeem"), "used up");

        // A new code replaces the old one and keeps the password until used; an expired one does nothing.
        let (sub, secret) = grant("AAAA-BBBB-CC", "en", t + 10);
        engine.submit_with_secret(sub, secret).await.expect("reissue");
        assert_eq!(database.portal_password_hash(&person).await.expect("read").as_deref(), Some(stored.as_str()));
        assert!(!database.redeem_portal_code(&person, "AAAA-BBBB-CC", "hash-d", t + 10).await.expect("redeem"), "expired");
        database.set_portal_language(&person, "hi", t + 11).await.expect("language");
        assert_eq!(database.portal_language(&person).await.expect("read").as_deref(), Some("hi"), "the language is remembered");

        let session = PortalSession { person: person.clone(), csrf_token: "c".repeat(64), expires_at: t + 1000 };
        database.create_portal_session("token-1", &session, t).await.expect("session");
        assert_eq!(database.portal_session("token-1", t + 1).await.expect("read"), Some(session));
        assert_eq!(database.portal_session("token-1", t + 1000).await.expect("read"), None, "expired");
        assert_eq!(database.portal_session("token-2", t + 1).await.expect("read"), None, "unknown token");
        database.end_portal_session("token-1").await.expect("end");
        assert_eq!(database.portal_session("token-1", t + 1).await.expect("read"), None, "signed out");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_atomic_batch_with_one_refused_command_writes_nothing() {
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        let head = engine.database().reader().head().await.expect("head");
        let counts = engine.database().reader().counts().await.expect("counts");
        let mut batch = released_unit(1, at);
        // The fifth command (the collection) names a patient nobody registered.
        if let Command::RecordCollection { source_person, .. } = &mut batch[4].command {
            *source_person = "nobody".parse().expect("id");
        }
        match engine.submit_atomic(batch).await {
            Err(AtomicError::Rejected { index, rejection }) => {
                assert_eq!(index, 4, "{}: {rejection}", db.backend);
            }
            other => panic!("{}: expected a refusal, got {other:?}", db.backend),
        }
        assert_eq!(engine.database().reader().head().await.expect("head"), head, "{}: the ledger head moved", db.backend);
        assert_eq!(engine.database().reader().counts().await.expect("counts"), counts, "{}", db.backend);
        assert!(engine.database().reader().get::<celltrace_domain::model::Person>("p-1").await.expect("read").is_none());
        // A unique value taken in the database refuses the batch too: MRN-1 is registered now.
        submit_all(&engine, released_unit(1, at)).await;
        let head = engine.database().reader().head().await.expect("head");
        let mut again = released_unit(2, at);
        if let Command::RegisterPerson { mrn, .. } = &mut again[0].command {
            *mrn = "MRN-1".into();
        }
        match engine.submit_atomic(again).await {
            Err(AtomicError::Rejected { index: 0, rejection }) => assert_eq!(rejection.code, "already_taken", "{}", db.backend),
            other => panic!("{}: expected the MRN clash, got {other:?}", db.backend),
        }
        assert_eq!(engine.database().reader().head().await.expect("head"), head, "{}", db.backend);
        assert_verifies(&engine).await;
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_atomic_batch_writes_every_command_and_can_use_what_it_creates() {
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        let head = engine.database().reader().head().await.expect("head");
        // Each patient's plan, consent and collection refer to the patient
        // registered earlier in the same batch.
        let batch: Vec<_> = (1..=3).flat_map(|n| released_unit(n, at)).collect();
        let count = batch.len() as u64;
        let receipts = engine.submit_atomic(batch).await.unwrap_or_else(|e| panic!("{}: {e}", db.backend));
        assert_eq!(receipts.len() as u64, count);
        assert_eq!(receipts.first().map(|r| r.first_seq), Some(head.seq + 1));
        let new_head = engine.database().reader().head().await.expect("head");
        assert_eq!(receipts.last().map(|r| r.last_seq), Some(new_head.seq), "{}", db.backend);
        assert!(receipts.windows(2).all(|w| w[1].first_seq == w[0].last_seq + 1));
        for n in 1..=3 {
            let unit: Unit = engine.database().reader().get::<Unit>(&format!("u-{n}")).await.expect("read").expect("unit");
            assert_eq!(unit.status, UnitStatus::Released, "{}", db.backend);
        }
        // Ordinary submissions still go through around it.
        submit_all(&engine, vec![witness_grant(1, "nurse", "nurse2", at), administer(1, "nurse", "nurse2", at)]).await;
        assert!(engine.submit_atomic(Vec::new()).await.expect("empty batch").is_empty());
        assert_verifies(&engine).await;
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_atomic_batch_is_not_mixed_with_concurrent_submissions() {
    for db in TestDb::all().await {
        let engine = engine(&db).await;
        let at = now();
        submit_all(&engine, clinic(at)).await;
        let mut bad = released_unit(1, at);
        if let Command::RecordCollection { quantity, .. } = &mut bad[4].command {
            quantity.milli = 0;
        }
        // Good single submissions race the refused batch; they must all land.
        let mut singles = Vec::new();
        for n in 10..20 {
            let engine = engine.clone();
            singles.push(tokio::spawn(async move {
                for sub in released_unit(n, at) {
                    engine.submit(sub).await.expect("single submission");
                }
            }));
        }
        let refused = engine.submit_atomic(bad).await;
        assert!(matches!(refused, Err(AtomicError::Rejected { index: 4, .. })), "{}: {refused:?}", db.backend);
        for single in singles {
            single.await.expect("task");
        }
        for n in 10..20 {
            assert!(engine.database().reader().get::<Unit>(&format!("u-{n}")).await.expect("read").is_some());
        }
        assert!(engine.database().reader().get::<Unit>("u-1").await.expect("read").is_none());
        assert_verifies(&engine).await;
        db.drop_database().await;
    }
}
