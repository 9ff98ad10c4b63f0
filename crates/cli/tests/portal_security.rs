//! The patient portal under attack: guesses at a patient's password or
//! one-time code sent all at once from one address are checked at most five
//! times while the patient still gets in from elsewhere; an unknown patient
//! number answers as slowly as a known one; the language switch follows only
//! portal paths; weak passwords are refused in the patient's language; and a
//! patient's pages and data hold only their own records.

mod common;
use common::web::*;

use axum::http::StatusCode;
use axum::Router;
use celltrace_domain::model::{AdverseEvent, IntendedUse, Person, Plan, Unit};
use celltrace_i18n::{Lang, Tr};
use celltrace_store::Database;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

const DEMO_PASSWORD: &str = "celltrace-demo";
/// A password the policy accepts, for forms that must get as far as the code.
const STRONG: &str = "tangerine ladder quietly 47";

/// The `n`-th address of a private network, one per simulated visitor.
fn address(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + n))
}

/// Posts a sign-in form from `client`, after opening it.
async fn sign_in(client: &mut Client, number: &str, password: &str) -> Page {
    let csrf = csrf_of(&client.get("/portal/login").await.body);
    client.post("/portal/login", &[("csrf", &csrf), ("patient_number", number), ("password", password)]).await
}

/// Posts an activation form with a strong password from `client`, after opening it.
async fn activate(client: &mut Client, number: &str, code: &str) -> Page {
    let csrf = csrf_of(&client.get("/portal/activate").await.body);
    client.post("/portal/activate", &[("csrf", &csrf), ("patient_number", number), ("code", code), ("password", STRONG), ("repeat", STRONG)]).await
}

