//! The staff read pages at scale and under the site rules: a site with
//! 1,500+ patients is searched and paged to its oldest patient, names in
//! Arabic and Devanagari are found by part of a word without diacritics, a
//! unit page shows its lineage and chain of custody, a patient's audit trail
//! is closed to staff without patient access and reading it is recorded,
//! the ledger shows only the viewer's audit sites, and a dashboard queue
//! longer than it shows links to its whole list.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use axum::Router;
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::model::{Language, Money, PersonKind, ProductType, Quantity, Sex};
use celltrace_domain::time::Date;
use celltrace_domain::{EntityKey, EntityKind};
use celltrace_store::{Database, Engine};
use celltrace_testkit::{now, TestDb};
use common::web::*;
use std::collections::BTreeSet;

/// The demo, with the deployment's key (for verification from the browser)
/// and the engine, to add records.
async fn demo() -> (TestDb, Router, Engine) {
    let db = TestDb::sqlite();
    let database = Database::open(&db.url).await.expect("open");
    let key = celltrace_ledger::SigningKey::from_bytes(&[3; 32]);
    let engine = Engine::start(database, celltrace::engine_options(key.clone()).expect("reference data"));
    celltrace::demo::load(&engine, now()).await.expect("demo");
    let mut state = celltrace::web_state(engine.clone(), "http://celltrace.test").expect("web state");
    let mut config = (*state.config).clone();
    config.verifying_key = Some(key.verifying_key());
    state.config = std::sync::Arc::new(config);
    (db, celltrace_web::router(state), engine)
}

fn as_staff(staff: &str, site: &str, command: Command) -> Submission {
    Submission {
        id: uuid::Uuid::now_v7().to_string().parse().expect("command id"),
        actor: Actor::Staff(staff.parse().expect("staff")),
        site: site.parse().expect("site"),
        at: now(),
        command,
    }
}

fn register(id: &str, mrn: &str, name: &str) -> Command {
    Command::RegisterPerson {
        person: id.parse().expect("id"),
        kind: PersonKind::Patient,
        mrn: mrn.into(),
        name: name.into(),
        date_of_birth: Date::new(1970, 1, 1).expect("date"),
        sex: Sex::Female,
        language: Language::Ar,
        contact: String::new(),
    }
}

/// Registers `count` patients `p-gen-NNNN` named "Nasser Generated NNNN" at
/// Dubai: the first alone (so it is the oldest), the rest at once (the
/// engine commits them in groups).
async fn crowd(engine: &Engine, count: usize) {
    let person = |i: usize| as_staff("dr.haddad", "dubai-clinic", register(&format!("p-gen-{i:04}"), &format!("GEN-{i:04}"), &format!("Nasser Generated {i:04}")));
    engine.submit(person(0)).await.expect("the oldest");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 1..count {
        let (engine, submission) = (engine.clone(), person(i));
        tasks.spawn(async move { engine.submit(submission).await.map(|_| ()) });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("registered");
    }
}

fn unescape(href: &str) -> String {
    href.replace("&#38;", "&").replace("&amp;", "&")
}

/// The address of a page's `rel="next"` link, if it has one.
fn next_link(html: &str) -> Option<String> {
    let end = html.find("\" rel=\"next\"")?;
    let start = html[..end].rfind("href=\"")? + "href=\"".len();
    Some(unescape(&html[start..end]))
}

/// The ids of the people a patients list page links to.
fn people_on(html: &str) -> Vec<String> {
    html.split("href=\"/patients/").skip(1).filter_map(|rest| rest.split('"').next()).filter(|id| *id != "new").map(str::to_owned).collect()
}

/// Every page of a list from `first`, following the next links: the ids on each.
async fn walk(client: &mut Client, first: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut visited = BTreeSet::new();
    let mut address = Some(first.to_owned());
    while let Some(path) = address {
        assert!(visited.insert(path.clone()), "{path} links to a page already seen");
        let page = client.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        ids.extend(people_on(&page.body));
        address = next_link(&page.body);
    }
    ids
}

