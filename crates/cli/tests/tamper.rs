//! Tampering with the database behind celltrace's back, as someone with
//! direct database access might, makes `celltrace verify` fail and name the
//! entry or record: an edited payload, a deleted entry, two swapped entries,
//! an edited projection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use celltrace_store::Database;
use celltrace_testkit::TestDb;
use common::{celltrace, text};

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
