//! The JSON API's lists over the demo: patients, units, a unit's lineage and
//! a site's ledger, page by page with `next` cursors (every row once),
//! refused without the permission at the site asked for, errors in the one
//! JSON shape, and a list of patients recorded in the ledger as reads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use celltrace_domain::{EntityKey, EntityKind};
use celltrace_store::{Database, Engine};
use celltrace_testkit::{api_token, now, TestDb};
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::BTreeSet;
use tower::ServiceExt;

async fn demo() -> (TestDb, Database, Router) {
    let db = TestDb::sqlite();
    let database = Database::open(&db.url).await.expect("open");
    let engine = Engine::start(database.clone(), celltrace::engine_options(celltrace_ledger::SigningKey::from_bytes(&[3; 32])).expect("reference data"));
    celltrace::demo::load(&engine, now()).await.expect("demo");
    for (token, staff, site) in [("nurse-token", "nurse.fatima", "dubai-clinic"), ("auditor-token", "auditor", "dubai-clinic"), ("logistics-token", "log.khan", "mumbai-lab"), ("tech-token", "tech.rao", "mumbai-lab")] {
        let mut issue = api_token(token, staff, now());
        issue.site = site.parse().expect("id");
        engine.submit(issue).await.expect("token");
    }
    (db, database, celltrace_web::router(celltrace::web_state(engine, "http://celltrace.test").expect("web state")))
}

async fn get(app: &Router, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::get(path);
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let response = app.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("response");
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if status == StatusCode::UNAUTHORIZED {
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_some_and(|v| v.as_bytes().starts_with(b"Bearer")), "{path}");
    }
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    assert!(content_type.starts_with("application/json"), "{path}: {content_type}");
    (status, serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: not JSON ({e})")))
}

/// Every page of a list, following `next` as `param`: the items and the number of pages.
async fn walk(app: &Router, first: &str, param: &str, token: &str) -> (Vec<Value>, usize) {
    let (mut items, mut pages, mut path) = (Vec::new(), 0, first.to_owned());
    loop {
        let (status, page) = get(app, &path, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        pages += 1;
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next"].as_str() {
            Some(next) => path = format!("{first}&{param}={}", common::web::urlencode(next)),
            None => {
                assert!(page["next"].is_null());
                break;
            }
        }
    }
    (items, pages)
}

