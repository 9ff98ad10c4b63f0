//! Property tests of the unit and plan state machines: whatever commands
//! arrive, in whatever order, the rules never let a unit be administered
//! unreleased or twice, never let autologous material reach another patient,
//! never administer without consent in force, and never make lineage cycle.

use celltrace_domain::command::{Actor, Command, NewUnit, Submission};
use celltrace_domain::ids::*;
use celltrace_domain::model::*;
use celltrace_domain::time::{Date, Timestamp};
use celltrace_domain::{decide, Event, ReferenceData, State};
use std::sync::Arc;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const SITE: &str = "clinic";
const PATIENTS: [&str; 3] = ["p0", "p1", "donor"];
const UNIT_POOL: usize = 8;

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("test id")
}

fn sig(who: &str, meaning: SignatureMeaning) -> SignatureRequest {
    SignatureRequest::own(id(who), meaning)
}

/// Consent template celltrace ships.
const TEMPLATE: (&str, &str) = ("celltrace-consent", "2026.1");

/// One abstract step; indices pick from small pools so collisions happen.
#[derive(Debug, Clone)]
enum Step {
    Collect { person: usize, unit: usize, plan: Option<usize>, autologous: bool },
    Process { inputs: Vec<usize>, outputs: Vec<usize> },
    Qc { unit: usize, in_spec: bool },
    Release { unit: usize },
    ExceptionalRelease { unit: usize },
    Allocate { unit: usize, plan: usize },
    Administer { unit: usize, patient: usize, plan: usize, right_dose: bool },
    Discard { unit: usize },
    WithdrawConsent { plan: usize },
    Reconsent { plan: usize, n: u8 },
    Wait { days: u8 },
}

fn step() -> impl Strategy<Value = Step> {
    let unit = 0..UNIT_POOL;
    prop_oneof![
        (0..3usize, unit.clone(), proptest::option::of(0..2usize), any::<bool>())
            .prop_map(|(person, unit, plan, autologous)| Step::Collect { person, unit, plan, autologous }),
        (proptest::collection::vec(0..UNIT_POOL, 1..3), proptest::collection::vec(0..UNIT_POOL, 0..3))
            .prop_map(|(inputs, outputs)| Step::Process { inputs, outputs }),
        (unit.clone(), prop::bool::weighted(0.8)).prop_map(|(unit, in_spec)| Step::Qc { unit, in_spec }),
        unit.clone().prop_map(|unit| Step::Release { unit }),
        unit.clone().prop_map(|unit| Step::ExceptionalRelease { unit }),
        (unit.clone(), 0..2usize).prop_map(|(unit, plan)| Step::Allocate { unit, plan }),
        (unit.clone(), 0..3usize, 0..2usize, prop::bool::weighted(0.8))
            .prop_map(|(unit, patient, plan, right_dose)| Step::Administer { unit, patient, plan, right_dose }),
        unit.clone().prop_map(|unit| Step::Discard { unit }),
        (0..2usize).prop_map(|plan| Step::WithdrawConsent { plan }),
        (0..2usize, any::<u8>()).prop_map(|(plan, n)| Step::Reconsent { plan, n }),
        (0..40u8).prop_map(|days| Step::Wait { days }),
    ]
}

