//! The registry read from the index a page at a time equals, EXACTLY, the
//! whole-state computation celltrace used before (every figure: compared as
//! serialized JSON), on hundreds of generated treated plans at two sites:
//! baselines and follow-ups from staff and from questionnaires, corrected
//! entries, loss to follow-up, adverse events of random grades (some
//! serious, some linked to no plan), stopped and untreated plans. The page,
//! the export and `celltrace registry report` all give it; the cache is
//! reused while nothing changes, computed once when something does, and the
//! page shows a new follow-up at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::model::*;
use celltrace_domain::time::{Date, Timestamp};
use celltrace_store::{Database, Engine, Secret};
use celltrace_testkit::{now, TestDb};
use common::web::Client;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const PATIENTS: u64 = 260;
const DAY: i64 = Timestamp::DAY;
const SITES: [(&str, &str); 2] = [("north-clinic", "A9998"), ("south-clinic", "A9997")];

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("test id")
}

/// A small deterministic generator (xorshift64*): the data is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

static COMMANDS: AtomicU64 = AtomicU64::new(0);

/// One patient's commands, in the order and at the times they happen.
struct Story {
    site: &'static str,
    clock: Timestamp,
    subs: Vec<Submission>,
}

impl Story {
    fn at(&mut self, actor: &str, at: Timestamp, command: Command) {
        let n = COMMANDS.fetch_add(1, Ordering::Relaxed);
        self.subs.push(Submission { id: id(&format!("scale-{n}")), actor: Actor::Staff(id(actor)), site: id(self.site), at, command });
    }

    fn then(&mut self, actor: &str, command: Command) {
        self.clock = Timestamp(self.clock.0 + 60_000_000);
        let at = self.clock;
        self.at(actor, at, command);
    }

    /// A score: NPRS sometimes as the patient's answers (once per time
    /// point, as the rules allow), otherwise as a staff follow-up.
    fn score(&mut self, rng: &mut Rng, plan: &str, at: Timestamp, (time_point, instrument): (&str, &str), value: i64, answers_allowed: bool) {
        let visit = format!("{plan}-{time_point}-{instrument}-{}", rng.next() % 1_000_000).replace(' ', "-");
        if instrument == "NPRS" && answers_allowed && rng.chance(40) {
            // The patient's own answers (scored by the rules), entered from paper.
            let answers = BTreeMap::from([("pain".to_owned(), u8::try_from(value.clamp(0, 10)).expect("0 to 10"))]);
            self.at("nurse", at, Command::AnswerQuestionnaire { plan: id(plan), visit: id(&visit), time_point: time_point.into(), instrument: "nprs".into(), answers, language: Language::En });
        } else {
            // Half points from staff, and now and then a visit with no score.
            let score_milli = (!rng.chance(5)).then(|| value * 1000 + if rng.chance(30) { 500 } else { 0 });
            self.at("nurse", at, Command::RecordFollowUp { plan: id(plan), visit: id(&visit), time_point: time_point.into(), instrument: instrument.into(), score_milli, notes: String::new() });
        }
    }

