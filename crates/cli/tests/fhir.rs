//! The FHIR R4 API over the demo dataset: every resource type it serves, the
//! `$everything` bundle, the capability statement and an OperationOutcome are
//! validated by fhir.resources (Python, R4B models) with zero errors; tokens,
//! site separation, paging and audited reads are checked in process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use celltrace_store::{Database, Engine};
use celltrace_testkit::{now, TestDb};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

async fn demo() -> (TestDb, Database, Router) {
    let db = TestDb::sqlite();
    let database = Database::open(&db.url).await.expect("open");
    let engine = Engine::start(database.clone(), celltrace::engine_options(celltrace_ledger::SigningKey::from_bytes(&[3; 32])).expect("reference data"));
    celltrace::demo::load(&engine, now()).await.expect("demo");
    for (token, staff) in [("auditor-token", "auditor"), ("nurse-token", "nurse.fatima"), ("logistics-token", "log.khan")] {
        let mut issue = celltrace_testkit::api_token(token, staff, now());
        issue.site = "dubai-clinic".parse().expect("id");
        engine.submit(issue).await.expect("token");
    }
    (db, database, celltrace_web::router(celltrace::web_state(engine, "http://celltrace.test").expect("web state")))
}

async fn get(app: &Router, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::get(path).header(header::HOST, "celltrace.test");
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let response = app.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("response");
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    assert!(content_type.starts_with("application/fhir+json"), "{path}: {content_type}");
    (status, serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: not JSON ({e})")))
}

fn entries(bundle: &Value) -> Vec<Value> {
    bundle["entry"].as_array().map(|e| e.iter().map(|x| x["resource"].clone()).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_resource_the_server_produces_validates_with_fhir_resources() {
    let (db, _database, app) = demo().await;
    let mut produced: Vec<Value> = Vec::new();
    let (status, capability) = get(&app, "/fhir/metadata", None).await;
    assert_eq!(status, StatusCode::OK);
    produced.push(capability);
    let types = [
        "Patient", "Practitioner", "Organization", "BiologicallyDerivedProduct", "Procedure", "Observation", "AdverseEvent", "Consent",
        "Questionnaire", "QuestionnaireResponse", "Provenance",
    ];
    for resource_type in types {
        let (status, bundle) = get(&app, &format!("/fhir/{resource_type}?_count=500"), Some("auditor-token")).await;
        assert_eq!(status, StatusCode::OK, "{resource_type}: {bundle}");
        let found = entries(&bundle);
        assert!(!found.is_empty(), "the demo has {resource_type} resources");
        assert!(found.iter().all(|r| r["resourceType"] == resource_type));
        produced.push(bundle);
    }
    let (status, everything) = get(&app, "/fhir/Patient/p-layla/$everything", Some("auditor-token")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(entries(&everything).len() > 5, "the patient with her units, procedures, consent and observations");
    produced.push(everything);
    let (status, problem) = get(&app, "/fhir/Patient?favourite-colour=blue", Some("auditor-token")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["resourceType"], "OperationOutcome");
    produced.push(problem);

    let file = db.dir.path().join("fhir-resources.json");
    std::fs::write(&file, serde_json::to_vec(&produced).expect("json")).expect("write");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fhir_validate.py");
    let out = std::process::Command::new("python3").arg(&script).arg(&file).output().expect("python3 runs");
    assert!(
        out.status.success(),
        "fhir.resources found errors (install with: pip install fhir.resources==8.3.0):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_sites_paging_and_audited_reads() {
    let (_db, database, app) = demo().await;
    let (status, problem) = get(&app, "/fhir/Patient", None).await;
    assert_eq!((status, problem["resourceType"].as_str()), (StatusCode::UNAUTHORIZED, Some("OperationOutcome")));
    assert_eq!(get(&app, "/fhir/Patient", Some("forged")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&app, "/fhir/Patient", Some("logistics-token")).await.0, StatusCode::FORBIDDEN, "logistics may not read patient records");
    assert_eq!(get(&app, "/fhir/Spaceship", Some("auditor-token")).await.0, StatusCode::NOT_FOUND);

    // A Dubai nurse's token sees Dubai's patients only.
    let (_, dubai) = get(&app, "/fhir/Patient?_count=500", Some("nurse-token")).await;
    let ids: Vec<String> = entries(&dubai).iter().map(|p| p["id"].as_str().expect("id").to_owned()).collect();
    assert!(ids.contains(&"p-layla".to_owned()) && !ids.contains(&"p-rajesh".to_owned()), "{ids:?}");
    assert_eq!(get(&app, "/fhir/Patient/p-rajesh", Some("nurse-token")).await.0, StatusCode::NOT_FOUND);

    // Paging: total, and next links that walk every patient exactly once.
    let (_, first) = get(&app, "/fhir/Patient?_count=4", Some("auditor-token")).await;
    let total = first["total"].as_u64().expect("total") as usize;
    let mut seen: Vec<String> = entries(&first).iter().map(|p| p["id"].as_str().expect("id").to_owned()).collect();
    let mut next = first["link"].as_array().expect("links").iter().find(|l| l["relation"] == "next").map(|l| l["url"].as_str().expect("url").to_owned());
    while let Some(url) = next {
        let path = url.trim_start_matches("http://celltrace.test");
        let (_, page) = get(&app, path, Some("auditor-token")).await;
        seen.extend(entries(&page).iter().map(|p| p["id"].as_str().expect("id").to_owned()));
        next = page["link"].as_array().expect("links").iter().find(|l| l["relation"] == "next").map(|l| l["url"].as_str().expect("url").to_owned());
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total);

    // Searching by patient, and the read is in the audit trail.
    let (_, units) = get(&app, "/fhir/BiologicallyDerivedProduct?patient=p-layla", Some("auditor-token")).await;
    assert!(!entries(&units).is_empty());
    let (status, layla) = get(&app, "/fhir/Patient/p-layla", Some("auditor-token")).await;
    assert_eq!((status, layla["id"].as_str()), (StatusCode::OK, Some("p-layla")));
    let trail = database.reader().trail(&celltrace_domain::EntityKey::new(celltrace_domain::EntityKind::Person, "p-layla")).await.expect("trail");
    assert!(trail.iter().any(|(e, _)| e.record.kind == "record_viewed" && e.record.actor == "staff:auditor"), "the FHIR read is recorded");
}
