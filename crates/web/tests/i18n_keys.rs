//! Every message the portal and consent documents use exists in English,
//! Arabic and Hindi, and every message the files define is used somewhere:
//! a missing translation or a dead message fails here, not in front of a patient.

use celltrace_i18n::{Catalog, Lang};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every file under `dir` (recursively) whose name ends with `extension`.
fn files_under(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("directory readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files_under(&path, extension, out);
        } else if path.extension().is_some_and(|x| x == extension) {
            out.push(path);
        }
    }
}

/// The files whose code or markup asks for messages: all of the web
/// crate's code, the message crate, and the portal's templates.
fn sources() -> Vec<PathBuf> {
    let web = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![web.join("../i18n/src/lib.rs")];
    files_under(&web.join("src"), "rs", &mut files);
    let templates = web.join("templates/portal");
    let mut html: Vec<PathBuf> = std::fs::read_dir(&templates)
        .expect("templates/portal exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    html.sort();
    assert!(html.len() >= 5, "the portal templates are found");
    files.extend(html);
    files
}

/// Every double-quoted string literal in `text` (no escapes are needed in keys).
fn literals(text: &str) -> Vec<&str> {
    text.split('"').skip(1).step_by(2).collect()
}

fn looks_like_key(s: &str) -> bool {
    s.contains('-')
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
}

#[test]
fn every_message_is_defined_in_every_language_and_used() {
    let catalog = Catalog::load().expect("the message files parse");
    let defined = catalog.keys(Lang::En).clone();
    let families: BTreeSet<&str> = defined.iter().filter_map(|k| k.split('-').next()).collect();

    let mut used = BTreeSet::new();
    for file in sources() {
        let text = std::fs::read_to_string(&file).expect("source readable");
        for literal in literals(&text).into_iter().filter(|l| looks_like_key(l)) {
            let family = literal.split('-').next().unwrap_or_default();
            if families.contains(family) {
                used.insert(literal.to_owned());
            }
        }
    }

    for lang in Lang::ALL {
        let keys = catalog.keys(lang);
        let missing: Vec<&String> = used.iter().filter(|k| !keys.contains(*k)).collect();
        assert!(missing.is_empty(), "messages used but missing in {}: {missing:?}", lang.code());
        let unused: Vec<&String> = keys.iter().filter(|k| !used.contains(*k)).collect();
        assert!(unused.is_empty(), "messages defined in {} but never used: {unused:?}", lang.code());
    }
}

#[test]
fn the_scanner_finds_keys_and_ignores_prose() {
    let sample = r#"t.msg("consent-heading"); let x = "consent document"; t.msg_args("story-unit", &[]); "a-"; "Z-1""#;
    let keys: Vec<&str> = literals(sample).into_iter().filter(|l| looks_like_key(l)).collect();
    assert_eq!(keys, ["consent-heading", "story-unit"]);
}
