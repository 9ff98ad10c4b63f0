//! Which path forms fit a unit or a plan now, for the unit and patient
//! pages' links. Only what the viewer may open is offered; the rules still
//! decide every submission.

use crate::auth::Viewer;
use celltrace_domain::access::Permission;
use celltrace_domain::model::*;

/// Links to the path forms that fit a unit now, for the unit page.
pub fn unit_links(viewer: &Viewer, unit: &Unit) -> Vec<(String, &'static str)> {
    let mut links = Vec::new();
    let usable = matches!(unit.status, UnitStatus::Quarantine | UnitStatus::Released) && unit.in_transit.is_none();
    if !usable {
        return links;
    }
    if viewer.can(Permission::RecordLab) {
        links.push((format!("/units/{}/process", unit.id), "Record a processing step"));
    }
    if viewer.can(Permission::RecordLab) || viewer.staff.holds(Role::Logistics, &viewer.site.id) {
        links.push((format!("/units/{}/store", unit.id), "Store"));
    }
    if viewer.staff.holds(Role::Logistics, &viewer.site.id) {
        links.push((format!("/units/{}/dispatch", unit.id), "Dispatch to another site"));
    }
    if unit.intended_use == IntendedUse::Allogeneic && unit.allocated_to.is_none() && viewer.staff.holds(Role::Physician, &viewer.site.id) {
        links.push((format!("/units/{}/allocate", unit.id), "Allocate to a plan"));
    }
    links
}

/// Links to the path forms that fit a plan now, for the patient page.
pub fn plan_links(viewer: &Viewer, plan: &Plan) -> Vec<(String, &'static str)> {
    let mut links = Vec::new();
    if !viewer.can(Permission::RecordClinical) || !matches!(plan.status, PlanStatus::Active | PlanStatus::Blocked) {
        return links;
    }
    if plan.status == PlanStatus::Blocked && plan.evidence.status == EvidenceStatus::Unproven && viewer.staff.holds(Role::MedicalDirector, &viewer.site.id) {
        links.push((format!("/plans/{}/override", plan.id), "Override the evidence block (medical director)"));
    }
    links.push((format!("/plans/{}/eligibility", plan.id), "Assess eligibility"));
    links.push((format!("/plans/{}/consent", plan.id), "Record consent"));
    if plan.status == PlanStatus::Active && plan.product_type.is_autologous() {
        links.push((format!("/plans/{}/collection", plan.id), "Record the collection"));
    }
    links.push((format!("/plans/{}/follow-up", plan.id), "Record a follow-up"));
    links
}
