//! One refusal on every entry path (issue 13): each forbidden action is
//! submitted through every path that can express it — the staff web form
//! (in process), the JSON API with a bearer token, and the CSV import where
//! its format covers the action — and every path answers with the SAME
//! rule code, and the ledger's head does not move. The table says, for each
//! action, which paths apply and why the others cannot express it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::model::*;
use celltrace_domain::time::Timestamp;
use celltrace_domain::RejectionCode;
use celltrace_ledger::SigningKey;
use celltrace_store::{Database, Engine};
use celltrace_testkit::{api_token, now, TestDb, CONSENT};
use common::web::*;
use common::{celltrace, text};
use std::collections::BTreeSet;

const PASSWORD: &str = "celltrace-demo";

fn id<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("valid id")
}

fn own(signer: &str, meaning: SignatureMeaning) -> SignatureRequest {
    SignatureRequest::own(id(signer), meaning)
}

/// A submission by `actor` at `site`, now.
fn by(actor: &str, site: &str, command: Command) -> Submission {
    Submission { id: id(&format!("t-{}", uuid::Uuid::now_v7())), actor: Actor::Staff(id(actor)), site: id(site), at: now(), command }
}

/// The API token each member of staff of the table uses.
fn token_of(user: &str) -> String {
    format!("ct_refusals_{}", user.replace('.', "_"))
}

/// The demo clinic network, served in process, with the records the table
/// needs and an API token for each member of staff who acts in it.
struct Clinic {
    db: TestDb,
    app: Router,
}

async fn clinic(users: &BTreeSet<(&'static str, &'static str)>) -> Clinic {
    let db = TestDb::sqlite();
    let database = Database::open(&db.url).await.expect("open");
    let engine = Engine::start(database, celltrace::engine_options(SigningKey::from_bytes(&[3; 32])).expect("reference data"));
    celltrace::demo::load(&engine, now()).await.expect("demo");
    let app = celltrace_web::router(celltrace::web_state(engine.clone(), "http://celltrace.test").expect("web state"));
    let submit = |sub: Submission| {
        let engine = engine.clone();
        async move {
            let name = sub.command.name();
            engine.submit(sub).await.unwrap_or_else(|e| panic!("setup {name}: {e}"));
        }
    };
    for (user, site) in users {
        let mut issue = api_token(&token_of(user), user, now());
        issue.site = id(site);
        submit(issue).await;
    }
    // A research-only product at Dubai, whose policy permits unproven ones: blocked.
    submit(by("dr.haddad", "dubai-clinic", Command::CreatePlan {
        plan: id("plan-embryonic"),
        patient: id("p-layla"),
        indication: "M17.11".into(),
        product_type: ProductType::EmbryonicDerived,
        route: "intra-articular".into(),
        sessions: 1,
        dose: Quantity { milli: 5000, unit: "mL".into() },
        cost_quote: Money { minor: 100_000, currency: "USD".into() },
        trial: None,
    }))
    .await;
    // Fatima's second collection at Dubai, its sterility sample sent today; a third goes to Mumbai.
    for (unit, din) in [("u-refusal", "A999126000190"), ("u-refusal-ship", "A999126000191")] {
        submit(by("nurse.fatima", "dubai-clinic", Command::RecordCollection {
            collection: id(&format!("col-{unit}")),
            source_person: id("p-fatima"),
            plan: Some(id("plan-fatima")),
            tissue: SourceTissue::Adipose,
            product_type: ProductType::AutologousAdipose,
            unit: id(unit),
            din: din.into(),
            product_code: "S1001100".into(),
            quantity: Quantity { milli: 100_000, unit: "mL".into() },
            collected_at: now(),
            expires_at: Timestamp(now().0 + 2 * Timestamp::DAY),
        }))
        .await;
    }
    submit(by("tech.dubai", "dubai-clinic", Command::RecordQcResult {
        unit: id("u-refusal"),
        test: "sterility".into(),
        value: "sample sent for culture".into(),
        specification: "no growth".into(),
        outcome: QcOutcome::Pending,
    }))
    .await;
    submit(by("log.khan", "dubai-clinic", Command::DispatchShipment {
        shipment: id("ship-refusal"),
        to_site: id("mumbai-lab"),
        units: vec![id("u-refusal-ship")],
        courier: "MedCourier Gulf, 2-8 °C".into(),
        signature: own("log.khan", SignatureMeaning::CustodyTransfer),
    }))
    .await;
    // A consent witnessed through a signing grant, recorded: the grant is spent.
    let mut consent = recorded_consent();
    let digest = consent.signing_digest(&id("dr.khoury"), &id("dubai-clinic"));
    submit(by("nurse.omar", "dubai-clinic", Command::IssueSigningGrant {
        grant: id("sg-refusal"),
        meaning: SignatureMeaning::ConsentWitness,
        submitter: id("dr.khoury"),
        command_digest: digest,
        method: AuthenticationMethod::Password,
    }))
    .await;
    assert!(consent.attach_grant(&id("nurse.omar"), SignatureMeaning::ConsentWitness, id("sg-refusal")));
    submit(by("dr.khoury", "dubai-clinic", consent)).await;
    Clinic { db, app }
}

