//! `Reader::recall`, the indexed lookback, against the whole-state reference
//! walk (`celltrace_domain::lookback::lookback`) on random lineage built
//! through the engine's command path, on SQLite and (when configured)
//! PostgreSQL: collections from patients and donors, processing steps with
//! random reagent lots (shared lots, the same lot written differently,
//! multi-word lot texts), divisions and pools, releases, shipments and
//! administrations. Every origin of every kind found in the data, and some
//! that match nothing, must give the same answer both ways.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use celltrace_domain::command::{Actor, Command, NewUnit, Submission};
use celltrace_domain::lookback::{lookback, Origin};
use celltrace_domain::model::*;
use celltrace_domain::time::{Date, Timestamp};
use celltrace_domain::State;
use celltrace_ledger::SigningKey;
use celltrace_store::read::Recall;
use celltrace_store::{Database, Engine, EngineOptions, SubmitError};
use celltrace_testkit::{now, reference, TestDb, SITE};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::atomic::{AtomicU64, Ordering};

const FAR: &str = "far-clinic";
/// Patients with an autologous plan each (`plan-0`..), then donors of
/// allogeneic cord blood, then a donor registered at the far site.
const SOURCES: usize = 6;
const PATIENTS: usize = 3;
/// The patient whose plan receives allogeneic units.
const RECIPIENT: usize = 3;
/// Lot texts as labs type them: shared lots, one lot written three ways, multi-word texts.
const LOTS: [&str; 6] = ["LOT-A alpha-MEM", "lot-a", "Lot-A second bottle", "COLL-7 collagenase NB4", "kit-9", "HPL-2 platelet lysate"];
const KINDS: [ProcessingKind; 5] = [ProcessingKind::Isolation, ProcessingKind::Expansion, ProcessingKind::Division, ProcessingKind::Cryopreservation, ProcessingKind::PrpPreparation];
const SESSIONS: u32 = 5;

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("test id")
}

fn dose() -> Quantity {
    Quantity { milli: 4000, unit: "mL".into() }
}

/// One abstract step; indices pick among what exists when it runs.
#[derive(Debug, Clone)]
enum Op {
    Collect { source: usize },
    Process { inputs: Vec<usize>, outputs: usize, lots: Vec<usize>, kind: usize },
    Release { unit: usize },
    Ship { units: Vec<usize> },
    Administer { unit: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..SOURCES).prop_map(|source| Op::Collect { source }),
        4 => (proptest::collection::vec(0..64usize, 1..4), 0..4usize, proptest::collection::vec(0..LOTS.len(), 0..3), 0..KINDS.len())
            .prop_map(|(inputs, outputs, lots, kind)| Op::Process { inputs, outputs, lots, kind }),
        3 => (0..64usize).prop_map(|unit| Op::Release { unit }),
        1 => proptest::collection::vec(0..64usize, 1..3).prop_map(|units| Op::Ship { units }),
        3 => (0..64usize).prop_map(|unit| Op::Administer { unit }),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Quarantine,
    Released,
    Consumed,
    Given,
}

/// What the test knows of a unit, to make only commands the rules accept.
#[derive(Debug, Clone)]
struct Known {
    id: String,
    din: String,
    /// The patient of an autologous unit; `None` for donor material.
    owner: Option<usize>,
    status: Status,
    /// Held at the clinic (not shipped, not at the far site).
    here: bool,
}

struct World<'e> {
    engine: &'e Engine,
    at: Timestamp,
    units: Vec<Known>,
    /// Division codes used: one counter for every DIN, since a pool's
    /// outputs must differ from every input's code, whatever its DIN.
    divisions: u32,
    dins: u32,
    steps: u32,
    shipments: u32,
    given: [u32; 4],
}

static COMMANDS: AtomicU64 = AtomicU64::new(0);
/// Pooled units, administrations and shipments the cases made: the data must exercise each.
static COVERED: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

