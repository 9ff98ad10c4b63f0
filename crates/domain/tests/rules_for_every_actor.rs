//! Whoever submits, from whichever site, with whatever signatures: random
//! sequences of commands from every role at two sites (a clinic and a bank),
//! including plans for uses the evidence data blocks, signatures of people
//! who never authenticated, grants made for other commands and grants used
//! twice. After every step the recorded events must satisfy:
//!
//! - no active plan whose rating differs from the evidence data in force, or
//!   that the guard would block (no trial, no override);
//! - no signature by anyone who did not authenticate for it (the submitter
//!   themself, or a grant the signer issued for exactly that command, used once);
//! - no unit allocated across sites without the holding site's act and the
//!   requesting site's request;
//! - no administration the bedside checks would refuse.

use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::*;
use celltrace_domain::model::*;
use celltrace_domain::time::{Date, Timestamp};
use celltrace_domain::{bedside_checks, decide, Event, ReferenceData, State};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const SITES: [&str; 2] = ["clinic", "bank"];
const ROLES: [(&str, Role); 8] = [
    ("doc", Role::Physician),
    ("nurse", Role::Nurse),
    ("nurse2", Role::Nurse),
    ("tech", Role::LabTechnologist),
    ("qa", Role::QualityAssurance),
    ("log", Role::Logistics),
    ("md", Role::MedicalDirector),
    ("admin", Role::Administrator),
];
/// ICD-10-CM codes: approved for cord blood, unproven, research-only for embryonic cells, hair loss, knee.
const CODES: [&str; 5] = ["D61.9", "M54.50", "F84.0", "L64.9", "M17.11"];
const PRODUCTS: [ProductType; 4] = [ProductType::CordBloodHpc, ProductType::AutologousAdipose, ProductType::EmbryonicDerived, ProductType::MscExosome];

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("test id")
}

fn staff(site: usize, who: usize) -> String {
    format!("{}.{}", SITES[site % 2], ROLES[who % ROLES.len()].0)
}

/// How a step signs for someone.
#[derive(Debug, Clone, Copy)]
enum Proof {
    /// The submitter signs for themself.
    Own,
    /// Names another signer with no grant at all.
    Forged,
    /// The other signer issues a grant for exactly this command.
    Granted,
    /// Quotes the newest grant ever issued, whatever it was for.
    Replayed,
    /// The other signer issues a grant for a slightly different command
    /// (another unit, dose or note), which is then quoted on this one.
    Stale,
}

fn proof() -> impl Strategy<Value = Proof> {
    prop_oneof![1 => Just(Proof::Own), 1 => Just(Proof::Forged), 2 => Just(Proof::Granted), 1 => Just(Proof::Replayed), 2 => Just(Proof::Stale)]
}

#[derive(Debug, Clone)]
enum Step {
    Plan { site: usize, actor: usize, code: usize, product: usize, trial: bool },
    Policy { site: usize },
    Acknowledge { plan: usize },
    Override { plan: usize, proof: Proof },
    Eligibility { plan: usize, site: usize },
    Consent { plan: usize, proof: Proof },
    Collect { plan: usize, donor: bool },
    Qc { unit: usize, in_spec: bool },
    Release { unit: usize, site: usize, proof: Proof },
    Exceptional { unit: usize, site: usize, proof: Proof },
    Request { unit: usize, plan: usize, site: usize },
    Allocate { unit: usize, plan: usize, site: usize, actor: usize },
    Ship { unit: usize, site: usize },
    Receive { shipment: usize, site: usize },
    Administer { unit: usize, plan: usize, site: usize, proof: Proof },
    StrayGrant { site: usize, signer: usize, meaning: usize },
}

