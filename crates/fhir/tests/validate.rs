//! The acceptance test of the FHIR interface: a realistic state built by real
//! commands (`decide` + `State::apply`), every resource type produced from it,
//! and all of them validated by `scripts/fhir_validate.py` against the
//! fhir.resources R4B models with zero errors. A deliberately broken resource
//! must fail, so a validator that accepts anything cannot pass this test.

use celltrace_domain::command::{Actor, Command, NewUnit, Submission};
use celltrace_domain::model::*;
use celltrace_domain::time::{Date, Timestamp};
use celltrace_domain::{decide, Event, ReferenceData, State};
use celltrace_fhir::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command as Process;

/// The pip line CI and developers need (keep in step with scripts/fhir_validate.py).
const PIP_LINE: &str = "pip install fhir.resources==8.3.0";
const SITE: &str = "main_clinic";

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("test id")
}

fn sig(who: &str, meaning: SignatureMeaning) -> SignatureRequest {
    SignatureRequest::own(id(who), meaning)
}

struct World {
    state: State,
    now: Timestamp,
    n: u32,
    /// Every event with its ledger-like sequence number and actor.
    ledger: Vec<(u64, Actor, Timestamp, Event)>,
}

impl World {
    fn submit(&mut self, actor: &str, command: Command) {
        self.n += 1;
        self.now = Timestamp(self.now.0 + 3_600_000_000 + 123_456);
        let actor = if actor == "system" { Actor::System("test".into()) } else { Actor::Staff(id(actor)) };
        let sub = Submission { id: id(&format!("c{}", self.n)), actor: actor.clone(), site: id(SITE), at: self.now, command };
        let events = decide(&self.state, &sub).unwrap_or_else(|r| panic!("command {} refused: {} {}", sub.command.name(), r.code, r.message));
        for e in events {
            self.state.apply(&e);
            let seq = self.ledger.len() as u64 + 1;
            self.ledger.push((seq, actor.clone(), self.now, e));
        }
    }

    /// Submits `command` as `submitter` with `signer`'s signature proven by
    /// the grant `signer` records first (a second person re-entering their password).
    fn submit_cosigned(&mut self, submitter: &str, signer: &str, meaning: SignatureMeaning, mut command: Command) {
        let grant = format!("grant-{}", self.n + 1);
        let command_digest = command.signing_digest(&id(submitter), &id(SITE));
        self.submit(signer, Command::IssueSigningGrant {
            grant: id(&grant),
            meaning,
            submitter: id(submitter),
            command_digest,
            method: AuthenticationMethod::Password,
        });
        assert!(command.attach_grant(&id(signer), meaning, id(&grant)), "the command asks {signer} to sign");
        // The form is submitted a minute after the signer authenticated, not an hour.
        self.now = Timestamp(self.now.0 - 3_600_000_000 + 60_000_000);
        self.submit(submitter, command);
    }

    /// Lets `days` pass.
    fn wait(&mut self, days: i64) {
        self.now = self.now.plus_days(days);
    }
}