impl World<'_> {
    async fn submit(&mut self, actor: &str, site: &str, command: Command) {
        self.at = Timestamp(self.at.0 + 60_000_000);
        let n = COMMANDS.fetch_add(1, Ordering::Relaxed);
        let actor = if actor == "system" { Actor::System("test".into()) } else { Actor::Staff(id(actor)) };
        let name = command.name();
        let sub = Submission { id: id(&format!("recall-{n}")), actor, site: id(site), at: self.at, command };
        match self.engine.submit(sub).await {
            Ok(_) => {}
            Err(SubmitError::Rejected(r)) => panic!("the test made a command the rules refuse: {name}: {} {}", r.code.as_str(), r.message),
            Err(SubmitError::Store(e)) => panic!("{name}: {e}"),
        }
    }

    async fn setup(&mut self) {
        for (site, name, fin) in [(SITE, "Test clinic", "A9998"), (FAR, "Far clinic", "A9997")] {
            self.submit("system", site, Command::RegisterSite { site: id(site), name: name.into(), kind: SiteKind::Clinic, country: "GB".into(), accreditations: vec![], fin: fin.into() }).await;
        }
        for (staff, site, role) in [
            ("doc", SITE, Role::Physician),
            ("nurse", SITE, Role::Nurse),
            ("nurse2", SITE, Role::Nurse),
            ("tech", SITE, Role::LabTechnologist),
            ("qa", SITE, Role::QualityAssurance),
            ("logistics", SITE, Role::Logistics),
            ("farnurse", FAR, Role::Nurse),
        ] {
            let memberships = vec![Membership { site: id(site), roles: [role].into_iter().collect() }];
            self.submit("system", SITE, Command::RegisterStaff { staff: id(staff), name: staff.into(), username: staff.into(), memberships }).await;
        }
        for p in 0..=RECIPIENT {
            self.person("nurse", SITE, &format!("p-{p}"), PersonKind::Patient, &format!("MRN-{p}")).await;
            let (product_type, indication, route) = if p == RECIPIENT { (ProductType::CordBloodHpc, "D61.9", "iv") } else { (ProductType::Prp, "M77.10", "intratendinous") };
            let plan = format!("plan-{p}");
            self.submit("doc", SITE, Command::CreatePlan {
                plan: id(&plan),
                patient: id(&format!("p-{p}")),
                indication: indication.into(),
                product_type,
                route: route.into(),
                sessions: SESSIONS,
                dose: dose(),
                cost_quote: Money { minor: 100, currency: "USD".into() },
                trial: Some(Trial { registration: "NCT00000001".into(), ethics_approval: "TEST-ETHICS-1".into() }),
            })
            .await;
            self.submit("doc", SITE, Command::AssessEligibility {
                plan: id(&plan),
                assessment: id(&format!("{plan}-e")),
                criteria: vec![Criterion { code: "ok".into(), description: "ok".into(), met: true, detail: String::new() }],
                valid_days: 30,
            })
            .await;
            self.submit("doc", SITE, Command::RecordConsent { plan: id(&plan), consent: id(&format!("{plan}-c")), template: "celltrace-consent".into(), template_version: "2026.1".into(), language: Language::En, witness: None }).await;
        }
        for d in PATIENTS..SOURCES - 1 {
            self.person("nurse", SITE, &format!("d-{d}"), PersonKind::Donor, &format!("DON-{d}")).await;
        }
        // The same MRN as p-0's, letters and digits alike, at another site: a recall by MRN finds both.
        self.person("farnurse", FAR, "d-far", PersonKind::Donor, "mrn 0").await;
    }

    async fn person(&mut self, actor: &str, site: &str, person: &str, kind: PersonKind, mrn: &str) {
        self.submit(actor, site, Command::RegisterPerson {
            person: id(person),
            kind,
            mrn: mrn.into(),
            name: format!("Person {person}"),
            date_of_birth: Date::new(1980, 1, 1).expect("date"),
            sex: Sex::Other,
            language: Language::En,
            contact: String::new(),
        })
        .await;
    }

    fn pick(&self, wanted: impl Fn(&Known) -> bool, i: usize) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.units.len()).filter(|&u| wanted(&self.units[u])).collect();
        (!candidates.is_empty()).then(|| candidates[i % candidates.len()])
    }

    async fn run(&mut self, op: &Op) {
        let expires = |at: Timestamp| Timestamp(at.0 + 30 * Timestamp::DAY);
        match op {
            Op::Collect { source } => {
                self.dins += 1;
                let unit = format!("u-{}", self.units.len());
                let (person, plan, product_type, tissue, actor, site, fin) = match *source {
                    p if p < PATIENTS => (format!("p-{p}"), Some(id(&format!("plan-{p}"))), ProductType::Prp, SourceTissue::PeripheralBlood, "nurse", SITE, "A9998"),
                    d if d < SOURCES - 1 => (format!("d-{d}"), None, ProductType::CordBloodHpc, SourceTissue::CordBlood, "nurse", SITE, "A9998"),
                    _ => ("d-far".to_owned(), None, ProductType::CordBloodHpc, SourceTissue::CordBlood, "farnurse", FAR, "A9997"),
                };
                let din = format!("{fin}26{:06}", self.dins);
                let at = self.at;
                self.submit(actor, site, Command::RecordCollection {
                    collection: id(&format!("col-{}", self.dins)),
                    source_person: id(&person),
                    plan,
                    tissue,
                    product_type,
                    unit: id(&unit),
                    din: din.clone(),
                    product_code: "S5001100".into(),
                    quantity: dose(),
                    collected_at: at,
                    expires_at: expires(at),
                })
                .await;
                let owner = (*source < PATIENTS).then_some(*source);
                self.units.push(Known { id: unit, din, owner, status: Status::Quarantine, here: site == SITE });
            }
            Op::Process { inputs, outputs, lots, kind } => {
                let usable = |k: &Known| k.here && matches!(k.status, Status::Quarantine | Status::Released);
                let Some(first) = self.pick(usable, inputs[0]) else { return };
                let owner = self.units[first].owner;
                // Pools join material of one patient, or donor material: never two patients'.
                let mut chosen = vec![first];
                for &i in &inputs[1..] {
                    if let Some(u) = self.pick(|k| usable(k) && k.owner == owner, i) {
                        if !chosen.contains(&u) {
                            chosen.push(u);
                        }
                    }
                }
                self.steps += 1;
                let din = self.units[first].din.clone();
                let mut made = Vec::new();
                for _ in 0..*outputs {
                    self.divisions += 1;
                    let n = self.divisions;
                    let division = format!("{}{}", char::from(b'A' + u8::try_from(n / 10).expect("few divisions")), n % 10);
                    let unit = format!("u-{}", self.units.len() + made.len());
                    made.push(NewUnit { unit: id(&unit), product_code: format!("S50011{division}"), quantity: dose(), expires_at: expires(self.at) });
                }
                let command = Command::RecordProcessingStep {
                    step: id(&format!("step-{}", self.steps)),
                    kind: KINDS[*kind],
                    inputs: chosen.iter().map(|&u| id(&self.units[u].id)).collect(),
                    outputs: made.clone(),
                    equipment: "Biosafety cabinet BSC-1".into(),
                    reagent_lots: lots.iter().map(|&l| LOTS[l].to_owned()).collect(),
                    parameters: vec![],
                };
                self.submit("tech", SITE, command).await;
                if !made.is_empty() {
                    for &u in &chosen {
                        self.units[u].status = Status::Consumed;
                    }
                }
                for m in made {
                    self.units.push(Known { id: m.unit.to_string(), din: din.clone(), owner, status: Status::Quarantine, here: true });
                }
            }
            Op::Release { unit } => {
                let Some(u) = self.pick(|k| k.here && k.status == Status::Quarantine, *unit) else { return };
                let unit = id::<celltrace_domain::ids::UnitId>(&self.units[u].id);
                self.submit("tech", SITE, Command::RecordQcResult { unit: unit.clone(), test: "platelet concentration".into(), value: "1100".into(), specification: ">= 1000".into(), outcome: QcOutcome::InSpecification }).await;
                self.submit("qa", SITE, Command::ReleaseUnit { unit, signature: SignatureRequest::own(id("qa"), SignatureMeaning::Release) }).await;
                self.units[u].status = Status::Released;
            }
            Op::Ship { units } => {
                let mut chosen = Vec::new();
                for &i in units {
                    if let Some(u) = self.pick(|k| k.here && matches!(k.status, Status::Quarantine | Status::Released), i) {
                        if !chosen.contains(&u) {
                            chosen.push(u);
                        }
                    }
                }
                if chosen.is_empty() {
                    return;
                }
                self.shipments += 1;
                self.submit("logistics", SITE, Command::DispatchShipment {
                    shipment: id(&format!("ship-{}", self.shipments)),
                    to_site: id(FAR),
                    units: chosen.iter().map(|&u| id(&self.units[u].id)).collect(),
                    courier: "Courier".into(),
                    signature: SignatureRequest::own(id("logistics"), SignatureMeaning::CustodyTransfer),
                })
                .await;
                for u in chosen {
                    self.units[u].here = false;
                }
            }
            Op::Administer { unit } => {
                let given = self.given;
                let open = |k: &Known| given[k.owner.unwrap_or(RECIPIENT)] < SESSIONS;
                let Some(u) = self.pick(|k| k.here && k.status == Status::Released && open(k), *unit) else { return };
                let patient = self.units[u].owner.unwrap_or(RECIPIENT);
                let plan = format!("plan-{patient}");
                let unit_id = id::<celltrace_domain::ids::UnitId>(&self.units[u].id);
                if self.units[u].owner.is_none() {
                    self.submit("doc", SITE, Command::AllocateUnit { unit: unit_id.clone(), plan: id(&plan) }).await;
                }
                let grant = format!("grant-{}", self.units[u].id);
                let command = Command::AdministerUnit {
                    administration: id(&format!("adm-{}", self.units[u].id)),
                    unit: unit_id,
                    patient: id(&format!("p-{patient}")),
                    plan: id(&plan),
                    dose: dose(),
                    body_site: "right elbow".into(),
                    witness: SignatureRequest::granted(id("nurse2"), SignatureMeaning::AdministrationWitness, id(&grant)),
                };
                let command_digest = command.signing_digest(&id("nurse"), &id(SITE));
                self.submit("nurse2", SITE, Command::IssueSigningGrant { grant: id(&grant), meaning: SignatureMeaning::AdministrationWitness, submitter: id("nurse"), command_digest, method: AuthenticationMethod::Password }).await;
                self.submit("nurse", SITE, command).await;
                self.units[u].status = Status::Given;
                self.given[patient] += 1;
            }
        }
    }
}