fn step() -> impl Strategy<Value = Step> {
    let i = 0..4usize;
    prop_oneof![
        // Mostly approved cord-blood plans of the clinic's physician, so the later steps have something to work on.
        (prop_oneof![3 => Just(0usize), 1 => 1..2usize], prop_oneof![3 => Just(0usize), 1 => 0..8usize], prop_oneof![3 => Just(0usize), 1 => 1..5usize], prop_oneof![3 => Just(0usize), 1 => 1..4usize], any::<bool>())
            .prop_map(|(site, actor, code, product, trial)| Step::Plan { site, actor, code, product, trial }),
        (0..2usize).prop_map(|site| Step::Policy { site }),
        i.clone().prop_map(|plan| Step::Acknowledge { plan }),
        (i.clone(), proof()).prop_map(|(plan, proof)| Step::Override { plan, proof }),
        (i.clone(), 0..2usize).prop_map(|(plan, site)| Step::Eligibility { plan, site }),
        (i.clone(), proof()).prop_map(|(plan, proof)| Step::Consent { plan, proof }),
        (i.clone(), any::<bool>()).prop_map(|(plan, donor)| Step::Collect { plan, donor }),
        (i.clone(), prop::bool::weighted(0.7)).prop_map(|(unit, in_spec)| Step::Qc { unit, in_spec }),
        (i.clone(), 0..2usize, proof()).prop_map(|(unit, site, proof)| Step::Release { unit, site, proof }),
        (i.clone(), 0..2usize, proof()).prop_map(|(unit, site, proof)| Step::Exceptional { unit, site, proof }),
        (i.clone(), i.clone(), 0..2usize).prop_map(|(unit, plan, site)| Step::Request { unit, plan, site }),
        (i.clone(), i.clone(), 0..2usize, prop_oneof![2 => Just(4usize), 2 => Just(0usize), 1 => 0..8usize])
            .prop_map(|(unit, plan, site, actor)| Step::Allocate { unit, plan, site, actor }),
        (i.clone(), 0..2usize).prop_map(|(unit, site)| Step::Ship { unit, site }),
        (i.clone(), 0..2usize).prop_map(|(shipment, site)| Step::Receive { shipment, site }),
        (i.clone(), i.clone(), 0..2usize, proof()).prop_map(|(unit, plan, site, proof)| Step::Administer { unit, plan, site, proof }),
        (0..2usize, 0..8usize, 0..6usize).prop_map(|(site, signer, meaning)| Step::StrayGrant { site, signer, meaning }),
    ]
}

/// What was recorded, with the submission that caused it.
struct Recorded {
    sub: Submission,
    events: Vec<Event>,
    /// The state just before, to check what the bedside would have said.
    before: Option<State>,
}

struct World {
    state: State,
    now: Timestamp,
    n: u32,
    claims: BTreeSet<(&'static str, String)>,
    log: Vec<Recorded>,
    plans: Vec<PlanId>,
    units: Vec<UnitId>,
    shipments: Vec<ShipmentId>,
    last_grant: Option<SigningGrantId>,
}

const MEANINGS: [SignatureMeaning; 6] = [
    SignatureMeaning::Release,
    SignatureMeaning::ExceptionalRelease,
    SignatureMeaning::CustodyTransfer,
    SignatureMeaning::ConsentWitness,
    SignatureMeaning::EvidenceOverride,
    SignatureMeaning::AdministrationWitness,
];

impl World {
    fn new() -> World {
        let state = State { reference: ReferenceData::new(Arc::new(celltrace_reference::ReferenceData::shipped().expect("reference data"))), ..State::default() };
        let mut w = World {
            state,
            now: Timestamp(1_780_000_000_000_000),
            n: 0,
            claims: BTreeSet::new(),
            log: Vec::new(),
            plans: Vec::new(),
            units: Vec::new(),
            shipments: Vec::new(),
            last_grant: None,
        };
        for (site, fin) in SITES.iter().zip(["A9991", "A9994"]) {
            w.submit("system", site, Command::RegisterSite {
                site: id(site),
                name: (*site).into(),
                kind: if *site == "bank" { SiteKind::CordBloodBank } else { SiteKind::Clinic },
                country: "GB".into(),
                accreditations: vec![],
                fin: fin.into(),
            })
            .expect("site");
            for (who, role) in ROLES {
                let name = format!("{site}.{who}");
                w.submit("system", site, Command::RegisterStaff {
                    staff: id(&name),
                    name: name.clone(),
                    username: name.clone(),
                    memberships: vec![Membership { site: id(site), roles: [role].into_iter().collect() }],
                })
                .expect("staff");
            }
        }
        for (person, site, kind) in [("p0", "clinic", PersonKind::Patient), ("p1", "clinic", PersonKind::Patient), ("d0", "bank", PersonKind::Donor)] {
            w.submit(&format!("{site}.nurse"), site, Command::RegisterPerson {
                person: id(person),
                kind,
                mrn: person.to_uppercase(),
                name: person.into(),
                date_of_birth: Date::new(1980, 1, 1).expect("date"),
                sex: Sex::Other,
                language: Language::En,
                contact: String::new(),
            })
            .expect("person");
        }
        w
    }

