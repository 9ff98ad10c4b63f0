//! `celltrace bench` runs end to end on a small load and prints every figure
//! the issue asks for. The figures themselves are not asserted: they are
//! machine-dependent and belong in the bench's own output, not in a test.

use std::process::Command;

#[test]
fn the_bench_prints_both_runs_the_baseline_the_ratios_and_memory() {
    let out = Command::new(env!("CARGO_BIN_EXE_celltrace"))
        .args(["bench", "writes", "--commands", "640", "--submitters", "8"])
        .output()
        .expect("run celltrace bench");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "bench failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let row = |label: &str| {
        text.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no '{label}' row in:\n{text}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // Every command of each run is acknowledged and counted: one event each.
    for (label, events) in [("celltrace, 1 submitter", "100"), ("celltrace, 8 submitters", "640"), ("raw SQLite, batch 1 ", "100")] {
        let cells = row(label);
        assert!(cells.contains(&events.to_owned()), "{label}: expected {events} events in {cells:?}");
    }
    let raw_batched = text.lines().filter(|l| l.starts_with("raw SQLite, batch")).count();
    assert_eq!(raw_batched, 2, "a raw baseline for each run:\n{text}");
    for line in ["ratio celltrace / raw SQLite, 1 submitter:", "ratio celltrace / raw SQLite, 8 submitters:", "peak memory (VmHWM):"] {
        let value = text.lines().find_map(|l| l.strip_prefix(line)).unwrap_or_else(|| panic!("no '{line}' in:\n{text}"));
        let number: f64 = value.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("'{line}' has no number: {value}"));
        assert!(number > 0.0, "{line} {number}");
    }
}

#[test]
fn the_read_bench_prints_every_read_at_every_size_with_its_limits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_celltrace"))
        .args(["bench", "reads", "--units", "200,400", "--clients", "1,2", "--requests", "4", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run celltrace bench reads");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "bench reads failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let reads = [
        "healthz (bare HTTP)",
        "bedside POST /bedside",
        "unit page",
        "FHIR read Patient",
        "lookback by donor",
        "registry page",
        "portal home",
        "patients list",
        "patient search by name",
        "unit search by DIN",
        "FHIR BDP?identifier=DIN",
    ];
    for read in reads {
        // Each read at each client count for each size, and once in the summary.
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with(read)).collect();
        assert_eq!(rows.len(), 4, "{read}: two sizes × two client counts:\n{text}");
        let second = rows[2].split_whitespace().collect::<Vec<_>>();
        let ratio: f64 = second.last().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{read}: the second size has a ratio: {}", rows[2]));
        assert!(ratio > 0.0);
        assert!(text.lines().any(|l| l.starts_with(&format!("| {read} |"))), "{read} in the summary:\n{text}");
    }
    assert_eq!(text.matches("server peak memory (VmHWM):").count(), 2, "{text}");
    assert!(text.contains("dataset") && text.contains("400 units made"), "{text}");
}