/// Every origin the data holds, written as people type them, and some that match nothing.
fn origins(state: &State) -> Vec<Origin> {
    let mut out = Vec::new();
    for lot in LOTS.iter().chain(&["  lot-A ", "LOT-A", "coll-7", "HPL-2 other text", "NOPE-1", "  "]) {
        out.push(Origin::ReagentLot((*lot).to_owned()));
    }
    let steps: std::collections::BTreeSet<String> = state.units.values().flat_map(|u| u.steps.iter().map(|s| s.id.to_string())).collect();
    out.extend(steps.into_iter().chain(["step-none".to_owned()]).map(Origin::Step));
    for p in state.persons.values() {
        out.push(Origin::Donor(p.id.to_string()));
        out.push(Origin::Donor(p.mrn.to_lowercase()));
    }
    out.push(Origin::Donor("nobody".into()));
    for u in state.units.values() {
        out.push(Origin::Unit(u.id.to_string()));
        out.push(Origin::Din(u.din.clone()));
        out.push(Origin::Din(format!(" {}-{} ", &u.din[..5], u.din[5..].to_lowercase())));
    }
    out.extend(["u-none", ""].map(|s| Origin::Unit(s.into())));
    out.push(Origin::Din("A999826999999".into()));
    out.extend(state.shipments.keys().map(|s| Origin::Shipment(s.to_string())).chain([Origin::Shipment("ship-none".into())]));
    out.sort_by_key(|o| format!("{o:?}"));
    out.dedup();
    out
}

