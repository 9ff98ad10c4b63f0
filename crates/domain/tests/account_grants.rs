//! Grants of access between sites: an administrator acts only on accounts
//! of the site they administer here — roles, deactivation, passwords and
//! API tokens of another site's member are refused as `other_site`, and so
//! is adding that member to the administrator's own site (which would let
//! them reset the member's password next).

use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::model::*;
use celltrace_domain::time::Timestamp;
use celltrace_domain::{decide, RejectionCode, State};
use std::collections::BTreeSet;

fn id<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("id")
}

fn sub(actor: Actor, site: &str, command: Command) -> Submission {
    Submission { id: id("c"), actor, site: id(site), at: Timestamp(1_000_000), command }
}

fn apply(state: &mut State, submission: &Submission) {
    let events = decide(state, submission).unwrap_or_else(|r| panic!("{}: {}", submission.command.name(), r.message));
    events.iter().for_each(|e| state.apply(e));
}

fn membership(site: &str, role: Role) -> Membership {
    Membership { site: id(site), roles: BTreeSet::from([role]) }
}

/// Two sites; `dubai-admin` administers Dubai only; `evans` works in London, `omar` in Dubai.
fn two_sites() -> State {
    let mut state = State::default();
    let system = || Actor::System("test".into());
    for (site, fin) in [("dubai", "A9991"), ("london", "A9994")] {
        apply(&mut state, &sub(system(), site, Command::RegisterSite { site: id(site), name: site.into(), kind: SiteKind::Clinic, country: "GB".into(), accreditations: vec![], fin: fin.into() }));
    }
    for (staff, site, role) in [("dubai-admin", "dubai", Role::Administrator), ("evans", "london", Role::Nurse), ("omar", "dubai", Role::Nurse)] {
        apply(&mut state, &sub(system(), site, Command::RegisterStaff { staff: id(staff), name: staff.into(), username: staff.into(), memberships: vec![membership(site, role)] }));
    }
    state
}

fn refusal(state: &State, command: Command) -> Option<RejectionCode> {
    decide(state, &sub(Actor::Staff(id("dubai-admin")), "dubai", command)).err().map(|r| r.code)
}

#[test]
fn an_administrator_grants_nothing_to_another_sites_member() {
    let state = two_sites();
    let other = Some(RejectionCode::OtherSite);
    assert_eq!(refusal(&state, Command::DeactivateStaff { staff: id("evans"), reason: "x".into() }), other);
    assert_eq!(refusal(&state, Command::SetPassword { staff: id("evans"), change: PasswordChange::AdministratorReset }), other);
    let token = Command::IssueApiToken { token: id("tok-1"), staff: id("evans"), label: "x".into(), token_hash: "a".repeat(64), expires_at: None };
    assert_eq!(refusal(&state, token), other);
    // Adding London's nurse to Dubai would be the first step to resetting her password.
    let add = Command::ChangeStaffMemberships { staff: id("evans"), memberships: vec![membership("london", Role::Nurse), membership("dubai", Role::Nurse)], reason: "x".into() };
    assert_eq!(refusal(&state, add), other);
    assert_eq!(state.staff["evans"].memberships.len(), 1, "nothing changed");
}

#[test]
fn an_administrator_manages_their_own_sites_members() {
    let mut state = two_sites();
    let admin = || Actor::Staff(id("dubai-admin"));
    apply(&mut state, &sub(admin(), "dubai", Command::ChangeStaffMemberships { staff: id("omar"), memberships: vec![membership("dubai", Role::Auditor)], reason: "audit".into() }));
    assert!(state.staff["omar"].holds(Role::Auditor, &id("dubai")));
    apply(&mut state, &sub(admin(), "dubai", Command::DeactivateStaff { staff: id("omar"), reason: "left".into() }));
    assert!(!state.staff["omar"].active);
    apply(&mut state, &sub(admin(), "dubai", Command::ReactivateStaff { staff: id("omar"), reason: "back".into() }));
    assert!(state.staff["omar"].active);
    assert_eq!(refusal(&state, Command::DeactivateStaff { staff: id("dubai-admin"), reason: "x".into() }), Some(RejectionCode::LastAdministrator), "not oneself");
}
