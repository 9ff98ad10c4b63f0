//! Patients and donors, reads of their records, treatment plans and the
//! evidence guard, eligibility and consent.

use super::checks::{evidence_rules, person, plan, reference, same_site, staff_actor, text, unit};
use super::rejection::{reject, reject_at, Rejection, RejectionCode as Code};
use super::signatures::{grants_used_once, sign};
use crate::access::{staff_allows, Permission};
use crate::command::{Actor, Command, Submission};
use crate::event::Event;
use crate::model::*;
use crate::state::State;

pub(super) fn decide(state: &State, sub: &Submission) -> Result<Vec<Event>, Rejection> {
    use Role::*;
    let now = sub.at;
    grants_used_once(&sub.command)?;
    match &sub.command {
        Command::RegisterPerson { person, kind, mrn, name, date_of_birth, sex, language, contact } => {
            staff_actor(state, sub, &[Physician, Nurse])?;
            if state.persons.contains_key(person) {
                return reject_at("person", Code::Duplicate, format!("Person {person} already exists."));
            }
            text("mrn", "medical record number", mrn, 64)?;
            text("name", "name", name, 200)?;
            super::checks::optional_text("contact", "contact", contact, 200)?;
            if date_of_birth.start() > now {
                return reject_at("date_of_birth", Code::DateOfBirth, "The date of birth is in the future; check it.");
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
        Command::RecordRecordViewed { person: id, view, via_unit } => {
            match &sub.actor {
                Actor::Patient(p) if p == id => {}
                Actor::Patient(_) => return reject(Code::Forbidden, "A patient reads only their own record."),
                _ => {
                    let viewer = staff_actor(state, sub, &Role::ALL)?;
                    let p = person(state, id)?;
                    match via_unit {
                        None => {
                            if !staff_allows(viewer, &sub.site, Permission::ViewPatients) {
                                return reject(Code::Forbidden, format!("{} may not see patient records at site {}.", viewer.name, sub.site));
                            }
                            same_site("patient", &p.site, sub)?;
                        }
                        Some(unit_id) => {
                            let u = unit(state, unit_id)?;
                            if !staff_allows(viewer, &sub.site, Permission::ViewUnits) {
                                return reject(Code::Forbidden, format!("{} may not see units at site {}.", viewer.name, sub.site));
                            }
                            same_site("unit", &u.site, sub)?;
                            let concerns = u.source_person == p.id || matches!(&u.intended_use, IntendedUse::Autologous { patient } if patient == &p.id);
                            if !concerns {
                                return reject_at("via_unit", Code::OtherPatient, format!("Unit {} does not concern this person.", u.din));
                            }
                        }
                    }
                }
            }
            text("view", "view", view, 200)?;
            Ok(vec![Event::RecordViewed { person: id.clone(), view: view.trim().to_owned() }])
        }
        Command::GrantPortalAccess { person: id } => {
            let staff = staff_actor(state, sub, &[Physician, Nurse])?;
            let p = person(state, id)?;
            same_site("patient", &p.site, sub)?;
            if p.kind != PersonKind::Patient {
                return reject_at("person", Code::NotAPatient, format!("{} is registered as a donor; the portal is for patients.", p.name));
            }
            Ok(vec![Event::PortalAccessGranted { person: id.clone(), by: staff.id.clone(), at: now }])
        }
        Command::CreatePlan { plan: id, patient, indication, product_type, route, sessions, dose, cost_quote, trial } => {
            let physician = staff_actor(state, sub, &[Physician])?;
            if state.plans.contains_key(id) {
                return reject_at("plan", Code::Duplicate, format!("Plan {id} already exists."));
            }
            let p = person(state, patient)?;
            same_site("patient", &p.site, sub)?;
            if p.kind != PersonKind::Patient {
                return reject_at("patient", Code::NotAPatient, format!("{} is registered as a donor, not a patient.", p.name));
            }
            text("indication", "ICD-10-CM code", indication, 16)?;
            text("route", "route", route, 100)?;
            if *sessions == 0 || *sessions > 50 {
                return reject_at("sessions", Code::Sessions, "The number of sessions must be between 1 and 50.");
            }
            if dose.milli <= 0 {
                return reject_at("dose", Code::Dose, "The dose must be more than zero.");
            }
            text("dose", "dose unit", &dose.unit, 40)?;
            if cost_quote.minor < 0 || cost_quote.currency.len() != 3 || !cost_quote.currency.bytes().all(|b| b.is_ascii_uppercase()) {
                return reject_at("cost_quote", Code::Cost, "Give the cost quote as a positive amount with a 3-letter currency code.");
            }
            // The guard rates the plan itself, with the data in force: a
            // rating is never taken from whoever orders the plan.
            let rated = evidence_rules(state)?
                .rate(indication.trim(), *product_type)
                .map_err(|e| Rejection::new(Code::UnknownIndication, e).at("indication"))?;
            let blocked_reason = evidence_block(&rated.rating, trial.as_ref())?;
            Ok(vec![Event::PlanCreated {
                plan: Plan {
                    id: id.clone(),
                    site: sub.site.clone(),
                    patient: patient.clone(),
                    physician: physician.id.clone(),
                    indication: rated.indication,
                    product_type: *product_type,
                    route: route.trim().to_owned(),
                    sessions: *sessions,
                    dose: dose.clone(),
                    cost_quote: cost_quote.clone(),
                    evidence: rated.rating,
                    trial: trial.clone(),
                    status: if blocked_reason.is_some() { PlanStatus::Blocked } else { PlanStatus::Active },
                    blocked_reason,
                    warning_acknowledged_at: None,
                    override_signature: None,
                    override_reason: None,
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
                return reject(Code::NotUnproven, "Only plans for unproven treatments need this warning.");
            }
            Ok(vec![Event::EvidenceWarningAcknowledged { plan: id.clone(), at: now }])
        }
        Command::OverrideEvidenceBlock { plan: id, signature, reason } => {
            let director = staff_actor(state, sub, &[MedicalDirector])?;
            let p = plan(state, id)?;
            same_site("plan", &p.site, sub)?;
            let signature = sign(state, sub, "signature", signature, SignatureMeaning::EvidenceOverride, &[MedicalDirector])?;
            if signature.signer != director.id {
                return reject_at("signature", Code::Signer, "The medical director must sign the override personally.");
            }
            text("reason", "reason for the override", reason, 1000)?;
            if p.status != PlanStatus::Blocked {
                return reject(Code::NotBlocked, format!("Plan {id} is not blocked."));
            }
            let now_rated = evidence_rules(state)?
                .rate(&p.indication.icd10, p.product_type)
                .map_err(|e| Rejection::new(Code::UnknownIndication, e))?;
            if p.evidence.status != EvidenceStatus::Unproven || now_rated.rating.status != EvidenceStatus::Unproven {
                return reject(
                    Code::OverrideNotPossible,
                    "Only an unproven treatment can be overridden; investigational and research-only products need a registered trial.",
                );
            }
            if !state.sites.get(&sub.site).is_some_and(|s| s.allows_unproven) {
                return reject(Code::SitePolicy, "This site's policy does not permit unproven treatments. The plan stays blocked.");
            }
            if p.warning_acknowledged_at.is_none() {
                return reject(
                    Code::WarningNotAcknowledged,
                    "The patient has not signed the plain-language warning yet; record their acknowledgement first.",
                );
            }
            Ok(vec![Event::EvidenceBlockOverridden { plan: id.clone(), signature, reason: Some(reason.trim().to_owned()) }])
        }
        Command::AssessEligibility { plan: id, assessment, criteria, valid_days } => {
            let physician = staff_actor(state, sub, &[Physician])?;
            let p = plan(state, id)?;
            same_site("plan", &p.site, sub)?;
            if criteria.is_empty() {
                return reject_at("criteria", Code::Criteria, "Record at least one eligibility criterion.");
            }
            if p.eligibility.iter().any(|e| &e.id == assessment) {
                return reject_at("assessment", Code::Duplicate, format!("Assessment {assessment} already exists."));
            }
            let mut codes = std::collections::BTreeSet::new();
            for c in criteria {
                text("criteria", "criterion", &c.description, 300)?;
                if !codes.insert(c.code.as_str()) {
                    return reject_at("criteria", Code::Criteria, format!("Criterion {} is answered twice.", c.code));
                }
            }
            if *valid_days == 0 || *valid_days > 365 {
                return reject_at("valid_days", Code::ValidDays, "An assessment stays current for 1 to 365 days.");
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
                return reject(Code::PlanClosed, format!("Plan {id} is closed; create a new plan."));
            }
            if p.consents.iter().any(|c| &c.id == consent) {
                return reject_at("consent", Code::Duplicate, format!("Consent {consent} already exists."));
            }
            text("template", "template", template, 100)?;
            text("template_version", "template version", template_version, 40)?;
            if !reference(state)?.consent_template(template, template_version) {
                return reject_at(
                    "template_version",
                    Code::MissingField,
                    format!("Consent template {template} version {template_version} is not one celltrace ships; print the current document and use its version."),
                );
            }
            let witness_signature = match witness {
                Some(w) => {
                    let s = sign(state, sub, "witness", w, SignatureMeaning::ConsentWitness, &[Physician, Nurse])?;
                    if s.signer == physician.id {
                        return reject_at("witness", Code::Witness, "The witness must be someone other than the consenting physician.");
                    }
                    Some(s)
                }
                None => None,
            };
            if p.evidence.status == EvidenceStatus::Investigational && p.trial.is_none() {
                return reject(Code::TrialConsent, "An investigational plan needs its trial recorded before the trial consent.");
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
                    witness: witness_signature.as_ref().map(|w| w.signer.clone()),
                    witness_signature,
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
            super::checks::optional_text("reason", "reason", reason, 1000)?;
            let consent = p
                .current_consent()
                .ok_or_else(|| Rejection::new(Code::NoConsent, "There is no consent in force to withdraw."))?;
            Ok(vec![Event::ConsentWithdrawn {
                plan: id.clone(),
                consent: consent.id.clone(),
                withdrawal: Withdrawal { at: now, reason: reason.clone() },
            }])
        }
        _ => reject(Code::Forbidden, "not a plan command"),
    }
}

/// The NCT format of ClinicalTrials.gov registrations: `NCT` and eight digits.
pub fn valid_trial_registration(text: &str) -> bool {
    text.len() == 11 && text.starts_with("NCT") && text.bytes().skip(3).all(|b| b.is_ascii_digit())
}

/// Checks trial data when given: `Ok(true)` for a valid registration with
/// its ethics approval, `Ok(false)` when no trial is named.
pub(super) fn trial_recorded(trial: Option<&Trial>) -> Result<bool, Rejection> {
    match trial {
        None => Ok(false),
        Some(t) if !valid_trial_registration(&t.registration) => reject_at(
            "trial",
            Code::TrialRegistration,
            format!("'{}' is not a trial registration number: write NCT and 8 digits, e.g. NCT01234567.", t.registration),
        ),
        Some(t) if t.ethics_approval.trim().is_empty() => {
            reject_at("trial", Code::EthicsApproval, "Enter the ethics committee approval reference of the trial.")
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
