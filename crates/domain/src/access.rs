//! Who may see and do what: one table from roles to permissions, used by
//! every page and API route (the web layer asks, it never decides itself).
//! Commands are also checked by `decide`; this covers reading and navigation.

use crate::model::{Role, Staff};
use crate::ids::SiteId;
use serde::{Deserialize, Serialize};

/// Something a page or route lets a person do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// The work-queue dashboard of a site.
    ViewDashboard,
    /// Patients and donors of a site, their plans and timelines.
    ViewPatients,
    /// Units, their lineage, labels and QC.
    ViewUnits,
    /// The audit trail of any record and the ledger.
    ViewAudit,
    /// Bedside verification and recording an administration.
    Administer,
    /// User accounts and sites.
    ManageAccounts,
    /// Clinical records: patients, eligibility, consent, collection, follow-up, adverse events.
    RecordClinical,
    /// Laboratory records: processing steps, QC results, storage.
    RecordLab,
    /// Release of units with an e-signature.
    Release,
}

impl Permission {
    /// Every permission, in a stable order.
    pub const ALL: [Permission; 9] = [
        Permission::ViewDashboard,
        Permission::ViewPatients,
        Permission::ViewUnits,
        Permission::ViewAudit,
        Permission::Administer,
        Permission::ManageAccounts,
        Permission::RecordClinical,
        Permission::RecordLab,
        Permission::Release,
    ];

    /// The permission in words, for refusals.
    pub fn label(self) -> &'static str {
        match self {
            Permission::ViewDashboard => "see the work queues",
            Permission::ViewPatients => "see patient records",
            Permission::ViewUnits => "see units",
            Permission::ViewAudit => "see the audit trail",
            Permission::Administer => "verify and administer at the bedside",
            Permission::ManageAccounts => "manage accounts",
            Permission::RecordClinical => "record clinical information",
            Permission::RecordLab => "record laboratory work",
            Permission::Release => "release units",
        }
    }
}

/// Whether `role` grants `permission`.
pub fn role_allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    use Role::*;
    match permission {
        ViewDashboard => true,
        ViewPatients => matches!(role, Physician | Nurse | MedicalDirector | QualityAssurance | Auditor),
        ViewUnits => matches!(role, Physician | Nurse | LabTechnologist | QualityAssurance | Logistics | MedicalDirector | Auditor),
        ViewAudit => matches!(role, QualityAssurance | MedicalDirector | Auditor | Administrator),
        Administer => matches!(role, Physician | Nurse),
        ManageAccounts => matches!(role, Administrator),
        RecordClinical => matches!(role, Physician | Nurse | MedicalDirector),
        RecordLab => matches!(role, LabTechnologist),
        Release => matches!(role, QualityAssurance),
    }
}

/// Whether `staff`, working at `site`, holds a role there granting `permission`.
pub fn staff_allows(staff: &Staff, site: &SiteId, permission: Permission) -> bool {
    staff.active
        && staff
            .memberships
            .iter()
            .filter(|m| &m.site == site)
            .flat_map(|m| m.roles.iter())
            .any(|role| role_allows(*role, permission))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_sees_its_dashboard_and_only_clinicians_administer() {
        for role in Role::ALL {
            assert!(role_allows(role, Permission::ViewDashboard));
            assert_eq!(role_allows(role, Permission::Administer), matches!(role, Role::Physician | Role::Nurse));
        }
        assert!(!role_allows(Role::Logistics, Permission::ViewPatients));
        assert!(!role_allows(Role::LabTechnologist, Permission::ViewPatients));
        assert!(role_allows(Role::Auditor, Permission::ViewAudit));
        assert!(!role_allows(Role::Auditor, Permission::Administer));
    }
}
