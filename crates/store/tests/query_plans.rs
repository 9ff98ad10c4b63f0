//! Every query the read-only `Reader` runs is planned as an index lookup or
//! range scan on both backends: a full scan of a table that grows with the
//! deployment (ledger, projections, index entries, names, audit index,
//! claims, commands) fails this test. The test records the SQL of every
//! Reader method run over a small clinic, then asks each database for its
//! plan: SQLite's `EXPLAIN QUERY PLAN`, and PostgreSQL's generic plan with
//! sequential scans disabled (so a scan that remains has no index to use).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use celltrace_domain::ids::{PersonId, SiteId, UnitId};
use celltrace_domain::index::{records_value, Index, RecordKind};
use celltrace_domain::lookback::Origin;
use celltrace_domain::model::{Person, PersonKind, Plan, ProductType, Unit, UnitStatus};
use celltrace_domain::{EntityKey, EntityKind};
use celltrace_store::read::{Cursor, Reader, RecordRange, UnitFilter};
use celltrace_store::{Backend, Database, Engine, EngineOptions};
use celltrace_testkit::{administer, clinic, now, reference, released_unit, witness_grant, TestDb, SITE};
use sqlx::Row;

/// Tables of a fixed handful of rows, which any plan may read whole; every
/// other table grows with the deployment's records.
const FIXED: &[&str] = &["entity_counts", "read_generations", "ledger_head", "settings", "CONSTANT ROW"];

