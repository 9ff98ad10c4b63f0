//! Tampering with the database behind celltrace's back, as someone with
//! direct database access might, makes `celltrace verify` fail and name the
//! entry or record: an edited payload, a deleted entry, two swapped entries,
//! an edited projection; and, for the transparency log, an edit under signed
//! tree heads, a re-chain re-signed with a foreign key, a cut tail, a deleted
//! newest tree head; a deleted tree head with its entries, a rollback to a
//! backup and a fork, which only a witness's record shows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use celltrace_store::Database;
use celltrace_testkit::TestDb;
use common::{celltrace, text};
use std::process::Command;

/// A demo database that verifies, ready to be tampered with.
async fn demo() -> Vec<(TestDb, Database)> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        let loaded = celltrace(&db, &["demo"]);
        assert!(loaded.status.success(), "{}", text(&loaded));
        let ok = celltrace(&db, &["verify"]);
        assert!(ok.status.success(), "{}: a fresh demo verifies: {}", db.backend, text(&ok));
        let database = Database::connect(&db.url).await.expect("connect");
        out.push((db, database));
    }
    out
}

/// Runs SQL as an attacker who first switches off the ledger's own guards.
async fn as_attacker(db: &TestDb, database: &Database, statements: &[&str]) {
    let mut conn = database.pool().acquire().await.expect("connection");
    let guards: &[&str] = if db.backend == "sqlite" {
        &["PRAGMA foreign_keys = OFF", "DROP TRIGGER IF EXISTS ledger_no_update", "DROP TRIGGER IF EXISTS ledger_no_delete"]
    } else {
        &["ALTER TABLE ledger DROP CONSTRAINT IF EXISTS ledger_prev_seq_fkey", "ALTER TABLE ledger DISABLE TRIGGER ledger_no_change"]
    };
    for sql in guards.iter().chain(statements) {
        sqlx::query(sql).execute(&mut *conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

fn assert_fails_naming(db: &TestDb, what: &str, expected: &[&str]) {
    let out = celltrace(db, &["verify"]);
    let report = text(&out);
    assert!(!out.status.success(), "{} {what}: verify must fail:\n{report}", db.backend);
    for needle in expected {
        assert!(report.contains(needle), "{} {what}: report must name '{needle}':\n{report}", db.backend);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_payload_is_named() {
    for (db, database) in demo().await {
        // Entry 60's payload rewritten: a different name, same length.
        let sql = if db.backend == "sqlite" {
            "UPDATE ledger SET payload = CAST(replace(CAST(payload AS TEXT), 'a', 'e') AS BLOB) WHERE seq = 60"
        } else {
            "UPDATE ledger SET payload = convert_to(replace(convert_from(payload, 'UTF8'), 'a', 'e'), 'UTF8') WHERE seq = 60"
        };
        as_attacker(&db, &database, &[sql]).await;
        assert_fails_naming(&db, "edited payload", &["entry 60", "edited"]);
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_entry_is_named() {
    for (db, database) in demo().await {
        as_attacker(&db, &database, &["DELETE FROM ledger WHERE seq = 40"]).await;
        assert_fails_naming(&db, "deleted entry", &["entry 41", "expected entry 40"]);
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapped_entries_are_named() {
    for (db, database) in demo().await {
        // Exchange everything but the position and the hashes of entries 30 and 31.
        let copy = "CREATE TEMP TABLE swapped AS SELECT seq, actor, kind, payload, recorded_at FROM ledger WHERE seq IN (30, 31)";
        let swap = "UPDATE ledger SET \
            actor = (SELECT actor FROM swapped WHERE swapped.seq = 61 - ledger.seq), \
            kind = (SELECT kind FROM swapped WHERE swapped.seq = 61 - ledger.seq), \
            payload = (SELECT payload FROM swapped WHERE swapped.seq = 61 - ledger.seq), \
            recorded_at = (SELECT recorded_at FROM swapped WHERE swapped.seq = 61 - ledger.seq) \
            WHERE seq IN (30, 31)";
        as_attacker(&db, &database, &[copy, swap]).await;
        assert_fails_naming(&db, "swapped entries", &["entry 30", "entry 31"]);
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_projection_is_named() {
    for (db, database) in demo().await {
        // Someone marks a stored cord blood unit as never released, directly in the table.
        let sql = "UPDATE entities SET status = 'quarantine', \
                   body = replace(body, '\"status\":\"released\"', '\"status\":\"quarantine\"') \
                   WHERE kind = 'unit' AND id = 'u-cord-ahmed'";
        as_attacker(&db, &database, &[sql]).await;
        assert_fails_naming(&db, "edited projection", &["record unit u-cord-ahmed", "status"]);
        db.drop_database().await;
    }
}

// The transparency log: what `verify` alone detects, and what only a record
// kept elsewhere (a witness's state) can show. See the README's table.

/// The newest signed tree head of a database, as a witness would have kept it.
async fn newest_note(database: &Database) -> String {
    database.reader().latest_tree_head().await.expect("read").expect("a signed tree head").note
}

/// Adds one ledger entry (an API token for the demo's administrator) and covers it.
fn one_more_entry(db: &TestDb, url: &str, label: &str) {
    for args in [&["token", "create", "--staff", "admin", "--label", label][..], &["checkpoint"][..]] {
        let out = Command::new(common::bin())
            .args(args)
            .args(["--database-url", url, "--signing-key"])
            .arg(db.key_path())
            .current_dir(db.dir.path())
            .output()
            .expect("run celltrace");
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
}

fn verify_at(db: &TestDb, url: &str, extra: &[&str]) -> std::process::Output {
    Command::new(common::bin())
        .arg("verify")
        .args(extra)
        .args(["--database-url", url, "--signing-key"])
        .arg(db.key_path())
        .current_dir(db.dir.path())
        .output()
        .expect("run celltrace verify")
}

/// Edits entry 20 and recomputes every later hash, so the chain is whole
/// again (what an attacker with the database does first).
async fn edit_and_rechain(db: &TestDb, database: &Database) {
    as_attacker(db, database, &["UPDATE ledger SET recorded_at = recorded_at + 1 WHERE seq = 20"]).await;
    let entries = database.reader().entries(1, 100_000).await.expect("entries");
    let mut prev = entries[18].0.hash;
    let mut updates = Vec::new();
    for (entry, _) in &entries[19..] {
        let hash = celltrace_ledger::entry_hash(&prev, entry.seq, &entry.record);
        updates.push(format!("UPDATE ledger SET prev_hash = {}, hash = {} WHERE seq = {}", blob(db, &prev), blob(db, &hash), entry.seq));
        prev = hash;
    }
    updates.push(format!("UPDATE ledger_head SET hash = {} WHERE id = 1", blob(db, &prev)));
    let statements: Vec<&str> = updates.iter().map(String::as_str).collect();
    as_attacker(db, database, &statements).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_rechained_breaks_the_signed_tree_heads() {
    for (db, database) in demo().await {
        edit_and_rechain(&db, &database).await;
        let report = text(&verify_at(&db, &db.url, &[]));
        assert!(!report.contains("ledger entry"), "{}: the chain itself is whole again:\n{report}", db.backend);
        assert_fails_naming(&db, "edited and re-chained", &["tree head of size", "entries were changed after it was signed", "stored Merkle tree"]);
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rechained_and_resigned_ledger_fails_on_the_foreign_key() {
    for (db, database) in demo().await {
        // Edited, re-chained, the tree rebuilt and signed with the attacker's own key.
        edit_and_rechain(&db, &database).await;
        as_attacker(&db, &database, &["DELETE FROM merkle_nodes", "DELETE FROM tree_heads"]).await;
        let foreign = db.dir.path().join("attacker.key");
        std::fs::write(&foreign, "07".repeat(32)).expect("write the attacker's key");
        let resigned = Command::new(common::bin())
            .args(["checkpoint", "--database-url", &db.url, "--signing-key"])
            .arg(&foreign)
            .current_dir(db.dir.path())
            .output()
            .expect("run celltrace");
        assert!(resigned.status.success(), "{}", text(&resigned));
        let report = text(&verify_at(&db, &db.url, &[]));
        assert!(!report.contains("ledger entry") && !report.contains("Merkle tree"), "{}: chain and tree are whole again:\n{report}", db.backend);
        assert_fails_naming(&db, "re-chained and re-signed", &["does not verify with the deployment's key"]);
        db.drop_database().await;
    }
}

/// A hash as a SQL literal of the backend.
fn blob(db: &TestDb, hash: &[u8; 32]) -> String {
    let hex = celltrace_ledger::to_hex(hash);
    if db.backend == "sqlite" { format!("X'{hex}'") } else { format!("'\\x{hex}'::bytea") }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_tail_is_detected() {
    for (db, database) in demo().await {
        let head = database.reader().head().await.expect("head").seq;
        let cut = head - 5;
        let hash = database.reader().entries(cut, 1).await.expect("entry")[0].0.hash;
        let delete = format!("DELETE FROM ledger WHERE seq > {cut}");
        let head_row = format!("UPDATE ledger_head SET seq = {cut}, hash = {} WHERE id = 1", blob(&db, &hash));
        as_attacker(&db, &database, &[&delete, &head_row]).await;
        assert_fails_naming(&db, "truncated tail", &[&format!("tree head of size {head}"), "the tail was cut off"]);
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_newest_tree_head_leaves_an_old_uncovered_tail() {
    for (db, database) in demo().await {
        as_attacker(&db, &database, &["DELETE FROM tree_heads WHERE size = (SELECT MAX(size) FROM tree_heads)"]).await;
        assert_fails_naming(&db, "newest tree head deleted", &["covered by no signed tree head"]);
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_tree_head_and_its_entries_is_a_rollback_a_witness_sees() {
    for (db, database) in demo().await {
        let before = database.reader().head().await.expect("head");
        one_more_entry(&db, &db.url, "rolled back");
        let witnessed = newest_note(&database).await;
        let state = db.dir.path().join("witness.state");
        std::fs::write(&state, &witnessed).expect("witness state");
        assert!(verify_at(&db, &db.url, &["--witness-state", state.to_str().expect("path")]).status.success());
        // The token's entry, its tree head, nodes and every trace of it go.
        let seq = before.seq;
        let statements = [
            format!("DELETE FROM ledger WHERE seq > {seq}"),
            format!("DELETE FROM tree_heads WHERE size > {seq}"),
            format!("DELETE FROM merkle_nodes WHERE level = 0 AND idx >= {seq}"),
            format!("UPDATE ledger_head SET seq = {seq}, hash = {} WHERE id = 1", blob(&db, &before.hash)),
        ];
        let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
        as_attacker(&db, &database, &statements).await;
        let out = verify_at(&db, &db.url, &["--witness-state", state.to_str().expect("path")]);
        let report = text(&out);
        assert!(!out.status.success(), "{}: {report}", db.backend);
        assert!(report.contains("rolled back or truncated"), "{}: {report}", db.backend);
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_to_a_backup_and_a_fork_are_caught_by_the_witness_state() {
    for (db, database) in demo().await {
        let backup = db.dir.path().join("backup.db");
        let out = celltrace(&db, &["backup", backup.to_str().expect("path")]);
        assert!(out.status.success(), "{}", text(&out));
        // The deployment carries on; a witness records where it got to.
        one_more_entry(&db, &db.url, "after the backup");
        let state = db.dir.path().join("witness.state");
        std::fs::write(&state, newest_note(&database).await).expect("witness state");
        let witness = ["--witness-state", state.to_str().expect("path")];
        let copy = backup.to_str().expect("path");
        // The backup verifies alone: it is a consistent, older copy.
        assert!(verify_at(&db, copy, &[]).status.success(), "{}", text(&verify_at(&db, copy, &[])));
        // Restored in place of the live database, only the witness can tell.
        let rolled = verify_at(&db, copy, &witness);
        assert!(!rolled.status.success() && text(&rolled).contains("rolled back"), "{}: {}", db.backend, text(&rolled));
        // A fork: another copy of the backup grows differently to the same size.
        let fork = db.dir.path().join("fork.db");
        std::fs::copy(&backup, &fork).expect("copy");
        let fork = fork.to_str().expect("path");
        one_more_entry(&db, fork, "a different story");
        assert!(verify_at(&db, fork, &[]).status.success(), "the fork verifies alone");
        let forked = verify_at(&db, fork, &witness);
        assert!(!forked.status.success() && text(&forked).contains("rewritten or forked"), "{}: {}", db.backend, text(&forked));
        db.drop_database().await;
    }
}
