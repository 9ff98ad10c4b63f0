//! Helpers for tests that drive the real `celltrace` binary.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod web;

use celltrace_testkit::TestDb;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_celltrace")
}

/// Runs `celltrace ARGS` against the test database.
pub fn celltrace(db: &TestDb, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .arg("--database-url")
        .arg(&db.url)
        .arg("--signing-key")
        .arg(db.key_path())
        .current_dir(db.dir.path())
        .env_remove("CELLTRACE_DATABASE_URL")
        .output()
        .expect("run celltrace")
}

/// Text of stdout and stderr together.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A running `celltrace serve`.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// Where its stderr goes.
    pub log: std::path::PathBuf,
}

impl Server {
    /// Starts a server on the test database and waits until `/healthz` answers.
    pub async fn start(db: &TestDb) -> Server {
        Server::start_with(db, &[]).await
    }

    /// The same, with extra environment settings.
    pub async fn start_with(db: &TestDb, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let log = db.dir.path().join(format!("server-{port}.log"));
        let child = Command::new(bin())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--database-url")
            .arg(&db.url)
            .arg("--signing-key")
            .arg(db.key_path())
            .current_dir(db.dir.path())
            .env("CELLTRACE_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).map_or(Stdio::null(), Stdio::from))
            .spawn()
            .expect("start server");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "server did not become healthy");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Server { child, base, log }
    }

    /// Sends SIGTERM (what systemd, Docker and Kubernetes send) and waits up
    /// to `within` for the process to exit; its exit status, or None if it is still running.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                if !status.success() {
                    // What the server said on its way out, beside the test's failure.
                    eprintln!("{}", std::fs::read_to_string(&self.log).unwrap_or_default());
                }
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The JSON body of `POST /api/commands` for a submission.
pub fn body(sub: &celltrace_domain::Submission) -> serde_json::Value {
    serde_json::json!({ "id": sub.id, "site": sub.site, "command": sub.command })
}

/// A tiny deterministic generator, so failures can be replayed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}
