//! The rules: `decide` checks a submission against the state and returns the
//! events it causes, or a rejection that says what is wrong and what to do.
//! Nothing here reads a clock or a database; the submission carries the time
//! and the state carries the records and the reference data it needs.
//!
//! Every rule of celltrace lives here, whatever the entry path (web form,
//! JSON API, CSV import, portal, demo): adapters only translate input into
//! commands. One module per part of the path.

mod accounts;
mod bedside;
mod checks;
mod clinical;
mod plans;
mod rejection;
mod shipments;
mod signatures;
mod units;

use crate::command::{Command, Submission};
use crate::event::Event;
use crate::state::State;

pub use bedside::{bedside_checks, evidence_still_allows, BedsideCheck};
pub use plans::{evidence_block, valid_trial_registration};
pub use rejection::{Rejection, RejectionCode};
pub use units::incubation_days;

/// Decides a submission: the events it causes, or why it is refused.
/// A refusal changes nothing.
pub fn decide(state: &State, sub: &Submission) -> Result<Vec<Event>, Rejection> {
    match &sub.command {
        Command::RegisterSite { .. }
        | Command::RegisterStaff { .. }
        | Command::ChangeStaffMemberships { .. }
        | Command::DeactivateStaff { .. }
        | Command::ReactivateStaff { .. }
        | Command::SetPassword { .. }
        | Command::IssueApiToken { .. }
        | Command::RevokeApiToken { .. }
        | Command::IssueSigningGrant { .. }
        | Command::SetSitePolicy { .. }
        | Command::LoadProductCatalogue { .. }
        | Command::LoadEvidenceData { .. } => accounts::decide(state, sub),
        Command::RegisterPerson { .. }
        | Command::RecordRecordViewed { .. }
        | Command::GrantPortalAccess { .. }
        | Command::CreatePlan { .. }
        | Command::AcknowledgeEvidenceWarning { .. }
        | Command::OverrideEvidenceBlock { .. }
        | Command::AssessEligibility { .. }
        | Command::RecordConsent { .. }
        | Command::WithdrawConsent { .. } => plans::decide(state, sub),
        Command::RecordCollection { .. }
        | Command::RecordProcessingStep { .. }
        | Command::RecordQcResult { .. }
        | Command::ReleaseUnit { .. }
        | Command::ExceptionalRelease { .. }
        | Command::DiscardUnit { .. }
        | Command::StoreUnit { .. }
        | Command::RequestUnit { .. }
        | Command::AllocateUnit { .. } => units::decide(state, sub),
        Command::DispatchShipment { .. } | Command::ReceiveShipment { .. } => shipments::decide(state, sub),
        Command::AdministerUnit { .. } => bedside::decide(state, sub),
        Command::RecordFollowUp { .. }
        | Command::AnswerQuestionnaire { .. }
        | Command::ReportAdverseEvent { .. }
        | Command::ReviewAdverseEvent { .. } => clinical::decide(state, sub),
    }
}