/// The code on the slip a nurse prints for `patient`.
async fn portal_code(app: &Router, patient: &str) -> String {
    let mut nurse = Client::new(app);
    nurse.login("nurse.fatima", DEMO_PASSWORD).await;
    let csrf = csrf_of(&nurse.get(&format!("/patients/{patient}")).await.body);
    let slip = nurse.post(&format!("/patients/{patient}/portal-code"), &[("csrf", &csrf)]).await;
    assert_eq!(slip.status, StatusCode::OK, "{}", slip.body);
    let marker = "id=\"portal-code\">";
    let start = slip.body.find(marker).expect("the code on the slip") + marker.len();
    slip.body[start..start + 12].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_password_guesses_are_checked_at_most_five_times_and_the_patient_still_gets_in() {
    let (_db, app) = demo_app().await;
    let statuses = all_at_once(&app, "/portal/login", "/portal/login", 64, &[("patient_number", "p-james"), ("password", "not his password at all")]).await;
    let (checked, throttled) = checked_and_throttled(&statuses);
    assert!((1..=5).contains(&checked), "at most five guesses are checked: {statuses:?}");
    assert_eq!(checked + throttled, 64, "the rest are held back, none fails: {statuses:?}");

    // Even the right password is not checked from the guessing address now...
    let mut guesser = Client::new(&app);
    assert_eq!(sign_in(&mut guesser, "p-james", DEMO_PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    // ...but the patient, from home, signs in.
    let mut james = Client::from_address(&app, address(7));
    let home = sign_in(&mut james, "p-james", DEMO_PASSWORD).await;
    assert_eq!((home.status, home.location.as_str()), (StatusCode::SEE_OTHER, "/portal"), "{}", home.body);
    assert!(james.get("/portal").await.body.contains("James Carter"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_code_guesses_are_checked_at_most_five_times_and_the_patient_still_activates() {
    let (_db, app) = demo_app().await;
    let code = portal_code(&app, "p-fatima").await;
    let guesses = [("patient_number", "p-fatima"), ("code", "ZZZZ-ZZZZ-ZZ"), ("password", STRONG), ("repeat", STRONG)];
    let statuses = all_at_once(&app, "/portal/activate", "/portal/activate", 64, &guesses).await;
    let (checked, throttled) = checked_and_throttled(&statuses);
    assert!((1..=5).contains(&checked), "at most five codes are checked: {statuses:?}");
    assert_eq!(checked + throttled, 64, "the rest are held back, none fails: {statuses:?}");

    // The right code from the guessing address is not even checked (so not spent)...
    let mut guesser = Client::new(&app);
    assert_eq!(activate(&mut guesser, "p-fatima", &code).await.status, StatusCode::TOO_MANY_REQUESTS);
    // ...and the patient, at the clinic, activates with it.
    let mut fatima = Client::from_address(&app, address(8));
    let done = activate(&mut fatima, "p-fatima", &code).await;
    assert_eq!((done.status, done.location.as_str()), (StatusCode::SEE_OTHER, "/portal"), "{}", done.body);
    assert!(fatima.get("/portal").await.body.contains("فاطمة الزهراء"));
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// How long a refused sign-in takes, from a fresh address (so no address
/// or pair counter ever holds it back).
async fn refused_sign_in(app: &Router, from: IpAddr, number: &str) -> Duration {
    let mut client = Client::from_address(app, from);
    let csrf = csrf_of(&client.get("/portal/login").await.body);
    let started = Instant::now();
    let page = client.post("/portal/login", &[("csrf", &csrf), ("patient_number", number), ("password", "a wrong password, twice over")]).await;
    let took = started.elapsed();
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{number}: {}", page.body);
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_patient_number_answers_as_slowly_as_a_known_one() {
    let (_db, app) = demo_app().await;
    // Both paths warmed up (the dummy hash is made on first use).
    refused_sign_in(&app, address(1), "p-nobody").await;
    refused_sign_in(&app, address(2), "p-james").await;
    let (mut unknown, mut known) = (Vec::new(), Vec::new());
    for i in 0..50u32 {
        // Each unknown number is new, so its own counter never fills.
        unknown.push(refused_sign_in(&app, address(100 + i), &format!("p-nobody-{i}")).await);
        known.push(refused_sign_in(&app, address(200 + i), "p-james").await);
        if i % 10 == 9 {
            // The patient signs in now and then, which clears their account's counter.
            let mut james = Client::from_address(&app, address(300 + i));
            assert_eq!(sign_in(&mut james, "p-james", DEMO_PASSWORD).await.location, "/portal");
        }
    }
    let (unknown, known) = (median(unknown), median(known));
    let (slower, faster) = (unknown.max(known), unknown.min(known));
    let difference = (slower - faster).as_secs_f64() / slower.as_secs_f64();
    assert!(difference < 0.2, "median of unknown numbers {unknown:?}, of a known one {known:?}: {:.0} % apart", difference * 100.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_goes_back_only_to_portal_paths() {
    let (_db, app) = demo_app().await;
    let mut layla = Client::new(&app);
    assert_eq!(sign_in(&mut layla, "p-layla", DEMO_PASSWORD).await.location, "/portal");
    let csrf = csrf_of(&layla.get("/portal").await.body);
    let hostile = ["\r\nSet-Cookie: x=1", "/portal\r\nSet-Cookie: x=1", "//evil.example", "/portal//evil.example", "javascript:alert(1)", "https://evil.example/portal", "/portal\\evil"];
    for next in hostile {
        let mut visitor = Client::new(&app);
        for (who, client, csrf) in [("a visitor", &mut visitor, ""), ("a patient", &mut layla, csrf.as_str())] {
            let page = client.post("/portal/language", &[("csrf", csrf), ("lang", "hi"), ("next", next)]).await;
            assert_eq!((page.status, page.location.as_str()), (StatusCode::SEE_OTHER, "/portal"), "{who}, next = {next:?}: {}", page.body);
            assert!(!client.cookie_header().contains("x=1"), "{who}: no header was injected");
        }
    }
    let page = layla.post("/portal/language", &[("csrf", &csrf), ("lang", "en"), ("next", "/portal/plans/plan-layla/consent")]).await;
    assert_eq!(page.location, "/portal/plans/plan-layla/consent", "a portal path is followed");
    assert!(layla.get("/portal").await.body.contains(r#"<html lang="en""#), "the choice was kept");
    let forged = layla.post("/portal/language", &[("csrf", "forged"), ("lang", "ar"), ("next", "/portal")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "a signed-in patient's choice needs the session's token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_portal_passwords_are_refused_in_the_patients_language() {
    let (_db, app) = demo_app().await;
    let code = portal_code(&app, "p-fatima").await;
    for lang in Lang::ALL {
        let t = Tr::new(lang).expect("messages");
        let mut visitor = Client::new(&app);
        let form = visitor.get(&format!("/portal/activate?lang={}", lang.code())).await;
        let csrf = csrf_of(&form.body);
        for (password, key) in [("            ", "error-password-short"), ("password1234", "error-password-weak"), ("p-fatima1985!", "error-password-weak")] {
            let page = visitor.post("/portal/activate", &[("csrf", &csrf), ("patient_number", "p-fatima"), ("code", &code), ("password", password), ("repeat", password)]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{password:?} in {lang:?}");
            assert!(page.body.contains(&format!(r#"<html lang="{}""#, lang.code())), "{password:?} in {lang:?}");
            assert!(page.body.contains(&t.msg(key)), "{password:?} in {lang:?}: {key}\n{}", page.body);
        }
    }
    // The refusals spent nothing: the code still works with a strong password.
    let done = activate(&mut Client::new(&app), "p-fatima", &code).await;
    assert_eq!(done.location, "/portal", "{}", done.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_patient_sees_only_their_own_records() {
    let (db, app) = demo_app().await;
    let database = Database::connect(&db.url).await.expect("db");
    let reader = database.reader();
    let patients = ["p-layla", "p-james", "p-rajesh"];
    for me in patients {
        let mut client = Client::new(&app);
        assert_eq!(sign_in(&mut client, me, DEMO_PASSWORD).await.location, "/portal", "{me} signs in");
        let home = client.get("/portal").await;
        assert_eq!(home.status, StatusCode::OK, "{me}");
        let download = client.get("/portal/my-data.json").await;
        assert_eq!(download.status, StatusCode::OK, "{me}");
        let data: serde_json::Value = serde_json::from_str(&download.body).expect("json");
        assert_eq!(data["person"]["id"], me);

        let plans: Vec<Plan> = serde_json::from_value(data["plans"].clone()).expect("plans");
        assert!(!plans.is_empty() && plans.iter().all(|p| p.patient.as_str() == me), "{me}: only their plans");
        let units: Vec<Unit> = serde_json::from_value(data["units"].clone()).expect("units");
        assert!(!units.is_empty(), "{me}: the units of their plans");
        for unit in &units {
            let theirs = match &unit.intended_use {
                IntendedUse::Autologous { patient } => patient.as_str() == me,
                IntendedUse::Allogeneic => unit.allocated_to.as_ref().is_some_and(|plan| plans.iter().any(|p| &p.id == plan)),
            };
            assert!(theirs, "{me}: unit {} is not theirs", unit.id);
            assert!(home.body.contains(&unit.din), "{me}: the story tells of unit {}", unit.din);
        }
        let events: Vec<AdverseEvent> = serde_json::from_value(data["adverse_events"].clone()).expect("adverse events");
        assert!(events.iter().all(|e| e.patient.as_str() == me), "{me}: only their adverse events");
        if me == "p-rajesh" {
            assert!(events.iter().any(|e| e.id.as_str() == "ae-rajesh-1"), "his adverse event is in his data");
        }
        let trail = data["audit_trail"].as_array().expect("audit trail");
        assert!(trail.iter().any(|e| e["kind"] == "record_viewed" && e["actor"] == format!("patient:{me}")), "{me}: their own reads are in their trail");

        for other in patients.iter().filter(|p| **p != me) {
            let person: Person = reader.get::<Person>(other).await.expect("read").expect("person");
            assert!(!home.body.contains(&person.name) && !download.body.contains(&person.name), "{me} sees nothing of {other}");
            for unit in reader.units_from(&person.id).await.expect("units") {
                assert!(!home.body.contains(&unit.din) && !download.body.contains(&unit.din), "{me} sees nothing of {other}'s unit {}", unit.din);
            }
            assert_eq!(client.get(&format!("/portal/plans/plan-{}/consent", other.trim_start_matches("p-"))).await.status, StatusCode::NOT_FOUND);
        }
    }
}
