//! Crash safety: a server applying commands under load is killed with SIGKILL
//! at random moments, 20 times. After each restart every command that was
//! acknowledged is in the ledger and `celltrace verify` passes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use celltrace_domain::command::Command;
use celltrace_domain::model::{Language, PersonKind, Sex};
use celltrace_domain::time::Date;
use celltrace_store::Database;
use celltrace_testkit::{clinic, now, submission, TestDb};
use common::{body, celltrace, text, Lcg, Server};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KILLS: u64 = 20;
const CLIENTS: u64 = 8;

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
        for round in 0..KILLS {
            let mut server = Server::start(&db).await;
            let acked: Arc<Mutex<Vec<String>>> = Arc::default();
            let mut clients = Vec::new();
            for client in 0..CLIENTS {
                let (base, token, acked) = (server.base.clone(), token.clone(), acked.clone());
                clients.push(tokio::spawn(async move {
                    let http = reqwest::Client::new();
                    for n in 0.. {
                        let person = format!("crash-{round}-{client}-{n}");
                        let sub = submission("nurse", now(), Command::RegisterPerson {
                            person: person.parse().expect("id"),
                            kind: PersonKind::Patient,
                            mrn: person.clone(),
                            name: format!("Crash test patient {n}"),
                            date_of_birth: Date::new(1990, 1, 1).expect("date"),
                            sex: Sex::Other,
                            language: Language::En,
                            contact: String::new(),
                        });
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
            tokio::time::sleep(Duration::from_millis(20 + rng.next(400))).await;
            server.kill();
            for c in clients {
                c.await.expect("client");
            }

            let acked = acked.lock().expect("lock").clone();
            assert!(!acked.is_empty(), "round {round}: the load produced no acknowledged commands");
            total_acked += acked.len();
            let check = Database::connect(&db.url).await.expect("reopen");
            for id in &acked {
                assert!(check.reader().command(id).await.expect("query").is_some(), "{} round {round}: acknowledged command {id} was lost", db.backend);
            }
            check.close().await;
            let verified = celltrace(&db, &["verify"]);
            assert!(verified.status.success(), "{} round {round}: {}", db.backend, text(&verified));
        }
        eprintln!("{}: {KILLS} kills, {total_acked} acknowledged commands, none lost", db.backend);
        database.close().await;
        db.drop_database().await;
    }
}
