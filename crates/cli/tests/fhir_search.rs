//! FHIR search answered from the read model's indexes: paging through 1200
//! units with `_count=100` serves each exactly once with the right total;
//! searches by identifier (MRN, DIN, DIN + product code, ISBT 128 bar code
//! text), patient, status and date; site separation per resource; links from
//! the configured URL whatever the request's headers say; every error an
//! OperationOutcome; and the patients a search shows are recorded reads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use celltrace_domain::command::Command;
use celltrace_domain::model::{Language, PersonKind, ProductType, Quantity, Sex, SourceTissue, Unit};
use celltrace_domain::time::{Date, Timestamp};
use celltrace_domain::{EntityKey, EntityKind};
use celltrace_store::{Database, Engine};
use celltrace_testkit::{api_token, clinic, now, submission, TestDb};
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::BTreeSet;
use tower::ServiceExt;

const PUBLIC_URL: &str = "http://celltrace.test";

struct Answer {
    status: StatusCode,
    content_type: String,
    www_authenticate: String,
    body: Value,
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("response");
    let header_text = |name| response.headers().get(name).and_then(|v: &header::HeaderValue| v.to_str().ok()).unwrap_or_default().to_owned();
    let (status, content_type, www_authenticate) = (response.status(), header_text(header::CONTENT_TYPE), header_text(header::WWW_AUTHENTICATE));
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    Answer { status, content_type, www_authenticate, body }
}

async fn get(app: &Router, path: &str, token: &str) -> Answer {
    let request = Request::get(path).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).expect("request");
    send(app, request).await
}

fn entries(bundle: &Value) -> Vec<Value> {
    bundle["entry"].as_array().map(|e| e.iter().map(|x| x["resource"].clone()).collect()).unwrap_or_default()
}

fn ids(bundle: &Value) -> Vec<String> {
    entries(bundle).iter().map(|r| r["id"].as_str().expect("id").to_owned()).collect()
}

fn next_link(bundle: &Value) -> Option<String> {
    bundle["link"].as_array().expect("links").iter().find(|l| l["relation"] == "next").map(|l| l["url"].as_str().expect("url").to_owned())
}

/// Every page of a search from `first`, following `next` links: the ids in
/// order, the total of the first page and the number of pages.
async fn walk(app: &Router, first: &str, token: &str) -> (Vec<String>, u64, usize) {
    let answer = get(app, first, token).await;
    assert_eq!(answer.status, StatusCode::OK, "{first}: {}", answer.body);
    let total = answer.body["total"].as_u64().expect("total");
    let (mut seen, mut pages, mut bundle) = (Vec::new(), 0, answer.body);
    loop {
        pages += 1;
        seen.extend(ids(&bundle));
        let Some(url) = next_link(&bundle) else { break };
        let path = url.strip_prefix(PUBLIC_URL).unwrap_or_else(|| panic!("links start with the configured URL: {url}"));
        let page = get(app, path, token).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert_eq!(page.body["total"].as_u64(), Some(total), "every page states the same total");
        bundle = page.body;
    }
    (seen, total, pages)
}