    /// A plan of `patient` from order to follow-up, treated at `given` unless `treated` is false.
    fn plan(&mut self, rng: &mut Rng, patient: &str, plan: &str, n: u64, given: Timestamp, treated: bool) {
        let marrow = n.is_multiple_of(3);
        let (product_type, indication, route, tissue) =
            if marrow { (ProductType::AutologousBoneMarrow, "M17.11", "intra-articular", SourceTissue::BoneMarrow) } else { (ProductType::Prp, "M77.10", "intratendinous", SourceTissue::PeripheralBlood) };
        let dose = Quantity { milli: 4000, unit: "mL".into() };
        self.clock = Timestamp(given.0 - DAY);
        self.then("doc", Command::CreatePlan {
            plan: id(plan),
            patient: id(patient),
            indication: indication.into(),
            product_type,
            route: route.into(),
            sessions: if rng.chance(20) { 2 } else { 1 },
            dose: dose.clone(),
            cost_quote: Money { minor: 50_000, currency: "USD".into() },
            trial: Some(Trial { registration: "NCT00000002".into(), ethics_approval: "SCALE-ETHICS-1".into() }),
        });
        self.then("doc", Command::AssessEligibility {
            plan: id(plan),
            assessment: id(&format!("{plan}-e")),
            criteria: vec![Criterion { code: "ok".into(), description: "eligible".into(), met: true, detail: String::new() }],
            valid_days: 30,
        });
        self.then("doc", Command::RecordConsent { plan: id(plan), consent: id(&format!("{plan}-c")), template: "celltrace-consent".into(), template_version: "2026.1".into(), language: Language::En, witness: None });
        let baseline = 4 + i64::try_from(rng.below(6)).expect("small");
        let knee = 25 + i64::try_from(rng.below(40)).expect("small");
        if rng.chance(85) {
            let at = self.clock;
            self.score(rng, plan, at, ("baseline", "NPRS"), baseline, true);
        }
        if marrow && rng.chance(85) {
            let at = self.clock;
            self.score(rng, plan, at, ("baseline", "KOOS pain"), knee, false);
        }
        if !treated {
            return;
        }
        let unit = format!("u-{plan}");
        let fin = if self.site == SITES[0].0 { SITES[0].1 } else { SITES[1].1 };
        self.clock = Timestamp(given.0 - 60 * 60_000_000);
        let collected = self.clock;
        self.then("nurse", Command::RecordCollection {
            collection: id(&format!("col-{plan}")),
            source_person: id(patient),
            plan: Some(id(plan)),
            tissue,
            product_type,
            unit: id(&unit),
            din: format!("{fin}25{:06}", n * 2 + u64::from(plan.ends_with("-b"))),
            product_code: "S5001100".into(),
            quantity: dose.clone(),
            collected_at: collected,
            expires_at: Timestamp(collected.0 + 5 * DAY),
        });
        self.then("tech", Command::RecordQcResult { unit: id(&unit), test: "cell count".into(), value: "ok".into(), specification: "ok".into(), outcome: QcOutcome::InSpecification });
        self.then("qa", Command::ReleaseUnit { unit: id(&unit), signature: SignatureRequest::own(id("qa"), SignatureMeaning::Release) });
        let grant = format!("grant-{plan}");
        let administer = Command::AdministerUnit {
            administration: id(&format!("adm-{plan}")),
            unit: id(&unit),
            patient: id(patient),
            plan: id(plan),
            dose,
            body_site: "right knee".into(),
            witness: SignatureRequest::granted(id("nurse2"), SignatureMeaning::AdministrationWitness, id(&grant)),
        };
        let command_digest = administer.signing_digest(&id("nurse"), &id(self.site));
        self.at("nurse2", given, Command::IssueSigningGrant { grant: id(&grant), meaning: SignatureMeaning::AdministrationWitness, submitter: id("nurse"), command_digest, method: AuthenticationMethod::Password });
        self.at("nurse", Timestamp(given.0 + 60_000_000), administer);
        // Follow-ups inside each window (days after the administration), until the patient is lost.
        let lost_after = if rng.chance(25) { rng.below(4) } else { 4 };
        for (k, (point, offset, slack)) in [("1m", 30, 6u64), ("3m", 91, 13), ("6m", 182, 29), ("12m", 365, 29)].into_iter().enumerate() {
            if k as u64 >= lost_after || rng.chance(10) {
                continue;
            }
            let day = offset + i64::try_from(rng.below(2 * slack + 1)).expect("small") - i64::try_from(slack).expect("small");
            let at = Timestamp(given.0 + day * DAY + 3_600_000_000);
            let better = i64::try_from(rng.below(5)).expect("small");
            self.score(rng, plan, at, (point, "NPRS"), baseline - better + 1, true);
            if rng.chance(5) {
                // A corrected entry later the same day: the later one counts.
                self.score(rng, plan, Timestamp(at.0 + 60_000_000), (point, "NPRS"), baseline - better, false);
            }
            if marrow {
                let knee_better = i64::try_from(rng.below(30)).expect("small");
                self.score(rng, plan, at, (point, "KOOS pain"), knee + knee_better - 5, false);
            }
        }
        for k in 0..rng.below(4) {
            let (term, grade) = [("Injection site reaction", 1 + rng.below(3)), ("Arthralgia", 1 + rng.below(3)), ("Pain", 1 + rng.below(3))][usize::try_from(rng.below(3)).expect("small")];
            let serious = rng.chance(15);
            let seriousness: BTreeSet<Seriousness> = if serious { BTreeSet::from([Seriousness::Hospitalisation]) } else { BTreeSet::new() };
            // Some events before treatment (left out of the analysis, but counted as excluded).
            let onset_day = i64::try_from(rng.below(200)).expect("small") - 5;
            let onset = Date::from_days_since_epoch(given.date().days_since_epoch() + onset_day);
            let linked = serious || rng.chance(70);
            // Reported the day after onset, and after the plan exists.
            let reported = Timestamp((onset.start().0 + DAY).max(given.0) + 7_200_000_000);
            self.at("doc", reported, Command::ReportAdverseEvent {
                adverse_event: id(&format!("ae-{plan}-{k}")),
                patient: id(patient),
                plan: linked.then(|| id(plan)),
                unit: None,
                term: term.into(),
                grade: u8::try_from(grade).expect("grade"),
                onset,
                seriousness,
                relatedness: Relatedness::Possible,
                action: "observed".into(),
                outcome: "recovered".into(),
                description: "generated".into(),
            });
        }
        if rng.chance(5) {
            self.at("doc", Timestamp(given.0 + 2 * DAY), Command::WithdrawConsent { plan: id(plan), reason: "moved away".into() });
        }
    }
}

