//! The staff web application, in process against a real database: first-run
//! setup, sign-in and throttling, CSRF, every route for every role, site
//! separation, and bedside verification refusing each unsafe case by name.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use celltrace_domain::EntityKind;
use celltrace_store::{Database, Engine};
use celltrace_testkit::{now, released_unit, TestDb};
use common::web::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_asks_for_the_first_administrator() {
    let db = TestDb::sqlite();
    let engine = Engine::start(Database::open(&db.url).await.expect("open"), celltrace::engine_options(celltrace_ledger::SigningKey::from_bytes(&[3; 32])).expect("reference data"));
    let app = celltrace_web::router(celltrace::web_state(engine, "http://celltrace.test").expect("web state"));
    let mut client = Client::new(&app);
    let first = client.get("/login").await;
    assert_eq!((first.status, first.location.as_str()), (StatusCode::SEE_OTHER, "/setup"));
    let form = client.get("/setup").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = csrf_of(&form.body);
    let fields = [("csrf", csrf.as_str()), ("site_name", "Harbour Clinic"), ("country", "ae"), ("fin", "A9990"), ("name", "Mona Saleh"), ("username", "mona"), ("password", "short")];
    let weak = client.post("/setup", &fields).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("at least 12 characters") && weak.body.contains("Harbour Clinic"), "keeps what was typed");
    let mut good = fields;
    good[6] = ("password", "a long enough passphrase");
    let done = client.post("/setup", &good).await;
    assert_eq!((done.status, done.location.as_str()), (StatusCode::SEE_OTHER, "/login"));
    assert_eq!(client.get("/setup").await.location, "/login", "setup runs once");
    let signed_in = client.login("mona", "a long enough passphrase").await;
    assert_eq!((signed_in.status, signed_in.location.as_str()), (StatusCode::SEE_OTHER, "/"));
    let dashboard = client.get("/").await;
    assert!(dashboard.body.contains("Harbour Clinic") && dashboard.body.contains("Mona Saleh"));

    // The administrator then adds everyone else.
    let form = client.get("/admin/staff/new").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = csrf_of(&form.body);
    let no_role = client.post("/admin/staff/new", &[("csrf", &csrf), ("name", "Salma Idris"), ("username", "salma"), ("password", "another long passphrase")]).await;
    assert!(no_role.body.contains("at least one role") && no_role.body.contains("data-code=\"roles\""), "the rules refuse it: {}", no_role.body);
    let added = client
        .post("/admin/staff/new", &[("csrf", &csrf), ("name", "Salma Idris"), ("username", "salma"), ("roles", "nurse"), ("roles", "physician"), ("password", "another long passphrase")])
        .await;
    assert_eq!(added.location, "/admin/staff", "{}", added.body);
    assert!(client.get("/admin/staff").await.body.contains("physician, nurse"));
    let taken = client.post("/admin/staff/new", &[("csrf", &csrf), ("name", "Other"), ("username", "SALMA"), ("roles", "nurse"), ("password", "another long passphrase")]).await;
    assert!(taken.body.contains("already exists") || taken.body.contains("is taken"), "{}", taken.body);
    let mut salma = Client::new(&app);
    assert_eq!(salma.login("salma", "another long passphrase").await.location, "/");
    assert_eq!(salma.get("/admin/staff").await.status, StatusCode::FORBIDDEN, "a nurse does not manage accounts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_out_throttling_and_csrf() {
    let (_db, app) = demo_app().await;
    let mut client = Client::new(&app);
    let login_page = client.get("/login").await;
    assert!(login_page.body.contains("nurse.fatima") && login_page.body.contains("celltrace-demo"), "the demo lists its accounts");
    let wrong = client.login("nurse.fatima", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("not right") && wrong.body.contains("value=\"nurse.fatima\""));
    // A sign-in form not from celltrace is refused.
    let forged = Client::new(&app).post("/login", &[("csrf", &"0".repeat(64)), ("username", "nurse.fatima"), ("password", "celltrace-demo")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let ok = client.login("nurse.fatima", "celltrace-demo").await;
    assert_eq!(ok.location, "/");
    assert!(client.get("/").await.body.contains("Work queues"));
    // A form post without the session's token is refused and changes nothing.
    let no_token = client.post("/logout", &[("csrf", "forged")]).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert!(client.get("/").await.body.contains("Work queues"), "still signed in");
    let csrf = client.csrf().await;
    let out = client.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location, "/login");
    assert_eq!(client.get("/").await.location, "/login");

    let mut attacker = Client::new(&app);
    for _ in 0..5 {
        attacker.login("qa.mehta", "guess").await;
    }
    let locked = attacker.login("qa.mehta", "celltrace-demo").await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits after 5 failures");
}


/// A route's path with demo records for its parameters (Dubai's patient,
/// plan and unit; the shipment to Mumbai; Delhi's adverse event).
fn concrete(path: &str) -> String {
    path.replace("/adverse-events/{id}", "/adverse-events/ae-rajesh-1")
        .replace("/shipments/{id}", "/shipments/ship-layla-1")
        .replace("{time_point}/{instrument}", "6m/nprs")
        .replace("/plans/{plan}", "/plans/plan-layla")
        .replace("/plans/{id}", "/plans/plan-layla")
        .replace("/patients/{id}", "/patients/p-layla")
        .replace("/units/{id}", "/units/u-layla-msc")
        .replace("/audit/{kind}/{id}", "/audit/person/p-layla")
        .replace("/registry/plots/{instrument}/{file}", "/registry/plots/nprs/change.svg")
        .replace("/registry/{format}", "/registry/export.csv")
        .replace("/fhir/Patient/{id}", "/fhir/Patient/p-layla")
        .replace("/fhir/{resource_type}/{id}", "/fhir/Patient/p-layla")
        .replace("/fhir/{resource_type}", "/fhir/Patient")
        .replace("/api/commands/{id}", "/api/commands/c-1")
        .replace("/admin/staff/{id}", "/admin/staff/nurse.fatima")
        .replace("/tokens/{token}", "/tokens/tok-0000000000000000")
}

/// Every route of the route table, for a visitor and for one account of
/// each role: what the table says a route requires is what it enforces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_for_every_role() {
    use celltrace_domain::access::staff_allows;
    use celltrace_web::routes::Access;
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let table = celltrace_web::routes::table();
    assert!(table.len() > 80, "the table lists every route ({})", table.len());

    for route in &table {
        let path = concrete(route.path);
        assert!(!path.contains('{'), "a concrete path for {}", route.path);
        let mut anonymous = Client::new(&app);
        let page = if route.method == "GET" { anonymous.get(&path).await } else { anonymous.post(&path, &[]).await };
        let what = format!("anonymous {} {path}", route.method);
        match route.access {
            Access::Staff(_) | Access::SignedIn => assert_eq!((page.status, page.location.as_str()), (StatusCode::SEE_OTHER, "/login"), "{what}"),
            Access::Patient => assert_eq!((page.status, page.location.as_str()), (StatusCode::SEE_OTHER, "/portal/login"), "{what}"),
            Access::Token => {
                assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{what}");
                assert!(page.www_authenticate.starts_with("Bearer"), "{what}: WWW-Authenticate");
            }
            // A public form posted empty is refused or ignored, never an error of the server.
            Access::Public if route.method == "POST" => assert!(page.status.as_u16() < 500, "{what}: {}", page.status),
            Access::Public => assert!(page.status != StatusCode::FORBIDDEN && page.status != StatusCode::UNAUTHORIZED && page.status.as_u16() < 500, "{what}: {}", page.status),
        }
    }

    for (username, site) in ACCOUNTS {
        let staff: celltrace_domain::model::Staff = database.reader().get::<celltrace_domain::model::Staff>(username).await.expect("read").expect("account");
        let site_id = site.parse().expect("site");
        let mut client = Client::new(&app);
        assert_eq!(client.login(username, "celltrace-demo").await.location, "/", "{username} signs in");
        for route in &table {
            let Access::Staff(permission) = route.access else { continue };
            let path = concrete(route.path);
            let page = if route.method == "GET" { client.get(&path).await } else { client.post(&path, &[("csrf", "missing")]).await };
            let refused_for_role = page.status == StatusCode::FORBIDDEN && page.body.contains("do not let you");
            let what = format!("{username} at {site}: {} {path}: {}", route.method, page.status);
            if staff_allows(&staff, &site_id, permission) {
                assert!(!refused_for_role, "{what}: allowed, but refused for the role");
                assert!(page.status.as_u16() < 500, "{what}");
                if route.method == "POST" {
                    assert_eq!(page.status, StatusCode::FORBIDDEN, "{what}: a post without a valid CSRF token is refused");
                }
            } else {
                assert!(refused_for_role, "{what}: the role may not, so it must be refused");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_of_one_site_never_see_another_sites_patients() {
    let (_db, app) = demo_app().await;
    let mut delhi = Client::new(&app);
    delhi.login("nurse.priya", "celltrace-demo").await;
    let list = delhi.get("/patients").await;
    assert!(list.body.contains("Rajesh Kumar") && !list.body.contains("Layla"), "Delhi lists only Delhi's patients");
    assert_eq!(delhi.get("/patients/p-layla").await.status, StatusCode::NOT_FOUND);
    assert_eq!(delhi.get("/patients/p-rajesh").await.status, StatusCode::OK);
    let mut dubai = Client::new(&app);
    dubai.login("dr.haddad", "celltrace-demo").await;
    assert_eq!(dubai.get("/patients/p-rajesh").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_patient_record_is_recorded_in_the_ledger() {
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let key = celltrace_domain::EntityKey::new(EntityKind::Person, "p-layla");
    let before = database.reader().trail(&key).await.expect("trail").len();
    let mut client = Client::new(&app);
    client.login("dr.haddad", "celltrace-demo").await;
    let page = client.get("/patients/p-layla").await;
    assert_eq!(page.status, StatusCode::OK);
    let trail = database.reader().trail(&key).await.expect("trail");
    assert_eq!(trail.len(), before + 1);
    let (last, _) = trail.last().expect("entry");
    assert_eq!((last.record.kind.as_str(), last.record.actor.as_str()), ("record_viewed", "staff:dr.haddad"));
    // An autologous unit's page and label carry the patient's identification: reads too.
    assert_eq!(client.get("/units/u-layla-msc").await.status, StatusCode::OK);
    assert_eq!(client.get("/units/u-layla-msc/label.png").await.status, StatusCode::OK);
    let trail = database.reader().trail(&key).await.expect("trail");
    assert_eq!(trail.len(), before + 3);
    assert!(String::from_utf8_lossy(&trail.last().expect("entry").0.record.payload).contains("label image of unit u-layla-msc"));
}

async fn scan(client: &mut Client, patient: u32, unit: u32) -> Page {
    let csrf = client.csrf().await;
    let wristband = format!("&#01{:02}MRN{patient}", format!("MRN{patient}").len());
    let label = format!("=A999826{unit:06}00");
    client.post("/bedside", &[("csrf", &csrf), ("wristband", &wristband), ("unit_scan", &label)]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bedside_refuses_each_unsafe_case_by_name_and_records_a_witnessed_administration() {
    let (_db, app) = bedside_app().await;
    let mut nurse = Client::new(&app);
    assert_eq!(nurse.login("nurse", "nurse password 1").await.location, "/");

    let other_patient = scan(&mut nurse, 1, 2).await;
    assert!(other_patient.body.contains("STOP — do not administer") && other_patient.body.contains("autologous material of another patient"), "wrong patient");
    let expired = scan(&mut nurse, 3, 3).await;
    assert!(expired.body.contains("STOP") && expired.body.contains("expired"), "expired");
    let unreleased = scan(&mut nurse, 4, 4).await;
    assert!(unreleased.body.contains("STOP") && unreleased.body.contains("in quarantine (not released)"), "unreleased");
    let withdrawn = scan(&mut nurse, 5, 5).await;
    assert!(withdrawn.body.contains("STOP") && withdrawn.body.contains("withdrew consent"), "withdrawn consent");

    let good = scan(&mut nurse, 1, 1).await;
    assert!(good.body.contains("PASS — all checks met"), "{}", good.body);
    let csrf = csrf_of(&good.body);
    let base = [("csrf", csrf.as_str()), ("unit", "u-1"), ("plan", "plan-1"), ("patient", "p-1"), ("body_site", "right elbow")];
    let mut bad_witness = base.to_vec();
    bad_witness.extend([("witness", "nurse2"), ("witness_password", "wrong")]);
    let refused = nurse.post("/bedside/administer", &bad_witness).await;
    assert!(refused.body.contains("nothing was signed"), "a witness must re-enter their password");
    let mut self_witness = base.to_vec();
    self_witness.extend([("witness", "nurse"), ("witness_password", "nurse password 1")]);
    let refused = nurse.post("/bedside/administer", &self_witness).await;
    assert!(refused.body.contains("second person"), "the witness cannot be the operator");
    let mut witnessed = base.to_vec();
    witnessed.extend([("witness", "nurse2"), ("witness_password", "nurse password 1")]);
    let done = nurse.post("/bedside/administer", &witnessed).await;
    assert!(done.body.contains("Administration recorded"), "{}", done.body);
    let again = scan(&mut nurse, 1, 1).await;
    assert!(again.body.contains("has already been administered"), "a unit is given once");

    let mut logistics = Client::new(&app);
    logistics.login("logistics", "nurse password 1").await;
    assert_eq!(logistics.get("/bedside").await.status, StatusCode::FORBIDDEN, "logistics may not administer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qc_and_release_with_an_e_signature() {
    let (db, app) = bedside_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let mut tech = Client::new(&app);
    tech.login("tech", "nurse password 1").await;
    let form = tech.get("/units/u-4/qc").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = csrf_of(&form.body);
    let incomplete = tech.post("/units/u-4/qc", &[("csrf", &csrf), ("test", "viability"), ("value", ""), ("specification", ">= 70 %"), ("outcome", "in_specification")]).await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(incomplete.body.contains("Fill in: Result") && incomplete.body.contains("value=\"viability\""), "keeps what was typed and names the field");
    assert!(incomplete.body.contains("aria-invalid=\"true\""), "marks the field");
    // A sterility culture read minutes after the last manipulation is refused: it incubates 14 days.
    let too_early = tech.post("/units/u-4/qc", &[("csrf", &csrf), ("test", "sterility"), ("value", "no growth"), ("specification", "no growth"), ("outcome", "in_specification")]).await;
    assert_eq!(too_early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_early.body.contains("14 days of incubation"), "{}", too_early.body);
    let recorded = tech.post("/units/u-4/qc", &[("csrf", &csrf), ("test", "viability"), ("value", "91 %"), ("specification", ">= 70 %"), ("outcome", "in_specification")]).await;
    assert_eq!(recorded.location, "/units/u-4");
    assert_eq!(tech.get("/units/u-4/release").await.status, StatusCode::FORBIDDEN, "a lab technologist cannot release");

    let mut qa = Client::new(&app);
    qa.login("qa", "nurse password 1").await;
    let unit_page = qa.get("/units/u-4").await;
    assert!(unit_page.body.contains("Release with e-signature"));
    let form = qa.get("/units/u-4/release").await;
    assert!(form.body.contains("I confirm that this unit meets its specification"), "the signer reads the meaning");
    let csrf = csrf_of(&form.body);
    let wrong = qa.post("/units/u-4/release", &[("csrf", &csrf), ("signature_password", "not mine")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("nothing was signed"));
    let unit: celltrace_domain::model::Unit = database.reader().get::<celltrace_domain::model::Unit>("u-4").await.expect("read").expect("unit");
    assert_eq!(unit.status, celltrace_domain::model::UnitStatus::Quarantine, "a refused signature changes nothing");
    let signed = qa.post("/units/u-4/release", &[("csrf", &csrf), ("signature_password", "nurse password 1")]).await;
    assert_eq!(signed.location, "/units/u-4");
    let unit: celltrace_domain::model::Unit = database.reader().get::<celltrace_domain::model::Unit>("u-4").await.expect("read").expect("unit");
    assert_eq!(unit.status, celltrace_domain::model::UnitStatus::Released);
    assert_eq!(unit.release.first().map(|s| (s.signer.as_str(), s.meaning)), Some(("qa", celltrace_domain::model::SignatureMeaning::Release)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adverse_events_and_new_patients_are_entered_through_forms() {
    let (db, app) = bedside_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let mut doc = Client::new(&app);
    doc.login("doc", "nurse password 1").await;
    let form = doc.get("/patients/p-1/adverse-event").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = csrf_of(&form.body);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("plan", "plan-1"),
        ("term", "Injection site reaction"),
        ("grade", "5"),
        ("onset", "2026-11-20"),
        ("relatedness", "probable"),
        ("action", "Ice, observation"),
        ("outcome", "Recovered"),
        ("description", "Redness and swelling at the elbow."),
    ];
    let refused = doc.post("/patients/p-1/adverse-event", &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Grade 5 means death"), "the rule's message is shown");
    let mut arthralgia = fields.clone();
    arthralgia[2] = ("term", "arthralgia");
    arthralgia[3] = ("grade", "4");
    let refused = doc.post("/patients/p-1/adverse-event", &arthralgia).await;
    assert!(refused.body.contains("Arthralgia has no grade 4. Its grades are: 1: Mild pain"), "the term's own grades are shown");
    let mut unknown = fields.clone();
    unknown[2] = ("term", "Sore elbow");
    let refused = doc.post("/patients/p-1/adverse-event", &unknown).await;
    assert!(refused.body.contains("is not a CTCAE v5.0 term"));
    assert!(refused.body.contains("Redness and swelling at the elbow."), "what was typed is kept");
    fields[3] = ("grade", "3");
    fields.push(("seriousness", "hospitalisation"));
    let done = doc.post("/patients/p-1/adverse-event", &fields).await;
    assert_eq!(done.location, "/patients/p-1");
    let events = database.reader().adverse_events_of(&[celltrace_domain::ids::PersonId::parse("p-1").expect("id")]).await.expect("list");
    assert_eq!(events.len(), 1);
    let ae = &events[0];
    assert!(ae.is_serious() && ae.grade == 3 && ae.term == "Injection site reaction");
    let dashboard = doc.get("/").await;
    assert!(dashboard.body.contains("SERIOUS"), "the dashboard lists the serious event");
    let report = doc.get(&format!("/adverse-events/{}", ae.id)).await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(report.body.contains("Adverse event report — SERIOUS") && report.body.contains("Injection site reaction") && report.body.contains("hospitalisation"), "{}", report.body);

    let form = doc.get("/patients/new").await;
    let csrf = csrf_of(&form.body);
    let bad_date = doc.post("/patients/new", &[("csrf", &csrf), ("kind", "patient"), ("mrn", "MRN-NEW"), ("name", "सुनीता शर्मा"), ("date_of_birth", "1990-02-30"), ("sex", "female"), ("language", "hi")]).await;
    assert_eq!(bad_date.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_date.body.contains("not a date") && bad_date.body.contains("सुनीता शर्मा"));
    let ok = doc.post("/patients/new", &[("csrf", &csrf), ("kind", "patient"), ("mrn", "MRN-NEW"), ("name", "सुनीता शर्मा"), ("date_of_birth", "1990-02-28"), ("sex", "female"), ("language", "hi")]).await;
    assert!(ok.location.starts_with("/patients/p-"), "{}", ok.location);
    let page = doc.get(&ok.location).await;
    assert!(page.body.contains("सुनीता शर्मा") && page.body.contains("MRN-NEW"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_autologous_path_from_eligibility_to_bedside_through_the_forms() {
    let (db, app) = bedside_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    // A patient with a plan (made by the fixture), nothing else yet.
    let engine = Engine::start(database.clone(), celltrace::engine_options(celltrace_ledger::SigningKey::from_bytes(&[3; 32])).expect("reference data"));
    for sub in released_unit(7, now()).into_iter().take(2) {
        engine.submit(sub).await.expect("person and plan");
    }

    let mut doc = Client::new(&app);
    doc.login("doc", "nurse password 1").await;
    let patient = doc.get("/patients/p-7").await;
    assert!(patient.body.contains("Assess eligibility") && patient.body.contains("Record consent"));
    let form = doc.get("/plans/plan-7/eligibility").await;
    let csrf = csrf_of(&form.body);
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf), ("findings", "all checked today"), ("valid_days", "30")];
    for code in ["age", "no_active_cancer", "no_active_infection", "not_pregnant", "no_anticoagulation", "no_immunosuppression", "baseline_severity", "imaging"] {
        fields.push((code, "met"));
    }
    assert_eq!(doc.post("/plans/plan-7/eligibility", &fields).await.location, "/patients/p-7");
    // A consent on a template version this installation does not hold is refused: the patient must read what they sign.
    let unknown = [("csrf", csrf.as_str()), ("template", "celltrace-consent"), ("template_version", "1.0"), ("language", "en"), ("witness", "nurse"), ("witness_password", "nurse password 1")];
    let refused = doc.post("/plans/plan-7/consent", &unknown).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("version 1.0 is not one celltrace ships"), "{}", refused.body);
    let consent = [("csrf", csrf.as_str()), ("template", "celltrace-consent"), ("template_version", "2026.1"), ("language", "en"), ("witness", "nurse"), ("witness_password", "nurse password 1")];
    assert_eq!(doc.post("/plans/plan-7/consent", &consent).await.location, "/patients/p-7");
    let document = doc.get("/plans/plan-7/consent-document?lang=ar").await;
    assert_eq!(document.status, StatusCode::OK);
    assert!(document.body.contains(r#"dir="rtl""#) && document.body.contains("الموافقة على العلاج"), "the consent document in Arabic");

    let mut nurse = Client::new(&app);
    nurse.login("nurse", "nurse password 1").await;
    let csrf = nurse.csrf().await;
    let collected = nurse
        .post("/plans/plan-7/collection", &[("csrf", &csrf), ("tissue", "peripheral_blood"), ("product_code", "S5001100"), ("volume", "30"), ("unit", "mL"), ("shelf_hours", "6")])
        .await;
    assert!(collected.location.starts_with("/units/u-"), "{}", collected.body);
    let starting = collected.location.trim_start_matches("/units/").to_owned();
    let unit: celltrace_domain::model::Unit = database.reader().get::<celltrace_domain::model::Unit>(&starting).await.expect("read").expect("unit");
    assert!(unit.din.starts_with("A999826"), "a DIN of the site's FIN was assigned: {}", unit.din);

    let mut tech = Client::new(&app);
    tech.login("tech", "nurse password 1").await;
    let csrf = tech.csrf().await;
    let processed = tech
        .post(&format!("/units/{starting}/process"), &[("csrf", &csrf), ("kind", "prp_preparation"), ("outputs", "S5002100"), ("volume", "4"), ("unit", "mL"), ("shelf_days", "1"), ("equipment", "PRP centrifuge"), ("lots", "KIT-1"), ("parameters", "spins=2")])
        .await;
    let prp = processed.location.trim_start_matches("/units/").to_owned();
    assert_ne!(prp, starting, "{}", processed.body);
    tech.post(&format!("/units/{prp}/qc"), &[("csrf", &csrf), ("test", "platelet concentration"), ("value", "1100"), ("specification", ">= 1000"), ("outcome", "in_specification")]).await;

    let mut qa = Client::new(&app);
    qa.login("qa", "nurse password 1").await;
    let csrf = qa.csrf().await;
    assert_eq!(qa.post(&format!("/units/{prp}/release"), &[("csrf", &csrf), ("signature_password", "nurse password 1")]).await.location, format!("/units/{prp}"));

    let prp_unit: celltrace_domain::model::Unit = database.reader().get::<celltrace_domain::model::Unit>(&prp).await.expect("read").expect("unit");
    assert_eq!(prp_unit.status, celltrace_domain::model::UnitStatus::Released);
    let csrf = nurse.csrf().await;
    let wristband = "&#0104MRN7";
    let label = format!("=A{}00=<S5002100", &prp_unit.din[1..]);
    let check = nurse.post("/bedside", &[("csrf", &csrf), ("wristband", wristband), ("unit_scan", &label)]).await;
    assert!(check.body.contains("PASS — all checks met"), "{}", check.body);
    let done = nurse
        .post("/bedside/administer", &[("csrf", &csrf), ("unit", &prp), ("plan", "plan-7"), ("patient", "p-7"), ("body_site", "right elbow"), ("witness", "nurse2"), ("witness_password", "nurse password 1")])
        .await;
    assert!(done.body.contains("Administration recorded"), "{}", done.body);
    let report = celltrace_store::verify::verify(&database, &celltrace_ledger::SigningKey::from_bytes(&[3; 32]).verifying_key()).await.expect("verify");
    assert!(report.ok(), "{:?}", report.findings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipment_is_received_with_its_temperature_log() {
    let (db, app) = demo_app().await;
    let mut khan = Client::new(&app);
    khan.login("log.khan", "celltrace-demo").await;
    // log.khan starts at Mumbai, where exosome aliquot u-exo-01b is stored.
    let csrf = khan.csrf().await;
    let sent = khan.post("/units/u-exo-01b/dispatch", &[("csrf", &csrf), ("to_site", "delhi-centre"), ("courier", "dry ice"), ("signature_password", "celltrace-demo")]).await;
    assert_eq!(sent.location, "/units/u-exo-01b", "{}", sent.body);
    khan.post("/site", &[("csrf", &csrf), ("site", "delhi-centre")]).await;
    let database_page = khan.get("/").await;
    assert!(database_page.body.contains("mumbai-lab → delhi-centre"));
    let shipment = {
        let start = database_page.body.find("ship-").expect("shipment id in the queue");
        database_page.body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>()
    };
    let bad_log = khan
        .post(&format!("/shipments/{shipment}/receive"), &[("csrf", &csrf), ("condition", "ok"), ("min", "-80"), ("max", "-65"), ("log", "time,temperature_c\n2026-11-23T01:00Z,warm\n"), ("signature_password", "celltrace-demo")])
        .await;
    assert!(bad_log.body.contains("line 2, column temperature") && bad_log.body.contains("nothing was recorded"), "{}", bad_log.body);
    let log = "time,temperature_c\n2026-11-23T01:00Z,-75\n2026-11-23T01:10Z,-61.5\n2026-11-23T01:20Z,-74\n";
    let received = khan
        .post(&format!("/shipments/{shipment}/receive"), &[("csrf", &csrf), ("condition", "ok"), ("min", "-80"), ("max", "-65"), ("log", log), ("signature_password", "celltrace-demo")])
        .await;
    assert_eq!(received.location, "/units/u-exo-01b", "{}", received.body);
    let database = Database::connect(&db.url).await.expect("db");
    let s: celltrace_domain::model::Shipment = database.reader().get::<celltrace_domain::model::Shipment>(&shipment).await.expect("read").expect("shipment");
    assert_eq!(s.excursions, ["2026-11-23T01:10Z to 2026-11-23T01:10Z: reached -61.5 °C (1 reading)"]);
}

fn plan_fields<'a>(csrf: &'a str, indication: &'a str, product: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("indication", indication),
        ("product_type", product),
        ("route", "injection"),
        ("sessions", "1"),
        ("dose", "2"),
        ("dose_unit", "mL"),
        ("cost", "3500"),
        ("currency", "USD"),
        ("trial", ""),
        ("ethics", ""),
    ]
}

async fn newest_plan(database: &Database, patient: &str) -> celltrace_domain::model::Plan {
    let plans = database.reader().plans_of(&celltrace_domain::ids::PersonId::parse(patient).expect("id")).await.expect("plans");
    plans.into_iter().max_by_key(|p| p.created_at).expect("a plan of the patient")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_evidence_guard_rates_plans_ordered_in_the_browser() {
    use celltrace_domain::model::{EvidenceStatus, PlanStatus};
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");

    // Delhi does not permit unproven treatments: exosomes for hair loss stay blocked.
    let mut sharma = Client::new(&app);
    sharma.login("dr.sharma", "celltrace-demo").await;
    let csrf = sharma.csrf().await;
    let ordered = sharma.post("/patients/p-vikram/plan", &plan_fields(&csrf, "L64.9", "msc-exosome")).await;
    assert_eq!(ordered.location, "/patients/p-vikram", "{}", ordered.body);
    let plan = newest_plan(&database, "p-vikram").await;
    assert_eq!((plan.status, plan.evidence.status), (PlanStatus::Blocked, EvidenceStatus::Unproven));
    assert!(!plan.evidence.sources.is_empty() && !plan.evidence.data_version.is_empty(), "the rating records its sources and data version");
    let mut iyer = Client::new(&app);
    iyer.login("md.iyer", "celltrace-demo").await;
    let csrf = iyer.csrf().await;
    iyer.post(&format!("/plans/{}/acknowledge", plan.id), &[("csrf", &csrf)]).await;
    let refused = iyer.post(&format!("/plans/{}/override", plan.id), &[("csrf", &csrf), ("reason", "asked by the patient"), ("signature_password", "celltrace-demo")]).await;
    assert!(refused.body.contains("does not permit unproven treatments"), "{}", refused.body);

    // A malformed trial number is refused with the expected format.
    let csrf = sharma.csrf().await;
    let mut with_trial = plan_fields(&csrf, "M17.9", "autologous-bone-marrow");
    with_trial[9] = ("trial", "NCT123");
    with_trial[10] = ("ethics", "IEC-1");
    let bad = sharma.post("/patients/p-vikram/plan", &with_trial).await;
    assert!(bad.body.contains("NCT and 8 digits"), "{}", bad.body);

    // HPC cord blood for a blood disorder is approved and proceeds.
    let csrf = sharma.csrf().await;
    let approved = sharma.post("/patients/p-meera/plan", &plan_fields(&csrf, "D61.9", "cord-blood-hpc")).await;
    assert_eq!(approved.location, "/patients/p-meera");
    assert_eq!(newest_plan(&database, "p-meera").await.status, PlanStatus::Active, "the approved plan is active");

    // Dubai permits unproven treatments, only with the patient's acknowledgement and the director's e-signature.
    let mut khoury = Client::new(&app);
    khoury.login("dr.khoury", "celltrace-demo").await;
    let csrf = khoury.csrf().await;
    khoury.post("/patients/p-sarah/plan", &plan_fields(&csrf, "M54.50", "autologous-adipose")).await;
    let plan = newest_plan(&database, "p-sarah").await;
    assert_eq!(plan.status, PlanStatus::Blocked);
    let mut director = Client::new(&app);
    director.login("md.alsayed", "celltrace-demo").await;
    let csrf = director.csrf().await;
    let early = director.post(&format!("/plans/{}/override", plan.id), &[("csrf", &csrf), ("reason", "asked by the patient"), ("signature_password", "celltrace-demo")]).await;
    assert!(early.body.contains("has not signed the plain-language warning"), "{}", early.body);
    let page = khoury.get("/patients/p-sarah").await;
    assert!(page.body.contains("Record the patient&#x27;s signed acknowledgement") || page.body.contains("signed acknowledgement"));
    let csrf = khoury.csrf().await;
    khoury.post(&format!("/plans/{}/acknowledge", plan.id), &[("csrf", &csrf)]).await;
    let csrf = director.csrf().await;
    let signed = director.post(&format!("/plans/{}/override", plan.id), &[("csrf", &csrf), ("reason", "asked by the patient after reading the evidence"), ("signature_password", "celltrace-demo")]).await;
    assert_eq!(signed.location, "/patients/p-sarah", "{}", signed.body);
    let after: celltrace_domain::model::Plan = database.reader().get::<celltrace_domain::model::Plan>(plan.id.as_str()).await.expect("read").expect("plan");
    assert_eq!(after.status, PlanStatus::Active);
    assert_eq!(after.override_signature.map(|s| s.signer.to_string()), Some("md.alsayed".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookback_batch_record_follow_up_and_exceptional_release() {
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    // A collagenase lot used at the Mumbai lab: both adipose patients' units, one given. The
    // auditor audits every site, so sees them all (a site's QA sees their site's: tests/recall.rs).
    let mut qa = Client::new(&app);
    qa.login("auditor", "celltrace-demo").await;
    let traced = qa.get("/lookback?by=lot&q=COLL-2026-0412%20collagenase").await;
    assert_eq!(traced.status, StatusCode::OK);
    assert!(traced.body.contains("A999126000101 S1003100") && traced.body.contains("A999126000104 S1002100"), "{}", traced.body);
    assert!(traced.body.contains("Layla Al-Hassan"), "the Dubai patient who received a unit is named at Dubai");
    let by_donor = qa.get("/lookback?by=donor&q=LCB-50071").await;
    assert!(by_donor.body.contains("A999426000301 S3002V00") && by_donor.body.contains("patient p-aarav at delhi-centre"), "other sites' patients are not named");

    let mut tech = Client::new(&app);
    tech.login("tech.rao", "celltrace-demo").await;
    let batch = tech.get("/units/u-fatima-msc/batch").await;
    assert!(batch.body.contains("Isolation") && batch.body.contains("Expansion") && batch.body.contains("viability: 88 %"), "{}", batch.body);

    let mut nurse = Client::new(&app);
    nurse.login("nurse.fatima", "celltrace-demo").await;
    let csrf = nurse.csrf().await;
    let recorded = nurse.post("/plans/plan-layla/follow-up", &[("csrf", &csrf), ("time_point", "6m"), ("instrument", "NPRS"), ("score", "3"), ("notes", "")]).await;
    assert_eq!(recorded.location, "/patients/p-layla");
    let plan: celltrace_domain::model::Plan = database.reader().get::<celltrace_domain::model::Plan>("plan-layla").await.expect("read").expect("plan");
    assert!(plan.follow_ups.iter().any(|f| f.time_point == "6m" && f.score_milli == Some(3000)));

    // Out of specification: only an exceptional release with a physician's signature.
    let mut lab = Client::new(&app);
    lab.login("tech.rao", "celltrace-demo").await;
    let csrf = lab.csrf().await;
    lab.post("/units/u-fatima-msc/qc", &[("csrf", &csrf), ("test", "endotoxin"), ("value", "6 EU/kg"), ("specification", "< 5 EU/kg"), ("outcome", "out_of_specification")]).await;
    let mut mehta = Client::new(&app);
    mehta.login("qa.mehta", "celltrace-demo").await;
    let csrf = mehta.csrf().await;
    let normal = mehta.post("/units/u-fatima-msc/release", &[("csrf", &csrf), ("signature_password", "celltrace-demo")]).await;
    assert!(normal.body.contains("out of specification"), "{}", normal.body);
    let page = mehta.get("/units/u-fatima-msc").await;
    assert!(page.body.contains("Exceptional release (out of specification)"), "{}", page.body);
    // The physician's signature needs the physician's own password.
    let forged = [("csrf", csrf.as_str()), ("justification", "No alternative; benefit explained"), ("patient_informed", "yes"), ("physician", "dr.nair"), ("physician_password", "guessed"), ("signature_password", "celltrace-demo")];
    assert_eq!(mehta.post("/units/u-fatima-msc/exceptional-release", &forged).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = [("csrf", csrf.as_str()), ("justification", "No alternative; benefit explained"), ("patient_informed", "yes"), ("physician", "dr.nair"), ("physician_password", "celltrace-demo"), ("signature_password", "celltrace-demo")];
    let signed = mehta.post("/units/u-fatima-msc/exceptional-release", &fields).await;
    assert_eq!(signed.location, "/units/u-fatima-msc", "{}", signed.body);
    let unit: celltrace_domain::model::Unit = database.reader().get::<celltrace_domain::model::Unit>("u-fatima-msc").await.expect("read").expect("unit");
    assert!(unit.exceptional && unit.release.len() == 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_export_suppresses_small_cells() {
    let (_db, app) = demo_app().await;
    let mut md = Client::new(&app);
    md.login("md.alsayed", "celltrace-demo").await;
    let csv = md.get("/registry/export.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].starts_with("instrument,indication,product_type,site,time_point,n_treated"));
    assert!(lines.len() > 1);
    // The demo's groups have one or two patients each: every number is withheld.
    assert!(lines[1..].iter().all(|l| l.contains("suppressed")), "{}", csv.body);
    assert!(!lines[1..].iter().any(|l| l.split(',').nth(5).is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n < 5))), "no count under 5 is published");
    let json = md.get("/registry/export.json").await;
    let value: serde_json::Value = serde_json::from_str(&json.body).expect("json");
    assert_eq!(value["suppression"], "cells with fewer than 5 patients are withheld");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_lets_a_patient_in_with_a_one_time_code_and_shows_only_their_record() {
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let mut nurse = Client::new(&app);
    nurse.login("nurse.fatima", "celltrace-demo").await;
    let patient_page = nurse.get("/patients/p-fatima").await;
    let csrf = csrf_of(&patient_page.body);
    assert_eq!(nurse.post("/patients/p-fatima/portal-code", &[("csrf", "forged")]).await.status, StatusCode::FORBIDDEN);
    let slip = nurse.post("/patients/p-fatima/portal-code", &[("csrf", &csrf)]).await;
    assert_eq!(slip.status, StatusCode::OK);
    let marker = "id=\"portal-code\">";
    let start = slip.body.find(marker).expect("the code on the slip") + marker.len();
    let code = slip.body[start..start + 12].to_owned();
    // Donors get no portal; other sites' patients are not found.
    assert_eq!(nurse.post("/patients/d-cord-wilson/portal-code", &[("csrf", &csrf)]).await.status, StatusCode::NOT_FOUND);

    let mut patient = Client::new(&app);
    assert_eq!(patient.get("/portal").await.location, "/portal/login");
    let form = patient.get("/portal/activate").await;
    let login_csrf = csrf_of(&form.body);
    let short = patient.post("/portal/activate", &[("csrf", &login_csrf), ("patient_number", "p-fatima"), ("code", &code), ("password", "short"), ("repeat", "short")]).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let password = "a long patient password";
    let forged = patient.post("/portal/activate", &[("csrf", "x"), ("patient_number", "p-fatima"), ("code", &code), ("password", password), ("repeat", password)]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "a forged activation changes nothing");
    let ok = patient.post("/portal/activate", &[("csrf", &login_csrf), ("patient_number", "p-fatima"), ("code", &code), ("password", password), ("repeat", password)]).await;
    assert_eq!(ok.location, "/portal", "{}", ok.body);
    let home = patient.get("/portal").await;
    assert!(home.body.contains(r#"<html lang="ar" dir="rtl">"#), "the record's language");
    assert!(home.body.contains("فاطمة الزهراء"));
    // The code is used up.
    let mut again = Client::new(&app);
    let form = again.get("/portal/activate").await;
    let reuse = again.post("/portal/activate", &[("csrf", &csrf_of(&form.body)), ("patient_number", "p-fatima"), ("code", &code), ("password", password), ("repeat", password)]).await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);

    // A patient session opens no staff page and no other patient's plan.
    assert_eq!(patient.get("/patients").await.location, "/login");
    assert_eq!(patient.get("/portal/plans/plan-layla/consent").await.status, StatusCode::NOT_FOUND);
    assert_eq!(patient.get("/portal/plans/plan-fatima/consent").await.status, StatusCode::OK);
    let data = patient.get("/portal/my-data.json").await;
    let data: serde_json::Value = serde_json::from_str(&data.body).expect("json");
    assert_eq!(data["person"]["id"], "p-fatima");
    assert!(data["plans"].as_array().expect("plans").iter().all(|p| p["patient"] == "p-fatima"));

    // Withdrawal: a forged form changes nothing; the real one is recorded with the patient as actor.
    let portal_csrf = csrf_of(&home.body);
    assert_eq!(patient.post("/portal/plans/plan-fatima/withdraw", &[("csrf", "forged"), ("confirm", "yes")]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(patient.post("/portal/plans/plan-fatima/withdraw", &[("csrf", &portal_csrf)]).await.status, StatusCode::UNPROCESSABLE_ENTITY, "the box must be ticked");
    let plan: celltrace_domain::model::Plan = database.reader().get::<celltrace_domain::model::Plan>("plan-fatima").await.expect("read").expect("plan");
    assert!(plan.current_consent().is_some(), "nothing changed yet");
    let done = patient.post("/portal/plans/plan-fatima/withdraw", &[("csrf", &portal_csrf), ("reason", "changed my mind"), ("confirm", "yes")]).await;
    assert_eq!(done.location, "/portal?done=withdrawn");
    let plan: celltrace_domain::model::Plan = database.reader().get::<celltrace_domain::model::Plan>("plan-fatima").await.expect("read").expect("plan");
    assert!(plan.current_consent().is_none());
    let trail = database.reader().trail(&celltrace_domain::EntityKey::new(EntityKind::Plan, "plan-fatima")).await.expect("trail");
    let (last, _) = trail.last().expect("entries");
    assert_eq!((last.record.kind.as_str(), last.record.actor.as_str()), ("consent_withdrawn", "patient:p-fatima"));
    let reads = database.reader().trail(&celltrace_domain::EntityKey::new(EntityKind::Person, "p-fatima")).await.expect("trail");
    assert!(reads.iter().any(|(e, _)| e.record.kind == "record_viewed" && e.record.actor == "patient:p-fatima"), "the patient's reads are in the audit trail");

    // Signing out ends the session.
    assert_eq!(patient.post("/portal/logout", &[("csrf", &portal_csrf)]).await.location, "/portal/login");
    assert_eq!(patient.get("/portal").await.location, "/portal/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_enter_a_paper_questionnaire_and_the_registry_counts_it() {
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let mut doc = Client::new(&app);
    doc.login("dr.sharma", "celltrace-demo").await;
    let page = doc.get("/patients/p-rajesh").await;
    assert!(page.body.contains("6m koos: <span class=\"badge\">due until"), "the schedule shows what is due");
    let form = doc.get("/plans/plan-rajesh/questionnaires/6m/koos").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Knee injury and Osteoarthritis Outcome Score") || form.body.contains("KOOS"));
    let csrf = csrf_of(&form.body);
    // Nothing entered: refused, nothing recorded.
    let empty = doc.post("/plans/plan-rajesh/questionnaires/6m/koos", &[("csrf", &csrf), ("language", "hi")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("No question was answered") && empty.body.contains("data-code=\"no_answers\""), "the rules refuse it: {}", empty.body);
    // The pain items answered on paper (all "mild"), the rest left blank.
    let koos = &celltrace_web::kit::questionnaires::instruments().expect("instruments")["koos"];
    let pain = koos.subscale("pain").expect("pain subscale");
    let mut fields: Vec<(String, String)> = vec![("csrf".into(), csrf.clone()), ("language".into(), "hi".into())];
    fields.extend(pain.items.iter().map(|i| (format!("item:{i}"), "1".to_owned())));
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let done = doc.post("/plans/plan-rajesh/questionnaires/6m/koos", &borrowed).await;
    assert_eq!(done.location, "/patients/p-rajesh", "{}", done.body);
    let plan: celltrace_domain::model::Plan = database.reader().get::<celltrace_domain::model::Plan>("plan-rajesh").await.expect("read").expect("plan");
    let response = plan.responses.last().expect("recorded");
    assert_eq!(response.scores.get("KOOS pain"), Some(&Some(75_000)), "100 - 1 x 25");
    assert_eq!(response.scores.get("KOOS symptoms"), Some(&None), "blank on paper: not scored, not imputed");
    assert!(matches!(response.source, celltrace_domain::model::ResponseSource::Paper(ref s) if s.as_str() == "dr.sharma"));
    // Twice is refused; the registry now has a 6-month KOOS pain score for this plan.
    assert_eq!(doc.get("/plans/plan-rajesh/questionnaires/6m/koos").await.status, StatusCode::CONFLICT);
    let koos_pain = celltrace_web::staff::registry::read_registry(database.reader()).await.expect("registry").into_iter().find(|a| a.instrument == "KOOS pain").expect("analysed");
    let six = koos_pain.report.pooled.time_points.iter().find(|t| t.time_point == "6m").expect("6m");
    assert_eq!(six.n_followed, 1, "the paper answers count at 6 months");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_download_as_csv() {
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let mut doc = Client::new(&app);
    doc.login("dr.haddad", "celltrace-demo").await;
    let patients = doc.get("/patients?format=csv").await;
    assert_eq!(patients.status, StatusCode::OK);
    let mut lines = patients.body.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next(), Some("person_id,mrn,name,date_of_birth,kind,sex,language"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.iter().any(|r| r.starts_with("p-layla,DXB-100231,ليلى الحسن (Layla Al-Hassan),1979-04-12,patient,female,ar")), "{rows:?}");
    assert!(!rows.iter().any(|r| r.contains("p-rajesh")), "only this site's people");
    let trail = database.reader().trail(&celltrace_domain::EntityKey::new(EntityKind::Person, "p-layla")).await.expect("trail");
    assert!(trail.iter().any(|(e, _)| e.record.kind == "record_viewed" && String::from_utf8_lossy(&e.record.payload).contains("exported as CSV")));

    let mut auditor = Client::new(&app);
    auditor.login("auditor", "celltrace-demo").await;
    let trail = auditor.get("/audit/person/p-layla?format=csv").await;
    assert!(trail.body.contains("entry,recorded_at_utc,actor,site,kind,what,command,hash,payload") && trail.body.contains("person_registered"), "{}", trail.body);

    let units = doc.get("/units?format=csv").await;
    assert!(units.body.contains("unit_id,din,product_code") && units.body.contains("A999126000101"), "{}", units.body);
    assert!(doc.get("/admin/staff?format=csv").await.status == StatusCode::FORBIDDEN, "a physician may not list accounts");
    let mut admin = Client::new(&app);
    admin.login("admin", "celltrace-demo").await;
    let staff = admin.get("/admin/staff?format=csv").await;
    assert!(staff.body.contains("username,name,roles,state") && staff.body.contains("dr.haddad,"), "{}", staff.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_loads_evidence_data_from_the_browser() {
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/evidence");
    let read = |name: &str| std::fs::read_to_string(shipped.join(name)).expect("shipped file").replace("2026.01.1", "2026.12.1");
    let mut admin = Client::new(&app);
    admin.login("admin", "celltrace-demo").await;
    let page = admin.get("/admin/evidence").await;
    assert!(page.body.contains("2026.01.1") && page.body.contains("shipped with this build"), "{}", page.body);
    let csrf = csrf_of(&page.body);
    let (indications, status, products) = (read("indications.toml"), read("status.toml"), read("approved_products.toml"));

    let broken = status.replacen("status = \"unproven\"", "status = \"miraculous\"", 1);
    let refused = admin.post("/admin/evidence", &[("csrf", &csrf), ("indications", &indications), ("status", &broken), ("approved_products", &products)]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("nothing changed") && refused.body.contains("status.toml") && refused.body.contains("line"), "{}", refused.body);
    assert_eq!(admin.post("/admin/evidence", &[("csrf", "forged"), ("indications", &indications), ("status", &status), ("approved_products", &products)]).await.status, StatusCode::FORBIDDEN);
    let loaded: Option<celltrace_domain::model::EvidenceDataset> = database.reader().evidence_dataset().await.expect("read");
    assert!(loaded.is_none(), "refused uploads change nothing");

    let done = admin.post("/admin/evidence", &[("csrf", &csrf), ("indications", &indications), ("status", &status), ("approved_products", &products)]).await;
    assert_eq!(done.location, "/admin/evidence?loaded=2026.12.1");
    let page = admin.get(&done.location).await;
    assert!(page.body.contains("2026.12.1") && page.body.contains("upload by admin"), "{}", page.body);
    let trail = database.reader().trail(&celltrace_domain::EntityKey::new(EntityKind::Catalogue, celltrace_domain::model::EvidenceDataset::ID)).await.expect("trail");
    assert_eq!(trail.last().map(|(e, _)| (e.record.kind.as_str(), e.record.actor.as_str())), Some(("evidence_data_loaded", "staff:admin")));
    // A physician may not.
    let mut doc = Client::new(&app);
    doc.login("dr.haddad", "celltrace-demo").await;
    assert_eq!(doc.get("/admin/evidence").await.status, StatusCode::FORBIDDEN);
}
