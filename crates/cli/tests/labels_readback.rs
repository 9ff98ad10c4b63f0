//! Every unit of the demo dataset gets a label whose bar codes an independent
//! decoder (zxing-cpp, from PyPI) reads back as exactly the data celltrace
//! encoded: one Code 128 per data structure and the Data Matrix compound message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use celltrace_store::Database;
use celltrace_testkit::TestDb;
use common::{celltrace, text};
use std::collections::BTreeSet;
use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_label_reads_back_exactly() {
    let db = TestDb::sqlite();
    let loaded = celltrace(&db, &["demo"]);
    assert!(loaded.status.success(), "{}", text(&loaded));
    let database = Database::connect(&db.url).await.expect("open");
    let units = database.load_state().await.expect("state").units.into_values().collect::<Vec<_>>();
    assert!(units.len() >= 20, "the demo has {} units", units.len());

    let mut expected = Vec::new();
    let mut files = Vec::new();
    for unit in &units {
        let png = db.dir.path().join(format!("{}.png", unit.id));
        let made = celltrace(&db, &["label", unit.id.as_str(), "--png", png.to_str().expect("path")]);
        assert!(made.status.success(), "label of {}: {}", unit.id, text(&made));
        let data = celltrace::label::label_data(&database, unit).await.expect("label data");
        let linear: BTreeSet<String> = celltrace_labels::barcodes(&data).expect("bar codes").into_iter().map(|b| b.data).collect();
        let matrix = celltrace_labels::compound_message(&data).expect("compound message");
        expected.push((unit.id.to_string(), linear, matrix));
        files.push(png);
    }

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/decode_labels.py");
    let output = std::process::Command::new("python3").arg(&script).args(&files).output().expect("run python3");
    assert!(
        output.status.success(),
        "the decoder failed (install it with: pip install zxing-cpp): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), files.len());
    for ((unit, linear, matrix), decoded) in expected.iter().zip(&lines) {
        let codes = decoded["codes"].as_array().expect("codes");
        let found_linear: BTreeSet<String> = codes
            .iter()
            .filter(|c| c["format"].as_str().is_some_and(|f| f.contains("128")))
            .filter_map(|c| c["text"].as_str().map(str::to_owned))
            .collect();
        let found_matrix: Vec<&str> = codes
            .iter()
            .filter(|c| c["format"].as_str().is_some_and(|f| f.contains("DataMatrix")))
            .filter_map(|c| c["text"].as_str())
            .collect();
        assert_eq!(&found_linear, linear, "unit {unit}: Code 128 bar codes");
        assert_eq!(found_matrix, [matrix.as_str()], "unit {unit}: Data Matrix");
    }
    eprintln!("{} demo labels decoded exactly", files.len());
}
