//! The rules: `decide` checks a submission against the state and returns the
//! events it causes, or a rejection that says what is wrong and what to do.
//! Nothing here reads a clock or a database; the submission carries the time.

use crate::command::{Actor, Command, NewUnit, Submission};
use crate::event::Event;
use crate::ids::*;
use crate::model::*;
use crate::state::State;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Why a command was refused. `code` is stable for programs; `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// Stable machine-readable reason, e.g. `other_patient`.
    pub code: String,
    /// What is wrong and what to do, in plain words.
    pub message: String,
}

impl Rejection {
    /// A rejection with a code and a message.
    pub fn new(code: &str, message: impl Into<String>) -> Rejection {
        Rejection { code: code.to_owned(), message: message.into() }
    }
}

fn reject<T>(code: &str, message: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection::new(code, message))
}

/// One bedside check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BedsideCheck {
    /// Stable code, e.g. `consent_valid`.
    pub code: &'static str,
    /// What was checked.
    pub title: &'static str,
    /// Passed or not.
    pub passed: bool,
    /// On failure, what failed and what to do.
    pub message: String,
}

/// The chain-of-identity checks made before an administration, in the order a
/// nurse reads them. Every check is evaluated so the screen can show them all.
pub fn bedside_checks(
    unit: &Unit,
    patient: &PersonId,
    plan: &Plan,
    dose: &Quantity,
    now: Timestamp,
) -> Vec<BedsideCheck> {
    let mut checks = Vec::new();
    let mut check = |code, title, passed: bool, message: String| {
        checks.push(BedsideCheck { code, title, passed, message: if passed { String::new() } else { message } });
    };
    let unit_for_patient = match &unit.intended_use {
        IntendedUse::Autologous { patient: owner } => owner == patient,
        IntendedUse::Allogeneic => unit.allocated_to.as_ref() == Some(&plan.id),
    };
    check(
        "same_patient",
        "Same patient (chain of identity)",
        &plan.patient == patient && unit_for_patient,
        if &plan.patient != patient {
            format!("STOP: the wristband scanned is not the patient of plan {}. Scan the wristband of the patient in front of you.", plan.id)
        } else {
            match &unit.intended_use {
                IntendedUse::Autologous { .. } => format!(
                    "STOP: unit {} is autologous material of another patient. Do not administer; return it to the lab and report the mix-up.",
                    unit.din
                ),
                IntendedUse::Allogeneic => format!(
                    "STOP: unit {} is not allocated to this patient's plan. Do not administer; ask the physician to check the allocation.",
                    unit.din
                ),
            }
        },
    );
    check(
        "released",
        "Released by QA",
        unit.status == UnitStatus::Released,
        format!("STOP: unit {} is {}. Only a released unit may be given; contact QA.", unit.din, unit.status.label()),
    );
    check(
        "not_expired",
        "Not expired",
        now < unit.expires_at,
        format!("STOP: unit {} expired. Do not administer; return it to the lab for disposal.", unit.din),
    );
    check(
        "plan_active",
        "Plan active",
        plan.status == PlanStatus::Active,
        format!("STOP: plan {} is not active (it is {}). Ask the physician.", plan.id, format!("{:?}", plan.status).to_lowercase()),
    );
    let consent_message = match plan.consents.last() {
        None => "STOP: no signed consent is on record for this plan. Obtain consent before treatment.".to_owned(),
        Some(c) => match &c.withdrawn {
            Some(w) => format!(
                "STOP: the patient withdrew consent on {}. Treatment must not proceed.",
                w.at.date()
            ),
            None => String::new(),
        },
    };
    check("consent_valid", "Consent valid", plan.current_consent().is_some(), consent_message);
    let eligibility_message = match plan.current_eligibility() {
        None => "STOP: no eligibility assessment is on record. The physician must assess eligibility first.".to_owned(),
        Some(e) if !e.eligible() => {
            let failed: Vec<&str> = e.criteria.iter().filter(|c| !c.met).map(|c| c.description.as_str()).collect();
            format!("STOP: the patient is not eligible (failed: {}).", failed.join("; "))
        }
        Some(e) => format!(
            "STOP: the eligibility assessment expired on {}. The physician must reassess.",
            e.valid_until.date()
        ),
    };
    let eligibility_ok = plan
        .current_eligibility()
        .is_some_and(|e| e.eligible() && now <= e.valid_until);
    check("eligibility_current", "Eligibility current", eligibility_ok, eligibility_message);
    check(
        "dose_as_planned",
        "Product and dose as planned",
        dose == &plan.dose && unit.product_type == plan.product_type,
        if unit.product_type != plan.product_type {
            format!(
                "STOP: the unit is {} but the plan is for {}.",
                unit.product_type.code(),
                plan.product_type.code()
            )
        } else {
            format!("STOP: the dose entered ({dose}) is not the planned dose ({}). Check the order.", plan.dose)
        },
    );
    checks
}

fn staff_actor<'s>(state: &'s State, sub: &Submission, roles: &[Role]) -> Result<&'s Staff, Rejection> {
    let id = match &sub.actor {
        Actor::Staff(id) => id,
        Actor::Patient(_) => return reject("forbidden", "Patients cannot do this; ask the clinic staff."),
        Actor::System(_) => return reject("forbidden", "This must be done by a signed-in member of staff."),
    };
    let staff = state
        .staff
        .get(id)
        .ok_or_else(|| Rejection::new("unknown_staff", format!("Staff account {id} does not exist.")))?;
    if !state.sites.contains_key(&sub.site) {
        return reject("unknown_site", format!("Site {} does not exist.", sub.site));
    }
    if roles.iter().any(|r| staff.holds(*r, &sub.site)) {
        Ok(staff)
    } else {
        let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
        reject(
            "forbidden",
            format!(
                "{} may not do this at site {}: it needs the role {}.",
                staff.name,
                sub.site,
                names.join(" or ")
            ),
        )
    }
}

fn check_signature(
    state: &State,
    sub: &Submission,
    signature: &Signature,
    meaning: SignatureMeaning,
    roles: &[Role],
) -> Result<(), Rejection> {
    if signature.meaning != meaning {
        return reject(
            "signature_meaning",
            format!("The signature must mean \"{}\"", meaning.statement()),
        );
    }
    let signer = state
        .staff
        .get(&signature.signer)
        .ok_or_else(|| Rejection::new("unknown_staff", format!("Signer {} does not exist.", signature.signer)))?;
    if !roles.iter().any(|r| signer.holds(*r, &sub.site)) {
        let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
        return reject(
            "signer_not_authorised",
            format!("{} cannot sign this at site {}: it needs a {}.", signer.name, sub.site, names.join(" or ")),
        );
    }
    Ok(())
}

fn text(field: &str, value: &str, max: usize) -> Result<(), Rejection> {
    if value.trim().is_empty() {
        return reject("missing_field", format!("Enter the {field}."));
    }
    if value.chars().count() > max {
        return reject("field_too_long", format!("The {field} is longer than {max} characters; shorten it."));
    }
    Ok(())
}

fn plan<'s>(state: &'s State, id: &PlanId) -> Result<&'s Plan, Rejection> {
    state
        .plans
        .get(id)
        .ok_or_else(|| Rejection::new("unknown_plan", format!("Plan {id} does not exist.")))
}

fn unit<'s>(state: &'s State, id: &UnitId) -> Result<&'s Unit, Rejection> {
    state
        .units
        .get(id)
        .ok_or_else(|| Rejection::new("unknown_unit", format!("Unit {id} does not exist. Check the label and scan again.")))
}

fn person<'s>(state: &'s State, id: &PersonId) -> Result<&'s Person, Rejection> {
    state
        .persons
        .get(id)
        .ok_or_else(|| Rejection::new("unknown_person", format!("Patient or donor {id} does not exist.")))
}

fn same_site(what: &str, site: &SiteId, sub: &Submission) -> Result<(), Rejection> {
    if site != &sub.site {
        return reject(
            "other_site",
            format!("This {what} belongs to site {site}; switch to that site or ask its staff."),
        );
    }
    Ok(())
}

/// A unit that may be released at this site now: here, in quarantine, with
/// QC results, not expired. Whether the results are in specification is the
/// caller's question (plain or exceptional release).
fn releasable<'s>(state: &'s State, sub: &Submission, id: &UnitId) -> Result<&'s Unit, Rejection> {
    let u = unit(state, id)?;
    unit_here(u, sub)?;
    if u.status != UnitStatus::Quarantine {
        return reject("not_in_quarantine", format!("Unit {} is {}; it cannot be released.", u.din, u.status.label()));
    }
    if u.qc.is_empty() {
        return reject("no_qc", format!("Unit {} has no QC results; record them before release.", u.din));
    }
    if u.expires_at <= sub.at {
        return reject("expired", format!("Unit {} has expired; it cannot be released.", u.din));
    }
    Ok(u)
}

fn first_din(units: &[&Unit]) -> String {
    units.first().map(|u| u.din.clone()).unwrap_or_default()
}

fn unit_here(u: &Unit, sub: &Submission) -> Result<(), Rejection> {
    if let Some(shipment) = &u.in_transit {
        return reject(
            "in_transit",
            format!("Unit {} is in transit (shipment {shipment}); receive the shipment first.", u.din),
        );
    }
    same_site("unit", &u.site, sub)
}

/// Checks a DIN as celltrace stores it (13 characters: FIN, year, sequence,
/// no flags) and that it was issued under the collecting site's FIN.
fn check_din(din: &str, site: Option<&Site>) -> Result<(), Rejection> {
    let parsed = isbt128::Din::parse(din).map_err(|e| {
        Rejection::new("din", format!("'{din}' is not a donation identification number: {e}. A DIN is the FIN (5), year (2) and sequence (6), without flags."))
    })?;
    if let Some(site) = site {
        if parsed.fin().as_str() != site.fin {
            return reject(
                "din_fin",
                format!("DIN {din} was issued under FIN {}, but this site's FIN is {}: assign a DIN of this site.", parsed.fin().as_str(), site.fin),
            );
        }
    }
    Ok(())
}

/// The NCT format of ClinicalTrials.gov registrations: `NCT` and eight digits.
pub fn valid_trial_registration(text: &str) -> bool {
    text.len() == 11 && text.starts_with("NCT") && text.bytes().skip(3).all(|b| b.is_ascii_digit())
}

/// Checks trial data when given: `Ok(true)` for a valid registration with
/// its ethics approval, `Ok(false)` when no trial is named.
fn trial_recorded(trial: Option<&Trial>) -> Result<bool, Rejection> {
    match trial {
        None => Ok(false),
        Some(t) if !valid_trial_registration(&t.registration) => reject(
            "trial_registration",
            format!("'{}' is not a trial registration number: write NCT and 8 digits, e.g. NCT01234567.", t.registration),
        ),
        Some(t) if t.ethics_approval.trim().is_empty() => {
            reject("ethics_approval", "Enter the ethics committee approval reference of the trial.")
        }
        Some(_) => Ok(true),
    }
}

/// The evidence guard's verdict on a new plan: `None` to proceed, or why it is
/// blocked. Investigational, research-only and unproven uses all proceed inside
/// a registered trial with ethics approval; outside one only approved uses do.
pub fn evidence_block(rating: &EvidenceRating, trial: Option<&Trial>) -> Result<Option<String>, Rejection> {
    if rating.status == EvidenceStatus::Approved || trial_recorded(trial)? {
        return Ok(None);
    }
    Ok(Some(match rating.status {
        EvidenceStatus::Approved => return Ok(None),
        EvidenceStatus::Investigational => "Investigational: this use is only allowed inside a registered trial; record the trial and its ethics approval.",
        EvidenceStatus::ResearchOnly => "Research only: this product may only be used inside an approved clinical trial.",
        EvidenceStatus::Unproven => "Unproven: no approval and no supporting trial evidence for this use. It can only proceed if the site permits unproven treatments, the patient signs the warning, and the medical director signs an override.",
    }
    .to_owned()))
}

/// The guard again at the bedside, with the evidence data in force now: a
/// plan rated earlier still proceeds only if the current rating allows it
/// (approved, or inside its recorded trial, or unproven with the director's
/// override and the patient's signed warning). Research-only never proceeds
/// outside a trial.
pub fn evidence_still_allows(plan: &Plan, current: &EvidenceRating) -> Result<(), String> {
    let in_trial = trial_recorded(plan.trial.as_ref()).unwrap_or(false);
    let allowed = match current.status {
        EvidenceStatus::Approved => true,
        _ if in_trial => true,
        EvidenceStatus::Unproven => plan.override_signature.is_some() && plan.warning_acknowledged_at.is_some(),
        EvidenceStatus::Investigational | EvidenceStatus::ResearchOnly => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(format!(
            "STOP: the evidence data now in force (version {}) rates this use {:?}, and plan {} does not meet what that requires. The physician must review the plan.",
            current.data_version,
            current.status,
            plan.id
        ))
    }
}

/// Decides a submission: the events it causes, or why it is refused.
/// A refusal changes nothing.
pub fn decide(state: &State, sub: &Submission) -> Result<Vec<Event>, Rejection> {
    use Role::*;
    let now = sub.at;
    match &sub.command {
        Command::RegisterSite { site, name, kind, country, accreditations, fin } => {
            if !matches!(sub.actor, Actor::System(_)) {
                staff_actor(state, sub, &[Administrator])?;
            }
            if state.sites.contains_key(site) {
                return reject("duplicate", format!("Site {site} already exists."));
            }
            text("site name", name, 200)?;
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                return reject("country", format!("'{country}' is not a two-letter ISO country code, e.g. AE, IN, GB."));
            }
            if fin.len() != 5 || !fin.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                return reject("fin", format!("'{fin}' is not an ISBT 128 facility identification number (5 letters or digits, e.g. A9999)."));
            }
            Ok(vec![Event::SiteRegistered {
                site: Site {
                    id: site.clone(),
                    name: name.trim().to_owned(),
                    kind: *kind,
                    country: country.clone(),
                    accreditations: accreditations.clone(),
                    fin: fin.clone(),
                    allows_unproven: false,
                },
            }])
        }
        Command::RegisterStaff { staff, name, username, memberships } => {
            let admin = match &sub.actor {
                Actor::System(_) => None,
                _ => Some(staff_actor(state, sub, &[Administrator])?),
            };
            if state.staff.contains_key(staff) {
                return reject("duplicate", format!("Staff account {staff} already exists."));
            }
            text("name", name, 200)?;
            text("username", username, 64)?;
            if !username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
                return reject("username", "A username may only contain letters, digits, '.', '-' and '_'.");
            }
            if memberships.is_empty() || memberships.iter().any(|m| m.roles.is_empty()) {
                return reject("roles", "Give the account at least one role at one site.");
            }
            for m in memberships {
                if !state.sites.contains_key(&m.site) {
                    return reject("unknown_site", format!("Site {} does not exist.", m.site));
                }
                if let Some(admin) = admin {
                    if !admin.holds(Administrator, &m.site) {
                        return reject("forbidden", format!("Only an administrator of site {} may give roles there.", m.site));
                    }
                }
            }
            Ok(vec![Event::StaffRegistered {
                staff: Staff {
                    id: staff.clone(),
                    name: name.trim().to_owned(),
                    username: username.clone(),
                    memberships: memberships.clone(),
                    active: true,
                },
            }])
        }
        Command::LoadProductCatalogue { entries, source } => {
            if !matches!(sub.actor, Actor::System(_)) {
                staff_actor(state, sub, &[Administrator])?;
            }
            text("source", source, 200)?;
            if entries.is_empty() {
                return reject("empty_catalogue", "The product description table has no rows.");
            }
            let mut seen = std::collections::BTreeSet::new();
            for (row, entry) in entries.iter().enumerate() {
                let n = row + 1;
                let code_ok = match entry.code.len() {
                    5 => entry.code.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                        && entry.code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
                    8 => isbt128::parse_content(isbt128::StructureId::ProductCode, &entry.code).is_ok(),
                    _ => false,
                };
                if !code_ok {
                    return reject("product_code", format!("Row {n}: '{}' is neither a 5-character product description code (e.g. S1003) nor an 8-character ISBT 128 product code.", entry.code));
                }
                if entry.description.trim().is_empty() || entry.description.chars().count() > 200 {
                    return reject("description", format!("Row {n}: the description of {} must be 1 to 200 characters.", entry.code));
                }
                if !seen.insert(entry.code.as_str()) {
                    return reject("duplicate", format!("Row {n}: {} appears twice; keep one row per code.", entry.code));
                }
            }
            Ok(vec![Event::ProductCatalogueLoaded {
                catalogue: ProductCatalogue { entries: entries.clone(), source: source.clone(), loaded_at: now },
            }])
        }
        Command::LoadEvidenceData { version, indications, status, approved_products, source } => {
            if !matches!(sub.actor, Actor::System(_)) {
                staff_actor(state, sub, &[Administrator])?;
            }
            text("version", version, 40)?;
            text("source", source, 200)?;
            for (name, file) in [("indications", indications), ("status", status), ("approved products", approved_products)] {
                if file.trim().is_empty() {
                    return reject("empty_evidence", format!("The {name} file is empty."));
                }
                if file.len() > EvidenceDataset::MAX_FILE_BYTES {
                    return reject("evidence_too_large", format!("The {name} file is larger than 2 MiB."));
                }
            }
            if state.evidence_data.as_ref().is_some_and(|d| &d.version == version) {
                return reject("same_version", format!("Evidence data version {version} is already in force; give changed data a new version."));
            }
            Ok(vec![Event::EvidenceDataLoaded {
                dataset: EvidenceDataset {
                    version: version.clone(),
                    indications: indications.clone(),
                    status: status.clone(),
                    approved_products: approved_products.clone(),
                    source: source.clone(),
                    loaded_at: now,
                },
            }])
        }
        Command::SetSitePolicy { allows_unproven } => {
            staff_actor(state, sub, &[MedicalDirector])?;
            Ok(vec![Event::SitePolicySet { site: sub.site.clone(), allows_unproven: *allows_unproven }])
        }
        Command::RegisterPerson { person, kind, mrn, name, date_of_birth, sex, language, contact } => {
            staff_actor(state, sub, &[Physician, Nurse])?;
            if state.persons.contains_key(person) {
                return reject("duplicate", format!("Person {person} already exists."));
            }
            text("medical record number", mrn, 64)?;
            text("name", name, 200)?;
            if date_of_birth.start() > now {
                return reject("date_of_birth", "The date of birth is in the future; check it.");
            }
            Ok(vec![Event::PersonRegistered {
                person: Person {
                    id: person.clone(),
                    site: sub.site.clone(),
                    kind: *kind,
                    mrn: mrn.trim().to_owned(),
                    name: name.trim().to_owned(),
                    date_of_birth: *date_of_birth,
                    sex: *sex,
                    language: *language,
                    contact: contact.trim().to_owned(),
                },
            }])
        }
        Command::RecordRecordViewed { person: id, view } => {
            match &sub.actor {
                Actor::Patient(p) if p == id => {}
                _ => {
                    // Recording a read is never refused to staff: whether they
                    // may see the record was decided by the page; the ledger
                    // keeps who looked, wherever the patient is registered.
                    staff_actor(state, sub, &Role::ALL)?;
                    person(state, id)?;
                }
            }
            text("view", view, 200)?;
            Ok(vec![Event::RecordViewed { person: id.clone(), view: view.clone() }])
        }
        Command::CreatePlan { plan, patient, indication, product_type, route, sessions, dose, cost_quote, evidence, trial } => {
            let physician = staff_actor(state, sub, &[Physician])?;
            if state.plans.contains_key(plan) {
                return reject("duplicate", format!("Plan {plan} already exists."));
            }
            let p = person(state, patient)?;
            same_site("patient", &p.site, sub)?;
            if p.kind != PersonKind::Patient {
                return reject("not_a_patient", format!("{} is registered as a donor, not a patient.", p.name));
            }
            text("ICD-10-CM code", &indication.icd10, 16)?;
            text("indication", &indication.name, 200)?;
            text("route", route, 100)?;
            if *sessions == 0 || *sessions > 50 {
                return reject("sessions", "The number of sessions must be between 1 and 50.");
            }
            if dose.milli <= 0 {
                return reject("dose", "The dose must be more than zero.");
            }
            if cost_quote.minor < 0 || cost_quote.currency.len() != 3 {
                return reject("cost", "Give the cost quote as a positive amount with a 3-letter currency code.");
            }
            let blocked_reason = evidence_block(evidence, trial.as_ref())?;
            Ok(vec![Event::PlanCreated {
                plan: Plan {
                    id: plan.clone(),
                    site: sub.site.clone(),
                    patient: patient.clone(),
                    physician: physician.id.clone(),
                    indication: indication.clone(),
                    product_type: *product_type,
                    route: route.clone(),
                    sessions: *sessions,
                    dose: dose.clone(),
                    cost_quote: cost_quote.clone(),
                    evidence: evidence.clone(),
                    trial: trial.clone(),
                    status: if blocked_reason.is_some() { PlanStatus::Blocked } else { PlanStatus::Active },
                    blocked_reason,
                    warning_acknowledged_at: None,
                    override_signature: None,
                    eligibility: Vec::new(),
                    consents: Vec::new(),
                    administrations: Vec::new(),
                    follow_ups: Vec::new(),
                    responses: Vec::new(),
                    created_at: now,
                },
            }])
        }
        Command::AcknowledgeEvidenceWarning { plan: id } => {
            let p = plan(state, id)?;
            match &sub.actor {
                Actor::Patient(who) if who == &p.patient => {}
                _ => {
                    staff_actor(state, sub, &[Physician, Nurse])?;
                    same_site("plan", &p.site, sub)?;
                }
            }
            if p.evidence.status != EvidenceStatus::Unproven {
                return reject("not_unproven", "Only plans for unproven treatments need this warning.");
            }
            Ok(vec![Event::EvidenceWarningAcknowledged { plan: id.clone(), at: now }])
        }
        Command::OverrideEvidenceBlock { plan: id, signature } => {
            let director = staff_actor(state, sub, &[MedicalDirector])?;
            let p = plan(state, id)?;
            same_site("plan", &p.site, sub)?;
            check_signature(state, sub, signature, SignatureMeaning::EvidenceOverride, &[MedicalDirector])?;
            if signature.signer != director.id {
                return reject("signer", "The medical director must sign the override personally.");
            }
            if p.status != PlanStatus::Blocked {
                return reject("not_blocked", format!("Plan {id} is not blocked."));
            }
            if p.evidence.status != EvidenceStatus::Unproven {
                return reject(
                    "override_not_possible",
                    "Only an unproven treatment can be overridden; investigational and research-only products need a registered trial.",
                );
            }
            let site = state.sites.get(&sub.site);
            if !site.is_some_and(|s| s.allows_unproven) {
                return reject(
                    "site_policy",
                    "This site's policy does not permit unproven treatments. The plan stays blocked.",
                );
            }
            if p.warning_acknowledged_at.is_none() {
                return reject(
                    "warning_not_acknowledged",
                    "The patient has not signed the plain-language warning yet; record their acknowledgement first.",
                );
            }
            Ok(vec![Event::EvidenceBlockOverridden { plan: id.clone(), signature: signature.clone() }])
        }
        Command::AssessEligibility { plan: id, assessment, criteria, valid_days } => {
            let physician = staff_actor(state, sub, &[Physician])?;
            let p = plan(state, id)?;
            same_site("plan", &p.site, sub)?;
            if criteria.is_empty() {
                return reject("criteria", "Record at least one eligibility criterion.");
            }
            if p.eligibility.iter().any(|e| &e.id == assessment) {
                return reject("duplicate", format!("Assessment {assessment} already exists."));
            }
            for c in criteria {
                text("criterion", &c.description, 300)?;
            }
            if *valid_days == 0 || *valid_days > 365 {
                return reject("valid_days", "An assessment stays current for 1 to 365 days.");
            }
            Ok(vec![Event::EligibilityAssessed {
                plan: id.clone(),
                assessment: Eligibility {
                    id: assessment.clone(),
                    assessed_by: physician.id.clone(),
                    assessed_at: now,
                    valid_until: now.plus_days(i64::from(*valid_days)),
                    criteria: criteria.clone(),
                },
            }])
        }
        Command::RecordConsent { plan: id, consent, template, template_version, language, witness } => {
            let physician = staff_actor(state, sub, &[Physician])?;
            let p = plan(state, id)?;
            same_site("plan", &p.site, sub)?;
            if matches!(p.status, PlanStatus::Stopped | PlanStatus::Completed) {
                return reject("plan_closed", format!("Plan {id} is closed; create a new plan."));
            }
            if p.consents.iter().any(|c| &c.id == consent) {
                return reject("duplicate", format!("Consent {consent} already exists."));
            }
            text("template", template, 100)?;
            text("template version", template_version, 40)?;
            if let Some(w) = witness {
                check_signature(state, sub, w, SignatureMeaning::ConsentWitness, &[Physician, Nurse])?;
                if w.signer == physician.id {
                    return reject("witness", "The witness must be someone other than the consenting physician.");
                }
            }
            if p.evidence.status == EvidenceStatus::Investigational && p.trial.is_none() {
                return reject("trial_consent", "An investigational plan needs its trial recorded before the trial consent.");
            }
            Ok(vec![Event::ConsentRecorded {
                plan: id.clone(),
                consent: Consent {
                    id: consent.clone(),
                    template: template.clone(),
                    template_version: template_version.clone(),
                    language: *language,
                    patient_signed_at: now,
                    physician: physician.id.clone(),
                    witness: witness.as_ref().map(|w| w.signer.clone()),
                    trial: p.trial.as_ref().map(|t| t.registration.clone()),
                    withdrawn: None,
                },
            }])
        }
        Command::WithdrawConsent { plan: id, reason } => {
            let p = plan(state, id)?;
            match &sub.actor {
                Actor::Patient(who) if who == &p.patient => {}
                _ => {
                    staff_actor(state, sub, &[Physician, Nurse])?;
                    same_site("plan", &p.site, sub)?;
                }
            }
            let consent = p
                .current_consent()
                .ok_or_else(|| Rejection::new("no_consent", "There is no consent in force to withdraw."))?;
            Ok(vec![Event::ConsentWithdrawn {
                plan: id.clone(),
                consent: consent.id.clone(),
                withdrawal: Withdrawal { at: now, reason: reason.clone() },
            }])
        }
        Command::RecordCollection { collection, source_person, plan: plan_id, tissue, product_type, unit: unit_id, din, product_code, quantity, collected_at, expires_at } => {
            let collector = staff_actor(state, sub, &[Nurse, Physician])?;
            let source = person(state, source_person)?;
            same_site("person", &source.site, sub)?;
            if state.units.contains_key(unit_id) {
                return reject("duplicate", format!("Unit {unit_id} already exists."));
            }
            check_din(din, state.sites.get(&sub.site))?;
            text("product code", product_code, 16)?;
            if quantity.milli <= 0 {
                return reject("quantity", "The volume collected must be more than zero.");
            }
            if *expires_at <= *collected_at {
                return reject("expiry", "The expiry must be after the collection time.");
            }
            if *collected_at > now {
                return reject("collected_at", "The collection time is in the future; check it.");
            }
            let intended_use = if product_type.is_autologous() {
                let Some(plan_id) = plan_id else {
                    return reject("plan_required", "Autologous material must be collected for a plan of the same patient.");
                };
                let p = plan(state, plan_id)?;
                if &p.patient != source_person {
                    return reject("other_patient", "Autologous material must come from the plan's own patient.");
                }
                if p.product_type != *product_type {
                    return reject("product_type", format!("The plan is for {}, not {}.", p.product_type.code(), product_type.code()));
                }
                if p.status != PlanStatus::Active {
                    return reject("plan_not_active", format!("Plan {plan_id} is not active; collection must not start."));
                }
                if p.current_consent().is_none() {
                    return reject("consent_missing", "No consent in force for this plan: obtain consent before collection.");
                }
                IntendedUse::Autologous { patient: source_person.clone() }
            } else {
                if source.kind != PersonKind::Donor {
                    return reject("not_a_donor", format!("{} is not registered as a donor.", source.name));
                }
                IntendedUse::Allogeneic
            };
            Ok(vec![Event::CollectionRecorded {
                collection: collection.clone(),
                tissue: *tissue,
                plan: plan_id.clone(),
                collector: collector.id.clone(),
                unit: Unit {
                    id: unit_id.clone(),
                    din: din.clone(),
                    product_code: product_code.clone(),
                    product_type: *product_type,
                    source_person: source_person.clone(),
                    intended_use,
                    collection: collection.clone(),
                    parents: Vec::new(),
                    site: sub.site.clone(),
                    quantity: quantity.clone(),
                    collected_at: *collected_at,
                    expires_at: *expires_at,
                    status: UnitStatus::Quarantine,
                    qc: Vec::new(),
                    release: Vec::new(),
                    exceptional: false,
                    steps: Vec::new(),
                    location: None,
                    in_transit: None,
                    allocated_to: None,
                    administered_in: None,
                    discard_reason: None,
                    created_at: now,
                },
            }])
        }
        Command::RecordProcessingStep { step, kind, inputs, outputs, equipment, reagent_lots, parameters } => {
            let operator = staff_actor(state, sub, &[LabTechnologist])?;
            if inputs.is_empty() {
                return reject("inputs", "Scan at least one input unit.");
            }
            text("equipment", equipment, 200)?;
            let mut parents = Vec::new();
            for id in inputs {
                let u = unit(state, id)?;
                unit_here(u, sub)?;
                if !matches!(u.status, UnitStatus::Quarantine | UnitStatus::Released) {
                    return reject("unit_unavailable", format!("Unit {} is {}; it cannot be processed.", u.din, u.status.label()));
                }
                parents.push(u);
            }
            let first = parents.first().ok_or_else(|| Rejection::new("inputs", "Scan at least one input unit."))?;
            if parents.iter().any(|u| u.intended_use != first.intended_use) {
                return reject(
                    "pooling",
                    "These units belong to different patients or uses: material of two patients is never pooled.",
                );
            }
            if parents.iter().any(|u| u.product_type != first.product_type) {
                return reject("pooling", "Inputs of different product types cannot be combined.");
            }
            let mut seen = std::collections::BTreeSet::new();
            let mut codes = std::collections::BTreeSet::new();
            for NewUnit { unit: id, product_code, .. } in outputs {
                if state.units.contains_key(id) || inputs.contains(id) || !seen.insert(id) {
                    return reject("duplicate", format!("Unit {id} already exists; an output must be a new unit."));
                }
                isbt128::parse_content(isbt128::StructureId::ProductCode, product_code).map_err(|e| {
                    Rejection::new("product_code", format!("Output {id}: '{product_code}' is not an ISBT 128 product code: {e}"))
                })?;
                if !codes.insert(product_code) || parents.iter().any(|p| &p.product_code == product_code) {
                    return reject(
                        "division_code",
                        format!("Two units of DIN {} would share product code {product_code}: give each division its own division code (e.g. A0, B0).", first_din(&parents)),
                    );
                }
            }
            let record = StepRecord {
                id: step.clone(),
                kind: *kind,
                operator: operator.id.clone(),
                equipment: equipment.clone(),
                reagent_lots: reagent_lots.clone(),
                parameters: parameters.clone(),
                at: now,
            };
            let children = outputs
                .iter()
                .map(|o| {
                    if o.quantity.milli <= 0 {
                        return reject("quantity", format!("Output {} needs a quantity above zero.", o.unit));
                    }
                    Ok(Unit {
                        id: o.unit.clone(),
                        din: first.din.clone(),
                        product_code: o.product_code.clone(),
                        product_type: first.product_type,
                        source_person: first.source_person.clone(),
                        intended_use: first.intended_use.clone(),
                        collection: first.collection.clone(),
                        parents: inputs.clone(),
                        site: sub.site.clone(),
                        quantity: o.quantity.clone(),
                        collected_at: first.collected_at,
                        expires_at: o.expires_at,
                        status: UnitStatus::Quarantine,
                        qc: Vec::new(),
                        release: Vec::new(),
                        exceptional: false,
                        steps: vec![record.clone()],
                        location: None,
                        in_transit: None,
                        allocated_to: None,
                        administered_in: None,
                        discard_reason: None,
                        created_at: now,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(vec![Event::ProcessingStepRecorded { step: record, inputs: inputs.clone(), outputs: children }])
        }
        Command::RecordQcResult { unit: id, test, value, specification, in_spec } => {
            let tech = staff_actor(state, sub, &[LabTechnologist])?;
            let u = unit(state, id)?;
            unit_here(u, sub)?;
            if u.status != UnitStatus::Quarantine {
                return reject("not_in_quarantine", format!("Unit {} is {}; QC results are recorded before release.", u.din, u.status.label()));
            }
            text("test", test, 100)?;
            text("result", value, 100)?;
            text("specification", specification, 100)?;
            Ok(vec![Event::QcResultRecorded {
                unit: id.clone(),
                result: QcResult {
                    test: test.clone(),
                    value: value.clone(),
                    specification: specification.clone(),
                    in_spec: *in_spec,
                    performed_by: tech.id.clone(),
                    at: now,
                },
            }])
        }
        Command::ReleaseUnit { unit: id, signature } => {
            let qa = staff_actor(state, sub, &[QualityAssurance])?;
            check_signature(state, sub, signature, SignatureMeaning::Release, &[QualityAssurance])?;
            if signature.signer != qa.id {
                return reject("signer", "The QA releasing the unit must sign personally.");
            }
            let u = releasable(state, sub, id)?;
            let out: Vec<&str> = u.qc.iter().filter(|r| !r.in_spec).map(|r| r.test.as_str()).collect();
            if !out.is_empty() {
                return reject(
                    "out_of_specification",
                    format!("Unit {} is out of specification ({}). Only an exceptional release with physician and QA signatures is possible.", u.din, out.join(", ")),
                );
            }
            Ok(vec![Event::UnitReleased { unit: id.clone(), signatures: vec![signature.clone()], exceptional: false, justification: None }])
        }
        Command::ExceptionalRelease { unit: id, qa, physician, justification, patient_informed } => {
            let actor = staff_actor(state, sub, &[QualityAssurance])?;
            check_signature(state, sub, qa, SignatureMeaning::ExceptionalRelease, &[QualityAssurance])?;
            check_signature(state, sub, physician, SignatureMeaning::ExceptionalRelease, &[Physician])?;
            if qa.signer != actor.id {
                return reject("signer", "The QA releasing the unit must sign personally.");
            }
            if qa.signer == physician.signer {
                return reject("signer", "Exceptional release needs two different people: QA and a physician.");
            }
            text("justification", justification, 2000)?;
            if !patient_informed {
                return reject("patient_not_informed", "The patient must be informed before an exceptional release.");
            }
            releasable(state, sub, id)?;
            Ok(vec![Event::UnitReleased {
                unit: id.clone(),
                signatures: vec![qa.clone(), physician.clone()],
                exceptional: true,
                justification: Some(justification.clone()),
            }])
        }
        Command::DiscardUnit { unit: id, reason } => {
            staff_actor(state, sub, &[QualityAssurance, LabTechnologist])?;
            let u = unit(state, id)?;
            unit_here(u, sub)?;
            if matches!(u.status, UnitStatus::Administered | UnitStatus::Discarded | UnitStatus::Consumed) {
                return reject("unit_unavailable", format!("Unit {} is {}; it cannot be discarded.", u.din, u.status.label()));
            }
            text("reason", reason, 500)?;
            Ok(vec![Event::UnitDiscarded { unit: id.clone(), reason: reason.clone() }])
        }
        Command::StoreUnit { unit: id, location } => {
            staff_actor(state, sub, &[LabTechnologist, Logistics])?;
            let u = unit(state, id)?;
            unit_here(u, sub)?;
            if !matches!(u.status, UnitStatus::Quarantine | UnitStatus::Released) {
                return reject("unit_unavailable", format!("Unit {} is {}; it cannot be stored.", u.din, u.status.label()));
            }
            for (field, value) in [("freezer", &location.freezer), ("rack", &location.rack), ("box", &location.r#box), ("position", &location.position)] {
                text(field, value, 40)?;
            }
            Ok(vec![Event::UnitStored { unit: id.clone(), location: location.clone() }])
        }
        Command::AllocateUnit { unit: id, plan: plan_id } => {
            staff_actor(state, sub, &[Physician])?;
            let p = plan(state, plan_id)?;
            same_site("plan", &p.site, sub)?;
            let u = unit(state, id)?;
            if u.intended_use != IntendedUse::Allogeneic {
                return reject("autologous", format!("Unit {} is autologous: it can only go to its own patient.", u.din));
            }
            if u.product_type != p.product_type {
                return reject("product_type", format!("The unit is {} but the plan is for {}.", u.product_type.code(), p.product_type.code()));
            }
            if !matches!(u.status, UnitStatus::Quarantine | UnitStatus::Released) {
                return reject("unit_unavailable", format!("Unit {} is {}; it cannot be allocated.", u.din, u.status.label()));
            }
            if let Some(other) = &u.allocated_to {
                return reject("already_allocated", format!("Unit {} is already allocated to plan {other}.", u.din));
            }
            if u.source_person == p.patient {
                return reject("allocation", "An allogeneic unit cannot be allocated to its own donor's plan.");
            }
            Ok(vec![Event::UnitAllocated { unit: id.clone(), plan: plan_id.clone() }])
        }
        Command::DispatchShipment { shipment, to_site, units, courier, signature } => {
            let sender = staff_actor(state, sub, &[Logistics])?;
            check_signature(state, sub, signature, SignatureMeaning::CustodyTransfer, &[Logistics])?;
            if signature.signer != sender.id {
                return reject("signer", "The person dispatching must sign the custody transfer.");
            }
            if state.shipments.contains_key(shipment) {
                return reject("duplicate", format!("Shipment {shipment} already exists."));
            }
            if !state.sites.contains_key(to_site) {
                return reject("unknown_site", format!("Site {to_site} does not exist."));
            }
            if to_site == &sub.site {
                return reject("destination", "A shipment must go to another site.");
            }
            if units.is_empty() {
                return reject("units", "Scan at least one unit into the shipment.");
            }
            text("courier", courier, 200)?;
            for id in units {
                let u = unit(state, id)?;
                unit_here(u, sub)?;
                if !matches!(u.status, UnitStatus::Quarantine | UnitStatus::Released) {
                    return reject("unit_unavailable", format!("Unit {} is {}; it cannot be shipped.", u.din, u.status.label()));
                }
            }
            Ok(vec![Event::ShipmentDispatched {
                shipment: Shipment {
                    id: shipment.clone(),
                    from_site: sub.site.clone(),
                    to_site: to_site.clone(),
                    units: units.clone(),
                    courier: courier.clone(),
                    dispatched: signature.clone(),
                    received: None,
                    condition_ok: None,
                    excursions: Vec::new(),
                    status: ShipmentStatus::InTransit,
                },
            }])
        }
        Command::ReceiveShipment { shipment, condition_ok, excursions, signature } => {
            let receiver = staff_actor(state, sub, &[Logistics])?;
            check_signature(state, sub, signature, SignatureMeaning::CustodyTransfer, &[Logistics])?;
            if signature.signer != receiver.id {
                return reject("signer", "The person receiving must sign the custody transfer.");
            }
            let s = state
                .shipments
                .get(shipment)
                .ok_or_else(|| Rejection::new("unknown_shipment", format!("Shipment {shipment} does not exist.")))?;
            same_site("shipment's destination", &s.to_site, sub)?;
            if s.status != ShipmentStatus::InTransit {
                return reject("already_received", format!("Shipment {shipment} was already received."));
            }
            Ok(vec![Event::ShipmentReceived {
                shipment: shipment.clone(),
                to_site: s.to_site.clone(),
                units: s.units.clone(),
                signature: signature.clone(),
                condition_ok: *condition_ok,
                excursions: excursions.clone(),
            }])
        }
        Command::AdministerUnit { administration, unit: unit_id, patient, plan: plan_id, dose, body_site, witness } => {
            let operator = staff_actor(state, sub, &[Nurse, Physician])?;
            let u = unit(state, unit_id)?;
            let p = plan(state, plan_id)?;
            person(state, patient)?;
            same_site("plan", &p.site, sub)?;
            unit_here(u, sub)?;
            if let Some(done) = &u.administered_in {
                return reject("already_administered", format!("STOP: unit {} has already been administered ({done}).", u.din));
            }
            if let Some(failed) = bedside_checks(u, patient, p, dose, now).into_iter().find(|c| !c.passed) {
                return reject(failed.code, failed.message);
            }
            check_signature(state, sub, witness, SignatureMeaning::AdministrationWitness, &[Nurse, Physician])?;
            if witness.signer == operator.id {
                return reject("witness", "A second person must witness: the witness cannot be the person administering.");
            }
            let given = u32::try_from(p.administrations.len()).unwrap_or(u32::MAX);
            if given >= p.sessions {
                return reject("sessions_done", format!("All {} planned sessions have been given.", p.sessions));
            }
            text("body site", body_site, 200)?;
            let mut events = vec![Event::UnitAdministered {
                plan: plan_id.clone(),
                administration: Administration {
                    id: administration.clone(),
                    unit: unit_id.clone(),
                    dose: dose.clone(),
                    route: p.route.clone(),
                    body_site: body_site.clone(),
                    operator: operator.id.clone(),
                    witness: witness.signer.clone(),
                    at: now,
                },
            }];
            if given + 1 == p.sessions {
                events.push(Event::PlanCompleted { plan: plan_id.clone() });
            }
            Ok(events)
        }
        Command::RecordFollowUp { plan: id, visit, time_point, instrument, score_milli, notes } => {
            let staff = staff_actor(state, sub, &[Nurse, Physician])?;
            let p = plan(state, id)?;
            same_site("plan", &p.site, sub)?;
            if p.follow_ups.iter().any(|f| &f.id == visit) {
                return reject("duplicate", format!("Visit {visit} already exists."));
            }
            text("time point", time_point, 20)?;
            text("instrument", instrument, 40)?;
            Ok(vec![Event::FollowUpRecorded {
                plan: id.clone(),
                follow_up: FollowUp {
                    id: visit.clone(),
                    time_point: time_point.clone(),
                    instrument: instrument.clone(),
                    score_milli: *score_milli,
                    notes: notes.clone(),
                    recorded_by: staff.id.clone(),
                    at: now,
                },
            }])
        }
        Command::AnswerQuestionnaire { plan: id, visit, time_point, instrument, instrument_version, answers, scores, language } => {
            let p = plan(state, id)?;
            let source = match &sub.actor {
                Actor::Patient(who) if who == &p.patient => ResponseSource::Portal,
                Actor::Patient(_) => return reject("forbidden", "This plan belongs to another patient."),
                _ => {
                    let staff = staff_actor(state, sub, &[Nurse, Physician])?;
                    same_site("plan", &p.site, sub)?;
                    ResponseSource::Paper(staff.id.clone())
                }
            };
            if p.responses.iter().any(|r| &r.id == visit) || p.follow_ups.iter().any(|f| &f.id == visit) {
                return reject("duplicate", format!("Visit {visit} already exists."));
            }
            text("time point", time_point, 20)?;
            text("instrument", instrument, 40)?;
            text("instrument version", instrument_version, 20)?;
            if answers.is_empty() {
                return reject("no_answers", "No question was answered; nothing was recorded.");
            }
            if answers.len() > 200 || scores.len() > 20 {
                return reject("too_many_answers", "More answers or scores than any instrument has.");
            }
            if p.responses.iter().any(|r| &r.time_point == time_point && &r.instrument == instrument) {
                return reject(
                    "already_answered",
                    format!("The {instrument} questionnaire for {time_point} is already answered; a correction is entered by staff as a follow-up note."),
                );
            }
            Ok(vec![Event::QuestionnaireAnswered {
                plan: id.clone(),
                response: QuestionnaireResponse {
                    id: visit.clone(),
                    time_point: time_point.clone(),
                    instrument: instrument.clone(),
                    instrument_version: instrument_version.clone(),
                    answers: answers.clone(),
                    scores: scores.clone(),
                    language: *language,
                    source,
                    at: now,
                },
            }])
        }
        Command::ReportAdverseEvent { adverse_event, patient, plan: plan_id, unit: unit_id, term, grade, onset, seriousness, relatedness, action, outcome, description } => {
            let reporter = staff_actor(state, sub, &[Physician, Nurse])?;
            if state.adverse_events.contains_key(adverse_event) {
                return reject("duplicate", format!("Adverse event {adverse_event} already exists."));
            }
            let p = person(state, patient)?;
            same_site("patient", &p.site, sub)?;
            if let Some(plan_id) = plan_id {
                if &plan(state, plan_id)?.patient != patient {
                    return reject("other_patient", "That plan belongs to another patient.");
                }
            }
            if let Some(unit_id) = unit_id {
                unit(state, unit_id)?;
            }
            text("CTCAE term", term, 200)?;
            if !(1..=5).contains(grade) {
                return reject("grade", "The CTCAE grade must be 1 to 5.");
            }
            if *grade == 5 && !seriousness.contains(&Seriousness::Death) {
                return reject("grade", "Grade 5 means death: tick the seriousness criterion 'death'.");
            }
            if onset.start() > now {
                return reject("onset", "The onset date is in the future; check it.");
            }
            Ok(vec![Event::AdverseEventReported {
                adverse_event: AdverseEvent {
                    id: adverse_event.clone(),
                    site: sub.site.clone(),
                    patient: patient.clone(),
                    plan: plan_id.clone(),
                    unit: unit_id.clone(),
                    term: term.clone(),
                    grade: *grade,
                    onset: *onset,
                    seriousness: seriousness.clone(),
                    relatedness: *relatedness,
                    action: action.clone(),
                    outcome: outcome.clone(),
                    description: description.clone(),
                    reported_by: reporter.id.clone(),
                    reported_at: now,
                    review: None,
                },
            }])
        }
        Command::ReviewAdverseEvent { adverse_event, note } => {
            let director = staff_actor(state, sub, &[MedicalDirector])?;
            let ae = state
                .adverse_events
                .get(adverse_event)
                .ok_or_else(|| Rejection::new("unknown_adverse_event", format!("Adverse event {adverse_event} does not exist.")))?;
            same_site("adverse event", &ae.site, sub)?;
            text("review note", note, 2000)?;
            Ok(vec![Event::AdverseEventReviewed {
                adverse_event: adverse_event.clone(),
                reviewer: director.id.clone(),
                at: now,
                note: note.clone(),
            }])
        }
    }
}