/// A clinic with staff, an autologous path from collection to administration
/// and follow-up with an adverse event, and an allogeneic cord blood unit
/// released by exceptional release to a patient who later withdrew consent.
fn world() -> World {
    let state = State { reference: ReferenceData::new(std::sync::Arc::new(celltrace_reference::ReferenceData::shipped().expect("reference"))), ..State::default() };
    let mut w = World { state, now: Timestamp(1_780_000_000_000_000), n: 0, ledger: Vec::new() };
    w.submit("system", Command::RegisterSite {
        site: id(SITE),
        name: "Main Clinic & Lab".into(),
        kind: SiteKind::Clinic,
        country: "AE".into(),
        accreditations: vec!["FACT".into()],
        fin: "A9999".into(),
    });
    for (staff, name, roles) in [
        ("admin", "Ada Admin", vec![Role::Administrator]),
        ("dr_khoury", "Dr Rami Khoury", vec![Role::Physician]),
        ("nurse.omar", "Omar Haddad", vec![Role::Nurse]),
        ("nurse2", "Lina Saleh", vec![Role::Nurse]),
        ("tech", "Tariq Lab", vec![Role::LabTechnologist]),
        ("qa", "Quinn Assurance", vec![Role::QualityAssurance]),
        ("md", "Maya Director", vec![Role::MedicalDirector]),
    ] {
        w.submit("system", Command::RegisterStaff {
            staff: id(staff),
            name: name.into(),
            username: staff.replace('_', "."),
            memberships: vec![Membership { site: id(SITE), roles: roles.into_iter().collect() }],
        });
    }
    w.submit("admin", Command::LoadProductCatalogue {
        entries: vec![ProductDescription { code: "S0002".into(), description: "BMAC|autologous|concentrated".into() }],
        source: "test table v1".into(),
    });
    for (person, kind, mrn, name, sex, language, contact) in [
        ("p_ana", PersonKind::Patient, "MRN-1", "Ana Lopez", Sex::Female, Language::En, "ana@example.org"),
        ("p-ben", PersonKind::Patient, "MRN-2", "بن أحمد", Sex::Male, Language::Ar, "+971 50 000 0000"),
        ("donor-1", PersonKind::Donor, "MRN-3", "Cord Donor", Sex::Other, Language::Hi, ""),
    ] {
        w.submit("nurse.omar", Command::RegisterPerson {
            person: id(person),
            kind,
            mrn: mrn.into(),
            name: name.into(),
            date_of_birth: Date::new(1980, 2, 29).expect("date"),
            sex,
            language,
            contact: contact.into(),
        });
    }
    // Ana: autologous bone marrow for knee osteoarthritis.
    w.submit("dr_khoury", Command::CreatePlan {
        plan: id("plan-ana"),
        patient: id("p_ana"),
        indication: "M17.11".into(),
        product_type: ProductType::AutologousBoneMarrow,
        route: "intra-articular".into(),
        sessions: 1,
        dose: Quantity { milli: 6_000, unit: "mL".into() },
        cost_quote: Money { minor: 500_000, currency: "AED".into() },
        trial: Some(Trial { registration: "NCT09990001".into(), ethics_approval: "IEC-TEST-1".into() }),
    });
    w.submit("dr_khoury", Command::AssessEligibility {
        plan: id("plan-ana"),
        assessment: id("plan-ana-elig-1"),
        criteria: vec![Criterion { code: "no_infection".into(), description: "No active infection".into(), met: true, detail: "afebrile".into() }],
        valid_days: 60,
    });
    w.submit_cosigned("dr_khoury", "nurse2", SignatureMeaning::ConsentWitness, Command::RecordConsent {
        plan: id("plan-ana"),
        consent: id("plan-ana-consent-1"),
        template: "celltrace-consent".into(),
        template_version: "2026.1".into(),
        language: Language::En,
        witness: Some(sig("nurse2", SignatureMeaning::ConsentWitness)),
    });
    let collected = Timestamp(w.now.0 + 1_000_000);
    w.submit("nurse.omar", Command::RecordCollection {
        collection: id("col-u-ana-bma"),
        source_person: id("p_ana"),
        plan: Some(id("plan-ana")),
        tissue: SourceTissue::BoneMarrow,
        product_type: ProductType::AutologousBoneMarrow,
        unit: id("u-ana-bma"),
        din: "A999926000001".into(),
        product_code: "S0001100".into(),
        quantity: Quantity { milli: 60_000, unit: "mL".into() },
        collected_at: collected,
        expires_at: Timestamp(collected.0 + 2 * Timestamp::DAY),
    });
    w.submit("tech", Command::RecordProcessingStep {
        step: id("step-ana"),
        kind: ProcessingKind::Isolation,
        inputs: vec![id("u-ana-bma")],
        outputs: vec![
            NewUnit { unit: id("u-ana-bmac"), product_code: "S0002100".into(), quantity: Quantity { milli: 6_000, unit: "mL".into() }, expires_at: Timestamp(collected.0 + Timestamp::DAY) },
            NewUnit { unit: id("u_ana_spare"), product_code: "S0002200".into(), quantity: Quantity { milli: 2_500, unit: "mL".into() }, expires_at: Timestamp(collected.0 + Timestamp::DAY) },
        ],
        equipment: "Centrifuge <PoC-2>".into(),
        reagent_lots: vec!["KIT-2026-077".into()],
        parameters: vec![("spin".into(), "12 min".into())],
    });
    for (test, value, spec) in [("viability", "92 %", ">= 70 %"), ("CD34+ count", "1.2 million", ">= 1 million")] {
        w.submit("tech", Command::RecordQcResult { unit: id("u-ana-bmac"), test: test.into(), value: value.into(), specification: spec.into(), outcome: QcOutcome::InSpecification });
    }
    w.submit("tech", Command::StoreUnit {
        unit: id("u-ana-bmac"),
        location: StorageLocation { freezer: "F1".into(), rack: "R2".into(), r#box: "B3".into(), position: "A4".into() },
    });
    w.submit("qa", Command::ReleaseUnit { unit: id("u-ana-bmac"), signature: sig("qa", SignatureMeaning::Release) });
    w.submit("qa", Command::DiscardUnit { unit: id("u_ana_spare"), reason: "Not needed; destroyed per SOP".into() });
    w.submit_cosigned("nurse.omar", "nurse2", SignatureMeaning::AdministrationWitness, Command::AdministerUnit {
        administration: id("adm-u-ana-bmac"),
        unit: id("u-ana-bmac"),
        patient: id("p_ana"),
        plan: id("plan-ana"),
        dose: Quantity { milli: 6_000, unit: "mL".into() },
        body_site: "right knee".into(),
        witness: sig("nurse2", SignatureMeaning::AdministrationWitness),
    });
    w.wait(90);
    w.submit("nurse.omar", Command::RecordFollowUp {
        plan: id("plan-ana"),
        visit: id("plan-ana-3m"),
        time_point: "3m".into(),
        instrument: "NPRS".into(),
        score_milli: Some(3_500),
        notes: "Walks without a cane.".into(),
    });
    w.wait(91);
    w.submit("nurse.omar", Command::RecordFollowUp {
        plan: id("plan-ana"),
        visit: id("plan_ana_6m"),
        time_point: "6m".into(),
        instrument: "KOOS".into(),
        score_milli: None,
        notes: String::new(),
    });
    let onset = w.now.date();
    w.submit("dr_khoury", Command::ReportAdverseEvent {
        adverse_event: id("ae-ana-1"),
        patient: id("p_ana"),
        plan: Some(id("plan-ana")),
        unit: Some(id("u-ana-bmac")),
        term: "Joint effusion".into(),
        grade: 2,
        onset,
        seriousness: BTreeSet::new(),
        relatedness: Relatedness::Possible,
        action: "Aspiration".into(),
        outcome: "Resolved".into(),
        description: "Swelling of the right knee <2 days> after injection & mild pain.".into(),
    });
    w.submit("md", Command::ReviewAdverseEvent { adverse_event: id("ae-ana-1"), note: "Expected reaction.".into() });
    // Ben: allogeneic cord blood from a donor, exceptional release, consent withdrawn.
    let cord = Timestamp(w.now.0 + 1_000_000);
    w.submit("nurse.omar", Command::RecordCollection {
        collection: id("col-cord-1"),
        source_person: id("donor-1"),
        plan: None,
        tissue: SourceTissue::CordBlood,
        product_type: ProductType::CordBloodHpc,
        unit: id("u-cord-1"),
        din: "A999926000002".into(),
        product_code: "S3001V00".into(),
        quantity: Quantity { milli: 110_000, unit: "mL".into() },
        collected_at: cord,
        expires_at: Timestamp(cord.0 + 3650 * Timestamp::DAY),
    });
    w.submit("tech", Command::RecordQcResult { unit: id("u-cord-1"), test: "TNC  count".into(), value: "0.9e9".into(), specification: ">= 1.0e9".into(), outcome: QcOutcome::OutOfSpecification });
    w.submit_cosigned("qa", "dr_khoury", SignatureMeaning::ExceptionalRelease, Command::ExceptionalRelease {
        unit: id("u-cord-1"),
        qa: sig("qa", SignatureMeaning::ExceptionalRelease),
        physician: sig("dr_khoury", SignatureMeaning::ExceptionalRelease),
        justification: "No other matched unit".into(),
        patient_informed: true,
    });
    w.submit("dr_khoury", Command::CreatePlan {
        plan: id("plan-ben"),
        patient: id("p-ben"),
        indication: "D61.9".into(),
        product_type: ProductType::CordBloodHpc,
        route: "iv".into(),
        sessions: 1,
        dose: Quantity { milli: 25_000, unit: "mL".into() },
        cost_quote: Money { minor: 100, currency: "USD".into() },
        trial: None,
    });
    w.submit("dr_khoury", Command::RecordConsent {
        plan: id("plan-ben"),
        consent: id("plan-ben-consent-1"),
        template: "celltrace-consent".into(),
        template_version: "2026.1".into(),
        language: Language::Ar,
        witness: None,
    });
    w.submit("dr_khoury", Command::AllocateUnit { unit: id("u-cord-1"), plan: id("plan-ben") });
    w.submit("nurse.omar", Command::WithdrawConsent { plan: id("plan-ben"), reason: "Changed his mind".into() });
    w
}

fn nprs() -> QuestionnaireDef {
    QuestionnaireDef {
        id: "nprs".into(),
        title: "Numeric Pain Rating Scale (0–10)".into(),
        version: "1".into(),
        loinc_panel: Some("72514-3".into()),
        items: vec![QuestionnaireItem {
            link_id: "pain".into(),
            text: "Choose the number that describes your pain.".into(),
            loinc: Some("72514-3".into()),
            options: (0..=10u8)
                .map(|v| AnswerOptionDef { value: v, label: if v == 0 { "0 (no pain)".into() } else { v.to_string() } })
                .collect(),
        }],
    }
}

fn context(w: &World) -> Context {
    Context::from_state(&w.state, vec![nprs()])
}

/// Every resource of a type the state's entities map to, one entity at a
/// time, as the server builds them from the rows of a page.
fn all_of(w: &World, rt: ResourceType) -> Vec<Value> {
    let (state, ctx) = (&w.state, context(w));
    match rt {
        ResourceType::Patient => state.persons.values().map(|p| patient(p, &ctx)).collect(),
        ResourceType::Practitioner => state.staff.values().map(practitioner).collect(),
        ResourceType::Organization => state.sites.values().map(organization).collect(),
        ResourceType::BiologicallyDerivedProduct => state.units.values().map(|u| product(u, &ctx)).collect(),
        ResourceType::Procedure => state
            .units
            .values()
            .filter(|u| u.parents.is_empty())
            .map(|u| collection_procedure(u, &ctx))
            .chain(state.plans.values().flat_map(|p| p.administrations.iter().map(|a| administration_procedure(p, a, &ctx)).collect::<Vec<_>>()))
            .collect(),
        ResourceType::Observation => state
            .units
            .values()
            .flat_map(|u| (0..u.qc.len()).filter_map(|i| qc_observation(u, i, &ctx)).collect::<Vec<_>>())
            .chain(state.plans.values().flat_map(|p| p.follow_ups.iter().map(|f| follow_up_observation(p, f, &ctx)).collect::<Vec<_>>()))
            .collect(),
        ResourceType::AdverseEvent => state.adverse_events.values().map(|a| adverse_event(a, &ctx)).collect(),
        ResourceType::Consent => state.plans.values().flat_map(|p| p.consents.iter().map(|c| consent(p, c, &ctx)).collect::<Vec<_>>()).collect(),
        ResourceType::Questionnaire | ResourceType::QuestionnaireResponse | ResourceType::Provenance => Vec::new(),
    }
}

/// The resource of a type with this FHIR id.
fn read(w: &World, rt: ResourceType, id: &str) -> Option<Value> {
    all_of(w, rt).into_iter().find(|r| r["id"] == id)
}

/// The resources of the search `query` (all pages).
fn search(w: &World, rt: ResourceType, query: &[(&str, &str)]) -> Vec<Value> {
    let params = SearchParams::parse(rt, query.iter().copied()).expect("params");
    all_of(w, rt).into_iter().filter(|r| params.matches(r)).collect()
}

/// Ana's compartment, from her plans, units and adverse events.
fn ana_everything(w: &World) -> Value {
    let state = &w.state;
    let ana = state.persons.get("p_ana").expect("ana");
    let plans: Vec<_> = state.plans.values().filter(|p| p.patient == ana.id).cloned().collect();
    let own: Vec<_> = state.units.values().filter(|u| u.source_person == ana.id).cloned().collect();
    let allocated: Vec<_> = state.units.values().filter(|u| u.allocated_to.as_ref().is_some_and(|p| plans.iter().any(|q| &q.id == p))).cloned().collect();
    let events: Vec<_> = state.adverse_events.values().filter(|a| a.patient == ana.id).cloned().collect();
    let records = PatientRecords { person: ana, plans: &plans, own_units: &own, allocated_units: &allocated, adverse_events: &events };
    everything("https://x/fhir", &fhir_id(ana.id.as_str()), compartment(&records, &context(w)))
}

/// Every resource type the crate produces, from the world above.
fn every_resource(w: &World) -> Vec<Value> {
    let state = &w.state;
    let mut out = Vec::new();
    for rt in ResourceType::ALL {
        out.extend(all_of(w, rt));
    }
    let def = nprs();
    out.push(questionnaire(&def));
    out.push(questionnaire_response(&def, &ResponseInput {
        id: "plan-ana-3m".into(),
        patient: id("p_ana"),
        author: Actor::Patient(id("p_ana")),
        authored: w.now,
        answers: [("pain".to_owned(), 3u8)].into_iter().collect(),
    }));
    for (seq, actor, at, event) in &w.ledger {
        let actor_name = match actor {
            Actor::Staff(s) => state.staff.get(s).map(|s| s.name.clone()),
            _ => None,
        };
        let entry = LedgerEntry {
            seq: *seq,
            hash: format!("{seq:064x}"),
            recorded_at: *at,
            actor: actor.clone(),
            actor_name,
            site: Some(id(SITE)),
            kind: event.kind().into(),
            targets: event_targets(event),
            signatures: event_signatures(event),
        };
        out.extend(provenance(&entry));
    }
    out.push(capability_statement("https://celltrace.example/fhir"));
    out.push(operation_outcome(IssueSeverity::Error, IssueType::NotFound, "Patient nobody does not exist"));
    let err = SearchParams::parse(ResourceType::Observation, [("subject", "x")]).expect_err("unknown parameter");
    out.push(err.operation_outcome());
    let params = SearchParams::parse(ResourceType::Observation, [("patient", fhir_id("p_ana").as_str()), ("_count", "2")]).expect("params");
    let found = search(w, ResourceType::Observation, &[("patient", fhir_id("p_ana").as_str())]);
    let next = PageCursor { list: "main_clinic|qc".into(), sort: "x".into(), id: "u-ana-bmac".into() };
    out.push(searchset("https://celltrace.example/fhir", &params, found.into_iter().take(2).collect(), Some(4), Some(&next)));
    out.push(ana_everything(w));
    out
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the validator on `resources`; returns (success, stdout + stderr).
fn validate(resources: &[Value], name: &str) -> (bool, String) {
    let path = std::env::temp_dir().join(format!("celltrace-fhir-{name}-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_string_pretty(resources).expect("json")).expect("write temp file");
    let script = workspace_root().join("scripts/fhir_validate.py");
    let output = Process::new("python3")
        .arg(&script)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); install Python 3 and then: {PIP_LINE}"));
    let _ = std::fs::remove_file(&path);
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_ne!(
        output.status.code(),
        Some(3),
        "the Python package fhir.resources is missing: run `{PIP_LINE}` (the FHIR acceptance test needs it)\n{text}"
    );
    (output.status.success(), text)
}

#[test]
fn every_resource_type_validates_against_fhir_r4b_models() {
    let w = world();
    let resources = every_resource(&w);
    // CELLTRACE_FHIR_DUMP=path keeps the resources for a look or another validator.
    if let Some(dump) = std::env::var_os("CELLTRACE_FHIR_DUMP") {
        std::fs::write(dump, serde_json::to_string_pretty(&resources).expect("json")).expect("write dump");
    }
    let types: BTreeSet<&str> = resources.iter().filter_map(|r| r["resourceType"].as_str()).collect();
    for expected in [
        "Patient", "Practitioner", "Organization", "BiologicallyDerivedProduct", "Procedure", "Observation", "AdverseEvent",
        "Consent", "Questionnaire", "QuestionnaireResponse", "Provenance", "CapabilityStatement", "OperationOutcome", "Bundle",
    ] {
        assert!(types.contains(expected), "no {expected} produced; got {types:?}");
    }
    let (ok, report) = validate(&resources, "all");
    assert!(ok, "FHIR validation failed:\n{report}");
    assert!(report.contains(" 0 errors"), "{report}");
}

#[test]
fn a_broken_resource_makes_the_validator_fail() {
    let w = world();
    let mut broken = all_of(&w, ResourceType::Procedure).into_iter().next().expect("a procedure");
    if let Some(obj) = broken.as_object_mut() {
        obj.remove("subject"); // required in R4
        obj.insert("id".into(), json!("broken_id"));
        obj.insert("performedDateTime".into(), json!("2026-01-02T03:04:05")); // no zone
    }
    let good = patient(w.state.persons.get("p_ana").expect("ana"), &context(&w));
    let (ok, report) = validate(&[good.clone(), broken], "broken");
    assert!(!ok, "the validator accepted a broken resource:\n{report}");
    assert!(report.contains("Procedure/broken_id"), "{report}");
    assert!(report.contains("subject"), "{report}");
    assert!(report.contains("performedDateTime"), "{report}");
    // Errors inside a Bundle's entries are found too.
    let mut bad_entry = good;
    bad_entry["birthDate"] = json!("1980-2-29");
    let bundle = bundle_searchset("https://x/fhir", vec![bad_entry], Some(1), "https://x/fhir/Patient", None);
    let (ok, report) = validate(&[bundle], "bundle");
    assert!(!ok, "the validator accepted a Bundle with a broken entry:\n{report}");
    assert!(report.contains("entry 0 Patient/"), "{report}");
}

#[test]
fn the_state_maps_to_linked_resources() {
    let w = world();
    let ana_id = fhir_id("p_ana");
    assert_ne!(ana_id, "p_ana", "ids with '_' are mapped");

    let bmac = read(&w, ResourceType::BiologicallyDerivedProduct, "u-ana-bmac").expect("unit");
    assert_eq!(bmac["status"], "unavailable", "administered units are not available");
    assert_eq!(bmac["parent"][0]["reference"], "BiologicallyDerivedProduct/u-ana-bma");
    assert_eq!(bmac["identifier"][0]["value"], "A999926000001");
    assert_eq!(bmac["productCode"]["text"], "BMAC|autologous|concentrated");
    assert_eq!(bmac["collection"]["source"]["reference"], format!("Patient/{ana_id}"));
    assert!(bmac["processing"][0]["description"].as_str().unwrap_or_default().contains("KIT-2026-077"));

    let cord = read(&w, ResourceType::BiologicallyDerivedProduct, "u-cord-1").expect("cord unit");
    assert_eq!(cord["status"], "available");
    let spare = read(&w, ResourceType::BiologicallyDerivedProduct, &fhir_id("u_ana_spare")).expect("mapped id reads");
    assert_eq!(spare["extension"][0]["valueCode"], "discarded");

    let adm = read(&w, ResourceType::Procedure, "adm-u-ana-bmac").expect("administration");
    assert_eq!(adm["performer"][0]["actor"]["reference"], "Practitioner/nurse.omar");
    assert_eq!(adm["performer"][1]["actor"]["display"], "Lina Saleh");
    assert_eq!(adm["reasonCode"][0]["coding"][0]["code"], "M17.11");

    let consent = read(&w, ResourceType::Consent, "plan-ben-consent-1").expect("consent");
    assert_eq!(consent["status"], "inactive");
    assert!(consent["provision"]["period"]["end"].is_string());

    // $everything: Ana's records, and none of the donor's or Ben's.
    let bundle = ana_everything(&w);
    let refs: BTreeSet<String> = bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| format!("{}/{}", e["resource"]["resourceType"].as_str().unwrap_or("?"), e["resource"]["id"].as_str().unwrap_or("?")))
        .collect();
    for expected in [
        format!("Patient/{ana_id}"),
        "BiologicallyDerivedProduct/u-ana-bma".into(),
        "BiologicallyDerivedProduct/u-ana-bmac".into(),
        "Procedure/col-u-ana-bma".into(),
        "Procedure/adm-u-ana-bmac".into(),
        "Observation/u-ana-bmac-qc-1".into(),
        "Observation/plan-ana-3m".into(),
        "Consent/plan-ana-consent-1".into(),
        "AdverseEvent/ae-ana-1".into(),
    ] {
        assert!(refs.contains(&expected), "{expected} missing from $everything: {refs:?}");
    }
    assert!(!refs.iter().any(|r| r.contains("cord") || r.contains("ben")), "{refs:?}");
    assert_eq!(bundle["total"].as_u64(), Some(refs.len() as u64));

    // Searches over the resources.
    let found = search(&w, ResourceType::BiologicallyDerivedProduct, &[("identifier", "https://www.isbt128.org/uri/DonationIdentificationNumber|A999926000002")]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], "u-cord-1");
    assert_eq!(search(&w, ResourceType::BiologicallyDerivedProduct, &[("status", "available")]).len(), 1);
    assert_eq!(search(&w, ResourceType::Observation, &[("patient", ana_id.as_str())]).len(), 4, "two QC results and two follow-ups");
    let first = w.ledger.first().map(|(_, _, at, _)| *at).expect("ledger");
    let day = celltrace_fhir::time::date_time(first).get(..10).unwrap_or_default().to_owned();
    assert_eq!(search(&w, ResourceType::Procedure, &[("date", &format!("ge{day}"))]).len(), 3, "two collections and one administration");
    assert_eq!(search(&w, ResourceType::Procedure, &[("date", &format!("lt{day}"))]).len(), 0);
}
