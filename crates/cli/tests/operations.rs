//! Operating a deployment: database files are owner-only, read-only commands
//! create nothing, a second server on one SQLite file is refused while the
//! first keeps working, `/healthz` and `/readyz` tell liveness from
//! readiness, and a backup is complete and checked or not there at all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use celltrace_store::Database;
use celltrace_testkit::{clinic, now, register_patient, TestDb};
use common::{bin, body, celltrace, text, Server};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// Registers the clinic and an API token; returns the token.
async fn seed(db: &TestDb, patients: usize) -> String {
    let database = Database::open(&db.url).await.expect("open");
    let key = celltrace::keys::load_or_create(&db.key_path()).expect("key").0;
    let engine = celltrace_store::Engine::start(database.clone(), celltrace::engine_options(key).expect("reference data"));
    for sub in clinic(now()).into_iter().chain((0..patients).map(patient)) {
        engine.submit(sub).await.expect("seed");
    }
    let token = format!("ct_ops_{}", db.backend);
    engine.submit(celltrace_testkit::api_token(&token, "nurse", now())).await.expect("token");
    engine.checkpoint().await.expect("checkpoint");
    // Closed for real (the writer's connection too), so the directory holds just the database.
    engine.close().await;
    database.close().await;
    token
}

fn patient(n: usize) -> celltrace_domain::Submission {
    let person = format!("ops-{n}");
    register_patient(&person, &format!("Operations test patient {n} with a name long enough to take some room"))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).expect("list").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// `celltrace ARGS` with nothing from the test's own environment that could choose a database or key.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("CELLTRACE_DATABASE_URL")
        .env_remove("CELLTRACE_SIGNING_KEY")
        .env_remove("CELLTRACE_SIGNING_KEY_FILE")
        .env("HOME", dir)
        .output()
        .expect("run celltrace")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_its_wal_and_shm_are_owner_only() {
    let db = TestDb::sqlite();
    let mut server = Server::start(&db).await;
    let file = Path::new(&db.url);
    for suffix in ["", "-wal", "-shm", ".lock"] {
        let path = format!("{}{suffix}", file.display());
        assert_eq!(mode(Path::new(&path)), 0o600, "{path} is not owner-only");
    }
    assert!(server.terminate(Duration::from_secs(20)).expect("stopped").success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_commands_on_a_mistyped_path_create_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("celltrace-typo.db");
    let missing = missing.to_str().expect("path");
    let backup = dir.path().join("copy.db");
    let png = dir.path().join("label.png");
    let commands: [&[&str]; 5] = [
        &["token", "list", "--staff", "nurse", "--database-url", missing],
        &["verify", "--database-url", missing, "--public-key", &"00".repeat(32)],
        &["backup", backup.to_str().expect("path"), "--database-url", missing],
        &["registry", "report", "--database-url", missing],
        &["label", "U1", "--png", png.to_str().expect("path"), "--database-url", missing],
    ];
    for args in commands {
        let out = run(dir.path(), args);
        assert!(!out.status.success(), "{args:?} succeeded on a missing database");
        assert!(text(&out).contains(&format!("no database at {missing}; check the path")), "{args:?}: {}", text(&out));
        assert!(listing(dir.path()).is_empty(), "{args:?} created {:?}", listing(dir.path()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_backup_leave_an_existing_database_as_it_was() {
    let db = TestDb::sqlite();
    seed(&db, 3).await;
    let before = listing(db.dir.path());
    assert_eq!(before, ["celltrace.db", "keys"], "a closed database is one file");
    let verified = celltrace(&db, &["verify"]);
    assert!(verified.status.success(), "{}", text(&verified));
    let report = celltrace(&db, &["registry", "report"]);
    assert!(report.status.success(), "{}", text(&report));
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let copy = elsewhere.path().join("copy.db");
    let backup = celltrace(&db, &["backup", copy.to_str().expect("path")]);
    assert!(backup.status.success(), "{}", text(&backup));
    assert_eq!(listing(db.dir.path()), before, "a read-only command left files behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_one_sqlite_file_is_refused_and_the_first_keeps_working() {
    let db = TestDb::sqlite();
    let token = seed(&db, 0).await;
    let mut first = Server::start(&db).await;
    let port = common::free_port().to_string();
    let key = db.key_path();
    let second = run(
        db.dir.path(),
        &["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &db.url, "--signing-key", key.to_str().expect("key")],
    );
    assert!(!second.status.success(), "a second server started on the same file");
    let message = text(&second);
    assert!(message.contains("another celltrace server is already serving") && message.contains("PostgreSQL"), "{message}");
    let sub = patient(1);
    let answer = reqwest::Client::new().post(format!("{}/api/commands", first.base)).bearer_auth(&token).json(&body(&sub)).send().await.expect("send");
    assert!(answer.status().is_success(), "the first server stopped working: {}", answer.text().await.unwrap_or_default());
    assert!(first.terminate(Duration::from_secs(20)).expect("stopped").success());
    // Once the first has stopped, the lock is free again.
    let mut again = Server::start(&db).await;
    assert!(again.terminate(Duration::from_secs(20)).expect("stopped").success());
}

async fn readyz(base: &str) -> (u16, serde_json::Value) {
    let r = reqwest::get(format!("{base}/readyz")).await.expect("readyz");
    (r.status().as_u16(), r.json().await.expect("json body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_while_writes_cannot_go_through_and_healthz_stays_alive() {
    let db = TestDb::sqlite();
    seed(&db, 0).await;
    let mut server = Server::start(&db).await;
    let (status, body) = readyz(&server.base).await;
    assert_eq!(status, 200, "{body}");
    // Another process holds the write lock: every write waits, as on a stuck disk.
    let holder = rusqlite::Connection::open(&db.url).expect("open");
    holder.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let (status, body) = readyz(&server.base).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["failed"], serde_json::json!(["write"]), "{body}");
    assert!(body["write"].as_str().expect("reason").contains("did not go through"), "{body}");
    let alive = reqwest::get(format!("{}/healthz", server.base)).await.expect("healthz");
    assert_eq!(alive.status().as_u16(), 200, "liveness does not depend on the database");
    holder.execute_batch("ROLLBACK").expect("unlock");
    drop(holder);
    let (status, body) = readyz(&server.base).await;
    assert_eq!(status, 200, "{body}");
    assert!(server.terminate(Duration::from_secs(20)).expect("stopped").success());
}

/// Makes every tree head insert fail (or work again), as when signing
/// breaks: the database refuses the row, so the server's cadence cannot
/// cover new entries until it is lifted.
async fn refuse_tree_heads(db: &TestDb, refuse: bool) {
    let database = Database::open(&db.url).await.expect("open");
    let sql = match (db.backend, refuse) {
        ("sqlite", true) => "CREATE TRIGGER refuse_tree_heads BEFORE INSERT ON tree_heads BEGIN SELECT RAISE(ABORT, 'tree heads refused by the test'); END",
        ("sqlite", false) => "DROP TRIGGER refuse_tree_heads",
        (_, true) => {
            "CREATE FUNCTION refuse_tree_heads() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'tree heads refused by the test'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_tree_heads BEFORE INSERT ON tree_heads FOR EACH ROW EXECUTE FUNCTION refuse_tree_heads()"
        }
        (_, false) => "DROP TRIGGER refuse_tree_heads ON tree_heads; DROP FUNCTION refuse_tree_heads()",
    };
    sqlx::raw_sql(sql).execute(database.pool()).await.expect("trigger");
    database.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_while_an_entry_stays_unsigned() {
    for db in TestDb::all().await {
        let token = seed(&db, 0).await;
        let mut server = Server::start_with(&db, &[("CELLTRACE_READY_UNCOVERED_SECONDS", "1")]).await;
        refuse_tree_heads(&db, true).await;
        let sub = patient(7);
        let answer = reqwest::Client::new().post(format!("{}/api/commands", server.base)).bearer_auth(&token).json(&body(&sub)).send().await.expect("send");
        assert!(answer.status().is_success(), "{}", db.backend);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let (status, body) = readyz(&server.base).await;
        assert_eq!(status, 503, "{}: {body}", db.backend);
        assert_eq!(body["failed"], serde_json::json!(["coverage"]), "{}: {body}", db.backend);
        assert!(body["uncovered_entries"].as_u64().expect("count") >= 1, "{body}");
        // Signing works again: the server's own cadence covers the tail within its second.
        refuse_tree_heads(&db, false).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = readyz(&server.base).await;
            if status == 200 {
                assert_eq!(body["uncovered_entries"], serde_json::json!(0), "{}: {body}", db.backend);
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{}: still not ready 10 s after signing works again: {body}", db.backend);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(server.terminate(Duration::from_secs(20)).expect("stopped").success());
        db.drop_database().await;
    }
}

/// `celltrace backup PATH` with a file size limit, as on a nearly full disk
/// (SIGXFSZ ignored, so writes fail with EFBIG instead of killing the process).
fn backup_with_size_limit(db: &TestDb, path: &Path, kib: u64) -> Output {
    let script = format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\"");
    Command::new("bash")
        .args(["-c", &script, bin(), "backup"])
        .arg(path)
        .arg("--database-url")
        .arg(&db.url)
        .arg("--signing-key")
        .arg(db.key_path())
        .env_remove("CELLTRACE_DATABASE_URL")
        .output()
        .expect("run celltrace")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_backup_leaves_nothing_and_a_retry_works() {
    for db in TestDb::all().await {
        seed(&db, 200).await;
        let out_dir = tempfile::tempdir().expect("temp dir");
        let path = out_dir.path().join("backup.db");
        let failed = backup_with_size_limit(&db, &path, 64);
        assert!(!failed.status.success(), "{}: the backup fit in 64 KiB; the test needs a bigger database", db.backend);
        let message = text(&failed);
        assert!(message.contains("Nothing was written") && !message.contains("damaged"), "{}: {message}", db.backend);
        assert!(listing(out_dir.path()).is_empty(), "{}: a failed backup left {:?}", db.backend, listing(out_dir.path()));

        let retried = celltrace(&db, &["backup", path.to_str().expect("path")]);
        assert!(retried.status.success(), "{}: {}", db.backend, text(&retried));
        assert_eq!(listing(out_dir.path()), vec!["backup.db".to_owned()], "{}: one file, no leftovers", db.backend);
        assert_eq!(mode(&path), 0o600, "{}: the copy holds password hashes", db.backend);
        let verified = run(out_dir.path(), &["verify", "--database-url", path.to_str().expect("path"), "--signing-key", db.key_path().to_str().expect("key")]);
        assert!(verified.status.success(), "{}: {}", db.backend, text(&verified));

        let again = celltrace(&db, &["backup", path.to_str().expect("path")]);
        assert!(!again.status.success());
        assert!(text(&again).contains("already exists; choose a new file name"), "{}", text(&again));
        db.drop_database().await;
    }
}