/// Sites, staff at both, and every patient's story, submitted through the engine.
async fn generate(engine: &Engine, start: Timestamp) {
    let system = |n: u64, command: Command| Submission { id: id(&format!("scale-setup-{n}")), actor: Actor::System("test".into()), site: id(SITES[0].0), at: start, command };
    let mut n = 0;
    for (site, fin) in SITES {
        n += 1;
        engine.submit(system(n, Command::RegisterSite { site: id(site), name: site.into(), kind: SiteKind::Clinic, country: "GB".into(), accreditations: vec![], fin: fin.into() })).await.expect("site");
    }
    for (staff, role) in [("doc", Role::Physician), ("nurse", Role::Nurse), ("nurse2", Role::Nurse), ("tech", Role::LabTechnologist), ("qa", Role::QualityAssurance)] {
        n += 1;
        let memberships = SITES.iter().map(|(site, _)| Membership { site: id(site), roles: [role].into_iter().collect() }).collect();
        engine.submit(system(n, Command::RegisterStaff { staff: id(staff), name: staff.into(), username: staff.into(), memberships })).await.expect("staff");
    }
    let hash = celltrace_web::auth::hash_password("scale password 1").expect("hash");
    let set = system(n + 1, Command::SetPassword { staff: id("doc"), change: PasswordChange::Initial });
    engine.submit_with_secret(set, Secret::Password { staff: id("doc"), hash, end_sessions: false }).await.expect("password");

    let mut rng = Rng(0x5EED_CE11_7ACE);
    let mut stories = Vec::new();
    for p in 0..PATIENTS {
        let site = SITES[usize::try_from(p % 2).expect("small")].0;
        let given = Timestamp(start.0 + (10 + i64::try_from(p % 30).expect("small")) * DAY);
        let mut story = Story { site, clock: Timestamp(given.0 - 2 * DAY), subs: Vec::new() };
        let patient = format!("p-{p}");
        story.then("nurse", Command::RegisterPerson {
            person: id(&patient),
            kind: PersonKind::Patient,
            mrn: format!("SC-{p}"),
            name: format!("Patient {p}"),
            date_of_birth: Date::new(1960, 1, 1).expect("date"),
            sex: Sex::Other,
            language: Language::En,
            contact: String::new(),
        });
        // Most are treated; a few never are; every tenth has a second plan.
        let treated = !rng.chance(4);
        story.plan(&mut rng, &patient, &format!("plan-{p}"), p, given, treated);
        if p.is_multiple_of(10) {
            story.plan(&mut rng, &patient, &format!("plan-{p}-b"), p, Timestamp(given.0 + 3 * DAY), true);
        }
        story.subs.sort_by_key(|s| s.at);
        stories.push(story.subs);
    }
    // Patients are independent: their stories run side by side (group commit), each in its own order.
    let mut running = tokio::task::JoinSet::new();
    for subs in stories {
        let engine = engine.clone();
        running.spawn(async move {
            for sub in subs {
                let name = sub.command.name();
                engine.submit(sub).await.unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        });
        while running.len() >= 32 {
            running.join_next().await.expect("a task").expect("a story");
        }
    }
    while let Some(done) = running.join_next().await {
        done.expect("a story");
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("json")
}

/// Two JSON texts are the same, or the first difference is shown (not the whole registry).
fn assert_same(found: &str, expected: &str, what: &str) {
    if found != expected {
        let at = found.bytes().zip(expected.bytes()).position(|(a, b)| a != b).unwrap_or(found.len().min(expected.len()));
        let around = |text: &str| text.get(at.saturating_sub(150)..(at + 150).min(text.len())).unwrap_or("").to_owned();
        panic!("{what}: differs at byte {at}:\n found    …{}…\n expected …{}…", around(found), around(expected));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_from_the_index_equals_the_whole_state_computation_exactly() {
    for db in TestDb::all().await {
        let database = Database::open(&db.url).await.expect("open");
        let engine = Engine::start(database.clone(), celltrace::engine_options(celltrace_ledger::SigningKey::from_bytes(&[7; 32])).expect("reference data"));
        let start = Timestamp(now().0 - 500 * DAY);
        generate(&engine, start).await;
        let reader = database.reader();

        let state = database.load_state().await.expect("state");
        let reference = celltrace_registry::reference::analyse(&state);
        let indexed = celltrace_web::staff::registry::read_registry(reader).await.expect("registry");
        assert_same(&json(&indexed), &json(&reference), &format!("{}: every figure", db.backend));
        // The data covers what the registry must handle.
        let nprs = &reference[0];
        assert!(nprs.patients > 200 && reference[1].patients > 50, "{}: {} and {} patients", db.backend, nprs.patients, reference[1].patients);
        assert!(nprs.report.groups.len() == 4, "indication × product type × site");
        let ae = &nprs.report.pooled.adverse_events;
        assert!(ae.n_events > 50 && ae.events_by_grade.len() == 3 && ae.excluded_before_treatment > 0, "{ae:?}");
        assert!(nprs.report.pooled.time_points.iter().all(|t| t.n_missing > 0 && t.n_followed > 0), "loss to follow-up at every time point");
        assert!(state.plans.values().any(|p| p.status == PlanStatus::Stopped && !p.administrations.is_empty()), "a treated plan stopped");
        let treated = state.plans.values().filter(|p| !p.administrations.is_empty()).count();
        assert!(treated > 2 * celltrace_web::staff::registry::PLANS_PER_READ as usize && treated < state.plans.len(), "{treated} treated plans: several pages, and untreated plans besides");
        assert!(state.adverse_events.values().any(|a| a.plan.is_none()) && state.adverse_events.values().any(|a| a.is_serious()));
        assert_same(&celltrace_registry::export::csv(&indexed), &celltrace_registry::export::csv(&reference), "the export");

        // The command line reads the same way and prints the same figures.
        if db.backend == "sqlite" {
            let out = common::celltrace(&db, &["registry", "report", "--format", "json"]);
            assert!(out.status.success(), "{}", common::text(&out));
            // Both sides through the same parser, which may round the last digit of a float.
            let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
            let expected: serde_json::Value = serde_json::from_str(&json(&reference)).expect("JSON");
            assert_same(&json(&printed["analyses"]), &json(&expected), "the CLI's report");
        }
        drop(engine);
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cached_registry_is_reused_until_a_follow_up_changes_it_and_the_page_shows_it() {
    let db = TestDb::sqlite();
    let database = Database::open(&db.url).await.expect("open");
    let engine = Engine::start(database.clone(), celltrace::engine_options(celltrace_ledger::SigningKey::from_bytes(&[7; 32])).expect("reference data"));
    let start = Timestamp(now().0 - 500 * DAY);
    generate(&engine, start).await;
    let state = celltrace::web_state(engine.clone(), "http://celltrace.test").expect("web state");
    let cache = state.registry.clone();
    let reader = database.reader();
    let app = celltrace_web::router(state);

    let first = cache.current(reader).await.expect("registry");
    let again = cache.current(reader).await.expect("registry");
    assert!(Arc::ptr_eq(&first, &again), "nothing changed: the cached registry is reused");
    let mut doc = Client::new(&app);
    assert_eq!(doc.login("doc", "scale password 1").await.location, "/");
    let page = doc.get("/registry").await;
    assert_eq!(page.status, StatusCode::OK);
    let knee = |analyses: &[celltrace_registry::Analysis]| analyses[1].patients;
    let heading = |n: usize| format!("KOOS pain (MCID 11.3 points, {n} patients)");
    assert!(page.body.contains(&heading(knee(&first))), "{}", page.body);
    assert!(Arc::ptr_eq(&first, &cache.current(reader).await.expect("registry")), "reading the page changed nothing");

    // A KOOS pain score for a PRP plan, which had none: one more patient in that analysis.
    let generation = reader.generation("registry").await.expect("generation");
    let plan = database.load_state().await.expect("state").plans.into_values().find(|p| p.product_type == ProductType::Prp && celltrace_registry::counts(p) && p.follow_ups.iter().all(|f| f.instrument != "KOOS pain")).expect("a PRP plan");
    let given = plan.administrations[0].at;
    let follow_up = Submission {
        id: id("scale-new-follow-up"),
        actor: Actor::Staff(id("nurse")),
        site: plan.site.clone(),
        at: Timestamp(given.0 + 30 * DAY),
        command: Command::RecordFollowUp { plan: plan.id.clone(), visit: id("visit-new"), time_point: "1m".into(), instrument: "KOOS pain".into(), score_milli: Some(60_000), notes: String::new() },
    };
    engine.submit(follow_up).await.expect("follow-up");
    assert!(reader.generation("registry").await.expect("generation") > generation, "the engine bumps the generation with the change");

    // Requests arriving together after the change share one computation.
    let together: Vec<_> = (0..6).map(|_| {
        let (cache, reader) = (cache.clone(), reader.clone());
        tokio::spawn(async move { cache.current(&reader).await.expect("registry") })
    }).collect();
    let mut results = Vec::new();
    for task in together {
        results.push(task.await.expect("task"));
    }
    assert!(results.iter().all(|r| Arc::ptr_eq(r, &results[0])), "one computation for all of them");
    assert!(!Arc::ptr_eq(&results[0], &first));
    assert_eq!(knee(&results[0]), knee(&first) + 1);
    let page = doc.get("/registry").await;
    assert!(page.body.contains(&heading(knee(&first) + 1)), "the page shows the new figure: {}", page.body);
    let fresh = celltrace_registry::reference::analyse(&database.load_state().await.expect("state"));
    assert_same(&json(results[0].as_ref()), &json(&fresh), "after the change, still exactly the whole-state figures");
}
