//! The signing key lives apart from the database: by default in the
//! user's data directory (created owner-only and named on first use), or
//! where the operator says (a file, or the key itself in the environment);
//! `serve` refuses a key in the database's directory unless told explicitly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bin, free_port, text};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `celltrace` with HOME set to `home` and no key or database settings inherited.
fn celltrace_at(home: &Path) -> Command {
    let mut command = Command::new(bin());
    command
        .current_dir(home)
        .env("HOME", home)
        .env("CELLTRACE_LOG", "warn")
        .env_remove("XDG_DATA_HOME")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("CELLTRACE_DATABASE_URL")
        .env_remove("CELLTRACE_SIGNING_KEY")
        .env_remove("CELLTRACE_SIGNING_KEY_FILE");
    command
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// Starts `serve` and waits for `/healthz`; panics with the server's output if it exits first.
async fn serve(mut command: Command, serve_flags: &[&str]) -> (Child, String) {
    let port = free_port();
    let mut child = command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(serve_flags)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await {
            if r.status().is_success() {
                return (child, base);
            }
        }
        if let Some(status) = child.try_wait().expect("wait") {
            let output = child.wait_with_output().expect("output");
            panic!("serve exited with {status}: {}", String::from_utf8_lossy(&output.stderr));
        }
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn stop(mut child: Child) -> Output {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "server did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_the_key_is_created_in_the_data_directory_and_named() {
    let home = tempfile::tempdir().expect("home");
    let data = home.path().join("srv");
    std::fs::create_dir(&data).expect("dir");
    let db = data.join("clinic.db");
    let mut command = celltrace_at(home.path());
    command.arg("--database-url").arg(&db);
    let (child, _) = serve(command, &[]).await;
    let out = stop(child);
    let key = home.path().join(".local/share/celltrace/clinic.key");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("created the signing key {}", key.display())), "{}", text(&out));
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(key.parent().expect("dir")), 0o700);
    let beside: Vec<_> = std::fs::read_dir(&data).expect("list").map(|e| e.expect("entry").file_name()).collect();
    assert!(!beside.iter().any(|n| n.to_string_lossy().ends_with(".key")), "a key beside the database: {beside:?}");

    // The key is found there again, and XDG_DATA_HOME moves it.
    let public = celltrace_at(home.path()).arg("public-key").arg("--database-url").arg(&db).output().expect("public-key");
    assert!(public.status.success(), "{}", text(&public));
    let xdg = home.path().join("xdg");
    let elsewhere = celltrace_at(home.path()).env("XDG_DATA_HOME", &xdg).arg("public-key").arg("--database-url").arg(&db).output().expect("run");
    assert!(!elsewhere.status.success(), "no key under XDG_DATA_HOME yet");
    assert!(text(&elsewhere).contains(&xdg.join("celltrace/clinic.key").display().to_string()), "{}", text(&elsewhere));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_key_beside_the_database_unless_told() {
    let home = tempfile::tempdir().expect("home");
    let db = home.path().join("celltrace.db");
    let key = home.path().join("site.key");
    celltrace::keys::load_or_create(&key).expect("key");
    let refused = celltrace_at(home.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port()), "--database-url"])
        .arg(&db)
        .arg("--key")
        .arg(&key)
        .output()
        .expect("run");
    assert!(!refused.status.success());
    let message = text(&refused);
    assert!(message.contains("same directory as the database") && message.contains("--allow-key-beside-database"), "{message}");
    assert!(!db.exists(), "a refused start created the database");

    let mut command = celltrace_at(home.path());
    command.arg("--database-url").arg(&db).arg("--key").arg(&key);
    let (child, _) = serve(command, &["--allow-key-beside-database"]).await;
    assert!(stop(child).status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_key_beside_the_database_is_not_silently_replaced() {
    let home = tempfile::tempdir().expect("home");
    let db = home.path().join("celltrace.db");
    let old = home.path().join("celltrace.key");
    celltrace::keys::load_or_create(&old).expect("key");
    let out = celltrace_at(home.path()).arg("checkpoint").arg("--database-url").arg(&db).output().expect("run");
    assert!(!out.status.success(), "a new key was made beside an existing one");
    assert!(text(&out).contains("sits beside the database; move it to"), "{}", text(&out));
    assert!(!home.path().join(".local/share/celltrace/celltrace.key").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_may_come_from_the_environment_and_is_never_printed() {
    let home = tempfile::tempdir().expect("home");
    let db = home.path().join("celltrace.db");
    let secret = "7f".repeat(32);
    let expected = hex_public(&secret);
    let out = celltrace_at(home.path()).env("CELLTRACE_SIGNING_KEY", &secret).arg("public-key").arg("--database-url").arg(&db).output().expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), expected);
    assert!(!text(&out).contains(&secret));
    assert!(!home.path().join(".local").exists(), "nothing is written for an environment key");

    let bad = celltrace_at(home.path()).env("CELLTRACE_SIGNING_KEY", "not-a-key-but-a-secret").arg("public-key").output().expect("run");
    assert!(!bad.status.success());
    assert!(!text(&bad).contains("not-a-key-but-a-secret") && text(&bad).contains("64 hex characters"), "{}", text(&bad));
}

fn hex_public(secret: &str) -> String {
    let seed: [u8; 32] = hex::decode(secret).expect("hex").try_into().expect("32 bytes");
    hex::encode(celltrace_ledger::SigningKey::from_bytes(&seed).verifying_key().to_bytes())
}