struct World {
    state: State,
    now: Timestamp,
    n: u32,
    events: Vec<Event>,
    /// The unique values taken, as the store's claims table holds them.
    claims: BTreeSet<(&'static str, String)>,
}

impl World {
    fn submit(&mut self, actor: &str, command: Command) -> Result<Vec<Event>, String> {
        self.n += 1;
        self.now = Timestamp(self.now.0 + 60_000_000);
        let sub = Submission {
            id: id(&format!("c{}", self.n)),
            actor: if actor == "system" { Actor::System("test".into()) } else { Actor::Staff(id(actor)) },
            site: id(SITE),
            at: self.now,
            command,
        };
        match decide(&self.state, &sub) {
            Ok(events) => {
                let claims: Vec<(&'static str, String)> = events.iter().flat_map(Event::claims).map(|c| (c.namespace, c.value)).collect();
                if claims.iter().any(|c| self.claims.contains(c)) {
                    return Err("already_taken".into());
                }
                self.claims.extend(claims);
                for e in &events {
                    self.state.apply(e);
                }
                self.events.extend(events.clone());
                Ok(events)
            }
            Err(r) => Err(r.code.as_str().to_owned()),
        }
    }

    /// `command` with `signer`'s signature proven by a grant `signer` issues
    /// for `submitter` (as the web does when a second person re-enters their password).
    fn granted(&mut self, signer: &str, submitter: &str, meaning: SignatureMeaning, mut command: Command) -> Command {
        let grant = format!("g{}", self.n + 1);
        let command_digest = command.signing_digest(&id(submitter), &id(SITE));
        let issued = self.submit(signer, Command::IssueSigningGrant {
            grant: id(&grant),
            meaning,
            submitter: id(submitter),
            command_digest,
            method: AuthenticationMethod::Password,
        });
        if issued.is_ok() {
            command.attach_grant(&id(signer), meaning, id(&grant));
        }
        command
    }

    fn setup(product_type: ProductType) -> World {
        let state = State { reference: ReferenceData::new(Arc::new(celltrace_reference::ReferenceData::shipped().expect("reference data"))), ..State::default() };
        let mut w = World { state, now: Timestamp(1_780_000_000_000_000), n: 0, events: Vec::new(), claims: BTreeSet::new() };
        w.submit("system", Command::RegisterSite {
            site: id(SITE),
            name: "Clinic".into(),
            kind: SiteKind::Clinic,
            country: "GB".into(),
            accreditations: vec![],
            fin: "A9999".into(),
        })
        .expect("site");
        for (staff, roles) in [
            ("doc", vec![Role::Physician]),
            ("nurse", vec![Role::Nurse]),
            ("nurse2", vec![Role::Nurse]),
            ("tech", vec![Role::LabTechnologist]),
            ("qa", vec![Role::QualityAssurance]),
        ] {
            w.submit("system", Command::RegisterStaff {
                staff: id(staff),
                name: staff.into(),
                username: staff.into(),
                memberships: vec![Membership { site: id(SITE), roles: roles.into_iter().collect() }],
            })
            .expect("staff");
        }
        for (i, p) in PATIENTS.iter().enumerate() {
            w.submit("nurse", Command::RegisterPerson {
                person: id(p),
                kind: if i == 2 { PersonKind::Donor } else { PersonKind::Patient },
                mrn: format!("M{i}"),
                name: p.to_string(),
                date_of_birth: Date::new(1970, 1, 1).expect("date"),
                sex: Sex::Other,
                language: Language::En,
                contact: String::new(),
            })
            .expect("person");
        }
        for (plan, patient) in PATIENTS.iter().take(2).enumerate() {
            let plan_id = format!("plan{plan}");
            w.submit("doc", Command::CreatePlan {
                plan: id(&plan_id),
                patient: id(patient),
                indication: "D61.9".into(),
                product_type,
                route: "iv".into(),
                sessions: 3,
                dose: Quantity { milli: 5000, unit: "mL".into() },
                cost_quote: Money { minor: 100, currency: "USD".into() },
                // Inside a registered trial every status proceeds; cord blood for aplastic anaemia is approved anyway.
                trial: Some(Trial { registration: "NCT01234567".into(), ethics_approval: "IEC-1".into() }),
            })
            .expect("plan");
            w.submit("doc", Command::AssessEligibility {
                plan: id(&plan_id),
                assessment: id(&format!("{plan_id}-e")),
                criteria: vec![Criterion { code: "ok".into(), description: "ok".into(), met: true, detail: String::new() }],
                valid_days: 60,
            })
            .expect("eligibility");
            w.submit("doc", Command::RecordConsent {
                plan: id(&plan_id),
                consent: id(&format!("{plan_id}-c")),
                template: TEMPLATE.0.into(),
                template_version: TEMPLATE.1.into(),
                language: Language::En,
                witness: None,
            })
            .expect("consent");
        }
        w
    }

    fn run(&mut self, step: &Step, product_for: impl Fn(bool) -> ProductType) {
        let unit = |i: usize| format!("u{i}");
        let _ = match step {
            Step::Collect { person, unit: u, plan, autologous } => self.submit("nurse", Command::RecordCollection {
                collection: id(&format!("col{}", self.n)),
                source_person: id(PATIENTS[*person]),
                plan: plan.map(|p| id(&format!("plan{p}"))),
                tissue: SourceTissue::BoneMarrow,
                product_type: product_for(*autologous),
                unit: id(&unit(*u)),
                din: format!("A99992600{:04}", self.n),
                product_code: "S0001100".into(),
                quantity: Quantity { milli: 5000, unit: "mL".into() },
                collected_at: self.now,
                expires_at: Timestamp(self.now.0 + 30 * Timestamp::DAY),
            }),
            Step::Process { inputs, outputs } => self.submit("tech", Command::RecordProcessingStep {
                step: id(&format!("s{}", self.n)),
                kind: ProcessingKind::Division,
                inputs: inputs.iter().map(|i| id(&unit(*i))).collect(),
                outputs: outputs
                    .iter()
                    .enumerate()
                    .map(|(i, o)| NewUnit {
                        unit: id(&unit(*o)),
                        // A division code per output, varied per step (ISBT 128: DIN + code names one unit).
                        product_code: format!("S00011{}0", char::from(b'A' + ((self.n as usize * 3 + i) % 26) as u8)),
                        quantity: Quantity { milli: 5000, unit: "mL".into() },
                        expires_at: Timestamp(self.now.0 + 20 * Timestamp::DAY),
                    })
                    .collect(),
                equipment: "centrifuge".into(),
                reagent_lots: vec![],
                parameters: vec![],
            }),
            Step::Qc { unit: u, in_spec } => self.submit("tech", Command::RecordQcResult {
                unit: id(&unit(*u)),
                test: "viability".into(),
                value: "90".into(),
                specification: ">= 70".into(),
                outcome: if *in_spec { QcOutcome::InSpecification } else { QcOutcome::OutOfSpecification },
            }),
            Step::Release { unit: u } => self.submit("qa", Command::ReleaseUnit { unit: id(&unit(*u)), signature: sig("qa", SignatureMeaning::Release) }),
            Step::ExceptionalRelease { unit: u } => {
                let command = Command::ExceptionalRelease {
                    unit: id(&unit(*u)),
                    qa: sig("qa", SignatureMeaning::ExceptionalRelease),
                    physician: sig("doc", SignatureMeaning::ExceptionalRelease),
                    justification: "no alternative".into(),
                    patient_informed: true,
                };
                let command = self.granted("doc", "qa", SignatureMeaning::ExceptionalRelease, command);
                self.submit("qa", command)
            }
            Step::Allocate { unit: u, plan } => self.submit("doc", Command::AllocateUnit { unit: id(&unit(*u)), plan: id(&format!("plan{plan}")) }),
            Step::Administer { unit: u, patient, plan, right_dose } => {
                let command = Command::AdministerUnit {
                    administration: id(&format!("a{}", self.n)),
                    unit: id(&unit(*u)),
                    patient: id(PATIENTS[*patient]),
                    plan: id(&format!("plan{plan}")),
                    dose: Quantity { milli: if *right_dose { 5000 } else { 4000 }, unit: "mL".into() },
                    body_site: "arm".into(),
                    witness: sig("nurse2", SignatureMeaning::AdministrationWitness),
                };
                let command = self.granted("nurse2", "nurse", SignatureMeaning::AdministrationWitness, command);
                self.submit("nurse", command)
            }
            Step::Discard { unit: u } => self.submit("qa", Command::DiscardUnit { unit: id(&unit(*u)), reason: "test".into() }),
            Step::WithdrawConsent { plan } => self.submit("nurse", Command::WithdrawConsent { plan: id(&format!("plan{plan}")), reason: String::new() }),
            Step::Reconsent { plan, n } => self.submit("doc", Command::RecordConsent {
                plan: id(&format!("plan{plan}")),
                consent: id(&format!("plan{plan}-c{n}")),
                template: TEMPLATE.0.into(),
                template_version: TEMPLATE.1.into(),
                language: Language::En,
                witness: None,
            }),
            Step::Wait { days } => {
                self.now = Timestamp(self.now.0 + i64::from(*days) * Timestamp::DAY);
                Ok(vec![])
            }
        };
    }
}

/// Replays the events alone and checks every invariant at every step.
fn check_invariants(events: &[Event]) -> Result<(), String> {
    let mut state = State::default();
    let mut administered: BTreeSet<UnitId> = BTreeSet::new();
    for event in events {
        if let Event::UnitAdministered { plan, administration } = event {
            let unit = state.units.get(&administration.unit).ok_or("administered an unknown unit")?;
            if unit.status != UnitStatus::Released {
                return Err(format!("unit {} administered while {:?}", unit.id, unit.status));
            }
            if !administered.insert(unit.id.clone()) {
                return Err(format!("unit {} administered twice", unit.id));
            }
            let plan = state.plans.get(plan).ok_or("unknown plan")?;
            if let IntendedUse::Autologous { patient } = &unit.intended_use {
                if patient != &plan.patient {
                    return Err(format!("autologous unit {} of {patient} given to {}", unit.id, plan.patient));
                }
            }
            if plan.current_consent().is_none() {
                return Err("administered without consent in force".into());
            }
            if administration.at >= unit.expires_at {
                return Err("administered an expired unit".into());
            }
            if plan.status != PlanStatus::Active {
                return Err("administered on an inactive plan".into());
            }
        }
        state.apply(event);
    }
    // Lineage is a DAG: walking parents from any unit never returns to it.
    let parents: BTreeMap<&UnitId, &Vec<UnitId>> = state.units.iter().map(|(k, u)| (k, &u.parents)).collect();
    for start in parents.keys() {
        let mut stack: Vec<&UnitId> = parents.get(start).map(|p| p.iter().collect()).unwrap_or_default();
        let mut seen = BTreeSet::new();
        while let Some(u) = stack.pop() {
            if u == *start {
                return Err(format!("lineage cycle through {start}"));
            }
            if seen.insert(u) {
                stack.extend(parents.get(u).map(|p| p.iter().collect::<Vec<_>>()).unwrap_or_default());
            }
        }
    }
    // Children of autologous material stay with the same patient.
    for unit in state.units.values() {
        for parent in &unit.parents {
            if let Some(p) = state.units.get(parent) {
                if p.intended_use != unit.intended_use {
                    return Err(format!("unit {} pooled or relabelled from {}", unit.id, p.id));
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn autologous_paths_keep_every_invariant(steps in proptest::collection::vec(step(), 1..60)) {
        let mut world = World::setup(ProductType::AutologousBoneMarrow);
        for s in &steps {
            world.run(s, |_| ProductType::AutologousBoneMarrow);
        }
        prop_assert_eq!(check_invariants(&world.events), Ok(()));
    }

    #[test]
    fn allogeneic_paths_keep_every_invariant(steps in proptest::collection::vec(step(), 1..60)) {
        let mut world = World::setup(ProductType::CordBloodHpc);
        for s in &steps {
            world.run(s, |autologous| if autologous { ProductType::AutologousBoneMarrow } else { ProductType::CordBloodHpc });
        }
        prop_assert_eq!(check_invariants(&world.events), Ok(()));
    }
}

/// The happy path is reachable, so the properties above are not vacuous.
#[test]
fn a_full_autologous_path_reaches_administration() {
    let mut w = World::setup(ProductType::AutologousBoneMarrow);
    let auto = |_| ProductType::AutologousBoneMarrow;
    for s in [
        Step::Collect { person: 0, unit: 0, plan: Some(0), autologous: true },
        Step::Process { inputs: vec![0], outputs: vec![1, 2] },
        Step::Qc { unit: 1, in_spec: true },
        Step::Release { unit: 1 },
    ] {
        w.run(&s, auto);
    }
    let command = Command::AdministerUnit {
        administration: id("a-x"),
        unit: id("u1"),
        patient: id("p1"),
        plan: id("plan1"),
        dose: Quantity { milli: 5000, unit: "mL".into() },
        body_site: "arm".into(),
        witness: sig("nurse2", SignatureMeaning::AdministrationWitness),
    };
    let command = w.granted("nurse2", "nurse", SignatureMeaning::AdministrationWitness, command);
    let wrong_patient = w.submit("nurse", command);
    assert_eq!(wrong_patient, Err("same_patient".to_owned()));
    w.run(&Step::Administer { unit: 1, patient: 0, plan: 0, right_dose: true }, auto);
    assert!(w.events.iter().any(|e| matches!(e, Event::UnitAdministered { .. })));
    w.run(&Step::Administer { unit: 1, patient: 0, plan: 0, right_dose: true }, auto);
    assert_eq!(w.events.iter().filter(|e| matches!(e, Event::UnitAdministered { .. })).count(), 1);
    assert_eq!(check_invariants(&w.events), Ok(()));
}

#[test]
fn bedside_refusals_name_the_failed_check() {
    let mut w = World::setup(ProductType::AutologousBoneMarrow);
    let auto = |_| ProductType::AutologousBoneMarrow;
    w.run(&Step::Collect { person: 0, unit: 0, plan: Some(0), autologous: true }, auto);
    w.run(&Step::Process { inputs: vec![0], outputs: vec![1] }, auto);
    let administer = |w: &mut World, dose: i64| {
        let command = Command::AdministerUnit {
            administration: id(&format!("a-{}", w.n)),
            unit: id("u1"),
            patient: id("p0"),
            plan: id("plan0"),
            dose: Quantity { milli: dose, unit: "mL".into() },
            body_site: "arm".into(),
            witness: sig("nurse2", SignatureMeaning::AdministrationWitness),
        };
        let command = w.granted("nurse2", "nurse", SignatureMeaning::AdministrationWitness, command);
        w.submit("nurse", command)
    };
    assert_eq!(administer(&mut w, 5000), Err("released".into()));
    w.run(&Step::Qc { unit: 1, in_spec: true }, auto);
    w.run(&Step::Release { unit: 1 }, auto);
    assert_eq!(administer(&mut w, 4000), Err("dose_as_planned".into()));
    w.run(&Step::WithdrawConsent { plan: 0 }, auto);
    assert_eq!(administer(&mut w, 5000), Err("plan_active".into()));
    w.run(&Step::Wait { days: 25 }, auto);
    assert_eq!(administer(&mut w, 5000), Err("not_expired".into()));
}

#[test]
fn lookback_finds_every_descendant_and_recipient() {
    use celltrace_domain::lookback::{lookback, Origin};
    let mut w = World::setup(ProductType::AutologousBoneMarrow);
    let auto = |_| ProductType::AutologousBoneMarrow;
    for s in [
        Step::Collect { person: 0, unit: 0, plan: Some(0), autologous: true },
        Step::Process { inputs: vec![0], outputs: vec![1, 2] },
        Step::Process { inputs: vec![1], outputs: vec![3] },
        Step::Qc { unit: 3, in_spec: true },
        Step::Release { unit: 3 },
        Step::Administer { unit: 3, patient: 0, plan: 0, right_dose: true },
        Step::Collect { person: 1, unit: 5, plan: Some(1), autologous: true },
    ] {
        w.run(&s, auto);
    }
    let din = w.state.units.get("u0").map(|u| u.din.clone()).expect("u0");
    let found = lookback(&w.state, &Origin::Din(din));
    let affected: Vec<&str> = found.affected.iter().map(|u| u.as_str()).collect();
    assert_eq!(affected, ["u0", "u1", "u2", "u3"]);
    assert_eq!(found.recipients.iter().map(|(u, _, p)| (u.as_str(), p.as_str())).collect::<Vec<_>>(), [("u3", "p0")]);
    let from_child = lookback(&w.state, &Origin::Unit("u1".into()));
    assert_eq!(from_child.affected.iter().map(|u| u.as_str()).collect::<Vec<_>>(), ["u1", "u3"]);
    let donor = lookback(&w.state, &Origin::Donor("M1".into()));
    assert_eq!(donor.affected.iter().map(|u| u.as_str()).collect::<Vec<_>>(), ["u5"]);
    assert!(donor.recipients.is_empty());
    assert!(lookback(&w.state, &Origin::ReagentLot("none".into())).affected.is_empty());
}
