//! The transparency-dev/merkle test vectors (see `merkle-vectors/README.md`)
//! as an independent oracle for proof verification and the tree hash.
//!
//! The vectors were written for a verifier that takes hashes as byte strings,
//! so a few files put values that are not 32 bytes long (`"WrongRoot"`, `""`,
//! `"don't care 1"`) where a hash goes. Ours takes `[u8; 32]`, so:
//! - a leaf hash that is not 32 bytes is refused before verifying (the
//!   reference verifier refuses it too: it checks the leaf hash's length);
//! - a root or proof element that is not 32 bytes, which the reference only
//!   compares or hashes, becomes SHA-256 of a fixed tag and the value: a
//!   32-byte stand-in that keeps equality (two equal odd roots stay equal, as
//!   one file needs) and matches no real node hash.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use celltrace_ledger::merkle::{self, CompactRange};
use celltrace_ledger::{verify_consistency, verify_inclusion, Hash};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/merkle-vectors")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
}

/// A hash field: 32 bytes as they are, anything else a stand-in (see above).
fn hash_from(bytes: Vec<u8>) -> Hash {
    match <[u8; 32]>::try_from(bytes) {
        Ok(hash) => hash,
        Err(bytes) => {
            let mut h = Sha256::new();
            h.update(b"celltrace test: not a 32-byte hash\0");
            h.update(&bytes);
            h.finalize().into()
        }
    }
}

fn b64(v: &Value, field: &str, file: &Path) -> Hash {
    let text = v[field].as_str().unwrap_or_else(|| panic!("{}: {field} is not a string", file.display()));
    hash_from(BASE64.decode(text).unwrap_or_else(|e| panic!("{}: {field}: {e}", file.display())))
}

fn number(v: &Value, field: &str, file: &Path) -> u64 {
    v[field].as_u64().unwrap_or_else(|| panic!("{}: {field} is not a u64", file.display()))
}

fn proof(v: &Value, file: &Path) -> Vec<Hash> {
    match &v["proof"] {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let text = item.as_str().unwrap_or_else(|| panic!("{}: proof item not a string", file.display()));
                hash_from(BASE64.decode(text).unwrap_or_else(|e| panic!("{}: proof: {e}", file.display())))
            })
            .collect(),
        other => panic!("{}: proof is {other}", file.display()),
    }
}

fn load(file: &Path) -> Value {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Runs every file of one kind; returns how many there were.
fn run(kind: &str, check: impl Fn(&Value, &Path) -> Result<(), String>) -> usize {
    let mut files = Vec::new();
    json_files(&vectors_dir().join(kind), &mut files);
    let mut failures = Vec::new();
    for file in &files {
        let v = load(file);
        let want_err = v["wantErr"].as_bool().unwrap_or_else(|| panic!("{}: wantErr", file.display()));
        let verdict = check(&v, file);
        if verdict.is_ok() == want_err {
            let name = file.strip_prefix(vectors_dir()).unwrap_or(file).display().to_string();
            failures.push(format!("{name} ({}): wantErr {want_err}, got {verdict:?}", v["desc"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {kind} vectors disagree:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    files.len()
}

fn inclusion_vectors() -> usize {
    run("inclusion", |v, file| {
        let leaf = v["leafHash"].as_str().and_then(|t| BASE64.decode(t).ok()).expect("leafHash is base64");
        let leaf: Hash = leaf.try_into().map_err(|_| "the leaf hash is not 32 bytes".to_owned())?;
        verify_inclusion(
            number(v, "leafIdx", file),
            number(v, "treeSize", file),
            &leaf,
            &proof(v, file),
            &b64(v, "root", file),
        )
        .map_err(|e| e.to_string())
    })
}

fn consistency_vectors() -> usize {
    run("consistency", |v, file| {
        verify_consistency(
            number(v, "size1", file),
            number(v, "size2", file),
            &b64(v, "root1", file),
            &b64(v, "root2", file),
            &proof(v, file),
        )
        .map_err(|e| e.to_string())
    })
}

#[test]
fn every_vector_gets_the_expected_verdict() {
    let inclusion = inclusion_vectors();
    let consistency = consistency_vectors();
    // A lost or unread file fails here.
    assert_eq!((inclusion, consistency), (98, 98));
    assert_eq!(inclusion + consistency, 196);
}

#[test]
fn the_reference_roots_match_the_tree_hash_and_the_compact_range() {
    let file = vectors_dir().join("tree_roots.json");
    let v = load(&file);
    let leaves: Vec<Vec<u8>> = v["leaf_inputs_hex"]
        .as_array()
        .expect("leaf_inputs_hex is a list")
        .iter()
        .map(|x| hex::decode(x.as_str().expect("hex string")).expect("valid hex"))
        .collect();
    let roots: Vec<Hash> = v["root_hash_hex_by_tree_size"]
        .as_array()
        .expect("root_hash_hex_by_tree_size is a list")
        .iter()
        .map(|x| {
            let bytes = hex::decode(x.as_str().expect("hex string")).expect("valid hex");
            bytes.try_into().expect("32-byte root")
        })
        .collect();
    assert_eq!((leaves.len(), roots.len()), (8, 9));
    let leaf_hashes: Vec<Hash> = leaves.iter().map(|l| merkle::leaf_hash(l)).collect();
    let mut range = CompactRange::new();
    for (size, root) in roots.iter().enumerate() {
        assert_eq!(&merkle::tree_hash(&leaf_hashes[..size]), root, "tree hash of size {size}");
        assert_eq!(&range.root(), root, "compact range root of size {size}");
        if let Some(leaf) = leaf_hashes.get(size) {
            range.append(*leaf);
        }
    }
    assert_eq!(roots[0], merkle::empty_root());
}

#[test]
fn the_happy_path_proofs_are_the_ones_we_build() {
    // The vectors' valid proofs are over the same 8 reference leaves: our
    // store must produce exactly them.
    let file = vectors_dir().join("tree_roots.json");
    let v = load(&file);
    let leaves: Vec<Hash> = v["leaf_inputs_hex"]
        .as_array()
        .expect("list")
        .iter()
        .map(|x| merkle::leaf_hash(&hex::decode(x.as_str().expect("hex")).expect("valid hex")))
        .collect();
    let mut nodes = std::collections::HashMap::new();
    let mut range = CompactRange::new();
    for leaf in &leaves {
        nodes.extend(range.append(*leaf));
    }
    let source = |level: u8, index: u64| nodes.get(&merkle::NodeId::new(level, index)).copied().ok_or("missing");
    let mut checked = 0;
    for kind in ["inclusion", "consistency"] {
        let mut files = Vec::new();
        json_files(&vectors_dir().join(kind), &mut files);
        for file in files.iter().filter(|f| f.ends_with("happy-path.json")) {
            let v = load(file);
            let built = if kind == "inclusion" {
                merkle::inclusion_proof(number(&v, "leafIdx", file), number(&v, "treeSize", file), &source)
            } else {
                merkle::consistency_proof(number(&v, "size1", file), number(&v, "size2", file), &source)
            };
            assert_eq!(built.expect("valid request"), proof(&v, file), "{}", file.display());
            checked += 1;
        }
    }
    assert_eq!(checked, 10);
}
