//! Bedside verification and administration: every chain-of-identity check a
//! nurse reads on the screen, the evidence guard again with the data in
//! force, and the witnessed administration. The bedside page shows exactly
//! these checks; `AdministerUnit` refuses with the first that fails.

use super::checks::{evidence_rules, person, plan, same_site, staff_actor, text, unit};
use super::plans::trial_recorded;
use super::rejection::{reject, reject_at, Rejection, RejectionCode as Code};
use super::signatures::{grants_used_once, sign};
use crate::command::{Command, Submission};
use crate::event::Event;
use crate::ids::*;
use crate::model::*;
use crate::state::State;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One bedside check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BedsideCheck {
    /// The refusal code when it fails, e.g. `consent_valid`.
    pub code: Code,
    /// What was checked.
    pub title: String,
    /// Passed or not.
    pub passed: bool,
    /// On failure, what failed and what to do.
    pub message: String,
}

/// The checks made before an administration at `site`, in the order a
/// nurse reads them. Every check is evaluated, so the screen can show them
/// all; `AdministerUnit` refuses with the first that fails.
pub fn bedside_checks(state: &State, site: &SiteId, unit: &Unit, patient: &PersonId, plan: &Plan, dose: &Quantity, now: Timestamp) -> Vec<BedsideCheck> {
    let mut checks = Vec::new();
    let mut check = |code, title: &str, passed: bool, message: String| {
        checks.push(BedsideCheck { code, title: title.to_owned(), passed, message: if passed { String::new() } else { message } });
    };
    check(
        Code::InTransit,
        "Unit received at this site",
        &unit.site == site && unit.in_transit.is_none(),
        format!(
            "STOP: unit {} is not at this site (it is at {}{}). Receive it before treatment.",
            unit.din,
            unit.site,
            if unit.in_transit.is_some() { ", in transit" } else { "" }
        ),
    );
    check(
        Code::AlreadyAdministered,
        "Not already administered",
        unit.administered_in.is_none(),
        format!("STOP: unit {} has already been administered.", unit.din),
    );
    let unit_for_patient = match &unit.intended_use {
        IntendedUse::Autologous { patient: owner } => owner == patient,
        IntendedUse::Allogeneic => unit.allocated_to.as_ref() == Some(&plan.id),
    };
    check(
        Code::SamePatient,
        "Same patient (chain of identity)",
        &plan.patient == patient && unit_for_patient,
        if &plan.patient != patient {
            "STOP: the wristband scanned is not the patient of this plan. Scan the wristband of the patient in front of you.".to_owned()
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
        Code::Released,
        "Released by QA",
        unit.status == UnitStatus::Released,
        format!("STOP: unit {} is {}. Only a released unit may be given; contact QA.", unit.din, unit.status.label()),
    );
    check(
        Code::NotExpired,
        "Not expired",
        now < unit.expires_at,
        format!("STOP: unit {} expired. Do not administer; return it to the lab for disposal.", unit.din),
    );
    check(
        Code::PlanActive,
        "Plan active",
        plan.status == PlanStatus::Active,
        format!("STOP: the plan is not active (it is {}). Ask the physician.", format!("{:?}", plan.status).to_lowercase()),
    );
    let evidence = evidence_rules(state)
        .map_err(|r| r.message)
        .and_then(|rules| rules.rate(&plan.indication.icd10, plan.product_type))
        .and_then(|rated| evidence_still_allows(plan, &rated.rating));
    check(Code::EvidenceInForce, "Evidence guard (data in force)", evidence.is_ok(), evidence.err().unwrap_or_default());
    let consent_message = match plan.consents.last() {
        None => "STOP: no signed consent is on record for this plan. Obtain consent before treatment.".to_owned(),
        Some(c) => match &c.withdrawn {
            Some(w) => format!("STOP: the patient withdrew consent on {}. Treatment must not proceed.", w.at.date()),
            None => String::new(),
        },
    };
    check(Code::ConsentValid, "Consent valid", plan.current_consent().is_some(), consent_message);
    let eligibility_message = match plan.current_eligibility() {
        None => "STOP: no eligibility assessment is on record. The physician must assess eligibility first.".to_owned(),
        Some(e) if !e.eligible() => {
            let failed: Vec<&str> = e.criteria.iter().filter(|c| !c.met).map(|c| c.description.as_str()).collect();
            format!("STOP: the patient is not eligible (failed: {}).", failed.join("; "))
        }
        Some(e) => format!("STOP: the eligibility assessment expired on {}. The physician must reassess.", e.valid_until.date()),
    };
    let eligibility_ok = plan.current_eligibility().is_some_and(|e| e.eligible() && now <= e.valid_until);
    check(Code::EligibilityCurrent, "Eligibility current", eligibility_ok, eligibility_message);
    check(
        Code::DoseAsPlanned,
        "Product and dose as planned",
        dose == &plan.dose && unit.product_type == plan.product_type,
        if unit.product_type != plan.product_type {
            format!("STOP: the unit is {} but the plan is for {}.", unit.product_type.code(), plan.product_type.code())
        } else {
            format!("STOP: the dose entered ({dose}) is not the planned dose ({}). Check the order.", plan.dose)
        },
    );
    let given = plan.administrations.len();
    check(
        Code::SessionsDone,
        "Sessions left",
        u32::try_from(given).unwrap_or(u32::MAX) < plan.sessions,
        format!("STOP: all {} planned sessions have been given.", plan.sessions),
    );
    checks
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
            "STOP: the evidence data now in force (version {}) rates this use {:?}, and the plan does not meet what that requires. The physician must review the plan.",
            current.data_version, current.status,
        ))
    }
}

pub(super) fn decide(state: &State, sub: &Submission) -> Result<Vec<Event>, Rejection> {
    use Role::*;
    grants_used_once(&sub.command)?;
    let Command::AdministerUnit { administration, unit: unit_id, patient, plan: plan_id, dose, body_site, witness } = &sub.command else {
        return reject(Code::Forbidden, "not an administration");
    };
    let operator = staff_actor(state, sub, &[Nurse, Physician])?;
    let u = unit(state, unit_id)?;
    let p = plan(state, plan_id)?;
    person(state, patient)?;
    same_site("plan", &p.site, sub)?;
    if let Some(failed) = bedside_checks(state, &sub.site, u, patient, p, dose, sub.at).into_iter().find(|c| !c.passed) {
        return reject(failed.code, failed.message);
    }
    let witness = sign(state, sub, "witness", witness, SignatureMeaning::AdministrationWitness, &[Nurse, Physician])?;
    if witness.signer == operator.id {
        return reject_at("witness", Code::Witness, "A second person must witness: the witness cannot be the person administering.");
    }
    text("body_site", "body site", body_site, 200)?;
    let given = u32::try_from(p.administrations.len()).unwrap_or(u32::MAX);
    let mut events = vec![Event::UnitAdministered {
        plan: plan_id.clone(),
        administration: Administration {
            id: administration.clone(),
            unit: unit_id.clone(),
            dose: dose.clone(),
            route: p.route.clone(),
            body_site: body_site.trim().to_owned(),
            operator: operator.id.clone(),
            witness: witness.signer.clone(),
            witness_signature: Some(witness),
            at: sub.at,
        },
    }];
    if given + 1 == p.sessions {
        events.push(Event::PlanCompleted { plan: plan_id.clone() });
    }
    Ok(events)
}