fn each_once(ids: &[String]) -> BTreeSet<String> {
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "no one is listed twice");
    set
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oldest_of_1500_patients_is_found_by_search_and_by_paging() {
    const COUNT: usize = 1500;
    let (db, app, engine) = demo().await;
    crowd(&engine, COUNT).await;
    let mut doc = Client::new(&app);
    doc.login("dr.haddad", "celltrace-demo").await;

    // The whole list, page by page: everyone once, the site's oldest patients included.
    let listed = each_once(&walk(&mut doc, "/patients").await);
    assert_eq!(listed.len(), COUNT + 6, "every patient of Dubai, once");
    assert!(listed.contains("p-layla") && listed.contains("p-gen-0000") && listed.contains(&format!("p-gen-{:04}", COUNT - 1)));
    assert!(!listed.contains("p-rajesh"), "only this site's patients");

    // A search that matches them all pages too, oldest first.
    let found = walk(&mut doc, "/patients?q=nasser").await;
    assert_eq!(found.first().map(String::as_str), Some("p-gen-0000"), "matches come in registration order");
    assert_eq!(each_once(&found).len(), COUNT);
    let page = doc.get("/patients?q=Generated%200000").await;
    assert_eq!(people_on(&page.body), ["p-gen-0000"]);
    let page = doc.get("/patients?q=layla").await;
    assert_eq!(people_on(&page.body), ["p-layla"], "the site's first patient");

    // The CSV download streams every page, and each name in it is a recorded read.
    let csv = doc.get("/patients?format=csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let rows: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().skip(1).collect();
    assert_eq!(rows.len(), COUNT + 6);
    assert!(rows.iter().any(|r| r.starts_with("p-gen-0000,GEN-0000,Nasser Generated 0000,1970-01-01,patient,female,ar")));
    let trail = engine.database().reader().trail(&EntityKey::new(EntityKind::Person, format!("p-gen-{:04}", COUNT - 1))).await.expect("trail");
    assert!(trail.iter().any(|(e, _)| e.record.kind == "record_viewed" && String::from_utf8_lossy(&e.record.payload).contains("exported as CSV")));
    drop(engine);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arabic_and_devanagari_names_are_found_by_part_of_a_word_without_diacritics() {
    let (_db, app, engine) = demo().await;
    for (id, mrn, name) in [("p-muhammad", "DXB-9001", "مُحَمَّد عَبْدُ الرَّحِيم"), ("p-zainab", "DXB-9002", "ज़ैनब फ़ारूक़ी")] {
        engine.submit(as_staff("dr.haddad", "dubai-clinic", register(id, mrn, name))).await.expect("registered");
    }
    let mut doc = Client::new(&app);
    doc.login("dr.haddad", "celltrace-demo").await;
    for (query, expected) in [
        ("محمد الرحي", "p-muhammad"),  // no short vowels or shadda, the second word cut short
        ("حمد", "p-muhammad"),         // the middle of a word
        ("مح", "p-muhammad"),          // two letters: the start of a word
        ("जैनब फारू", "p-zainab"),      // no nukta, the second word cut short
        ("रूकी", "p-zainab"),           // the end of a word, without its nukta
        ("ليلي", "p-layla"),            // alef maksura typed as yeh
        ("DXB-9002", "p-zainab"),      // the MRN
    ] {
        let page = doc.get(&format!("/patients?q={}", urlencode(query))).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(people_on(&page.body).contains(&expected.to_owned()), "{query} finds {expected}: {:?}", people_on(&page.body));
    }
    let page = doc.get(&format!("/patients?q={}", urlencode("फारूकी"))).await;
    assert!(page.body.contains("ज़ैनब फ़ारूक़ी"), "the name is shown as registered, with its nukta");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_page_shows_its_lineage_and_chain_of_custody() {
    let (_db, app, _engine) = demo().await;
    let mut doc = Client::new(&app);
    doc.login("dr.haddad", "celltrace-demo").await;
    let page = doc.get("/units/u-layla-msc").await;
    assert_eq!(page.status, StatusCode::OK);
    let made_from = page.body.split("Made from:").nth(1).and_then(|rest| rest.split("</p>").next()).expect("made from");
    assert!(made_from.contains("href=\"/units/u-layla-svf\""), "its parent: {made_from}");
    // The drawing holds the whole family: the collection, its isolate and this unit.
    let svg = page.body.split("<svg").nth(1).and_then(|rest| rest.split("</svg>").next()).expect("lineage drawing");
    for unit in ["u-layla-lipo", "u-layla-svf", "u-layla-msc"] {
        assert!(svg.contains(&format!("href=\"/units/{unit}\"")), "{unit} in the lineage");
    }
    assert!(svg.contains("class=\"lineage\"") && !svg.contains("style="), "styled by a class: the CSP allows no inline style");
    // The chain of custody: the shipment from the laboratory, who sent it and who received it.
    let custody = page.body.split("Chain of custody").nth(1).expect("custody section");
    assert!(custody.contains("mumbai-lab → dubai-clinic by CryoPort dry shipper: dispatched by log.khan"), "{custody}");
    assert!(custody.contains("received by log.khan"), "{custody}");

    // The isolate's page, at the laboratory that holds it, shows what was made from it.
    let mut tech = Client::new(&app);
    tech.login("tech.rao", "celltrace-demo").await;
    let page = tech.get("/units/u-layla-svf").await;
    let made_into = page.body.split("Made into:").nth(1).and_then(|rest| rest.split("</p>").next()).expect("made into");
    assert!(made_into.contains("href=\"/units/u-layla-msc\""), "its child: {made_into}");
    let made_from = page.body.split("Made from:").nth(1).and_then(|rest| rest.split("</p>").next()).expect("made from");
    assert!(made_from.contains("href=\"/units/u-layla-lipo\""), "{made_from}");
    assert_eq!(doc.get("/units/u-layla-svf").await.status, StatusCode::NOT_FOUND, "a unit shows only at the site that holds it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patients_audit_trail_is_for_patient_staff_and_reading_it_is_recorded() {
    let (_db, app, engine) = demo().await;
    let reader = engine.database().reader().clone();
    let key = EntityKey::new(EntityKind::Person, "p-layla");
    let before = reader.trail(&key).await.expect("trail").len();

    let mut admin = Client::new(&app);
    admin.login("admin", "celltrace-demo").await;
    for path in ["/audit/person/p-layla", "/audit/plan/plan-layla", "/audit/person/p-layla?format=csv"] {
        let refused = admin.get(path).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!refused.body.contains("ليلى") && !refused.body.contains("DXB-100231"), "{path}");
    }
    assert_eq!(reader.trail(&key).await.expect("trail").len(), before, "nothing was read");
    assert_eq!(admin.get("/audit/unit/u-layla-msc").await.status, StatusCode::OK, "a unit of the site");
    assert_eq!(admin.get("/audit/unit/u-layla-svf").await.status, StatusCode::NOT_FOUND, "a unit held at another site");

    // A physician's read of the record is in its trail.
    let mut doc = Client::new(&app);
    doc.login("dr.haddad", "celltrace-demo").await;
    assert_eq!(doc.get("/patients/p-layla").await.status, StatusCode::OK);
    let trail = reader.trail(&key).await.expect("trail");
    let (last, _) = trail.last().expect("entry");
    assert_eq!((last.record.kind.as_str(), last.record.actor.as_str()), ("record_viewed", "staff:dr.haddad"));

    // Read sixty more times, the patient's page still shows the newest fifty entries, and links to the rest.
    for _ in 0..60 {
        assert_eq!(doc.get("/patients/p-layla").await.status, StatusCode::OK);
    }
    let page = doc.get("/patients/p-layla").await;
    let timeline = page.body.split("<h2>Timeline</h2>").nth(1).and_then(|rest| rest.split("</tbody>").next()).expect("timeline");
    assert_eq!(timeline.matches("<tr><td>").count(), 50, "the newest fifty entries");
    assert!(!page.body.contains("Older entries: the full audit trail"), "a physician may not open the audit trail, so no link");

    // A medical director (a physician too) reads the trail: recorded, newest first, fifty at a time.
    let mut director = Client::new(&app);
    director.login("md.alsayed", "celltrace-demo").await;
    assert!(director.get("/patients/p-layla").await.body.contains("Older entries: the full audit trail"));
    let first = director.get("/audit/person/p-layla").await;
    assert_eq!(first.status, StatusCode::OK);
    let trail = reader.trail(&key).await.expect("trail");
    let (last, _) = trail.last().expect("entry");
    assert_eq!(last.record.actor, "staff:md.alsayed");
    assert!(String::from_utf8_lossy(&last.record.payload).contains("audit trail of person p-layla"));
    let seqs_on = |html: &str| -> Vec<u64> {
        html.split("<tr><td class=\"mono\">").skip(1).map(|rest| rest.split('<').next().expect("cell").parse().expect("entry number")).collect()
    };
    assert_eq!(seqs_on(&first.body).len(), 50);
    assert_eq!(seqs_on(&first.body)[0], last.seq, "newest first: the read just recorded");
    let mut seen = seqs_on(&first.body);
    let mut next = next_link(&first.body);
    while let Some(path) = next {
        assert!(path.starts_with("/audit/person/p-layla?before="), "{path}");
        let page = director.get(&path).await;
        seen.extend(seqs_on(&page.body));
        next = next_link(&page.body);
    }
    // Each page is a recorded read too, so compare with the trail as it was when the first page was shown.
    let expected: Vec<u64> = trail.iter().rev().map(|(e, _)| e.seq).collect();
    assert_eq!(seen, expected, "every entry once, newest first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_shows_only_the_sites_where_the_viewer_may_audit() {
    let (_db, app, _engine) = demo().await;
    let sites_on = |html: &str| -> Vec<String> {
        html.split("<td class=\"entry-site\">").skip(1).map(|rest| rest.split('<').next().expect("cell").to_owned()).collect()
    };
    let mut doc = Client::new(&app);
    doc.login("dr.haddad", "celltrace-demo").await;
    assert_eq!(doc.get("/ledger").await.status, StatusCode::FORBIDDEN, "a physician alone may not see the ledger");

    // A Dubai physician who is also the medical director sees Dubai's entries only, on every page.
    let mut director = Client::new(&app);
    director.login("md.alsayed", "celltrace-demo").await;
    let mut next = Some("/ledger".to_owned());
    let mut entries = 0;
    while let Some(path) = next {
        let page = director.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        let sites = sites_on(&page.body);
        assert!(sites.iter().all(|s| s == "dubai-clinic"), "{path}: {sites:?}");
        for other in ["mumbai-lab", "delhi-centre", "london-bank"] {
            assert!(!page.body.contains(&format!(">{other}<")), "{path} shows an entry of {other}");
        }
        entries += sites.len();
        next = next_link(&page.body);
    }
    assert!(entries > 50, "Dubai's entries, over several pages ({entries})");

    // The auditor belongs to every site: the whole network.
    let mut auditor = Client::new(&app);
    auditor.login("auditor", "celltrace-demo").await;
    let mut seen = BTreeSet::new();
    let mut next = Some("/ledger".to_owned());
    while let Some(path) = next {
        let page = auditor.get(&path).await;
        seen.extend(sites_on(&page.body));
        next = next_link(&page.body);
    }
    assert!(["dubai-clinic", "delhi-centre", "mumbai-lab", "london-bank"].iter().all(|s| seen.contains(*s)), "{seen:?}");

    // Verification runs in the background; the page shows it running, then its result.
    let csrf = auditor.csrf().await;
    assert_eq!(auditor.post("/ledger/verify", &[("csrf", "forged")]).await.status, StatusCode::FORBIDDEN);
    let started = auditor.post("/ledger/verify", &[("csrf", &csrf)]).await;
    assert_eq!((started.status, started.location.as_str()), (StatusCode::SEE_OTHER, "/ledger"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        // Other pages are answered meanwhile.
        assert_eq!(director.get("/").await.status, StatusCode::OK);
        let page = auditor.get("/ledger").await;
        if page.body.contains("Verified:") {
            assert!(page.body.contains("verdict-pass") && page.body.contains("started by auditor"), "{}", page.body);
            break;
        }
        assert!(page.body.contains("is running") && !page.body.contains("FAILED"), "{}", page.body);
        assert!(std::time::Instant::now() < deadline, "the verification finishes");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_queue_longer_than_it_shows_links_to_its_whole_list() {
    let (_db, app, engine) = demo().await;
    crowd(&engine, 30).await;
    // Thirty plans of unproven treatments: each blocked by the evidence guard.
    for i in 0..30 {
        let plan = Command::CreatePlan {
            plan: format!("plan-gen-{i:04}").parse().expect("id"),
            patient: format!("p-gen-{i:04}").parse().expect("id"),
            indication: "M51.36".into(),
            product_type: ProductType::AutologousAdipose,
            route: "intradiscal".into(),
            sessions: 1,
            dose: Quantity { milli: 50_000, unit: "million cells".into() },
            cost_quote: Money { minor: 1_200_000, currency: "USD".into() },
            trial: None,
        };
        engine.submit(as_staff("dr.haddad", "dubai-clinic", plan)).await.expect("plan");
    }
    let mut doc = Client::new(&app);
    doc.login("dr.haddad", "celltrace-demo").await;
    let page = doc.get("/").await;
    let section = |id: &str| page.body.split(&format!("id=\"q-{id}\"")).nth(1).and_then(|rest| rest.split("</section>").next()).expect("section").to_owned();
    let blocked = section("blocked");
    assert!(blocked.starts_with(">Plans blocked by the evidence guard (25+)"), "{blocked}");
    assert_eq!(blocked.matches("<li>").count(), 25, "the first 25");
    assert!(blocked.contains("href=\"/queues?name=blocked\""), "{blocked}");
    assert!(!section("release").contains("/queues") && !section("release").contains("More"), "a short queue has no link");

    // The whole list: every blocked plan of the site, the thirty new ones included.
    let list = doc.get("/queues?name=blocked").await;
    assert_eq!(list.status, StatusCode::OK);
    for i in 0..30 {
        assert!(list.body.contains(&format!("plan plan-gen-{i:04} ")), "plan-gen-{i:04} in the whole list");
    }
    assert!(list.body.contains("End of the list."));
    // The units awaiting QC or release link to the units list by status, which answers.
    assert_eq!(doc.get("/units?status=quarantine").await.status, StatusCode::OK);
    assert_eq!(doc.get("/units?status=&type=").await.status, StatusCode::OK, "the form's \"any\" is no filter");
    assert_eq!(doc.get("/units?status=lost").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(doc.get("/queues?name=nothing").await.status, StatusCode::BAD_REQUEST);
}

/// At real scale: 100,000 patients at one site. The oldest is found by a
/// search for its name and by paging the whole list (every page a keyset
/// seek), and the web page's search answers with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oldest_of_100000_patients_is_found_by_search_and_by_paging() {
    const COUNT: usize = 100_000;
    let (db, app, engine) = demo().await;
    let person = |i: usize| as_staff("dr.haddad", "dubai-clinic", register(&format!("p-big-{i:06}"), &format!("BIG-{i:06}"), &format!("Karima Scaled {i:06}")));
    engine.submit(person(0)).await.expect("the oldest");
    // In waves, so the engine commits full groups without a task per patient waiting at once.
    for wave in (1..COUNT).collect::<Vec<_>>().chunks(5_000) {
        let mut tasks = tokio::task::JoinSet::new();
        for &i in wave {
            let (engine, submission) = (engine.clone(), person(i));
            tasks.spawn(async move { engine.submit(submission).await.map(|_| ()) });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("task").expect("registered");
        }
    }
    let reader = engine.database().reader().clone();
    let site = "dubai-clinic".parse().expect("site");

    // The whole list, a page at a time: everyone once, the oldest included.
    let (mut seen, mut after, mut pages) = (BTreeSet::new(), None::<String>, 0);
    loop {
        let page = reader.people(&site, PersonKind::Patient, "", after.as_deref(), 500).await.expect("page");
        pages += 1;
        for p in &page.people {
            assert!(seen.insert(p.id.to_string()), "{} is listed twice", p.id);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), COUNT + 6, "every patient of Dubai, once, in {pages} pages");
    assert!(seen.contains("p-big-000000") && seen.contains(&format!("p-big-{:06}", COUNT - 1)));

    // A search by the oldest one's name finds it first, in the store and on the page.
    let found = reader.people(&site, PersonKind::Patient, "Karima Scaled 000000", None, 10).await.expect("search");
    assert_eq!(found.people.first().map(|p| p.id.to_string()).as_deref(), Some("p-big-000000"));
    let mut doc = Client::new(&app);
    doc.login("dr.haddad", "celltrace-demo").await;
    let page = doc.get("/patients?q=Karima%20Scaled%20000000").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(people_on(&page.body).first().map(String::as_str), Some("p-big-000000"), "{}", page.body);
    let page = doc.get("/patients?q=BIG-000000").await;
    assert_eq!(people_on(&page.body), ["p-big-000000"], "found by MRN");
    drop(engine);
    db.drop_database().await;
}
