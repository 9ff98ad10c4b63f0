//! The store's proofs, property-tested on both backends: for random ledgers
//! and random pairs of sizes, the inclusion and consistency proofs the Reader
//! assembles from stored nodes verify against roots computed independently
//! from the entries (and against the signed tree head at the ledger's size),
//! and a proof with one bit changed, or checked against another root, fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use celltrace_ledger::{merkle, verify_consistency, verify_inclusion, Hash, SigningKey};
use celltrace_store::{Database, Engine, EngineOptions};
use celltrace_testkit::{clinic, now, reference, register_patient, TestDb};
use proptest::prelude::*;

fn person(n: usize) -> celltrace_domain::Submission {
    let id = format!("prop-{n}");
    register_patient(&id, &format!("Proof patient {n}"))
}

/// Picks `1 <= a <= b <= size` from two random numbers.
fn sizes(size: u64, x: u64, y: u64) -> (u64, u64) {
    let a = 1 + x % size;
    (a, a + y % (size - a + 1))
}

async fn check(people: usize, pairs: &[(u64, u64)], flip: usize) {
    for db in TestDb::all().await {
        let database = Database::open(&db.url).await.expect("open");
        // Small batches: many commits, each growing the stored tree from the one before.
        let engine = Engine::start(database.clone(), EngineOptions { max_batch: 3, ..EngineOptions::new(SigningKey::from_bytes(&[4; 32]), reference()) });
        for sub in clinic(now()).into_iter().chain((0..people).map(person)) {
            engine.submit(sub).await.expect("submit");
        }
        let signed = engine.checkpoint().await.expect("sign").expect("a tree head");
        let reader = database.reader();
        let leaves: Vec<Hash> = reader.entries(1, 100_000).await.expect("entries").iter().map(|(e, _)| merkle::leaf_hash(&e.hash)).collect();
        let size = leaves.len() as u64;
        assert_eq!(signed.size, size);
        assert_eq!(signed.root, merkle::tree_hash(&leaves), "{}: the signed root is the tree hash of every entry", db.backend);
        for &(x, y) in pairs {
            let (a, b) = sizes(size, x, y);
            let (root_a, root_b) = (merkle::tree_hash(&leaves[..a as usize]), merkle::tree_hash(&leaves[..b as usize]));
            let c = reader.consistency_proof(a, b).await.expect("consistency proof");
            assert_eq!((c.from_root, c.to_root), (root_a, root_b), "{}: roots at {a} and {b}", db.backend);
            verify_consistency(a, b, &root_a, &root_b, &c.hashes).unwrap_or_else(|e| panic!("{}: consistency {a}->{b}: {e}", db.backend));
            let seq = 1 + (x ^ y) % b;
            let i = reader.inclusion_proof(seq, b).await.expect("inclusion proof");
            assert_eq!((i.leaf_hash, i.root), (leaves[seq as usize - 1], root_b));
            verify_inclusion(seq - 1, b, &i.leaf_hash, &i.hashes, &root_b).unwrap_or_else(|e| panic!("{}: inclusion {seq} in {b}: {e}", db.backend));
            // Tampered: one bit of one element, or another tree's root.
            if !i.hashes.is_empty() {
                let mut bad = i.hashes.clone();
                let k = flip % bad.len();
                bad[k][flip % 32] ^= 1 << (flip % 8);
                assert!(verify_inclusion(seq - 1, b, &i.leaf_hash, &bad, &root_b).is_err(), "a changed inclusion proof fails");
            }
            if !c.hashes.is_empty() {
                let mut bad = c.hashes.clone();
                let k = flip % bad.len();
                bad[k][flip % 32] ^= 1 << (flip % 8);
                assert!(verify_consistency(a, b, &root_a, &root_b, &bad).is_err(), "a changed consistency proof fails");
            }
            if a < b {
                assert!(verify_consistency(a, b, &root_b, &root_b, &c.hashes).is_err(), "a wrong older root fails");
            }
        }
        // What no proof exists for is refused, not answered.
        assert!(reader.inclusion_proof(0, size).await.is_err());
        assert!(reader.inclusion_proof(1, size + 1).await.is_err());
        assert!(reader.consistency_proof(2, 1).await.is_err());
        assert!(reader.consistency_proof(0, size).await.is_err());
        database.close().await;
        db.drop_database().await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    #[test]
    fn store_proofs_verify_and_tampered_ones_fail(people in 0usize..90, pairs in proptest::collection::vec((any::<u64>(), any::<u64>()), 24), flip in any::<usize>()) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        runtime.block_on(check(people, &pairs, flip));
    }
}

/// An entry recorded an hour ago that no tree head covers fails `verify`
/// (the newest tree head was deleted); a valid range checkpoint of the format
/// before tree heads covers its entries, so an upgraded database passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_uncovered_tail_fails_verify_unless_a_range_checkpoint_covers_it() {
    for db in TestDb::all().await {
        let database = Database::open(&db.url).await.expect("open");
        let key = SigningKey::from_bytes(&[4; 32]);
        let engine = Engine::start(database.clone(), EngineOptions::new(key.clone(), reference()));
        let hour_ago = celltrace_domain::time::Timestamp(now().0 - 3_600_000_000);
        for sub in clinic(hour_ago) {
            engine.submit(sub).await.expect("submit");
        }
        engine.checkpoint().await.expect("sign");
        drop(engine);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let report = celltrace_store::verify::verify(&database, &key.verifying_key()).await.expect("verify");
        assert!(report.ok() && report.uncovered == 0, "{}: {:#?}", db.backend, report.findings);

        sqlx::query("DELETE FROM tree_heads").execute(database.pool()).await.expect("delete");
        let report = celltrace_store::verify::verify(&database, &key.verifying_key()).await.expect("verify");
        assert_eq!(report.uncovered, report.entries);
        assert!(report.findings.iter().any(|f| f.contains("covered by no signed tree head")), "{}: {:#?}", db.backend, report.findings);

        let hashes: Vec<Hash> = database.reader().entries(1, 1000).await.expect("entries").iter().map(|(e, _)| e.hash).collect();
        let old = celltrace_ledger::Checkpoint::sign(&key, 1, &hashes, hour_ago.0).expect("checkpoint");
        sqlx::query("INSERT INTO checkpoints (from_seq, to_seq, to_hash, root, signed_at, public_key, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(1i64)
            .bind(i64::try_from(old.to_seq).expect("seq"))
            .bind(old.to_hash.to_vec())
            .bind(old.root.to_vec())
            .bind(old.signed_at)
            .bind(old.public_key.to_vec())
            .bind(old.signature.to_vec())
            .execute(database.pool())
            .await
            .expect("insert");
        let report = celltrace_store::verify::verify(&database, &key.verifying_key()).await.expect("verify");
        assert!(report.ok() && report.uncovered == 0, "{}: {:#?}", db.backend, report.findings);
        database.close().await;
        db.drop_database().await;
    }
}
