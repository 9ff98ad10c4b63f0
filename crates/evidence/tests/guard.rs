//! The evidence guard end to end: ratings from the shipped data, given to the
//! real domain (`decide` + `State::apply`) in `Command::CreatePlan`, then the
//! site policy, the patient's acknowledgement and the medical director's
//! override as the rules require. No mocks.

use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::PlanId;
use celltrace_domain::model::{
    EvidenceRating, EvidenceStatus, Language, Membership, Money, PersonKind, PlanStatus, ProductType, Quantity, Role,
    Sex, SignatureMeaning, SignatureRequest, SiteKind, Trial,
};
use celltrace_domain::time::{Date, Timestamp};
use celltrace_domain::{decide, ReferenceData, State};
use celltrace_evidence::{EvidenceData, PRODUCT_TYPES};

const SITE: &str = "clinic";

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("test id")
}

fn data() -> EvidenceData {
    EvidenceData::shipped().expect("the shipped evidence data parses")
}

/// Who submits a command.
#[derive(Clone, Copy)]
enum Who {
    System,
    Staff(&'static str),
    Patient,
}

struct World {
    state: State,
    now: Timestamp,
    n: u32,
    data: EvidenceData,
}

impl World {
    /// A clinic (which by default does not permit unproven treatments), a
    /// physician, a nurse, a medical director and one patient.
    fn new() -> World {
        let state = State { reference: ReferenceData::new(std::sync::Arc::new(celltrace_reference::ReferenceData::shipped().expect("reference"))), ..State::default() };
        let mut w = World { state, now: Timestamp(1_780_000_000_000_000), n: 0, data: data() };
        w.submit(Who::System, Command::RegisterSite {
            site: id(SITE),
            name: "Clinic".into(),
            kind: SiteKind::Clinic,
            country: "AE".into(),
            accreditations: vec![],
            fin: "A9999".into(),
        })
        .expect("site");
        for (staff, role) in [("doc", Role::Physician), ("nurse", Role::Nurse), ("director", Role::MedicalDirector)] {
            w.submit(Who::System, Command::RegisterStaff {
                staff: id(staff),
                name: staff.into(),
                username: staff.into(),
                memberships: vec![Membership { site: id(SITE), roles: [role].into_iter().collect() }],
            })
            .expect("staff");
        }
        w.submit(Who::Staff("nurse"), Command::RegisterPerson {
            person: id("pat"),
            kind: PersonKind::Patient,
            mrn: "M1".into(),
            name: "A Patient".into(),
            date_of_birth: Date::new(1970, 1, 1).expect("date"),
            sex: Sex::Female,
            language: Language::En,
            contact: String::new(),
        })
        .expect("patient");
        w
    }

    /// Decides and applies; the rejection code on refusal.
    fn submit(&mut self, who: Who, command: Command) -> Result<(), String> {
        self.n += 1;
        self.now = Timestamp(self.now.0 + 60_000_000);
        let sub = Submission {
            id: id(&format!("c{}", self.n)),
            actor: match who {
                Who::System => Actor::System("test".into()),
                Who::Staff(s) => Actor::Staff(id(s)),
                Who::Patient => Actor::Patient(id("pat")),
            },
            site: id(SITE),
            at: self.now,
            command,
        };
        let events = decide(&self.state, &sub).map_err(|r| r.code.as_str().to_owned())?;
        for e in &events {
            self.state.apply(e);
        }
        Ok(())
    }

    fn rating(&self, indication: &str, product_type: ProductType) -> EvidenceRating {
        self.data.rating(indication, product_type).expect("every pair of a known indication resolves")
    }