fn assert_same(backend: &str, origin: &Origin, state: &State, found: &Recall) {
    let expected = lookback(state, origin);
    let what = format!("{backend}: {origin:?}");
    let ids = |units: &[Unit]| units.iter().map(|u| u.id.clone()).collect::<Vec<_>>();
    assert_eq!(found.starting, expected.starting.iter().cloned().collect::<Vec<_>>(), "{what}: starting units");
    assert_eq!(ids(&found.affected), expected.affected.iter().cloned().collect::<Vec<_>>(), "{what}: affected units");
    assert_eq!(ids(&found.ancestors), expected.ancestors.iter().cloned().collect::<Vec<_>>(), "{what}: ancestors");
    let recipients: Vec<_> = found.recipients.iter().map(|r| (r.unit.clone(), r.plan.clone(), r.patient.clone())).collect();
    assert_eq!(recipients, expected.recipients, "{what}: recipients");
    for r in &found.recipients {
        let plan = &state.plans[&r.plan];
        assert!(plan.site == r.site && plan.administrations.iter().any(|a| a.unit == r.unit && a.at == r.at), "{what}: {r:?}");
    }
    for u in found.affected.iter().chain(&found.ancestors) {
        assert_eq!(Some(u), state.units.get(&u.id), "{what}: the unit as stored");
    }
}