async fn seeded(db: &TestDb) -> Database {
    let database = Database::open(&db.url).await.expect("open");
    let engine = Engine::start(database.clone(), EngineOptions::new(celltrace_ledger::SigningKey::from_bytes(&[9; 32]), reference()));
    let at = now();
    let mut subs = clinic(at);
    for n in 1..=30 {
        subs.extend(released_unit(n, at));
    }
    subs.push(witness_grant(1, "nurse", "nurse2", at));
    subs.push(administer(1, "nurse", "nurse2", at));
    for sub in subs {
        let name = sub.command.name();
        engine.submit(sub).await.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    engine.checkpoint().await.expect("tree head");
    database
}

/// Runs every Reader query at least once.
async fn exercise(reader: &Reader) {
    let site: SiteId = SITE.parse().expect("site");
    let person: PersonId = "p-1".parse().expect("id");
    let unit_id: UnitId = "u-1".parse().expect("id");
    let unit = reader.get::<Unit>("u-1").await.expect("get").expect("unit");
    reader.get_many::<Person>(&["p-1".into(), "p-2".into()]).await.expect("get_many");
    reader.entity(&EntityKey::new(EntityKind::Unit, "u-1")).await.expect("entity");
    let page = reader.page::<Person>(Index::SitePersons, &format!("{SITE}|patient"), None, 5).await.expect("page");
    reader.page::<Person>(Index::SitePersons, &format!("{SITE}|patient"), page.next.as_ref(), 5).await.expect("next page");
    reader.prefix_page::<Person>(Index::Name, &format!("{SITE}|pat"), None, 5).await.expect("prefix page");
    reader.prefix_page::<Person>(Index::Name, &format!("{SITE}|pat"), Some(&Cursor { key: format!("{SITE}|patient"), sort: "patient 1".into(), id: "p-1".into() }), 5).await.expect("prefix next");
    reader.count(Index::SiteUnits, SITE).await.expect("count");
    reader.sorted_between::<Plan>(Index::FollowUpClock, &format!("{SITE}|prp"), "0", "9").await.expect("between");
    reader.sites().await.expect("sites");
    reader.plans_treated_between(&site, ProductType::Prp, 0, 100_000).await.expect("treated between");
    reader.adverse_events_of(std::slice::from_ref(&person)).await.expect("aes");
    reader.shipments_of(&unit_id).await.expect("shipments");
    reader.units_of_donations(std::slice::from_ref(&unit.din)).await.expect("donations");
    reader.units_by_din(&unit.din).await.expect("din");
    reader.person_by_mrn(SITE, "MRN-1").await.expect("mrn");
    reader.plans_of(&person).await.expect("plans");
    reader.units_from(&person).await.expect("units from");
    reader.units_with_lot("MEM-2026-0088").await.expect("lot");
    reader.units_of_step("step-1").await.expect("step");
    reader.children_of(std::slice::from_ref(&unit_id)).await.expect("children");
    reader.plans_given(std::slice::from_ref(&unit_id)).await.expect("given");
    reader.units_for_plan("plan-1").await.expect("plan units");
    reader.lineage_of(&unit).await.expect("lineage");
    reader.descendants_of(std::slice::from_ref(&unit_id)).await.expect("descendants");
    reader.people_matching(SITE, "patient", "patient", None, 5).await.expect("matching");
    reader.people_matching(SITE, "patient", "patient", Some(3), 5).await.expect("matching after");
    for text in ["", "Patient 1", "pa", "MRN-1", "p-1"] {
        reader.people(&site, PersonKind::Patient, text, None, 5).await.expect("people");
    }
    let after = reader.people(&site, PersonKind::Patient, "", None, 2).await.expect("people").next;
    reader.people(&site, PersonKind::Patient, "", after.as_deref(), 2).await.expect("people next");
    for filter in [
        UnitFilter::default(),
        UnitFilter { status: Some(UnitStatus::Released), ..UnitFilter::default() },
        UnitFilter { product_type: Some(ProductType::Prp), ..UnitFilter::default() },
        UnitFilter { text: unit.din.clone(), ..UnitFilter::default() },
    ] {
        reader.units(&site, &filter, None, 5).await.expect("units");
    }
    reader.product_catalogue().await.expect("catalogue");
    reader.evidence_dataset().await.expect("evidence");
    reader.head().await.expect("head");
    let signed = reader.latest_tree_head().await.expect("tree head").expect("the ledger is covered");
    reader.tree_head(signed.size).await.expect("tree head of a size");
    reader.inclusion_proof(3, signed.size).await.expect("inclusion proof");
    reader.consistency_proof(5, signed.size).await.expect("consistency proof");
    reader.entries(1, 10).await.expect("entries");
    reader.ledger_of_sites(std::slice::from_ref(&site), None, 10).await.expect("ledger of sites");
    reader.ledger_of_sites(std::slice::from_ref(&site), Some(20), 10).await.expect("ledger before");
    reader.trail(&EntityKey::new(EntityKind::Unit, "u-1")).await.expect("trail");
    reader.command("no-such-command").await.expect("command");
    reader.counts().await.expect("counts");
    reader.generation("registry").await.expect("generation");
    reader.staff_for_token("not a token", now()).await.expect("token");
    reader.tokens_of(&"doc".parse().expect("id")).await.expect("tokens of");
    reader.resolve_scan(SITE, &format!("={}00", unit.din)).await.expect("scan");
    let unit_key = EntityKey::new(EntityKind::Unit, "u-1");
    let trail = reader.trail_page(std::slice::from_ref(&unit_key), None, 5).await.expect("trail page");
    reader.trail_page(&[unit_key, EntityKey::new(EntityKind::Person, "p-1")], trail.next_before, 5).await.expect("trail next");
    for origin in [
        Origin::ReagentLot("MEM-2026-0088".into()),
        Origin::Step("step-1".into()),
        Origin::Donor("p-1".into()),
        Origin::Donor("MRN-1".into()),
        Origin::Din(unit.din.clone()),
        Origin::Unit("u-1".into()),
        Origin::Shipment("ship-1".into()),
    ] {
        reader.recall(&origin).await.expect("recall");
    }
    let released = RecordRange::all(Index::Records, records_value(SITE, RecordKind::Unit, Some("released")));
    let first = reader.record_page::<Unit>(&released, None, 5).await.expect("record page");
    let last = first.items.last().map(|f| (f.sort.clone(), f.item.id.to_string())).expect("a released unit");
    reader.record_page::<Unit>(&released, Some((&last.0, &last.1)), 5).await.expect("record next");
    let dated = RecordRange { from: "2000".into(), to: Some("2100".into()), ..RecordRange::all(Index::PersonRecords, records_value("p-1", RecordKind::Unit, None)) };
    reader.record_page::<Unit>(&dated, None, 5).await.expect("person records");
    reader.record_count(&released).await.expect("record count");
    reader.record_count(&dated).await.expect("dated count");
    reader.records_by_id::<Unit>(RecordKind::Unit, "u-1", false).await.expect("by id");
    reader.records_by_id::<Unit>(RecordKind::Unit, "u-", true).await.expect("by id prefix");
}

/// The plan lines of `sql` on this database.
async fn plan(reader: &Reader, database: &Database, sql: &str) -> Vec<String> {
    match reader.backend() {
        Backend::Sqlite => {
            let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}")).fetch_all(database.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            rows.iter().map(|r| r.try_get::<String, _>("detail").expect("detail")).collect()
        }
        Backend::Postgres => {
            let mut conn = database.pool().acquire().await.expect("connection");
            // Plain statements (raw_sql): sqlx's own prepared statements stay untouched.
            sqlx::raw_sql("SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan").execute(&mut *conn).await.expect("set");
            sqlx::raw_sql(&format!("PREPARE planned AS {sql}")).execute(&mut *conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            let types: String = sqlx::query("SELECT CAST(parameter_types AS TEXT) FROM pg_prepared_statements WHERE name = 'planned'")
                .fetch_one(&mut *conn)
                .await
                .expect("types")
                .try_get(0)
                .expect("types");
            // A value of each parameter's type: the generic plan ignores them.
            let values: Vec<&str> = types
                .trim_matches(|c| c == '{' || c == '}')
                .split(',')
                .filter(|t| !t.is_empty())
                .map(|t| match t {
                    "bigint" | "integer" | "smallint" | "numeric" => "1",
                    "bytea" => "'\\x00'::bytea",
                    _ => "'x'",
                })
                .collect();
            let execute = if values.is_empty() { "EXPLAIN EXECUTE planned".to_owned() } else { format!("EXPLAIN EXECUTE planned({})", values.join(", ")) };
            let rows = sqlx::raw_sql(&execute).fetch_all(&mut *conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            sqlx::raw_sql("DEALLOCATE planned; RESET enable_seqscan; RESET plan_cache_mode").execute(&mut *conn).await.expect("deallocate");
            rows.iter().map(|r| r.try_get::<String, _>(0).expect("plan line")).collect()
        }
    }
}

/// The plan lines that read a table (or an index) whole.
fn full_scans(lines: &[String]) -> Vec<String> {
    let fixed = |text: &str| FIXED.iter().any(|t| text.contains(t));
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut bad = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let node = line.trim_start().trim_start_matches("->").trim();
        // SQLite: "SCAN t" or "SCAN t USING [COVERING] INDEX i" read every row; "SEARCH" seeks.
        // Plans name tables by their alias, so every scan counts unless of a fixed-size table.
        let sqlite_scan = node.starts_with("SCAN ") && !node.contains("VIRTUAL TABLE") && !fixed(node);
        // PostgreSQL: a sequential scan, or an index scan with no condition on the index
        // (the index is read whole; a bitmap index scan names only the index).
        let pg_seq = node.starts_with("Seq Scan on") && !fixed(node);
        let details = lines[i + 1..].iter().take_while(|n| indent(n) > indent(line) && !n.trim_start().starts_with("->"));
        let pg_whole_index = ["Index Scan", "Index Only Scan", "Bitmap Index Scan"].iter().any(|k| node.starts_with(k))
            && !fixed(node)
            && !details.clone().any(|n| n.contains("Index Cond"));
        if sqlite_scan || pg_seq || pg_whole_index {
            bad.push(line.clone());
        }
    }
    bad
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_read_scans_a_growing_table() {
    let mut failures = Vec::new();
    for db in TestDb::all().await {
        let database = seeded(&db).await;
        let reader = database.reader().clone();
        reader.query_log().start();
        exercise(&reader).await;
        let queries = reader.query_log().take();
        assert!(queries.len() >= 15, "{}: the reads ran ({} queries)", db.backend, queries.len());
        for sql in &queries {
            let lines = plan(&reader, &database, sql).await;
            if !full_scans(&lines).is_empty() {
                failures.push(format!("{}: {sql}\n    {}", db.backend, lines.join("\n    ")));
            }
        }
        database.close().await;
        db.drop_database().await;
    }
    assert!(failures.is_empty(), "reads that scan a growing table:\n{}", failures.join("\n\n"));
}

#[test]
fn the_detector_knows_a_scan_from_a_seek() {
    let lines = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert!(full_scans(&lines(&["SEARCH e USING INDEX sqlite_autoindex_entities_1 (kind=? AND id=?)"])).is_empty());
    assert_eq!(full_scans(&lines(&["SCAN entities"])).len(), 1);
    assert_eq!(full_scans(&lines(&["SCAN i USING COVERING INDEX entity_index_by_entity"])).len(), 1, "an alias of a growing table");
    assert_eq!(full_scans(&lines(&["SCAN entity_counts"])).len(), 0, "a table of one row per kind does not grow");
    assert_eq!(full_scans(&lines(&["SCAN f VIRTUAL TABLE INDEX 0:M1"])).len(), 0);
    assert_eq!(full_scans(&lines(&["Seq Scan on ledger  (cost=0.00..1.00 rows=1 width=8)"])).len(), 1);
    assert_eq!(full_scans(&lines(&["Index Scan using entities_pkey on entities e", "  Index Cond: ((kind = $1) AND (id = $2))"])).len(), 0);
    assert_eq!(full_scans(&lines(&["Index Only Scan using claims_pkey on claims"])).len(), 1);
    assert_eq!(full_scans(&lines(&["Aggregate", "  ->  Bitmap Heap Scan on checkpoints", "        ->  Bitmap Index Scan on checkpoints_to_seq_key"])).len(), 1);
    assert_eq!(full_scans(&lines(&["Limit", "  ->  Index Scan using entity_index_pkey on entity_index i", "        Index Cond: ((name = $1) AND (value = $2))"])).len(), 0);
}
