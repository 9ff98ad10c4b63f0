//! Checks every part of the rules shares: who is acting and in which role,
//! the records a command names, text fields, and where a record is.

use super::rejection::{reject, reject_at, Rejection, RejectionCode as Code};
use crate::command::{Actor, Submission};
use crate::ids::*;
use crate::model::*;
use crate::reference::{EvidenceRules, Reference};
use crate::state::State;
use std::sync::Arc;

/// The member of staff submitting, who must hold one of `roles` at the
/// submission's site and be active.
pub(super) fn staff_actor<'s>(state: &'s State, sub: &Submission, roles: &[Role]) -> Result<&'s Staff, Rejection> {
    let id = match &sub.actor {
        Actor::Staff(id) => id,
        Actor::Patient(_) => return reject(Code::Forbidden, "Patients cannot do this; ask the clinic staff."),
        Actor::System(_) => return reject(Code::Forbidden, "This must be done by a signed-in member of staff."),
    };
    let staff = state
        .staff
        .get(id)
        .ok_or_else(|| Rejection::new(Code::UnknownStaff, format!("Staff account {id} does not exist.")))?;
    if !staff.active {
        return reject(Code::AccountInactive, format!("The account of {} is deactivated; ask an administrator.", staff.name));
    }
    if !state.sites.contains_key(&sub.site) {
        return reject(Code::UnknownSite, format!("Site {} does not exist.", sub.site));
    }
    if roles.iter().any(|r| staff.holds(*r, &sub.site)) {
        Ok(staff)
    } else {
        let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
        reject(
            Code::Forbidden,
            format!("{} may not do this at site {}: it needs the role {}.", staff.name, sub.site, names.join(" or ")),
        )
    }
}

/// A required text field: not blank, at most `max` characters.
pub(super) fn text(field: &str, label: &str, value: &str, max: usize) -> Result<(), Rejection> {
    if value.trim().is_empty() {
        return reject_at(field, Code::MissingField, format!("Enter the {label}."));
    }
    if value.chars().count() > max {
        return reject_at(field, Code::FieldTooLong, format!("The {label} is longer than {max} characters; shorten it."));
    }
    Ok(())
}

/// An optional text field: at most `max` characters.
pub(super) fn optional_text(field: &str, label: &str, value: &str, max: usize) -> Result<(), Rejection> {
    if value.chars().count() > max {
        return reject_at(field, Code::FieldTooLong, format!("The {label} is longer than {max} characters; shorten it."));
    }
    Ok(())
}

pub(super) fn plan<'s>(state: &'s State, id: &PlanId) -> Result<&'s Plan, Rejection> {
    state
        .plans
        .get(id)
        .ok_or_else(|| Rejection::new(Code::UnknownPlan, format!("Plan {id} does not exist.")).at("plan"))
}

pub(super) fn unit<'s>(state: &'s State, id: &UnitId) -> Result<&'s Unit, Rejection> {
    state
        .units
        .get(id)
        .ok_or_else(|| Rejection::new(Code::UnknownUnit, format!("Unit {id} does not exist. Check the label and scan again.")).at("unit"))
}

pub(super) fn person<'s>(state: &'s State, id: &PersonId) -> Result<&'s Person, Rejection> {
    state
        .persons
        .get(id)
        .ok_or_else(|| Rejection::new(Code::UnknownPerson, format!("Patient or donor {id} does not exist.")))
}

pub(super) fn staff<'s>(state: &'s State, id: &StaffId) -> Result<&'s Staff, Rejection> {
    state
        .staff
        .get(id)
        .ok_or_else(|| Rejection::new(Code::UnknownStaff, format!("Staff account {id} does not exist.")).at("staff"))
}

/// Refuses a record of another site.
pub(super) fn same_site(what: &str, site: &SiteId, sub: &Submission) -> Result<(), Rejection> {
    if site != &sub.site {
        return reject(Code::OtherSite, format!("This {what} belongs to site {site}; switch to that site or ask its staff."));
    }
    Ok(())
}

/// A unit that is at the submission's site and not travelling.
pub(super) fn unit_here(u: &Unit, sub: &Submission) -> Result<(), Rejection> {
    if let Some(shipment) = &u.in_transit {
        return reject_at(
            "unit",
            Code::InTransit,
            format!("Unit {} is in transit (shipment {shipment}); receive the shipment first.", u.din),
        );
    }
    same_site("unit", &u.site, sub)
}

/// The reference data, which every rating and schedule check needs.
pub(super) fn reference(state: &State) -> Result<&Arc<dyn Reference>, Rejection> {
    state.reference.get().ok_or_else(|| {
        Rejection::new(Code::EvidenceUnavailable, "celltrace's reference data is not available to the rules; this is a fault of the installation.")
    })
}

/// The evidence data in force: what an administrator last loaded, or the shipped data.
pub(super) fn evidence_rules(state: &State) -> Result<Arc<dyn EvidenceRules>, Rejection> {
    reference(state)?
        .evidence(state.evidence_data.as_ref())
        .map_err(|e| Rejection::new(Code::EvidenceUnavailable, format!("The evidence data in force cannot be read ({e}); an administrator must load valid data.")))
}

/// Checks a DIN as celltrace stores it (13 characters: FIN, year, sequence,
/// no flags) and that it was issued under the collecting site's FIN.
pub(super) fn check_din(din: &str, site: Option<&Site>) -> Result<(), Rejection> {
    let parsed = isbt128::Din::parse(din).map_err(|e| {
        Rejection::new(Code::Din, format!("'{din}' is not a donation identification number: {e}. A DIN is the FIN (5), year (2) and sequence (6), without flags.")).at("din")
    })?;
    if let Some(site) = site {
        if parsed.fin().as_str() != site.fin {
            return reject_at(
                "din",
                Code::DinFin,
                format!("DIN {din} was issued under FIN {}, but this site's FIN is {}: assign a DIN of this site.", parsed.fin().as_str(), site.fin),
            );
        }
    }
    Ok(())
}