async fn check(ops: &[Op]) {
    for db in TestDb::all().await {
        let database = Database::open(&db.url).await.expect("open");
        let engine = Engine::start(database.clone(), EngineOptions::new(SigningKey::from_bytes(&[5; 32]), reference()));
        let mut world = World { engine: &engine, at: now(), units: Vec::new(), divisions: 0, dins: 0, steps: 0, shipments: 0, given: [0; 4] };
        world.setup().await;
        for op in ops {
            world.run(op).await;
        }
        let state = database.load_state().await.expect("state");
        COVERED[0].fetch_add(state.units.values().filter(|u| u.parents.len() > 1).count() as u64, Ordering::Relaxed);
        COVERED[1].fetch_add(state.plans.values().map(|p| p.administrations.len()).sum::<usize>() as u64, Ordering::Relaxed);
        COVERED[2].fetch_add(state.shipments.len() as u64, Ordering::Relaxed);
        for origin in origins(&state) {
            let found = database.reader().recall(&origin).await.expect("recall");
            assert_same(db.backend, &origin, &state, &found);
        }
        drop(engine);
        db.drop_database().await;
    }
}

#[test]
fn recall_from_the_index_equals_the_whole_state_walk() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut runner = TestRunner::new(Config { cases: 10, failure_persistence: None, ..Config::default() });
    runner
        .run(&proptest::collection::vec(op(), 10..50), |ops| {
            runtime.block_on(check(&ops));
            Ok(())
        })
        .expect("recall equals the reference");
    let [pooled, given, shipped] = COVERED.each_ref().map(|c| c.load(Ordering::Relaxed));
    assert!(pooled > 0 && given > 0 && shipped > 0, "the cases pooled {pooled} units, gave {given}, shipped {shipped}: each must happen");
}
