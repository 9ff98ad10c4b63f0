//! Independent read-back: render the sample labels as PNG, decode them with
//! zxing-cpp (`scripts/decode_labels.py`) and compare with what the crate
//! says it encoded. Needs `python3` with `pip install zxing-cpp pillow`;
//! fails (never skips) when they are missing.
mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use celltrace_labels::{barcodes, compound_message, render_png};

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/decode_labels.py")
}

fn require_zxing() {
    let probe = Command::new("python3")
        .args(["-c", "import zxingcpp, PIL"])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "python3 cannot import zxingcpp/PIL: run `pip install zxing-cpp pillow` ({})",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "python3 is not available ({e}): install Python 3, then `pip install zxing-cpp pillow`"
        ),
    }
}

#[test]
fn zxing_reads_back_every_symbol() {
    require_zxing();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for dpi in [300, 203] {
        for (name, label) in common::all() {
            let path = dir.path().join(format!("{name}_{dpi}.png"));
            std::fs::write(&path, render_png(&label, dpi).unwrap()).unwrap();
            files.push((path, label));
        }
    }
    let output = Command::new("python3")
        .arg(script())
        .args(files.iter().map(|(p, _)| p))
        .output()
        .expect("run python3 scripts/decode_labels.py");
    assert!(
        output.status.success(),
        "decode_labels.py failed (pip install zxing-cpp pillow?): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        files.len(),
        "one JSON line per file:\n{stdout}"
    );

    for ((path, label), line) in files.iter().zip(lines) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["file"].as_str().unwrap(), path.to_str().unwrap());
        let codes = v["codes"].as_array().unwrap();
        let texts = |format: &str| -> BTreeSet<String> {
            codes
                .iter()
                .filter(|c| c["format"] == format)
                .map(|c| c["text"].as_str().unwrap().to_string())
                .collect()
        };
        let expected: BTreeSet<String> = barcodes(label)
            .unwrap()
            .into_iter()
            .map(|b| b.data)
            .collect();
        assert_eq!(expected.len(), 4);
        assert_eq!(
            texts("Code128"),
            expected,
            "{}: Code 128 read back",
            path.display()
        );
        let dm = texts("DataMatrix");
        assert_eq!(
            dm,
            BTreeSet::from([compound_message(label).unwrap()]),
            "{}: Data Matrix read back",
            path.display()
        );
        // Every decoded Code 128 text parses as the ISBT 128 structure it came from.
        for t in texts("Code128") {
            assert_eq!(isbt128::parse(&t).unwrap().encode(), t);
        }
    }
}
