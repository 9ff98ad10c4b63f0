//! The transparency log over HTTP against a running server: the signed tree
//! head and the proofs it serves verify with the ledger crate, bad sizes are
//! refused precisely, and `celltrace witness` records consistent growth and
//! fails loudly, with both tree heads, on a rollback or a fork.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use celltrace_ledger::{merkle, verify_consistency, verify_inclusion, Hash, NoteSigner, NoteVerifier, TreeHead};
use celltrace_testkit::TestDb;
use common::{celltrace, text, Server};
use std::process::Command;

fn hash(v: &serde_json::Value) -> Hash {
    BASE64.decode(v.as_str().expect("base64 string")).expect("base64").try_into().expect("32 bytes")
}

fn hashes(v: &serde_json::Value) -> Vec<Hash> {
    v.as_array().expect("list").iter().map(hash).collect()
}

fn witness(db: &TestDb, base: &str, state: &std::path::Path, key: &str) -> std::process::Output {
    Command::new(common::bin()).args(["witness", base, "--state"]).arg(state).args(["--public-key", key]).current_dir(db.dir.path()).output().expect("run witness")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_served_verify_and_the_witness_catches_rollback_and_fork() {
    let db = TestDb::sqlite();
    let loaded = celltrace(&db, &["demo"]);
    assert!(loaded.status.success(), "{}", text(&loaded));
    let server = Server::start(&db).await;
    let client = reqwest::Client::new();
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{}{path}", server.base);
        async move { client.get(url).send().await.expect("request") }
    };

    let key = celltrace_ledger::SigningKey::from_bytes(&hex_seed(&std::fs::read_to_string(db.key_path()).expect("key")));
    let note = get("/api/ledger/checkpoint".into()).await.text().await.expect("note");
    let body = TreeHead::parse(note.split("\n\n").next().map(|t| format!("{t}\n")).as_deref().expect("text")).expect("checkpoint body");
    let verifier = NoteVerifier::new(body.origin(), key.verifying_key()).expect("verifier");
    let head = TreeHead::open(&note, std::slice::from_ref(&verifier)).expect("signed by the deployment").head;
    let size = head.size();
    assert!(size > 50, "the demo is covered: {size}");

    for seq in [1, size / 2, size] {
        let proof: serde_json::Value = get(format!("/api/ledger/proof/inclusion?seq={seq}&size={size}")).await.json().await.expect("json");
        let entry = celltrace_store::Database::connect(&db.url).await.expect("db").reader().entries(seq, 1).await.expect("entry")[0].0.hash;
        assert_eq!(hash(&proof["leaf_hash"]), merkle::leaf_hash(&entry));
        verify_inclusion(seq - 1, size, &hash(&proof["leaf_hash"]), &hashes(&proof["hashes"]), head.root()).expect("inclusion verifies against the signed root");
        let mut tampered = hashes(&proof["hashes"]);
        if let Some(first) = tampered.first_mut() {
            first[0] ^= 1;
            assert!(verify_inclusion(seq - 1, size, &hash(&proof["leaf_hash"]), &tampered, head.root()).is_err());
        }
    }
    for from in [1, 7, size - 1] {
        let proof: serde_json::Value = get(format!("/api/ledger/proof/consistency?from={from}&to={size}")).await.json().await.expect("json");
        assert_eq!(&hash(&proof["to_root"]), head.root());
        verify_consistency(from, size, &hash(&proof["from_root"]), head.root(), &hashes(&proof["hashes"])).expect("consistency verifies");
    }
    for (path, says) in [
        (format!("/api/ledger/proof/inclusion?seq=0&size={size}"), "no entry 0"),
        (format!("/api/ledger/proof/inclusion?seq={}&size={size}", size + 1), "seq must be at most size"),
        ("/api/ledger/proof/consistency?from=5&to=4".to_owned(), "never shrinks"),
        (format!("/api/ledger/proof/consistency?from=0&to={size}"), "from must be at least 1"),
        ("/api/ledger/proof/consistency?from=x&to=2".to_owned(), "whole numbers"),
    ] {
        let answer = get(path.clone()).await;
        assert_eq!(answer.status(), 400, "{path}");
        let body = answer.text().await.expect("body");
        assert!(body.contains(says), "{path}: {body}");
    }
    let beyond = get(format!("/api/ledger/proof/inclusion?seq=1&size={}", size + 1000)).await;
    assert_eq!(beyond.status(), 404, "no tree of that size exists yet");
    assert!(beyond.text().await.expect("body").contains("larger than the ledger"));

    // The witness: first sight, then consistent growth.
    let state = db.dir.path().join("witness.note");
    let hex_key = celltrace_ledger::to_hex(key.verifying_key().as_bytes());
    let first = witness(&db, &server.base, &state, &hex_key);
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("recorded the first tree head"), "{}", text(&first));
    let more = celltrace(&db, &["token", "create", "--staff", "admin", "--label", "witnessed"]);
    assert!(more.status.success(), "{}", text(&more));
    // The server covers another process's entry within its cadence.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = get("/api/ledger/checkpoint".into()).await.text().await.expect("note");
        if TreeHead::open(&now, std::slice::from_ref(&verifier)).expect("signed").head.size() > size {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the new entry was not covered within 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let grown = witness(&db, &server.base, &state, &verifier.to_vkey());
    assert!(grown.status.success(), "{}", text(&grown));
    assert!(text(&grown).contains(&format!("grew from size {size}")), "{}", text(&grown));

    // A witness that saw a larger tree: the log went back.
    let signer = NoteSigner::new(head.origin(), key.clone()).expect("signer");
    let recorded = std::fs::read_to_string(&state).expect("state");
    let seen = TreeHead::open(&recorded, std::slice::from_ref(&verifier)).expect("state verifies").head;
    let ahead = TreeHead::new(head.origin(), seen.size() + 10, [7; 32]).expect("head").sign(&signer).to_string();
    std::fs::write(&state, &ahead).expect("state");
    let rolled = witness(&db, &server.base, &state, &hex_key);
    assert_eq!(rolled.status.code(), Some(3), "{}", text(&rolled));
    assert!(text(&rolled).contains("ROLLBACK") && text(&rolled).contains(&ahead.lines().nth(1).expect("size").to_string()), "{}", text(&rolled));
    assert_eq!(std::fs::read_to_string(&state).expect("state"), ahead, "the state is kept as evidence");

    // Another root for the size the witness saw: a fork.
    let other = TreeHead::new(head.origin(), seen.size(), [9; 32]).expect("head").sign(&signer).to_string();
    std::fs::write(&state, &other).expect("state");
    let forked = witness(&db, &server.base, &state, &hex_key);
    assert_eq!(forked.status.code(), Some(3), "{}", text(&forked));
    assert!(text(&forked).contains("FORK"), "{}", text(&forked));

    // A key that is not the deployment's.
    let foreign = celltrace_ledger::to_hex(celltrace_ledger::SigningKey::from_bytes(&[8; 32]).verifying_key().as_bytes());
    std::fs::remove_file(&state).expect("remove");
    let refused = witness(&db, &server.base, &state, &foreign);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused));
    assert!(!state.exists(), "nothing is recorded from an unverified tree head");
}

fn hex_seed(text: &str) -> [u8; 32] {
    let bytes: Vec<u8> = (0..64).step_by(2).map(|i| u8::from_str_radix(&text.trim()[i..i + 2], 16).expect("hex")).collect();
    bytes.try_into().expect("32 bytes")
}