    /// The physician orders a plan for the indication's usual ICD-10-CM
    /// code; the rules rate it, and the rating must be the data's.
    fn create_plan(&mut self, plan: &str, indication: &str, product_type: ProductType, trial: Option<Trial>) -> Result<(), String> {
        let expected = self.rating(indication, product_type);
        let code = self.data.indication(indication).expect("known indication").primary_code().to_owned();
        self.submit(Who::Staff("doc"), Command::CreatePlan {
            plan: id(plan),
            patient: id("pat"),
            indication: code,
            product_type,
            route: "injection".into(),
            sessions: 1,
            dose: Quantity { milli: 10_000, unit: "million cells".into() },
            cost_quote: Money { minor: 500_000, currency: "USD".into() },
            trial,
        })?;
        let recorded = &self.state.plans[&id::<PlanId>(plan)].evidence;
        assert_eq!(recorded, &expected, "{indication} x {}: the rules rate exactly as the data says", product_type.code());
        Ok(())
    }

    fn status(&self, plan: &str) -> Option<PlanStatus> {
        self.state.plans.get(&id::<PlanId>(plan)).map(|p| p.status)
    }

    fn set_policy(&mut self, allows_unproven: bool) -> Result<(), String> {
        self.submit(Who::Staff("director"), Command::SetSitePolicy { allows_unproven })
    }

    fn acknowledge(&mut self, plan: &str) -> Result<(), String> {
        self.submit(Who::Patient, Command::AcknowledgeEvidenceWarning { plan: id(plan) })
    }

    fn override_as(&mut self, who: &'static str, signer: &str, meaning: SignatureMeaning, plan: &str) -> Result<(), String> {
        let signature = SignatureRequest::own(id(signer), meaning);
        self.submit(Who::Staff(who), Command::OverrideEvidenceBlock { plan: id(plan), signature, reason: "the patient was told the evidence".into() })
    }

