//! Two server processes on one PostgreSQL database receive the same
//! "administer unit" at the same moment, 200 times: exactly one succeeds each
//! time, the other gets a clear rejection, and the chain has no fork or gap.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use celltrace_store::{Database, Engine};
use celltrace_testkit::{administer, clinic, now, released_unit, witness_grant, TestDb, PG_VAR};
use common::{body, celltrace, text, Server};
use sqlx::Row;

const UNITS: u32 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_one_administration() {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("note: {PG_VAR} is not set: the two-server PostgreSQL race test needs a PostgreSQL server and did not run");
        return;
    };
    let database = Database::open(&db.url).await.expect("open");
    let key = celltrace::keys::load_or_create(&db.key_path()).expect("key").0;
    let engine = Engine::start(database.clone(), celltrace::engine_options(key).expect("reference data"));
    let at = now();
    for sub in clinic(at) {
        engine.submit(sub).await.expect("clinic");
    }
    let mut setup = Vec::new();
    for n in 0..UNITS {
        let engine = engine.clone();
        setup.push(tokio::spawn(async move {
            for sub in released_unit(n, at).into_iter().chain([witness_grant(n, "nurse", "nurse2", at), witness_grant(n, "nurse2", "nurse", at)]) {
                engine.submit(sub).await.expect("fixture");
            }
        }));
    }
    for s in setup {
        s.await.expect("setup");
    }
    for (token, staff) in [("ct_race_a", "nurse"), ("ct_race_b", "nurse2")] {
        engine.submit(celltrace_testkit::api_token(token, staff, now())).await.expect("token");
    }
    drop(engine);

    let a = Server::start(&db).await;
    let b = Server::start(&db).await;
    let http = reqwest::Client::new();
    for n in 0..UNITS {
        let (first, second) = (administer(n, "nurse", "nurse2", now()), administer(n, "nurse2", "nurse", now()));
        let (ra, rb) = tokio::join!(
            http.post(format!("{}/api/commands", a.base)).bearer_auth("ct_race_a").json(&body(&first)).send(),
            http.post(format!("{}/api/commands", b.base)).bearer_auth("ct_race_b").json(&body(&second)).send()
        );
        let (ra, rb) = (ra.expect("server a answers"), rb.expect("server b answers"));
        let statuses = [ra.status().as_u16(), rb.status().as_u16()];
        let answers = [ra.text().await.expect("body"), rb.text().await.expect("body")];
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "unit {n}: exactly one succeeds: {answers:?}");
        let refused = if statuses[0] == 200 { &answers[1] } else { &answers[0] };
        assert!(statuses.contains(&409), "unit {n}: a conflict with what is recorded: {statuses:?}");
        assert!(refused.contains("already_administered") && refused.contains("already been administered"), "unit {n}: clear rejection expected, got {refused}");
    }

    let row = sqlx::query("SELECT COUNT(*), MIN(seq), MAX(seq), COUNT(DISTINCT prev_hash) FROM ledger")
        .fetch_one(database.pool())
        .await
        .expect("count");
    let (count, min, max, prevs): (i64, i64, i64, i64) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!((min, max), (1, count), "no gap");
    assert_eq!(prevs, count, "no fork: every entry has its own predecessor");
    let administered = sqlx::query("SELECT COUNT(*) FROM claims WHERE namespace = 'administration'")
        .fetch_one(database.pool())
        .await
        .expect("claims")
        .get::<i64, _>(0);
    assert_eq!(administered, i64::from(UNITS));
    drop((a, b));
    let verified = celltrace(&db, &["verify"]);
    assert!(verified.status.success(), "{}", text(&verified));
    database.close().await;
    db.drop_database().await;
}