/// A consent for Fatima's plan, witnessed by nurse Omar as `witness` says.
fn consent(consent: &str, witness: SignatureRequest) -> Command {
    Command::RecordConsent {
        plan: id("plan-fatima"),
        consent: id(consent),
        template: CONSENT.0.into(),
        template_version: CONSENT.1.into(),
        language: Language::Ar,
        witness: Some(witness),
    }
}

/// The consent recorded with nurse Omar's signing grant.
fn recorded_consent() -> Command {
    consent("plan-fatima-consent-2", own("nurse.omar", SignatureMeaning::ConsentWitness))
}

/// How one entry path expresses a forbidden action, or why it cannot.
enum Via<T> {
    Path(T),
    Cannot(&'static str),
}

/// Why a path is left out of a case, if it is.
trait Reason {
    fn reason(&self) -> Option<&'static str>;
}

impl<T> Reason for Via<T> {
    fn reason(&self) -> Option<&'static str> {
        match self {
            Via::Path(_) => None,
            Via::Cannot(why) => Some(why),
        }
    }
}

/// The staff web application.
enum Web {
    /// A form posted by `user` (at `site`, when not their first): the form
    /// comes back with the rules' code and the form field `field` marked.
    Form { user: &'static str, site: Option<&'static str>, path: String, fields: Vec<(&'static str, String)>, field: Option<&'static str> },
    /// A page whose route (its `Access` in the route table) refuses the
    /// role before any command is made: 403, the status of the code.
    Guard { user: &'static str, path: String },
}

/// `POST /api/commands` with the token of `user`.
struct Api {
    user: &'static str,
    site: &'static str,
    command: Command,
}

/// `celltrace import KIND FILE --site SITE --as STAFF`.
struct Import {
    kind: &'static str,
    csv: &'static str,
    site: &'static str,
    staff: &'static str,
}

struct Case {
    action: &'static str,
    code: RejectionCode,
    web: Via<Web>,
    api: Via<Api>,
    import: Via<Import>,
}

const NO_IMPORT: &str = "the CSV import reads patients, collected units and questionnaire answers only";

fn fields(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

fn adverse_event(unit: Option<&str>, plan: Option<&str>, seriousness: &[Seriousness]) -> Command {
    Command::ReportAdverseEvent {
        adverse_event: id(&format!("ae-{}", uuid::Uuid::now_v7().simple())),
        patient: id("p-layla"),
        plan: plan.map(id),
        unit: unit.map(id),
        term: "Injection site reaction".into(),
        grade: 2,
        onset: now().date(),
        seriousness: seriousness.iter().copied().collect(),
        relatedness: Relatedness::Possible,
        action: "Cold packs".into(),
        outcome: "Recovering".into(),
        description: "Swelling at the injection site.".into(),
    }
}

fn adverse_event_form(unit: &str, plan: &str, serious: bool) -> Vec<(&'static str, String)> {
    let mut f = fields(&[
        ("plan", plan),
        ("unit", unit),
        ("term", "Injection site reaction"),
        ("grade", "2"),
        ("relatedness", "possible"),
        ("action", "Cold packs"),
        ("outcome", "Recovering"),
        ("description", "Swelling at the injection site."),
    ]);
    f.push(("onset", now().date().to_string()));
    if serious {
        f.push(("seriousness", "hospitalisation".into()));
    }
    f
}

fn table() -> Vec<Case> {
    let consent_fields = |password: &str| fields(&[("template", CONSENT.0), ("template_version", CONSENT.1), ("language", "ar"), ("witness", "nurse.omar"), ("witness_password", password)]);
    let exceptional = |physician_grant: Option<&str>, qa_grant: Option<&str>| Command::ExceptionalRelease {
        unit: id("u-fatima-msc"),
        qa: match qa_grant {
            Some(g) => SignatureRequest::granted(id("qa.mehta"), SignatureMeaning::ExceptionalRelease, id(g)),
            None => own("qa.mehta", SignatureMeaning::ExceptionalRelease),
        },
        physician: match physician_grant {
            Some(g) => SignatureRequest::granted(id("dr.nair"), SignatureMeaning::ExceptionalRelease, id(g)),
            None => own("dr.nair", SignatureMeaning::ExceptionalRelease),
        },
        justification: "Sterility culture pending; the treatment date is fixed.".into(),
        patient_informed: true,
    };
    let allocation = |unit: &'static str| Case {
        action: "Dubai staff allocate a unit another site holds",
        code: RejectionCode::OtherSite,
        web: Via::Path(Web::Form { user: "dr.haddad", site: None, path: format!("/units/{unit}/allocate"), fields: fields(&[("plan", "plan-fatima")]), field: None }),
        api: Via::Path(Api { user: "dr.haddad", site: "dubai-clinic", command: Command::AllocateUnit { unit: id(unit), plan: id("plan-fatima") } }),
        import: Via::Cannot(NO_IMPORT),
    };
    vec![
        Case {
            action: "an unproven plan at a site whose policy does not permit it is made active by an override",
            code: RejectionCode::SitePolicy,
            web: Via::Path(Web::Form {
                user: "md.iyer",
                site: None,
                path: "/plans/plan-meera/override".into(),
                fields: fields(&[("reason", "The patient asks for it."), ("signature_password", PASSWORD)]),
                field: None,
            }),
            api: Via::Path(Api {
                user: "md.iyer",
                site: "delhi-centre",
                command: Command::OverrideEvidenceBlock { plan: id("plan-meera"), signature: own("md.iyer", SignatureMeaning::EvidenceOverride), reason: "The patient asks for it.".into() },
            }),
            import: Via::Cannot(NO_IMPORT),
        },
        Case {
            action: "a research-only plan is made active by an override at a site that permits unproven treatments",
            code: RejectionCode::OverrideNotPossible,
            web: Via::Path(Web::Form {
                user: "md.alsayed",
                site: None,
                path: "/plans/plan-embryonic/override".into(),
                fields: fields(&[("reason", "The patient asks for it."), ("signature_password", PASSWORD)]),
                field: None,
            }),
            api: Via::Path(Api {
                user: "md.alsayed",
                site: "dubai-clinic",
                command: Command::OverrideEvidenceBlock { plan: id("plan-embryonic"), signature: own("md.alsayed", SignatureMeaning::EvidenceOverride), reason: "The patient asks for it.".into() },
            }),
            import: Via::Cannot(NO_IMPORT),
        },
        Case {
            action: "a consent names a witness who did not sign (no signing grant)",
            code: RejectionCode::SignatureNotProven,
            // In the form the witness signs by re-entering their password; a wrong one proves nothing.
            web: Via::Path(Web::Form { user: "dr.khoury", site: None, path: "/plans/plan-fatima/consent".into(), fields: consent_fields("not her password"), field: Some("witness_password") }),
            api: Via::Path(Api {
                user: "dr.khoury",
                site: "dubai-clinic",
                command: consent("plan-fatima-consent-forged", own("nurse.omar", SignatureMeaning::ConsentWitness)),
            }),
            import: Via::Cannot(NO_IMPORT),
        },
        Case {
            action: "an exceptional release names a physician who did not sign (no signing grant)",
            code: RejectionCode::SignatureNotProven,
            web: Via::Path(Web::Form {
                user: "qa.mehta",
                site: None,
                path: "/units/u-fatima-msc/exceptional-release".into(),
                fields: fields(&[
                    ("justification", "Sterility culture pending; the treatment date is fixed."),
                    ("patient_informed", "yes"),
                    ("physician", "dr.nair"),
                    ("physician_password", "not his password"),
                    ("signature_password", PASSWORD),
                ]),
                field: Some("physician_password"),
            }),
            api: Via::Path(Api { user: "qa.mehta", site: "mumbai-lab", command: exceptional(None, None) }),
            import: Via::Cannot(NO_IMPORT),
        },
        Case {
            action: "a spent signing grant is replayed on another command",
            code: RejectionCode::SigningGrantInvalid,
            web: Via::Cannot("no form takes a grant: the co-signer authenticates in the form and a fresh grant is made for that very command"),
            api: Via::Path(Api {
                user: "dr.khoury",
                site: "dubai-clinic",
                command: consent("plan-fatima-consent-replayed", SignatureRequest::granted(id("nurse.omar"), SignatureMeaning::ConsentWitness, id("sg-refusal"))),
            }),
            import: Via::Cannot(NO_IMPORT),
        },
        Case {
            action: "one signing grant is quoted for two signatures",
            code: RejectionCode::SigningGrantUsed,
            web: Via::Cannot("no form takes a grant: each co-signer's grant is made by the form, one per signature"),
            api: Via::Path(Api { user: "qa.mehta", site: "mumbai-lab", command: exceptional(Some("sg-refusal"), Some("sg-refusal")) }),
            import: Via::Cannot(NO_IMPORT),
        },
        allocation("u-cord-ahmed"),
        allocation("u-exo-01b"),
        Case {
            action: "an adverse event names another site's unit",
            code: RejectionCode::OtherSite,
            // The form offers the units the patient was given; a posted value of another site's unit reaches the rules.
            web: Via::Path(Web::Form { user: "dr.haddad", site: None, path: "/patients/p-layla/adverse-event".into(), fields: adverse_event_form("u-cord-ahmed", "plan-layla", false), field: Some("unit") }),
            api: Via::Path(Api { user: "dr.haddad", site: "dubai-clinic", command: adverse_event(Some("u-cord-ahmed"), Some("plan-layla"), &[]) }),
            import: Via::Cannot(NO_IMPORT),
        },
        Case {
            action: "a serious adverse event is not linked to the patient's plan",
            code: RejectionCode::SeriousWithoutPlan,
            web: Via::Path(Web::Form { user: "dr.haddad", site: None, path: "/patients/p-layla/adverse-event".into(), fields: adverse_event_form("", "", true), field: Some("plan") }),
            api: Via::Path(Api { user: "dr.haddad", site: "dubai-clinic", command: adverse_event(None, None, &[Seriousness::Hospitalisation]) }),
            import: Via::Cannot(NO_IMPORT),
        },
        Case {
            action: "a follow-up is recorded outside its time point's window (a baseline after treatment)",
            code: RejectionCode::OutsideWindow,
            web: Via::Path(Web::Form {
                user: "nurse.fatima",
                site: None,
                path: "/plans/plan-layla/follow-up".into(),
                fields: fields(&[("time_point", "baseline"), ("instrument", "NPRS"), ("score", "5"), ("notes", "")]),
                field: Some("time_point"),
            }),
            api: Via::Path(Api {
                user: "nurse.fatima",
                site: "dubai-clinic",
                command: Command::RecordFollowUp { plan: id("plan-layla"), visit: id("visit-refused"), time_point: "baseline".into(), instrument: "NPRS".into(), score_milli: Some(5000), notes: String::new() },
            }),
            import: Via::Cannot("follow-up results have no import; questionnaire answers do (the next case)"),
        },
        Case {
            action: "a questionnaire is answered outside its time point's window (a baseline after treatment)",
            code: RejectionCode::OutsideWindow,
            web: Via::Path(Web::Form { user: "nurse.fatima", site: None, path: "/plans/plan-layla/questionnaires/baseline/nprs".into(), fields: fields(&[("language", "ar"), ("item:pain", "3")]), field: Some("time_point") }),
            api: Via::Path(Api {
                user: "nurse.fatima",
                site: "dubai-clinic",
                command: Command::AnswerQuestionnaire {
                    plan: id("plan-layla"),
                    visit: id("visit-refused"),
                    time_point: "baseline".into(),
                    instrument: "nprs".into(),
                    answers: [("pain".to_owned(), 3)].into_iter().collect(),
                    language: Language::Ar,
                },
            }),
            import: Via::Path(Import { kind: "answers", csv: "plan,time_point,instrument,item:pain\nplan-layla,baseline,nprs,3\n", site: "dubai-clinic", staff: "nurse.fatima" }),
        },
        Case {
            action: "a sterility result is entered before its incubation is over",
            code: RejectionCode::IncubationIncomplete,
            web: Via::Path(Web::Form {
                user: "tech.dubai",
                site: None,
                path: "/units/u-refusal/qc".into(),
                fields: fields(&[("test", "sterility"), ("value", "no growth"), ("specification", "no growth"), ("outcome", "in_specification")]),
                field: Some("outcome"),
            }),
            api: Via::Path(Api {
                user: "tech.dubai",
                site: "dubai-clinic",
                command: Command::RecordQcResult { unit: id("u-refusal"), test: "sterility".into(), value: "no growth".into(), specification: "no growth".into(), outcome: QcOutcome::InSpecification },
            }),
            import: Via::Cannot(NO_IMPORT),
        },
        Case {
            action: "a unit with a QC result pending is released plainly",
            code: RejectionCode::QcPending,
            web: Via::Path(Web::Form { user: "qa.dubai", site: None, path: "/units/u-refusal/release".into(), fields: fields(&[("signature_password", PASSWORD)]), field: None }),
            api: Via::Path(Api { user: "qa.dubai", site: "dubai-clinic", command: Command::ReleaseUnit { unit: id("u-refusal"), signature: own("qa.dubai", SignatureMeaning::Release) } }),
            import: Via::Cannot(NO_IMPORT),
        },
        Case {
            action: "a shipment is received without a temperature log and without a signed exception's reason",
            code: RejectionCode::MissingField,
            web: Via::Path(Web::Form {
                user: "log.khan",
                site: Some("mumbai-lab"),
                path: "/shipments/ship-refusal/receive".into(),
                fields: fields(&[("condition", "ok"), ("min", "2"), ("max", "8"), ("log", ""), ("no_log_reason", ""), ("signature_password", PASSWORD)]),
                field: Some("no_log_reason"),
            }),
            api: Via::Path(Api {
                user: "log.khan",
                site: "mumbai-lab",
                command: Command::ReceiveShipment {
                    shipment: id("ship-refusal"),
                    condition_ok: true,
                    temperature_log: TemperatureLog::Missing { reason: String::new(), exception: own("log.khan", SignatureMeaning::TemperatureException) },
                    signature: own("log.khan", SignatureMeaning::CustodyTransfer),
                },
            }),
            import: Via::Cannot(NO_IMPORT),
        },
        Case {
            action: "a role without patient access reads a patient's record",
            code: RejectionCode::Forbidden,
            web: Via::Path(Web::Guard { user: "tech.rao", path: "/patients/d-msc-01".into() }),
            api: Via::Path(Api { user: "tech.rao", site: "mumbai-lab", command: Command::RecordRecordViewed { person: id("d-msc-01"), view: "script".into(), via_unit: None } }),
            import: Via::Cannot(NO_IMPORT),
        },
    ]
}

/// The value of `attribute` on the refusal's alert, if it has one.
fn alert_attribute(body: &str, attribute: &str) -> Option<String> {
    let alert = &body[body.find("id=\"form-error\"")?..];
    let alert = &alert[..alert.find('>')?];
    let marker = format!("{attribute}=\"");
    let start = alert.find(&marker)? + marker.len();
    Some(alert[start..start + alert[start..].find('"')?].to_owned())
}

/// The ledger's head: its sequence number and hash.
async fn head(database: &Database) -> (u64, String) {
    let head = database.reader().head().await.expect("head");
    (head.seq, celltrace_ledger::to_hex(&head.hash))
}

async fn through_the_web(clinic: &Clinic, database: &Database, case: &Case, web: &Web) {
    let what = format!("web: {}", case.action);
    match web {
        Web::Form { user, site, path, fields, field } => {
            let mut client = Client::new(&clinic.app);
            assert_eq!(client.login(user, PASSWORD).await.location, "/", "{what}: {user} signs in");
            let csrf = client.csrf().await;
            if let Some(site) = site {
                client.post("/site", &[("csrf", &csrf), ("site", site)]).await;
            }
            let mut sent: Vec<(&str, &str)> = vec![("csrf", &csrf)];
            sent.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
            let before = head(database).await;
            let page = client.post(path, &sent).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: the form comes back\n{}", page.body);
            assert_eq!(alert_attribute(&page.body, "data-code").as_deref(), Some(case.code.as_str()), "{what}\n{}", page.body);
            assert_eq!(alert_attribute(&page.body, "data-field").as_deref(), *field, "{what}: the field marked");
            if let Some(field) = field {
                assert!(page.body.contains(&format!("aria-describedby=\"e-{field}\"")) || path.contains("/questionnaires/"), "{what}: {field} is marked");
            }
            assert_eq!(head(database).await, before, "{what}: nothing was recorded");
        }
        Web::Guard { user, path } => {
            let mut client = Client::new(&clinic.app);
            client.login(user, PASSWORD).await;
            let before = head(database).await;
            let page = client.get(path).await;
            assert_eq!(page.status.as_u16(), case.code.http_status(), "{what}: refused before any command is made");
            assert!(page.body.contains("do not let you"), "{what}: the page says which permission is missing");
            assert_eq!(head(database).await, before, "{what}: nothing was recorded");
        }
    }
}

async fn through_the_api(clinic: &Clinic, database: &Database, case: &Case, api: &Api) {
    let what = format!("api: {}", case.action);
    let body = serde_json::json!({ "site": api.site, "command": api.command });
    let request = Request::post("/api/commands")
        .header(header::AUTHORIZATION, format!("Bearer {}", token_of(api.user)))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let before = head(database).await;
    let response = Client::new(&clinic.app).send(request).await;
    let json: serde_json::Value = serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("{what}: JSON ({e}): {}", response.body));
    assert_eq!(json["error"]["code"], case.code.as_str(), "{what}: {json}");
    assert_eq!(response.status.as_u16(), case.code.http_status(), "{what}");
    assert_eq!(head(database).await, before, "{what}: nothing was recorded");
}

async fn through_the_import(clinic: &Clinic, database: &Database, case: &Case, import: &Import) {
    let what = format!("import: {}", case.action);
    let file = clinic.db.dir.path().join(format!("{}.csv", import.kind));
    std::fs::write(&file, import.csv).expect("write the file");
    let before = head(database).await;
    let out = celltrace(&clinic.db, &["import", import.kind, &file.display().to_string(), "--site", import.site, "--as", import.staff]);
    let report = text(&out);
    assert!(!out.status.success(), "{what}: refused\n{report}");
    assert!(report.contains("line 2: ") && report.contains(&format!("[{}]", case.code)), "{what}: the row's line and code\n{report}");
    assert!(report.contains("nothing was imported"), "{what}\n{report}");
    assert_eq!(head(database).await, before, "{what}: nothing was recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_entry_path_refuses_a_forbidden_action_with_the_same_code() {
    let cases = table();
    let users: BTreeSet<(&'static str, &'static str)> = cases.iter().filter_map(|c| if let Via::Path(api) = &c.api { Some((api.user, api.site)) } else { None }).collect();
    let clinic = clinic(&users).await;
    let database = Database::connect(&clinic.db.url).await.expect("connect");
    for case in &cases {
        // Every action is expressible somewhere; a path that cannot express it says why.
        let reasons = [&case.web as &dyn Reason, &case.api, &case.import].map(|via| via.reason());
        assert!(reasons.iter().any(Option::is_none), "{}: no entry path expresses it", case.action);
        assert!(reasons.iter().flatten().all(|r| !r.is_empty()), "{}: a path is left out without a reason", case.action);
        if let Via::Path(web) = &case.web {
            through_the_web(&clinic, &database, case, web).await;
        }
        if let Via::Path(api) = &case.api {
            through_the_api(&clinic, &database, case, api).await;
        }
        if let Via::Path(import) = &case.import {
            through_the_import(&clinic, &database, case, import).await;
        }
    }
    // Blocked plans stay blocked.
    for plan in ["plan-meera", "plan-embryonic"] {
        let p: Plan = database.reader().get::<Plan>(plan).await.expect("read").expect("plan");
        assert_eq!(p.status, PlanStatus::Blocked, "{plan} stays blocked");
    }
    let unit: Unit = database.reader().get::<Unit>("u-refusal").await.expect("read").expect("unit");
    assert_eq!(unit.status, UnitStatus::Quarantine, "the unit with a pending result stays in quarantine");
}
