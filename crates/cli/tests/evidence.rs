//! `celltrace evidence`: the JSON rating scripts read, and loading new
//! evidence data, which is checked whole before it is recorded in the ledger
//! on SQLite and, when configured, PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use celltrace_testkit::TestDb;
use common::{celltrace, text};
use std::path::Path;
use std::process::Command;

fn rate(code: &str, product: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_celltrace")).args(["evidence", "check", "--indication", code, "--product", product]).output().expect("run");
    (out.status.success(), text(&out))
}

#[test]
fn evidence_check_prints_the_status_rule_and_sources_as_json() {
    let cases = [
        ("D61.9", "cord-blood-hpc", "approved"),
        ("M54.50", "autologous-adipose", "unproven"),
        ("L64.9", "msc-exosome", "unproven"),
        ("M17.11", "autologous-bone-marrow", "unproven"),
        ("M54.50", "embryonic-derived", "research-only"),
    ];
    for (code, product, status) in cases {
        let (ok, out) = rate(code, product);
        assert!(ok, "{code} {product}: {out}");
        let json: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
        assert_eq!(json["status"], status, "{code} {product}");
        assert!(json["rule"]["kind"].is_string() && json["guard"].is_string());
        assert!(json["sources"].as_array().is_some_and(|s| !s.is_empty()), "{code} {product} has sources");
    }
    let (ok, out) = rate("X99.9", "prp");
    assert!(!ok && out.contains("known codes"), "{out}");
    let (ok, out) = rate("M54.50", "stem-cells");
    assert!(!ok && out.contains("known product types: autologous-adipose"), "{out}");
}

fn copy_data(to: &Path, version: &str) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/evidence");
    std::fs::create_dir_all(to).expect("dir");
    for name in ["indications.toml", "status.toml", "approved_products.toml"] {
        let text = std::fs::read_to_string(shipped.join(name)).expect("shipped file");
        std::fs::write(to.join(name), text.replace("2026.01.1", version)).expect("write");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_evidence_data_is_all_or_nothing_and_recorded() {
    for db in TestDb::all().await {
        assert!(celltrace(&db, &["demo"]).status.success());
        let good = db.dir.path().join("evidence-good");
        copy_data(&good, "2026.11.1");
        let bad = db.dir.path().join("evidence-bad");
        copy_data(&bad, "2026.11.2");
        let status = std::fs::read_to_string(bad.join("status.toml")).expect("read");
        std::fs::write(bad.join("status.toml"), status.replacen("status = \"unproven\"", "status = \"miraculous\"", 1)).expect("write");

        let refused = celltrace(&db, &["evidence", "load", bad.to_str().expect("path")]);
        assert!(!refused.status.success());
        let message = text(&refused);
        assert!(message.contains("nothing changed") && message.contains("status.toml") && message.contains("line"), "{message}");

        let loaded = celltrace(&db, &["evidence", "load", good.to_str().expect("path")]);
        assert!(loaded.status.success(), "{}", text(&loaded));
        assert!(text(&loaded).contains("2026.11.1 from"));
        let twice = celltrace(&db, &["evidence", "load", good.to_str().expect("path")]);
        assert!(!twice.status.success() && text(&twice).contains("already in force"));

        let database = celltrace_store::Database::connect(&db.url).await.expect("db");
        let dataset: celltrace_domain::model::EvidenceDataset = database
            .reader()
            .evidence_dataset()
            .await
            .expect("read")
            .expect("recorded");
        assert_eq!(dataset.version, "2026.11.1");
        let reference = celltrace::reference().expect("reference data");
        let in_force = reference.evidence_data(Some(&dataset)).expect("parses");
        assert_eq!(in_force.version(), "2026.11.1", "new plans are rated with the loaded data");
        assert!(celltrace(&db, &["verify"]).status.success(), "{}: the load verifies", db.backend);
    }
}