fn field(items: &[Value], name: &str) -> Vec<String> {
    items.iter().map(|i| i[name].to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_through_every_row_once() {
    let (_db, _database, app) = demo().await;
    let (patients, pages) = walk(&app, "/api/patients?site=dubai-clinic&limit=2", "after", "nurse-token").await;
    let ids: BTreeSet<String> = field(&patients, "id").into_iter().collect();
    assert_eq!((ids.len(), patients.len()), (6, 6), "Dubai's six patients, each once: {ids:?}");
    assert_eq!(pages, 3);
    assert!(patients.iter().all(|p| p["site"] == "dubai-clinic" && p["kind"] == "patient"));
    let (found, _) = walk(&app, "/api/patients?site=dubai-clinic&q=layla", "after", "nurse-token").await;
    assert_eq!(field(&found, "id"), ["\"p-layla\""]);
    let (by_mrn, _) = walk(&app, "/api/patients?site=dubai-clinic&q=DXB-100232", "after", "nurse-token").await;
    assert_eq!(field(&by_mrn, "id"), ["\"p-james\""]);

    let (units, _) = walk(&app, "/api/units?site=mumbai-lab&limit=3", "after", "tech-token").await;
    let unit_ids: BTreeSet<String> = field(&units, "id").into_iter().collect();
    assert!(units.len() > 3 && unit_ids.len() == units.len(), "{unit_ids:?}");
    assert!(units.iter().all(|u| u["site"] == "mumbai-lab" && u.get("source_person").is_none()), "units carry no patient data");
    let (released, _) = walk(&app, "/api/units?site=mumbai-lab&status=released", "after", "tech-token").await;
    assert!(released.iter().all(|u| u["status"] == "released"));

    let (status, lineage) = get(&app, "/api/units/u-layla-msc/lineage", Some("nurse-token")).await;
    assert_eq!(status, StatusCode::OK, "{lineage}");
    let relations: Vec<(String, String)> = lineage["items"].as_array().expect("items").iter().map(|i| (i["relation"].to_string(), i["unit"]["id"].to_string())).collect();
    assert!(relations.contains(&("\"unit\"".into(), "\"u-layla-msc\"".into())), "{relations:?}");
    assert!(relations.contains(&("\"ancestor\"".into(), "\"u-layla-lipo\"".into())), "{relations:?}");
    assert!(lineage["next"].is_null());

    let (entries, pages) = walk(&app, "/api/ledger?site=dubai-clinic&limit=50", "before", "auditor-token").await;
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().expect("seq")).collect();
    assert!(pages > 1 && seqs.windows(2).all(|w| w[0] > w[1]), "newest first, every entry once");
    assert!(entries.iter().all(|e| e["site"] == "dubai-clinic" && e["payload"].is_object()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_need_the_permission_at_the_site_asked_for() {
    let (_db, _database, app) = demo().await;
    let refused = |(status, body): (StatusCode, Value), what: &str| {
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
        assert_eq!(body["error"]["code"], "forbidden", "{what}");
        assert!(body["error"]["request_id"].is_string() && body["error"]["message"].is_string(), "{what}: {body}");
    };
    refused(get(&app, "/api/patients?site=delhi-centre", Some("nurse-token")).await, "a Dubai nurse, Delhi's patients");
    refused(get(&app, "/api/patients?site=mumbai-lab", Some("logistics-token")).await, "logistics, patients");
    refused(get(&app, "/api/ledger?site=dubai-clinic", Some("nurse-token")).await, "a nurse, the ledger");
    refused(get(&app, "/api/units?site=dubai-clinic", Some("tech-token")).await, "a Mumbai technologist, Dubai's units");
    refused(get(&app, "/api/units/u-rajesh-bma/lineage", Some("nurse-token")).await, "a Dubai nurse, a Delhi unit's lineage");
    refused(get(&app, "/api/patients?site=nowhere", Some("auditor-token")).await, "a site that does not exist");
    assert_eq!(get(&app, "/api/units?site=mumbai-lab", Some("logistics-token")).await.0, StatusCode::OK, "logistics see units");

    let (status, body) = get(&app, "/api/patients?site=dubai-clinic", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    assert_eq!(get(&app, "/api/units?site=dubai-clinic", Some("forged")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&app, "/api/patients?site=dubai-clinic&limit=0", Some("nurse-token")).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(get(&app, "/api/patients?site=dubai-clinic&limit=501", Some("nurse-token")).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(get(&app, "/api/patients?site=dubai-clinic&kind=alien", Some("nurse-token")).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(get(&app, "/api/patients?limit=5", Some("nurse-token")).await.0, StatusCode::BAD_REQUEST, "the site is required");
    assert_eq!(get(&app, "/api/units?site=mumbai-lab&after=not-a-cursor", Some("tech-token")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/api/units/no-such-unit/lineage", Some("tech-token")).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_patients_is_recorded_as_a_read_of_each() {
    let (_db, database, app) = demo().await;
    let reads = |trail: Vec<(celltrace_ledger::Entry, String)>| {
        trail
            .iter()
            .filter(|(e, _)| e.record.kind == "record_viewed" && e.record.actor == "staff:nurse.fatima" && String::from_utf8_lossy(&e.record.payload).contains("API patient list"))
            .count()
    };
    let trail_of = |p: String| {
        let reader = database.reader().clone();
        async move { reader.trail(&EntityKey::new(EntityKind::Person, &p)).await.expect("trail") }
    };
    let (status, page) = get(&app, "/api/patients?site=dubai-clinic&limit=4", Some("nurse-token")).await;
    assert_eq!(status, StatusCode::OK);
    let shown: Vec<String> = page["items"].as_array().expect("items").iter().map(|p| p["id"].as_str().expect("id").to_owned()).collect();
    assert_eq!(shown.len(), 4);
    for person in &shown {
        assert_eq!(reads(trail_of(person.clone()).await), 1, "{person}: one recorded read");
    }
    let (_, rest) = get(&app, &format!("/api/patients?site=dubai-clinic&limit=4&after={}", page["next"].as_str().expect("next")), Some("nurse-token")).await;
    for person in rest["items"].as_array().expect("items").iter().map(|p| p["id"].as_str().expect("id").to_owned()) {
        assert!(!shown.contains(&person));
        assert_eq!(reads(trail_of(person.clone()).await), 1, "{person}: read on the second page only");
    }
    // Units and the ledger are not patient records: no read is recorded for them.
    let head = database.reader().head().await.expect("head").seq;
    get(&app, "/api/units?site=mumbai-lab", Some("tech-token")).await;
    assert_eq!(database.reader().head().await.expect("head").seq, head);
}
