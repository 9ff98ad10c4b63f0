//! Graceful stop under load: SIGTERM arrives while many clients send
//! commands. The server must exit 0, and for every command a client sent:
//! either it was answered 200, is in the ledger and is covered by the final
//! signature; or it got no answer (refused, or closed before the server read
//! it) or a 503, and it is not in the ledger. Nothing is recorded without a reply.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use celltrace_store::Database;
use celltrace_testkit::{clinic, now, register_patient, TestDb};
use common::{body, celltrace, text, Server};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: u64 = 16;

/// What a client saw for one command.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// 200, and when the answer arrived.
    Answered(Instant),
    /// 503: refused before it was taken on.
    Refused,
    /// No HTTP answer at all (connection refused, reset or closed).
    NoAnswer,
}

/// The last ledger entry the signatures cover. The one place that knows how
/// coverage is stored: the size of the newest signed tree head.
async fn covered_through(db: &Database) -> u64 {
    db.reader().latest_tree_head().await.expect("query").map_or(0, |head| head.size)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_answers_every_accepted_command_and_exits_0() {
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
        database.close().await;

        let mut server = Server::start(&db).await;
        let seen: Arc<Mutex<Vec<(String, Seen)>>> = Arc::default();
        let mut clients = Vec::new();
        for client in 0..CLIENTS {
            let (base, token, seen) = (server.base.clone(), token.clone(), seen.clone());
            clients.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                for n in 0.. {
                    let person = format!("term-{client}-{n}");
                    let sub = register_patient(&person, &format!("Stop test patient {n}"));
                    let outcome = match http.post(format!("{base}/api/commands")).bearer_auth(&token).json(&body(&sub)).send().await {
                        Ok(r) if r.status().is_success() => {
                            // The whole body must arrive: a reply cut off halfway is no reply.
                            r.bytes().await.map_or(Seen::NoAnswer, |_| Seen::Answered(Instant::now()))
                        }
                        Ok(r) if r.status().as_u16() == 503 => Seen::Refused,
                        Ok(r) => panic!("command refused: {} {}", r.status(), r.text().await.unwrap_or_default()),
                        Err(_) => Seen::NoAnswer,
                    };
                    let stop = outcome == Seen::NoAnswer;
                    seen.lock().expect("lock").push((sub.id.to_string(), outcome));
                    if stop {
                        return;
                    }
                }
            }));
        }
        let started = Instant::now();
        while seen.lock().expect("lock").len() < 200 {
            assert!(started.elapsed() < Duration::from_secs(60), "{}: the load produced too few commands", db.backend);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let signalled = Instant::now();
        let status = server.terminate(Duration::from_secs(30));
        for c in clients {
            c.await.expect("client");
        }
        let status = status.unwrap_or_else(|| panic!("{}: the server did not stop within 30 s of SIGTERM", db.backend));
        assert!(status.success(), "{}: the server exited with {status} after SIGTERM", db.backend);
        if db.backend == "sqlite" {
            // Every connection closed: SQLite folded the WAL back into the file and removed it.
            assert!(!std::path::Path::new(&format!("{}-wal", db.url)).exists(), "the database was not closed cleanly");
        }

        let seen = seen.lock().expect("lock").clone();
        let check = Database::connect(&db.url).await.expect("reopen");
        let covered = covered_through(&check).await;
        let (mut answered, mut after_signal, mut unanswered) = (0, 0, 0);
        for (id, outcome) in &seen {
            let recorded = check.reader().command(id).await.expect("query");
            match outcome {
                Seen::Answered(at) => {
                    answered += 1;
                    after_signal += usize::from(*at > signalled);
                    let (_, last) = recorded.unwrap_or_else(|| panic!("{}: command {id} was answered 200 but is not recorded", db.backend));
                    assert!(last <= covered, "{}: command {id} (entry {last}) is not covered by the final signature (through {covered})", db.backend);
                }
                Seen::Refused | Seen::NoAnswer => {
                    unanswered += 1;
                    assert!(recorded.is_none(), "{}: command {id} was recorded without a reply ({outcome:?})", db.backend);
                }
            }
        }
        assert!(after_signal > 0, "{}: no command in flight at SIGTERM was answered", db.backend);
        eprintln!("{}: {answered} answered ({after_signal} after SIGTERM), {unanswered} not taken on, final signature through {covered}", db.backend);
        check.close().await;
        let verified = celltrace(&db, &["verify"]);
        assert!(verified.status.success(), "{}: {}", db.backend, text(&verified));
        db.drop_database().await;
    }
}

/// A request that never finishes (its body stops halfway) cannot hold the
/// stop forever: after the stop timeout the server exits non-zero and says
/// what it abandoned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_that_cannot_finish_in_time_exits_non_zero_and_says_what_it_abandoned() {
    use std::io::Write;
    let db = TestDb::sqlite();
    let database = Database::open(&db.url).await.expect("open");
    let key = celltrace::keys::load_or_create(&db.key_path()).expect("key").0;
    let engine = celltrace_store::Engine::start(database.clone(), celltrace::engine_options(key).expect("reference data"));
    for sub in clinic(now()) {
        engine.submit(sub).await.expect("clinic");
    }
    engine.submit(celltrace_testkit::api_token("ct_test_stuck", "nurse", now())).await.expect("token");
    drop(engine);
    database.close().await;

    let port = common::free_port();
    let child = std::process::Command::new(common::bin())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &db.url, "--signing-key"])
        .arg(db.key_path())
        .env("CELLTRACE_STOP_TIMEOUT_SECONDS", "1")
        .env("CELLTRACE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut stuck = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stuck,
        "POST /api/commands HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ct_test_stuck\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"site\""
    )
    .expect("send half a request");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.expect("join").expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a stop that abandoned a request exited 0: {stderr}");
    assert!(stderr.contains("1 connections were still busy after 1 s"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(8), "the stop took {:?}", started.elapsed());
    drop(stuck);
}
