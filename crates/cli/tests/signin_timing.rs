//! An unknown account answers as slowly as a known one with a wrong
//! password, for staff sign-in and for a second signer's check (a witness
//! on a consent form), so timing does not tell which usernames exist. The
//! patient portal's sign-in is held to the same in `portal_security.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use axum::Router;
use celltrace::demo::DEMO_PASSWORD;
use common::web::*;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

/// Tries per identifier; the medians of this many are compared.
const TRIES: u32 = 50;

fn address(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 9, (n / 250) as u8, (n % 250) as u8 + 1))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Fails unless the two medians are within 20 % of the slower one.
fn assert_alike(what: &str, unknown: Vec<Duration>, known: Vec<Duration>) {
    let (unknown, known) = (median(unknown), median(known));
    let (slower, faster) = (unknown.max(known), unknown.min(known));
    let difference = (slower - faster).as_secs_f64() / slower.as_secs_f64();
    assert!(difference < 0.2, "{what}: median for unknown accounts {unknown:?}, for a known one {known:?}: {:.0} % apart", difference * 100.0);
}

/// A refused staff sign-in from a fresh address, timed.
async fn refused_sign_in(app: &Router, from: IpAddr, username: &str) -> Duration {
    let mut client = Client::from_address(app, from);
    let csrf = csrf_of(&client.get("/login").await.body);
    let started = Instant::now();
    let page = client.post("/login", &[("csrf", &csrf), ("username", username), ("password", "not the password at all")]).await;
    let took = started.elapsed();
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{username}: {}", page.body);
    took
}

/// The known account signs in now and then, which clears its counter, so
/// the back-off never answers for it (a throttled answer would be quicker).
async fn sign_in_for_real(app: &Router, from: IpAddr, username: &str) {
    let mut client = Client::from_address(app, from);
    let page = client.login(username, DEMO_PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{username} signs in: {}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_staff_username_answers_as_slowly_as_a_known_one() {
    let (_db, app) = demo_app().await;
    refused_sign_in(&app, address(1), "nobody").await;
    refused_sign_in(&app, address(2), "nurse.fatima").await;
    let (mut unknown, mut known) = (Vec::new(), Vec::new());
    for i in 0..TRIES {
        unknown.push(refused_sign_in(&app, address(100 + i), &format!("nobody.{i}")).await);
        known.push(refused_sign_in(&app, address(200 + i), "nurse.fatima").await);
        if i % 10 == 9 {
            sign_in_for_real(&app, address(300 + i), "nurse.fatima").await;
        }
    }
    assert_alike("staff sign-in", unknown, known);
}

/// A consent form naming `witness` with a wrong password, sent by the
/// physician from `from`; answers how long the refusal took.
async fn refused_witness(app: &Router, from: IpAddr, witness: &str) -> Duration {
    let mut physician = Client::from_address(app, from);
    let page = physician.login("dr.haddad", DEMO_PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let form = physician.get("/plans/plan-layla/consent").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = csrf_of(&form.body);
    let fields = [
        ("csrf", csrf.as_str()),
        ("template", "celltrace-consent"),
        ("template_version", "2026.1"),
        ("language", "ar"),
        ("witness", witness),
        ("witness_password", "not the witness's password"),
    ];
    let started = Instant::now();
    let page = physician.post("/plans/plan-layla/consent", &fields).await;
    let took = started.elapsed();
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{witness}: {}", page.body);
    assert!(page.body.contains("signature_not_proven"), "{witness}: refused as an unproven signature: {}", page.body);
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_signer_answers_as_slowly_as_a_known_one() {
    let (_db, app) = demo_app().await;
    refused_witness(&app, address(1), "nobody").await;
    refused_witness(&app, address(2), "nurse.fatima").await;
    let (mut unknown, mut known) = (Vec::new(), Vec::new());
    for i in 0..TRIES {
        unknown.push(refused_witness(&app, address(100 + i), &format!("nobody.{i}")).await);
        known.push(refused_witness(&app, address(200 + i), "nurse.fatima").await);
        if i % 10 == 9 {
            sign_in_for_real(&app, address(300 + i), "nurse.fatima").await;
        }
    }
    assert_alike("second signer", unknown, known);
}

/// Staff sign-in under 64 guesses at once from one address: at most the
/// pair limit is checked, the rest are held back, and the real member of
/// staff, from another address, still signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_staff_password_guesses_are_checked_at_most_five_times_and_the_nurse_still_gets_in() {
    let (_db, app) = demo_app().await;
    let statuses = all_at_once(&app, "/login", "/login", 64, &[("username", "nurse.fatima"), ("password", "not her password at all")]).await;
    let (checked, throttled) = checked_and_throttled(&statuses);
    assert!(checked <= 5, "{checked} of 64 guesses were checked: {statuses:?}");
    assert_eq!(checked + throttled, 64, "the rest are held back, none fails: {statuses:?}");
    sign_in_for_real(&app, address(900), "nurse.fatima").await;
}