/// A clinic with a cord blood donor who gave 1200 units, an hour apart, and
/// a nurse's API token.
async fn twelve_hundred_units() -> (TestDb, Engine, Router, Timestamp) {
    let db = TestDb::sqlite();
    let database = Database::open(&db.url).await.expect("open");
    let engine = Engine::start(database, celltrace::engine_options(celltrace_ledger::SigningKey::from_bytes(&[3; 32])).expect("reference data"));
    let at = now();
    let mut subs = clinic(at);
    subs.push(api_token("nurse-token", "nurse", at));
    subs.push(submission("nurse", at, Command::RegisterPerson {
        person: "d-1".parse().expect("id"),
        kind: PersonKind::Donor,
        mrn: "CB-1".into(),
        name: "Cord donor one".into(),
        date_of_birth: Date::new(2026, 1, 2).expect("date"),
        sex: Sex::Female,
        language: Language::En,
        contact: String::new(),
    }));
    for sub in subs {
        engine.submit(sub).await.expect("setup");
    }
    // Whole hours, so a date search to the second falls between two units.
    let hour = 3_600_000_000;
    let first = Timestamp((at.0 - 2000 * hour).div_euclid(hour) * hour);
    let collections: Vec<_> = (1..=1200u32)
        .map(|n| {
            let collected_at = Timestamp(first.0 + i64::from(n) * 3_600_000_000);
            submission("nurse", at, Command::RecordCollection {
                collection: format!("col-{n}").parse().expect("id"),
                source_person: "d-1".parse().expect("id"),
                plan: None,
                tissue: SourceTissue::CordBlood,
                product_type: ProductType::CordBloodHpc,
                unit: format!("u-{n}").parse().expect("id"),
                din: format!("A999826{n:06}"),
                product_code: "S3001V00".into(),
                quantity: Quantity { milli: 100_000, unit: "mL".into() },
                collected_at,
                expires_at: Timestamp(at.0 + 3650 * Timestamp::DAY),
            })
        })
        .collect();
    for chunk in collections.chunks(300) {
        engine.submit_atomic(chunk.to_vec()).await.expect("collections");
    }
    let app = celltrace_web::router(celltrace::web_state(engine.clone(), PUBLIC_URL).expect("web state"));
    (db, engine, app, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_through_1200_units_serves_each_once_with_the_total() {
    let (_db, _engine, app, first) = twelve_hundred_units().await;
    let expected: BTreeSet<String> = (1..=1200).map(|n| format!("u-{n}")).collect();

    let (seen, total, pages) = walk(&app, "/fhir/BiologicallyDerivedProduct?_count=100", "nurse-token").await;
    assert_eq!(total, 1200);
    assert_eq!(pages, 12, "twelve full pages, and no empty thirteenth");
    assert_eq!(seen.len(), 1200, "no unit twice");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), expected, "every unit");

    // The donor's units, through the person's own index; a status none has; every unit's status.
    let (seen, total, _) = walk(&app, "/fhir/BiologicallyDerivedProduct?patient=Patient/d-1&_count=100", "nurse-token").await;
    assert_eq!((seen.len(), total), (1200, 1200));
    assert_eq!(walk(&app, "/fhir/BiologicallyDerivedProduct?status=available", "nurse-token").await.1, 0, "none is released");
    let (seen, total, _) = walk(&app, "/fhir/BiologicallyDerivedProduct?status=unavailable&_count=500", "nurse-token").await;
    assert_eq!((seen.len(), total), (1200, 1200));

    // A date range: collected in the first hundred hours.
    let (y, m, d, h, min) = Timestamp(first.0 + 100 * 3_600_000_000).utc_parts();
    let hundredth = format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:00Z");
    let (seen, total, _) = walk(&app, &format!("/fhir/BiologicallyDerivedProduct?date=le{hundredth}&_count=30"), "nurse-token").await;
    assert_eq!((seen.len(), total), (100, 100), "up to and including the hundredth hour");
    let (seen, total, _) = walk(&app, &format!("/fhir/BiologicallyDerivedProduct?date=gt{hundredth}&_count=500"), "nurse-token").await;
    assert_eq!((seen.len(), total), (1100, 1100));

    // Collections and the total alone.
    let procedures = get(&app, "/fhir/Procedure?patient=d-1&_count=0", "nurse-token").await;
    assert_eq!((procedures.body["total"].as_u64(), entries(&procedures.body).len()), (Some(1200), 0));

    // Identifiers: a DIN, DIN + product code, the DIN bar code (data structure 001).
    for identifier in ["https://www.isbt128.org/uri/DonationIdentificationNumber|A999826000077", "A999826000077S3001V00", "%3DA99982600007700"] {
        let found = get(&app, &format!("/fhir/BiologicallyDerivedProduct?identifier={identifier}"), "nurse-token").await;
        assert_eq!((found.status, ids(&found.body)), (StatusCode::OK, vec!["u-77".to_owned()]), "{identifier}: {}", found.body);
    }
    let wrong_code = get(&app, "/fhir/BiologicallyDerivedProduct?identifier=A999826000077S1001100", "nurse-token").await;
    assert_eq!(wrong_code.body["total"], 0);
    let by_mrn = get(&app, "/fhir/Patient?identifier=http://celltrace.org/fhir/sid/mrn/test-clinic|CB-1", "nurse-token").await;
    assert_eq!(ids(&by_mrn.body), ["d-1"]);
}

