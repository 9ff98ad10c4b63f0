//! Crash safety: a server applying commands under load is killed with SIGKILL
//! at random moments, 100 times on SQLite and 20 on PostgreSQL. After each
//! kill every command that was acknowledged is in the ledger and `celltrace
//! verify` passes; after each restart they are all covered by a signed tree
//! head within the cadence (the restarted server's first act).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use celltrace_store::Database;
use celltrace_testkit::{clinic, now, register_patient, TestDb};
use common::{body, celltrace, text, Lcg, Server};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SQLITE_KILLS: u64 = 100;
const POSTGRES_KILLS: u64 = 20;
const CLIENTS: u64 = 8;

/// The tree head cadence (1 s) and what a restart may add before its first act.
const COVERED_WITHIN: Duration = Duration::from_millis(2500);

/// Waits until a signed tree head covers entry `seq`; how long it took.
async fn covered(database: &Database, seq: u64) -> Option<Duration> {
    let started = std::time::Instant::now();
    while started.elapsed() < COVERED_WITHIN {
        if database.reader().latest_tree_head().await.expect("tree head").is_some_and(|t| t.size >= seq) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_commands_survive_sigkill() {
    for db in TestDb::all().await {
        let database = Database::open(&db.url).await.expect("open");
        let key = celltrace::keys::load_or_create(&db.key_path()).expect("key").0;
        let engine = celltrace_store::Engine::start(database.clone(), celltrace::engine_options(key).expect("reference data"));
        for sub in clinic(now()) {
            engine.submit(sub).await.expect("clinic");
        }
        let token = format!("ct_test_{}", db.backend);
        engine.submit(celltrace_testkit::api_token(&token, "nurse", now())).await.expect("token");
        drop(engine);

        let mut rng = Lcg(0x5eed);
        let mut total_acked = 0usize;
        let kills = if db.backend == "sqlite" { SQLITE_KILLS } else { POSTGRES_KILLS };
        // The last entry acknowledged before the previous kill, and the slowest cover after a restart.
        let mut last_acked_seq = 0u64;
        let mut slowest = Duration::ZERO;
        let started_all = std::time::Instant::now();
        for round in 0..=kills {
            let mut server = Server::start(&db).await;
            let took = covered(&database, last_acked_seq).await;
            let took = took.unwrap_or_else(|| panic!("{} round {round}: entry {last_acked_seq}, acknowledged before the kill, is not covered by a signed tree head {COVERED_WITHIN:?} after the restart", db.backend));
            slowest = slowest.max(took);
            if round == kills {
                break;
            }
            let acked: Arc<Mutex<Vec<String>>> = Arc::default();
            let mut clients = Vec::new();
            for client in 0..CLIENTS {
                let (base, token, acked) = (server.base.clone(), token.clone(), acked.clone());
                clients.push(tokio::spawn(async move {
                    let http = reqwest::Client::new();
                    for n in 0.. {
                        let person = format!("crash-{round}-{client}-{n}");
                        let sub = register_patient(&person, &format!("Crash test patient {n}"));
                        let sent = http.post(format!("{base}/api/commands")).bearer_auth(&token).json(&body(&sub)).send().await;
                        match sent {
                            Ok(r) if r.status().is_success() => acked.lock().expect("lock").push(sub.id.to_string()),
                            Ok(r) => panic!("command refused before the crash: {}", r.text().await.unwrap_or_default()),
                            Err(_) => return, // the server is gone
                        }
                    }
                }));
            }
            // Kill under load: once commands are being acknowledged, at a random moment.
            let started = std::time::Instant::now();
            while acked.lock().expect("lock").is_empty() {
                assert!(started.elapsed() < Duration::from_secs(30), "round {round}: no command was acknowledged within 30 s");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(Duration::from_millis(20 + rng.next(200))).await;
            server.kill();
            for c in clients {
                c.await.expect("client");
            }

            let acked = acked.lock().expect("lock").clone();
            assert!(!acked.is_empty(), "round {round}: the load produced no acknowledged commands");
            total_acked += acked.len();
            let check = Database::connect(&db.url).await.expect("reopen");
            for id in &acked {
                let written = check.reader().command(id).await.expect("query");
                let (_, last) = written.unwrap_or_else(|| panic!("{} round {round}: acknowledged command {id} was lost", db.backend));
                last_acked_seq = last_acked_seq.max(last);
            }
            check.close().await;
            let verified = celltrace(&db, &["verify"]);
            assert!(verified.status.success(), "{} round {round}: {}", db.backend, text(&verified));
        }
        eprintln!(
            "{}: {kills} kills in {:?}, {total_acked} acknowledged commands, none lost, each covered by a tree head at most {slowest:?} after the restart",
            db.backend,
            started_all.elapsed()
        );
        database.close().await;
        db.drop_database().await;
    }
}