    fn director_override(&mut self, plan: &str) -> Result<(), String> {
        self.override_as("director", "director", SignatureMeaning::EvidenceOverride, plan)
    }
}

fn trial(registration: &str, ethics: &str) -> Option<Trial> {
    Some(Trial { registration: registration.into(), ethics_approval: ethics.into() })
}

fn valid_trial() -> Option<Trial> {
    trial("NCT06325566", "REC 24/LO/0001")
}

/// What creating the plan should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Proceeds,
    Blocked,
    Refused(&'static str),
}

struct Case {
    name: &'static str,
    indication: &'static str,
    product: ProductType,
    status: EvidenceStatus,
    trial: Option<Trial>,
    outcome: Outcome,
}

fn cases() -> Vec<Case> {
    use EvidenceStatus::*;
    use Outcome::*;
    use ProductType::*;
    let case = |name, indication, product, status, trial, outcome| Case { name, indication, product, status, trial, outcome };
    vec![
        // approved
        case("HPC cord blood for a blood disorder", "blood-disorders", CordBloodHpc, Approved, None, Proceeds),
        case("HPC cord blood for a blood cancer", "blood-cancers", CordBloodHpc, Approved, None, Proceeds),
        case("HPC cord blood for sickle cell disease", "sickle-cell-disease", CordBloodHpc, Approved, None, Proceeds),
        case("donor MSC for GVHD (Ryoncil, Temcell)", "gvhd", AllogeneicMsc, Approved, None, Proceeds),
        case("approved use with a trial too", "blood-cancers", CordBloodHpc, Approved, valid_trial(), Proceeds),
        case("approved use ignores a malformed trial", "blood-disorders", CordBloodHpc, Approved, trial("NCT123", ""), Proceeds),
        // unproven
        case("autologous adipose for low back pain", "chronic-low-back-pain", AutologousAdipose, Unproven, None, Blocked),
        case("exosomes for hair loss", "hair-loss", MscExosome, Unproven, None, Blocked),
        case("exosomes for skin ageing", "skin-ageing", MscExosome, Unproven, None, Blocked),
        case("bone marrow for knee OA", "knee-osteoarthritis", AutologousBoneMarrow, Unproven, None, Blocked),
        case("PRP for knee OA", "knee-osteoarthritis", Prp, Unproven, None, Blocked),
        case("cord blood outside the blood-forming system", "autism", CordBloodHpc, Unproven, None, Blocked),
        case("exosomes even for a blood cancer", "blood-cancers", MscExosome, Unproven, None, Blocked),
        case("fat cells into the eye", "macular-degeneration", AutologousAdipose, Unproven, None, Blocked),
        case("unproven use inside a registered trial", "hair-loss", MscExosome, Unproven, valid_trial(), Proceeds),
        // research-only
        case("embryonic-derived for knee OA", "knee-osteoarthritis", EmbryonicDerived, ResearchOnly, None, Blocked),
        case("embryonic-derived for stroke", "stroke", EmbryonicDerived, ResearchOnly, None, Blocked),
        case("embryonic-derived inside an approved trial", "stroke", EmbryonicDerived, ResearchOnly, valid_trial(), Proceeds),
        case("embryonic-derived with a malformed trial", "stroke", EmbryonicDerived, ResearchOnly, trial("NCT1234", "REC 1"), Refused("trial_registration")),
        // investigational
        case("donor MSC for low back pain, no trial", "chronic-low-back-pain", AllogeneicMsc, Investigational, None, Blocked),
        case("donor MSC for low back pain, in a trial", "chronic-low-back-pain", AllogeneicMsc, Investigational, valid_trial(), Proceeds),
        case("ESC-derived cells for Parkinson's, no trial", "parkinsons-disease", EmbryonicDerived, Investigational, None, Blocked),
        case("ESC-derived cells for Parkinson's, in a trial", "parkinsons-disease", EmbryonicDerived, Investigational, trial("NCT04802733", "IRB 2021-001"), Proceeds),
        case("autologous HSCT for MS, in a trial", "multiple-sclerosis", AutologousBoneMarrow, Investigational, valid_trial(), Proceeds),
        case("NCT with seven digits", "chronic-low-back-pain", AllogeneicMsc, Investigational, trial("NCT0632556", "REC 1"), Refused("trial_registration")),
        case("NCT with nine digits", "chronic-low-back-pain", AllogeneicMsc, Investigational, trial("NCT063255661", "REC 1"), Refused("trial_registration")),
        case("lower-case nct", "chronic-low-back-pain", AllogeneicMsc, Investigational, trial("nct06325566", "REC 1"), Refused("trial_registration")),
        case("letter among the digits", "chronic-low-back-pain", AllogeneicMsc, Investigational, trial("NCT0632556X", "REC 1"), Refused("trial_registration")),
        case("another registry's number", "chronic-low-back-pain", AllogeneicMsc, Investigational, trial("ISRCTN12345678", "REC 1"), Refused("trial_registration")),
        case("trial without ethics approval", "chronic-low-back-pain", AllogeneicMsc, Investigational, trial("NCT06325566", "  "), Refused("ethics_approval")),
        case("other MSC for GVHD, no trial", "gvhd", AutologousBoneMarrow, Investigational, None, Blocked),
    ]
}

#[test]
fn guard_table() {
    let mut w = World::new();
    for (i, c) in cases().into_iter().enumerate() {
        let rating = w.rating(c.indication, c.product);
        assert_eq!(rating.status, c.status, "{}: status", c.name);
        assert_eq!(rating.data_version, w.data.version(), "{}: the rating records the data version", c.name);
        assert!(!rating.summary.is_empty() && !rating.sources.is_empty(), "{}: summary and sources", c.name);
        let plan = format!("plan{i}");
        let result = w.create_plan(&plan, c.indication, c.product, c.trial.clone());
        match c.outcome {
            Outcome::Proceeds => {
                assert_eq!(result, Ok(()), "{}", c.name);
                assert_eq!(w.status(&plan), Some(PlanStatus::Active), "{}", c.name);
            }
            Outcome::Blocked => {
                assert_eq!(result, Ok(()), "{}", c.name);
                assert_eq!(w.status(&plan), Some(PlanStatus::Blocked), "{}", c.name);
                let reason = w.state.plans.get(&id::<PlanId>(&plan)).and_then(|p| p.blocked_reason.clone());
                assert!(reason.is_some_and(|r| !r.is_empty()), "{}: a blocked plan says why", c.name);
            }
            Outcome::Refused(code) => {
                assert_eq!(result, Err(code.to_owned()), "{}", c.name);
                assert_eq!(w.status(&plan), None, "{}: a refused plan is not created", c.name);
            }
        }
    }
}

#[test]
fn every_pair_resolves_and_only_approved_proceeds_without_a_trial() {
    let mut w = World::new();
    let pairs: Vec<(String, ProductType)> = w
        .data
        .indications()
        .iter()
        .flat_map(|i| PRODUCT_TYPES.into_iter().map(move |p| (i.id.clone(), p)))
        .collect();
    assert_eq!(pairs.len(), w.data.indications().len() * 7);
    for (n, (indication, product)) in pairs.iter().enumerate() {
        let status = w.rating(indication, *product).status;
        let plan = format!("p{n}");
        w.create_plan(&plan, indication, *product, None).expect("plan created");
        let expected = if status == EvidenceStatus::Approved { PlanStatus::Active } else { PlanStatus::Blocked };
        assert_eq!(w.status(&plan), Some(expected), "{indication} x {}", product.code());
        if *product == ProductType::EmbryonicDerived {
            assert_ne!(status, EvidenceStatus::Approved, "embryonic-derived is never approved ({indication})");
            assert_ne!(status, EvidenceStatus::Unproven, "embryonic-derived can never be overridden ({indication})");
        }
        if *product == ProductType::MscExosome {
            assert_eq!(status, EvidenceStatus::Unproven, "no exosome product is approved ({indication})");
        }
    }
}

#[test]
fn unproven_at_a_site_that_forbids_it_stays_blocked() {
    let mut w = World::new();
    w.create_plan("back", "chronic-low-back-pain", ProductType::AutologousAdipose, None).expect("plan");
    assert_eq!(w.status("back"), Some(PlanStatus::Blocked));
    w.acknowledge("back").expect("the patient may sign the warning");
    assert_eq!(w.director_override("back"), Err("site_policy".into()));
    assert_eq!(w.status("back"), Some(PlanStatus::Blocked));
    // Explicitly forbidding changes nothing either.
    w.set_policy(false).expect("policy");
    assert_eq!(w.director_override("back"), Err("site_policy".into()));
    assert_eq!(w.status("back"), Some(PlanStatus::Blocked));
}

#[test]
fn unproven_at_a_permitting_site_needs_acknowledgement_and_director_signature() {
    let mut w = World::new();
    w.create_plan("hair", "hair-loss", ProductType::MscExosome, None).expect("plan");
    assert_eq!(w.status("hair"), Some(PlanStatus::Blocked));
    // Only a medical director sets the policy.
    assert!(w.submit(Who::Staff("doc"), Command::SetSitePolicy { allows_unproven: true }).is_err());
    w.set_policy(true).expect("the director permits unproven treatments");

    // Before the patient's acknowledgement the override is refused.
    assert_eq!(w.director_override("hair"), Err("warning_not_acknowledged".into()));
    assert_eq!(w.status("hair"), Some(PlanStatus::Blocked));
    w.acknowledge("hair").expect("the patient signs the warning");
    assert_eq!(w.status("hair"), Some(PlanStatus::Blocked), "acknowledgement alone does not unblock");

    // Not the physician, not a signature of another meaning or signer.
    assert!(w.override_as("doc", "doc", SignatureMeaning::EvidenceOverride, "hair").is_err());
    assert_eq!(w.override_as("director", "director", SignatureMeaning::Release, "hair"), Err("signature_meaning".into()));
    assert!(w.override_as("director", "doc", SignatureMeaning::EvidenceOverride, "hair").is_err());
    assert_eq!(w.status("hair"), Some(PlanStatus::Blocked));

    w.director_override("hair").expect("the director signs the override");
    assert_eq!(w.status("hair"), Some(PlanStatus::Active));
    let plan = w.state.plans.get(&id::<PlanId>("hair")).expect("plan");
    assert!(plan.warning_acknowledged_at.is_some());
    assert!(plan.override_signature.as_ref().is_some_and(|s| s.signer == id("director")));
    assert_eq!(w.director_override("hair"), Err("not_blocked".into()));
}

#[test]
fn research_only_and_investigational_cannot_be_overridden_even_where_unproven_is_permitted() {
    let mut w = World::new();
    w.set_policy(true).expect("policy");
    for (plan, indication, product, status) in [
        ("esc", "knee-osteoarthritis", ProductType::EmbryonicDerived, EvidenceStatus::ResearchOnly),
        ("esc-sci", "spinal-cord-injury", ProductType::EmbryonicDerived, EvidenceStatus::ResearchOnly),
        ("msc-back", "chronic-low-back-pain", ProductType::AllogeneicMsc, EvidenceStatus::Investigational),
    ] {
        assert_eq!(w.rating(indication, product).status, status);
        w.create_plan(plan, indication, product, None).expect("plan");
        assert_eq!(w.status(plan), Some(PlanStatus::Blocked), "{plan}");
        assert_eq!(w.acknowledge(plan), Err("not_unproven".into()), "{plan}");
        assert_eq!(w.director_override(plan), Err("override_not_possible".into()), "{plan}");
        assert_eq!(w.status(plan), Some(PlanStatus::Blocked), "{plan} never proceeds outside a trial");
    }
}

#[test]
fn approved_plans_are_not_blocked_and_need_no_override() {
    let mut w = World::new();
    w.create_plan("cord", "blood-disorders", ProductType::CordBloodHpc, None).expect("plan");
    assert_eq!(w.status("cord"), Some(PlanStatus::Active));
    assert_eq!(w.acknowledge("cord"), Err("not_unproven".into()));
    assert_eq!(w.director_override("cord"), Err("not_blocked".into()));
}

#[test]
fn approved_products_real_indications() {
    let d = data();
    let names = |ind: &str| -> Vec<String> { d.approved_products_for(ind).iter().map(|p| p.name.clone()).collect() };
    let blood = names("blood-cancers");
    for n in ["Hemacord", "Ducord", "Allocord", "Clevecord", "Omisirge", "Kymriah", "Yescarta", "Abecma", "Carvykti"] {
        assert!(blood.contains(&n.to_owned()), "{n} for blood cancers: {blood:?}");
    }
    let gvhd = names("gvhd");
    for n in ["Ryoncil", "Temcell HS Inj.", "Prochymal"] {
        assert!(gvhd.contains(&n.to_owned()), "{n} for GVHD: {gvhd:?}");
    }
    assert_eq!(names("type-1-diabetes"), vec!["Lantidra".to_owned()]);
    assert!(names("sickle-cell-disease").contains(&"Casgevy".to_owned()));
    assert!(names("sickle-cell-disease").contains(&"Lyfgenia".to_owned()));
    // Withdrawn products are kept but not offered as approved.
    assert!(names("crohns-perianal-fistula").is_empty());
    assert!(d.products().iter().any(|p| p.name == "Alofisel" && !p.status.in_force()));
    // Nothing is approved for the common clinic indications.
    for ind in ["chronic-low-back-pain", "hair-loss", "als", "alzheimers-disease", "autism"] {
        assert!(names(ind).is_empty(), "{ind}: {:?}", names(ind));
    }

    // Every FDA- or EMA-approved product of a catalogue type makes its
    // indications approved for that type, and such a plan proceeds.
    let mut w = World::new();
    let mut n = 0;
    for p in d.products().iter().filter(|p| p.status.in_force() && matches!(p.regulator.as_str(), "FDA" | "EMA")) {
        let Some(product) = p.catalogue_type else { continue };
        for ind in &p.indication_ids {
            assert_eq!(w.rating(ind, product).status, EvidenceStatus::Approved, "{} for {ind}", p.name);
            n += 1;
            let plan = format!("ap{n}");
            w.create_plan(&plan, ind, product, None).expect("plan");
            assert_eq!(w.status(&plan), Some(PlanStatus::Active), "{} for {ind}", p.name);
        }
    }
    assert!(n >= 25, "{n} product-indication pairs checked");
}
