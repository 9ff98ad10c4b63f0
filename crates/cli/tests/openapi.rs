//! `/api/openapi.json` describes the JSON API as the code registers it (the
//! commands, the lists and their error body), and Schemathesis (PyPI) fuzzes
//! a running server from that document: no server error (5xx) and no
//! response that breaks the documented schemas.

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
    for path in ["/healthz", "/api/commands", "/api/commands/{id}", "/api/ledger/head", "/api/patients", "/api/units", "/api/units/{id}/lineage", "/api/ledger"] {
        assert!(paths.contains(&path), "{path} is documented: {paths:?}");
    }
    let schemas = document["components"]["schemas"].as_object().expect("schemas");
    // The error body as the server writes it: code, message, request id, and the field when one is at fault.
    let error = &schemas["ErrorBody"];
    let required: Vec<&str> = error["required"].as_array().expect("required").iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(required, ["code", "message", "request_id"]);
    assert!(error["properties"]["field"].is_object());
    for list in ["PatientList", "UnitList", "LineageList", "LedgerList"] {
        assert!(schemas[list]["properties"]["items"].is_object() && schemas[list]["properties"]["next"].is_object(), "{list}: items and next");
    }
    let commands = schemas["Command"]["oneOf"].as_array().expect("one schema per command");
    assert!(commands.len() >= 25, "every command has its schema ({})", commands.len());
    assert!(document["components"]["securitySchemes"]["api_token"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let db = TestDb::sqlite();
    assert!(celltrace(&db, &["demo"]).status.success());
    // The medical director sees patients, units and the audit trail at Dubai (the documents' example site).
    let created = celltrace(&db, &["token", "create", "--staff", "md.alsayed", "--label", "schemathesis"]);
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

/// API tokens are grants in the ledger: issued and revoked at the command
/// line, listed without their secret, refused at once when revoked or when
/// their owner's account is deactivated, on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_ledger_grants_that_stop_at_once() {
    use celltrace_domain::command::Command;
    use celltrace_testkit::{clinic, now, submission};
    for db in TestDb::all().await {
        {
            let database = celltrace_store::Database::open(&db.url).await.expect("open");
            let key = celltrace::keys::load_or_create(&db.key_path()).expect("key").0;
            let engine = celltrace_store::Engine::start(database, celltrace::engine_options(key).expect("reference"));
            for sub in clinic(now()) {
                engine.submit(sub).await.expect("clinic");
            }
        }
        let created = celltrace(&db, &["token", "create", "--staff", "nurse", "--label", "ward script"]);
        assert!(created.status.success(), "{}", text(&created));
        let token = String::from_utf8_lossy(&created.stdout).lines().last().expect("the token").trim().to_owned();
        let listed = text(&celltrace(&db, &["token", "list", "--staff", "nurse"]));
        let id = listed.split_whitespace().next().expect("an id").to_owned();
        assert!(id.starts_with("tok-") && listed.contains("ward script") && listed.contains("active"), "{listed}");
        assert!(!listed.contains(&token), "the token itself is never shown again");

        let server = Server::start(&db).await;
        let http = reqwest::Client::new();
        let status = |token: String| {
            let (http, base) = (http.clone(), server.base.clone());
            async move { http.get(format!("{base}/api/commands/nothing")).bearer_auth(token).send().await.expect("answer").status().as_u16() }
        };
        assert_eq!(status(token.clone()).await, 404, "{}: authenticated (no such command)", db.backend);

        // Deactivating the owner stops the token on the running server at once; reactivating restores it.
        let database = celltrace_store::Database::open(&db.url).await.expect("open");
        let key = celltrace::keys::load_or_create(&db.key_path()).expect("key").0;
        let engine = celltrace_store::Engine::start(database, celltrace::engine_options(key).expect("reference"));
        engine.submit(submission("system", now(), Command::DeactivateStaff { staff: "nurse".parse().expect("id"), reason: "left the clinic".into() })).await.expect("deactivate");
        assert_eq!(status(token.clone()).await, 401, "{}: the owner is deactivated", db.backend);
        engine.submit(submission("system", now(), Command::ReactivateStaff { staff: "nurse".parse().expect("id"), reason: "came back".into() })).await.expect("reactivate");
        assert_eq!(status(token.clone()).await, 404);

        let revoked = celltrace(&db, &["token", "revoke", &id, "--reason", "laptop lost"]);
        assert!(revoked.status.success(), "{}", text(&revoked));
        assert_eq!(status(token.clone()).await, 401, "{}: revoked at once", db.backend);
        let again = celltrace(&db, &["token", "revoke", &id, "--reason", "twice"]);
        assert!(!again.status.success() && text(&again).contains("already revoked"), "{}", text(&again));
        assert!(text(&celltrace(&db, &["token", "list", "--staff", "nurse"])).contains("revoked"));
        let trail = engine.database().reader().trail(&celltrace_domain::EntityKey::new(celltrace_domain::EntityKind::Staff, "nurse")).await.expect("trail");
        let kinds: Vec<&str> = trail.iter().map(|(e, _)| e.record.kind.as_str()).collect();
        for kind in ["api_token_issued", "staff_deactivated", "staff_reactivated"] {
            assert!(kinds.contains(&kind), "{}: {kind} in the account's trail: {kinds:?}", db.backend);
        }
        assert!(celltrace(&db, &["verify"]).status.success());
        drop(server);
        drop(engine);
        db.drop_database().await;
    }
}