/// The demo with API tokens for a Dubai nurse, a Delhi nurse, the auditor (every site) and logistics.
async fn demo() -> (TestDb, Database, Router) {
    let db = TestDb::sqlite();
    let database = Database::open(&db.url).await.expect("open");
    let engine = Engine::start(database.clone(), celltrace::engine_options(celltrace_ledger::SigningKey::from_bytes(&[3; 32])).expect("reference data"));
    celltrace::demo::load(&engine, now()).await.expect("demo");
    for (token, staff, site) in [("dubai-token", "nurse.fatima", "dubai-clinic"), ("delhi-token", "nurse.priya", "delhi-centre"), ("auditor-token", "auditor", "dubai-clinic"), ("logistics-token", "log.khan", "dubai-clinic")] {
        let mut issue = api_token(token, staff, now());
        issue.site = site.parse().expect("id");
        engine.submit(issue).await.expect("token");
    }
    (db, database, celltrace_web::router(celltrace::web_state(engine, PUBLIC_URL).expect("web state")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dubai_token_cannot_read_a_delhi_patient_or_unit() {
    let (_db, database, app) = demo().await;
    let reader = database.reader();
    let rajesh_units: Vec<Unit> = reader.units_from(&"p-rajesh".parse().expect("id")).await.expect("units");
    assert!(!rajesh_units.is_empty() && rajesh_units.iter().all(|u| u.site.as_str() != "dubai-clinic"), "Rajesh's units are not held in Dubai");

    for path in ["/fhir/Patient/p-rajesh", "/fhir/Patient/p-rajesh/$everything", "/fhir/AdverseEvent/ae-rajesh-1"] {
        let answer = get(&app, path, "dubai-token").await;
        assert_eq!((answer.status, answer.body["resourceType"].as_str()), (StatusCode::NOT_FOUND, Some("OperationOutcome")), "{path}");
        assert_eq!(get(&app, path, "delhi-token").await.status, StatusCode::OK, "{path}: Delhi's own");
    }
    for unit in &rajesh_units {
        let path = format!("/fhir/BiologicallyDerivedProduct/{}", unit.id);
        assert_eq!(get(&app, &path, "dubai-token").await.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(get(&app, &path, "delhi-token").await.status, StatusCode::OK, "{path}: a Delhi patient's unit");
    }
    // Searches never return another site's records, whichever way they ask.
    for query in ["Patient?identifier=DEL-200411", "Patient?_id=p-rajesh", "BiologicallyDerivedProduct?patient=p-rajesh", "Observation?patient=p-rajesh", "Provenance?patient=p-rajesh"] {
        let answer = get(&app, &format!("/fhir/{query}"), "dubai-token").await;
        assert_eq!((answer.status, answer.body["total"].as_u64()), (StatusCode::OK, Some(0)), "{query}: {}", answer.body);
    }
    let (dubai, _, _) = walk(&app, "/fhir/Patient?_count=3", "dubai-token").await;
    assert!(dubai.contains(&"p-layla".to_owned()) && !dubai.iter().any(|p| p == "p-rajesh"), "{dubai:?}");
    let (everyone, total, _) = walk(&app, "/fhir/Patient?_count=5", "auditor-token").await;
    assert_eq!(everyone.len() as u64, total);
    assert!(everyone.contains(&"p-rajesh".to_owned()) && everyone.contains(&"p-layla".to_owned()));
    // An adverse event of Delhi, found by its record id, by Delhi only.
    assert_eq!(get(&app, "/fhir/AdverseEvent?identifier=ae-rajesh-1", "delhi-token").await.body["total"], 1);
    assert_eq!(get(&app, "/fhir/AdverseEvent?identifier=ae-rajesh-1", "dubai-token").await.body["total"], 0);
    assert_eq!(get(&app, "/fhir/Patient", "logistics-token").await.status, StatusCode::FORBIDDEN, "logistics read no patient records");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_come_from_the_configured_url_never_from_request_headers() {
    let (_db, _database, app) = demo().await;
    let forged = |path: &str| {
        Request::get(path)
            .header(header::HOST, "javascript://evil.example")
            .header("x-forwarded-proto", "javascript")
            .header("x-forwarded-host", "evil.example")
            .header(header::AUTHORIZATION, "Bearer dubai-token")
            .body(Body::empty())
            .expect("request")
    };
    let bundle = send(&app, forged("/fhir/Patient?_count=2")).await.body;
    let mut urls: Vec<String> = bundle["link"].as_array().expect("links").iter().map(|l| l["url"].as_str().expect("url").to_owned()).collect();
    urls.extend(bundle["entry"].as_array().expect("entries").iter().map(|e| e["fullUrl"].as_str().expect("fullUrl").to_owned()));
    let everything = send(&app, forged("/fhir/Patient/p-layla/$everything")).await.body;
    urls.extend(everything["entry"].as_array().expect("entries").iter().map(|e| e["fullUrl"].as_str().expect("fullUrl").to_owned()));
    urls.extend(everything["link"].as_array().expect("links").iter().map(|l| l["url"].as_str().expect("url").to_owned()));
    let metadata = send(&app, forged("/fhir/metadata")).await.body;
    urls.push(metadata["implementation"]["url"].as_str().expect("implementation url").to_owned());
    assert!(urls.len() > 5 && next_link(&bundle).is_some(), "{urls:?}");
    for url in &urls {
        assert!(url.starts_with("http://celltrace.test/fhir"), "{url}");
        assert!(!url.contains("evil") && !url.contains("javascript"), "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fhir_error_is_an_operation_outcome() {
    let (_db, _database, app) = demo().await;
    let outcome = |a: &Answer, status: StatusCode, what: &str| {
        assert_eq!(a.status, status, "{what}: {}", a.body);
        assert!(a.content_type.starts_with("application/fhir+json"), "{what}: {}", a.content_type);
        assert_eq!(a.body["resourceType"], "OperationOutcome", "{what}");
        assert!(!a.body["issue"][0]["diagnostics"].as_str().unwrap_or_default().is_empty(), "{what}: says what went wrong");
    };
    let anonymous = send(&app, Request::get("/fhir/Patient").body(Body::empty()).expect("request")).await;
    outcome(&anonymous, StatusCode::UNAUTHORIZED, "no token");
    assert!(anonymous.www_authenticate.starts_with("Bearer"));
    outcome(&get(&app, "/fhir/Patient", "forged").await, StatusCode::UNAUTHORIZED, "unknown token");
    outcome(&get(&app, "/fhir/Spaceship", "dubai-token").await, StatusCode::NOT_FOUND, "unknown type");
    outcome(&get(&app, "/fhir/Patient?favourite-colour=blue", "dubai-token").await, StatusCode::BAD_REQUEST, "unknown parameter");
    outcome(&get(&app, "/fhir/Patient?_cursor=nonsense", "dubai-token").await, StatusCode::BAD_REQUEST, "a cursor no link gave");
    outcome(&get(&app, "/fhir/Patient/p-layla/$validate", "dubai-token").await, StatusCode::NOT_FOUND, "an unknown operation");
    outcome(&get(&app, "/fhir/Patient/p-layla/_history/1", "dubai-token").await, StatusCode::NOT_FOUND, "an unknown interaction");
    let post = Request::post("/fhir/Patient").header(header::AUTHORIZATION, "Bearer dubai-token").body(Body::from("{}")).expect("request");
    outcome(&send(&app, post).await, StatusCode::METHOD_NOT_ALLOWED, "create is not supported");
    let delete = Request::delete("/fhir/Patient/p-layla").header(header::AUTHORIZATION, "Bearer dubai-token").body(Body::empty()).expect("request");
    outcome(&send(&app, delete).await, StatusCode::METHOD_NOT_ALLOWED, "delete is not supported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_by_identifier_patient_and_status_and_the_reads_are_recorded() {
    let (_db, database, app) = demo().await;
    let layla = get(&app, "/fhir/Patient?identifier=http://celltrace.org/fhir/sid/mrn/dubai-clinic|DXB-100231", "dubai-token").await;
    assert_eq!(ids(&layla.body), ["p-layla"]);
    assert_eq!(get(&app, "/fhir/Patient?identifier=http://celltrace.org/fhir/sid/mrn/delhi-centre|DXB-100231", "dubai-token").await.body["total"], 0);
    let msc = get(&app, "/fhir/BiologicallyDerivedProduct?identifier=A999126000101", "dubai-token").await;
    assert!(ids(&msc.body).contains(&"u-layla-lipo".to_owned()), "{}", msc.body);
    let consents = get(&app, "/fhir/Consent?patient=p-layla&status=active", "dubai-token").await;
    assert!(!entries(&consents.body).is_empty() && entries(&consents.body).iter().all(|c| c["status"] == "active" && c["patient"]["reference"] == "Patient/p-layla"));
    let given = get(&app, "/fhir/Procedure?patient=p-layla", "dubai-token").await;
    assert!(entries(&given.body).iter().any(|p| p["code"]["coding"][0]["code"] == "administration"), "{}", given.body);
    let record = get(&app, "/fhir/Procedure?identifier=http://celltrace.org/fhir/sid/record|col-u-layla-lipo", "dubai-token").await;
    assert_eq!((record.status, ids(&record.body)), (StatusCode::OK, vec!["col-u-layla-lipo".to_owned()]));

    // A list of patients records a read of each one it shows, by the token's owner.
    let viewed_by_fatima = |trail: Vec<(celltrace_ledger::Entry, String)>| {
        trail.iter().filter(|(e, _)| e.record.kind == "record_viewed" && e.record.actor == "staff:nurse.fatima" && String::from_utf8_lossy(&e.record.payload).contains("FHIR Patient")).count()
    };
    let key = |p: &str| EntityKey::new(EntityKind::Person, p);
    let before = viewed_by_fatima(database.reader().trail(&key("p-james")).await.expect("trail"));
    let page = get(&app, "/fhir/Patient?_count=500", "dubai-token").await;
    let shown = ids(&page.body);
    assert!(shown.contains(&"p-james".to_owned()));
    for person in &shown {
        let reads = viewed_by_fatima(database.reader().trail(&key(person)).await.expect("trail"));
        assert!(reads >= 1, "{person}: the read is in the ledger");
    }
    assert_eq!(viewed_by_fatima(database.reader().trail(&key("p-james")).await.expect("trail")), before + 1, "one read per patient shown");
}
