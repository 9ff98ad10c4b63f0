//! `/api/openapi.json` describes the JSON API as the code registers it, and
//! Schemathesis (PyPI) fuzzes a running server from that document: no server
//! error (5xx) and no response that breaks the documented schemas.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use celltrace_testkit::TestDb;
use common::{celltrace, text, Server};
use std::path::Path;
use std::process::Command;

#[test]
fn the_document_lists_every_json_route_with_its_schemas() {
    let document = serde_json::to_value(celltrace_web::api::openapi()).expect("json");
    let paths: Vec<&str> = document["paths"].as_object().expect("paths").keys().map(String::as_str).collect();
    for path in ["/healthz", "/api/commands", "/api/commands/{id}", "/api/ledger/head"] {
        assert!(paths.contains(&path), "{path} is documented: {paths:?}");
    }
    let schemas = document["components"]["schemas"].as_object().expect("schemas");
    let commands = schemas["Command"]["oneOf"].as_array().expect("one schema per command");
    assert!(commands.len() >= 25, "every command has its schema ({})", commands.len());
    assert!(document["components"]["securitySchemes"]["api_token"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let db = TestDb::sqlite();
    assert!(celltrace(&db, &["demo"]).status.success());
    let created = celltrace(&db, &["token", "create", "--staff", "dr.haddad", "--label", "schemathesis"]);
    assert!(created.status.success(), "{}", text(&created));
    let token = String::from_utf8_lossy(&created.stdout).lines().last().expect("the token").trim().to_owned();
    let server = Server::start(&db).await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let base = server.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("schemathesis")
            .current_dir(&root)
            .args(["--config-file", "schemathesis.toml", "run", &format!("{base}/api/openapi.json")])
            .args(["--checks", "all", "--max-examples", "40", "--seed", "20261123", "-H", &format!("Authorization: Bearer {token}")])
            .env("NO_COLOR", "1")
            .output()
    })
    .await
    .expect("join")
    .expect("schemathesis runs (install it with: pip install schemathesis)");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schemathesis found failures:\n{report}");
    assert!(report.contains("passed") && !report.contains("failed"), "{report}");
    drop(server);
}