    fn submit(&mut self, actor: &str, site: &str, command: Command) -> Result<Vec<Event>, String> {
        self.n += 1;
        self.now = Timestamp(self.now.0 + 60_000_000);
        let sub = Submission {
            id: id(&format!("c{}", self.n)),
            actor: if actor == "system" { Actor::System("test".into()) } else { Actor::Staff(id(actor)) },
            site: id(site),
            at: self.now,
            command,
        };
        let before = matches!(sub.command, Command::AdministerUnit { .. }).then(|| self.state.clone());
        let events = decide(&self.state, &sub).map_err(|r| r.code.as_str().to_owned())?;
        let claims: Vec<(&'static str, String)> = events.iter().flat_map(Event::claims).map(|c| (c.namespace, c.value)).collect();
        if claims.iter().any(|c| self.claims.contains(c)) {
            return Err("already_taken".into());
        }
        self.claims.extend(claims);
        for e in &events {
            self.state.apply(e);
            if let Event::SigningGrantIssued { grant } = e {
                self.last_grant = Some(grant.id.clone());
            }
        }
        self.log.push(Recorded { sub, events: events.clone(), before });
        Ok(events)
    }

    /// `command`, signed by `signer` for `submitter` as `proof` says.
    fn signed(&mut self, proof: Proof, signer: &str, submitter: &str, site: &str, meaning: SignatureMeaning, mut command: Command) -> Command {
        match proof {
            Proof::Own | Proof::Forged => {}
            Proof::Granted => {
                let grant = format!("g{}", self.n + 1);
                let command_digest = command.signing_digest(&id(submitter), &id(site));
                let issued = self.submit(signer, site, Command::IssueSigningGrant {
                    grant: id(&grant),
                    meaning,
                    submitter: id(submitter),
                    command_digest,
                    method: AuthenticationMethod::Password,
                });
                if issued.is_ok() {
                    command.attach_grant(&id(signer), meaning, id(&grant));
                }
            }
            Proof::Replayed => {
                if let Some(grant) = self.last_grant.clone() {
                    command.attach_grant(&id(signer), meaning, grant);
                }
            }
            Proof::Stale => {
                let grant = format!("g{}", self.n + 1);
                let command_digest = altered(&command).signing_digest(&id(submitter), &id(site));
                let issued = self.submit(signer, site, Command::IssueSigningGrant {
                    grant: id(&grant),
                    meaning,
                    submitter: id(submitter),
                    command_digest,
                    method: AuthenticationMethod::Password,
                });
                if issued.is_ok() {
                    command.attach_grant(&id(signer), meaning, id(&grant));
                }
            }
        }
        command
    }

    fn plan(&self, i: usize) -> Option<PlanId> {
        self.plans.get(i % self.plans.len().max(1)).cloned()
    }

    fn unit(&self, i: usize) -> Option<UnitId> {
        self.units.get(i % self.units.len().max(1)).cloned()
    }

    fn run(&mut self, step: &Step) {
        let n = self.n;
        match step {
            Step::Plan { site, actor, code, product, trial } => {
                let plan = format!("plan{n}");
                let ok = self.submit(&staff(*site, *actor), SITES[*site], Command::CreatePlan {
                    plan: id(&plan),
                    patient: id(if n.is_multiple_of(2) { "p0" } else { "p1" }),
                    indication: CODES[*code].into(),
                    product_type: PRODUCTS[*product],
                    route: "iv".into(),
                    sessions: 2,
                    dose: Quantity { milli: 5000, unit: "mL".into() },
                    cost_quote: Money { minor: 100, currency: "USD".into() },
                    trial: trial.then(|| Trial { registration: "NCT01234567".into(), ethics_approval: "IEC-1".into() }),
                });
                if ok.is_ok() {
                    self.plans.push(id(&plan));
                }
            }
            Step::Policy { site } => {
                let _ = self.submit(&staff(*site, 6), SITES[*site], Command::SetSitePolicy { allows_unproven: true });
            }
            Step::Acknowledge { plan } => {
                if let Some(plan) = self.plan(*plan) {
                    let _ = self.submit("clinic.nurse", "clinic", Command::AcknowledgeEvidenceWarning { plan });
                }
            }
            Step::Override { plan, proof } => {
                let Some(plan) = self.plan(*plan) else { return };
                let signer = if matches!(proof, Proof::Own | Proof::Stale) { "clinic.md" } else { "bank.md" };
                let command = Command::OverrideEvidenceBlock {
                    plan,
                    signature: SignatureRequest::own(id(signer), SignatureMeaning::EvidenceOverride),
                    reason: "the patient insists".into(),
                };
                let command = self.signed(*proof, signer, "clinic.md", "clinic", SignatureMeaning::EvidenceOverride, command);
                let _ = self.submit("clinic.md", "clinic", command);
            }
            Step::Eligibility { plan, site } => {
                let Some(plan) = self.plan(*plan) else { return };
                let _ = self.submit(&staff(*site, 0), SITES[*site], Command::AssessEligibility {
                    plan,
                    assessment: id(&format!("e{n}")),
                    criteria: vec![Criterion { code: "ok".into(), description: "ok".into(), met: true, detail: String::new() }],
                    valid_days: 60,
                });
            }
            Step::Consent { plan, proof } => {
                let Some(plan) = self.plan(*plan) else { return };
                let witness = if matches!(proof, Proof::Own) { "clinic.doc" } else { "clinic.nurse" };
                let command = Command::RecordConsent {
                    plan,
                    consent: id(&format!("c{n}")),
                    template: "celltrace-consent".into(),
                    template_version: "2026.1".into(),
                    language: Language::En,
                    witness: Some(SignatureRequest::own(id(witness), SignatureMeaning::ConsentWitness)),
                };
                let command = self.signed(*proof, witness, "clinic.doc", "clinic", SignatureMeaning::ConsentWitness, command);
                let _ = self.submit("clinic.doc", "clinic", command);
            }
            Step::Collect { plan, donor } => {
                let unit = format!("u{n}");
                let (actor, site, source, plan, product) = if *donor {
                    ("bank.nurse", "bank", "d0", None, ProductType::CordBloodHpc)
                } else {
                    let Some(plan) = self.plan(*plan) else { return };
                    let Some(p) = self.state.plans.get(&plan) else { return };
                    ("clinic.nurse", "clinic", if p.patient.as_str() == "p0" { "p0" } else { "p1" }, Some(plan.clone()), p.product_type)
                };
                let fin = if *donor { "A9994" } else { "A9991" };
                let ok = self.submit(actor, site, Command::RecordCollection {
                    collection: id(&format!("col{n}")),
                    source_person: id(source),
                    plan,
                    tissue: SourceTissue::CordBlood,
                    product_type: product,
                    unit: id(&unit),
                    din: format!("{fin}26{n:06}"),
                    product_code: "S0001100".into(),
                    quantity: Quantity { milli: 5000, unit: "mL".into() },
                    collected_at: self.now,
                    expires_at: self.now.plus_days(30),
                });
                if ok.is_ok() {
                    self.units.push(id(&unit));
                }
            }
            Step::Qc { unit, in_spec } => {
                let Some(unit) = self.unit(*unit) else { return };
                let site = self.state.units.get(&unit).map(|u| u.site.to_string()).unwrap_or_default();
                let _ = self.submit(&format!("{site}.tech"), &site, Command::RecordQcResult {
                    unit,
                    test: "viability".into(),
                    value: "90 %".into(),
                    specification: ">= 70 %".into(),
                    outcome: if *in_spec { QcOutcome::InSpecification } else { QcOutcome::OutOfSpecification },
                });
            }
            Step::Release { unit, site, proof } => {
                let Some(unit) = self.unit(*unit) else { return };
                let qa = staff(*site, 4);
                let signer = if matches!(proof, Proof::Own) { qa.clone() } else { staff(*site + 1, 4) };
                let command = Command::ReleaseUnit { unit, signature: SignatureRequest::own(id(&signer), SignatureMeaning::Release) };
                let command = self.signed(*proof, &signer, &qa, SITES[*site], SignatureMeaning::Release, command);
                let _ = self.submit(&qa, SITES[*site], command);
            }
            Step::Exceptional { unit, site, proof } => {
                let Some(unit) = self.unit(*unit) else { return };
                let qa = staff(*site, 4);
                let physician = if matches!(proof, Proof::Own) { qa.clone() } else { staff(*site, 0) };
                let command = Command::ExceptionalRelease {
                    unit,
                    qa: SignatureRequest::own(id(&qa), SignatureMeaning::ExceptionalRelease),
                    physician: SignatureRequest::own(id(&physician), SignatureMeaning::ExceptionalRelease),
                    justification: "no other unit".into(),
                    patient_informed: true,
                };
                let command = self.signed(*proof, &physician, &qa, SITES[*site], SignatureMeaning::ExceptionalRelease, command);
                let _ = self.submit(&qa, SITES[*site], command);
            }
            Step::Request { unit, plan, site } => {
                let (Some(unit), Some(plan)) = (self.unit(*unit), self.plan(*plan)) else { return };
                let _ = self.submit(&staff(*site, 0), SITES[*site], Command::RequestUnit { unit, plan });
            }
            Step::Allocate { unit, plan, site, actor } => {
                let (Some(unit), Some(plan)) = (self.unit(*unit), self.plan(*plan)) else { return };
                let _ = self.submit(&staff(*site, *actor), SITES[*site], Command::AllocateUnit { unit, plan });
            }
            Step::Ship { unit, site } => {
                let Some(unit) = self.unit(*unit) else { return };
                let shipment = format!("s{n}");
                let log = staff(*site, 5);
                let ok = self.submit(&log, SITES[*site], Command::DispatchShipment {
                    shipment: id(&shipment),
                    to_site: id(SITES[(*site + 1) % 2]),
                    units: vec![unit],
                    courier: "courier".into(),
                    signature: SignatureRequest::own(id(&log), SignatureMeaning::CustodyTransfer),
                });
                if ok.is_ok() {
                    self.shipments.push(id(&shipment));
                }
            }
            Step::Receive { shipment, site } => {
                let Some(shipment) = self.shipments.get(*shipment % self.shipments.len().max(1)).cloned() else { return };
                let log = staff(*site, 5);
                let _ = self.submit(&log, SITES[*site], Command::ReceiveShipment {
                    shipment,
                    condition_ok: true,
                    temperature_log: TemperatureLog::Read { excursions: vec![] },
                    signature: SignatureRequest::own(id(&log), SignatureMeaning::CustodyTransfer),
                });
            }
            Step::Administer { unit, plan, site, proof } => {
                let (Some(unit), Some(plan)) = (self.unit(*unit), self.plan(*plan)) else { return };
                let Some(patient) = self.state.plans.get(&plan).map(|p| p.patient.clone()) else { return };
                let nurse = staff(*site, 1);
                let witness = if matches!(proof, Proof::Own) { nurse.clone() } else { staff(*site, 2) };
                let command = Command::AdministerUnit {
                    administration: id(&format!("a{n}")),
                    unit,
                    patient,
                    plan,
                    dose: Quantity { milli: 5000, unit: "mL".into() },
                    body_site: "arm".into(),
                    witness: SignatureRequest::own(id(&witness), SignatureMeaning::AdministrationWitness),
                };
                let command = self.signed(*proof, &witness, &nurse, SITES[*site], SignatureMeaning::AdministrationWitness, command);
                let _ = self.submit(&nurse, SITES[*site], command);
            }
            Step::StrayGrant { site, signer, meaning } => {
                let _ = self.submit(&staff(*site, *signer), SITES[*site], Command::IssueSigningGrant {
                    grant: id(&format!("stray{n}")),
                    meaning: MEANINGS[*meaning],
                    submitter: id(&staff(*site, *signer + 1)),
                    command_digest: "0".repeat(64),
                    method: AuthenticationMethod::ApiToken,
                });
            }
        }
    }
}

/// The same command with one detail changed, as a tampered form would send it.
fn altered(command: &Command) -> Command {
    let mut other = command.clone();
    match &mut other {
        Command::AdministerUnit { body_site, .. } => body_site.push_str(" (left)"),
        Command::ExceptionalRelease { justification, .. } => justification.push_str(" and more"),
        Command::ReleaseUnit { unit, .. } => *unit = id("u-other"),
        Command::RecordConsent { language, .. } => *language = Language::Ar,
        Command::OverrideEvidenceBlock { reason, .. } => reason.push('!'),
        _ => {}
    }
    other
}

/// Checks the four invariants over everything recorded so far.
fn invariants(w: &World) -> Result<(), String> {
    let rules = w.state.reference.get().ok_or("no reference")?.evidence(None).map_err(|e| e.to_string())?;
    for plan in w.state.plans.values() {
        let now = rules.rate(&plan.indication.icd10, plan.product_type).map_err(|e| e.to_string())?;
        if plan.evidence != now.rating {
            return Err(format!("plan {} rated {:?}, the data in force says {:?}", plan.id, plan.evidence.status, now.rating.status));
        }
        let allowed = plan.evidence.status == EvidenceStatus::Approved || plan.trial.is_some() || plan.override_signature.is_some();
        if plan.status == PlanStatus::Active && !allowed {
            return Err(format!("plan {} is active although the guard blocks {:?}", plan.id, plan.evidence.status));
        }
    }
    let mut grants: BTreeMap<SigningGrantId, (SigningGrant, CommandId)> = BTreeMap::new();
    let mut spent: BTreeSet<SigningGrantId> = BTreeSet::new();
    let mut requests: BTreeSet<(UnitId, PlanId)> = BTreeSet::new();
    let mut unit_sites: BTreeMap<UnitId, SiteId> = BTreeMap::new();
    let mut plan_sites: BTreeMap<PlanId, SiteId> = BTreeMap::new();
    for Recorded { sub, events, before } in &w.log {
        let Actor::Staff(submitter) = &sub.actor else { continue };
        for event in events {
            for signature in event.signatures() {
                match &signature.proof {
                    SignatureProof::Submitter if &signature.signer == submitter => {}
                    SignatureProof::Grant { grant, .. } => {
                        let (g, _) = grants.get(grant).ok_or(format!("{} signed with an unknown grant", signature.signer))?;
                        let bound = g.signer == signature.signer
                            && g.meaning == signature.meaning
                            && &g.submitter == submitter
                            && g.site == sub.site
                            && g.command_digest == sub.command.signing_digest(submitter, &sub.site)
                            && sub.at <= g.expires_at;
                        if !bound {
                            return Err(format!("{}'s grant {grant} was not made for command {}", signature.signer, sub.id));
                        }
                        if !spent.insert(grant.clone()) {
                            return Err(format!("grant {grant} used twice"));
                        }
                    }
                    other => return Err(format!("{} signed for {submitter} with {other:?}", signature.signer)),
                }
            }
            match event {
                Event::SigningGrantIssued { grant } => {
                    grants.insert(grant.id.clone(), (grant.clone(), sub.id.clone()));
                }
                Event::PlanCreated { plan } => {
                    plan_sites.insert(plan.id.clone(), plan.site.clone());
                }
                Event::CollectionRecorded { unit, .. } => {
                    unit_sites.insert(unit.id.clone(), unit.site.clone());
                }
                Event::ShipmentReceived { to_site, units, .. } => {
                    for u in units {
                        unit_sites.insert(u.clone(), to_site.clone());
                    }
                }
                Event::UnitRequested { unit, request } => {
                    requests.insert((unit.clone(), request.plan.clone()));
                }
                Event::UnitAllocated { unit, plan } => {
                    let holder = unit_sites.get(unit).ok_or("allocated an unknown unit")?;
                    if holder != &sub.site {
                        return Err(format!("unit {unit} held at {holder} was allocated by site {}", sub.site));
                    }
                    if plan_sites.get(plan) != Some(holder) && !requests.contains(&(unit.clone(), plan.clone())) {
                        return Err(format!("unit {unit} allocated to plan {plan} of another site without its request"));
                    }
                }
                Event::UnitAdministered { plan, administration } => {
                    let state = before.as_ref().ok_or("no state before an administration")?;
                    let unit = state.units.get(&administration.unit).ok_or("administered an unknown unit")?;
                    let p = state.plans.get(plan).ok_or("unknown plan")?;
                    let failed: Vec<String> = bedside_checks(state, &sub.site, unit, &p.patient, p, &administration.dose, sub.at)
                        .into_iter()
                        .filter(|c| !c.passed)
                        .map(|c| c.code.as_str().to_owned())
                        .collect();
                    if !failed.is_empty() {
                        return Err(format!("administered although the bedside says {failed:?}"));
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn no_actor_breaks_the_rules(steps in proptest::collection::vec(step(), 1..80)) {
        let mut world = World::new();
        for s in &steps {
            world.run(s);
            prop_assert_eq!(invariants(&world), Ok(()), "after {:?}", s);
        }
    }
}

/// The properties are not vacuous: the allowed paths are reachable, and the
/// forged ones are refused by name.
#[test]
fn the_honest_paths_are_reachable_and_forgeries_are_refused() {
    let mut w = World::new();
    w.run(&Step::Plan { site: 0, actor: 0, code: 0, product: 0, trial: false });
    let plan = w.plans[0].clone();
    assert_eq!(w.state.plans[&plan].status, PlanStatus::Active, "cord blood for aplastic anaemia is approved");
    w.run(&Step::Collect { plan: 0, donor: true });
    let unit = w.units[0].clone();
    w.run(&Step::Qc { unit: 0, in_spec: true });
    w.run(&Step::Release { unit: 0, site: 1, proof: Proof::Forged });
    assert_eq!(w.state.units[&unit].status, UnitStatus::Quarantine, "another QA's signature without their grant is refused");
    w.run(&Step::Release { unit: 0, site: 1, proof: Proof::Own });
    assert_eq!(w.state.units[&unit].status, UnitStatus::Released);
    let direct = w.submit("clinic.doc", "clinic", Command::AllocateUnit { unit: unit.clone(), plan: plan.clone() });
    assert_eq!(direct, Err("other_site".into()), "the clinic cannot take the bank's unit");
    let unasked = w.submit("bank.qa", "bank", Command::AllocateUnit { unit: unit.clone(), plan: plan.clone() });
    assert_eq!(unasked, Err("no_allocation_request".into()));
    w.run(&Step::Request { unit: 0, plan: 0, site: 0 });
    w.run(&Step::Allocate { unit: 0, plan: 0, site: 1, actor: 4 });
    assert_eq!(w.state.units[&unit].allocated_to.as_ref(), Some(&plan));
    w.run(&Step::Ship { unit: 0, site: 1 });
    w.run(&Step::Receive { shipment: 0, site: 0 });
    w.run(&Step::Eligibility { plan: 0, site: 0 });
    w.run(&Step::Consent { plan: 0, proof: Proof::Forged });
    assert!(w.state.plans[&plan].consents.is_empty(), "a witness who never authenticated is refused");
    w.run(&Step::Consent { plan: 0, proof: Proof::Granted });
    assert_eq!(w.state.plans[&plan].consents.len(), 1);
    w.run(&Step::Administer { unit: 0, plan: 0, site: 0, proof: Proof::Replayed });
    assert!(w.state.plans[&plan].administrations.is_empty(), "the consent witness's grant cannot witness an administration");
    w.run(&Step::Administer { unit: 0, plan: 0, site: 0, proof: Proof::Granted });
    assert_eq!(w.state.plans[&plan].administrations.len(), 1);
    assert_eq!(invariants(&w), Ok(()));

    // Research only: an embryonic-derived plan for autism is blocked, and no override can lift it.
    w.run(&Step::Plan { site: 0, actor: 0, code: 2, product: 2, trial: false });
    let research = w.plans.last().cloned().expect("plan");
    assert_eq!(w.state.plans[&research].evidence.status, EvidenceStatus::ResearchOnly);
    assert_eq!(w.state.plans[&research].status, PlanStatus::Blocked);
    w.run(&Step::Policy { site: 0 });
    w.run(&Step::Acknowledge { plan: 1 });
    w.run(&Step::Override { plan: 1, proof: Proof::Own });
    assert_eq!(w.state.plans[&research].status, PlanStatus::Blocked);
}
