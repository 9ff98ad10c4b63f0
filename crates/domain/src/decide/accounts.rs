//! Sites, staff accounts and every grant of access: roles, deactivation,
//! passwords (the fact, never the hash), API tokens and signing grants; the
//! site policy and the reference data an administrator loads.

use super::checks::{reference, staff, staff_actor, text};
use super::rejection::{reject, reject_at, Rejection, RejectionCode as Code};
use super::signatures;
use crate::command::{Actor, Command, Submission};
use crate::event::Event;
use crate::ids::*;
use crate::model::*;
use crate::state::State;

pub(super) fn decide(state: &State, sub: &Submission) -> Result<Vec<Event>, Rejection> {
    use Role::*;
    let now = sub.at;
    match &sub.command {
        Command::RegisterSite { site, name, kind, country, accreditations, fin } => {
            if !matches!(sub.actor, Actor::System(_)) {
                staff_actor(state, sub, &[Administrator])?;
            }
            if state.sites.contains_key(site) {
                return reject_at("site", Code::Duplicate, format!("Site {site} already exists."));
            }
            text("name", "site name", name, 200)?;
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                return reject_at("country", Code::Country, format!("'{country}' is not a two-letter ISO country code, e.g. AE, IN, GB."));
            }
            if fin.len() != 5 || !fin.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                return reject_at("fin", Code::Fin, format!("'{fin}' is not an ISBT 128 facility identification number (5 letters or digits, e.g. A9999)."));
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
            let admin = administrator(state, sub)?;
            if state.staff.contains_key(staff) {
                return reject_at("staff", Code::Duplicate, format!("Staff account {staff} already exists."));
            }
            text("name", "name", name, 200)?;
            text("username", "username", username, 64)?;
            if !username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
                return reject_at("username", Code::Username, "A username may only contain letters, digits, '.', '-' and '_'.");
            }
            check_memberships(state, admin, memberships, &[])?;
            Ok(vec![Event::StaffRegistered {
                staff: Staff {
                    id: staff.clone(),
                    name: name.trim().to_owned(),
                    username: username.clone(),
                    memberships: memberships.clone(),
                    active: true,
                    password_set_at: None,
                    deactivated: None,
                },
            }])
        }
        Command::ChangeStaffMemberships { staff: id, memberships, reason } => {
            let admin = administrator(state, sub)?;
            let account = staff(state, id)?;
            // Only someone who already works here: otherwise an administrator could
            // add another site's member to their own site, then reset their password.
            administers_someone_of(admin, account, sub)?;
            text("reason", "reason", reason, 500)?;
            check_memberships(state, admin, memberships, &account.memberships)?;
            if let Some(admin) = admin {
                let keeps_own_role = memberships.iter().any(|m| m.site == sub.site && m.roles.contains(&Administrator));
                if &admin.id == id && !keeps_own_role {
                    return reject_at("memberships", Code::LastAdministrator, "You cannot remove your own administrator role here; ask another administrator.");
                }
            }
            Ok(vec![Event::StaffMembershipsChanged { staff: id.clone(), memberships: memberships.clone(), reason: reason.trim().to_owned() }])
        }
        Command::DeactivateStaff { staff: id, reason } => {
            let admin = administrator(state, sub)?;
            let account = staff(state, id)?;
            administers_someone_of(admin, account, sub)?;
            if admin.is_some_and(|a| &a.id == id) {
                return reject_at("staff", Code::LastAdministrator, "You cannot deactivate your own account; ask another administrator.");
            }
            if !account.active {
                return reject_at("staff", Code::AccountInactive, format!("The account of {} is already deactivated.", account.name));
            }
            text("reason", "reason", reason, 500)?;
            Ok(vec![Event::StaffDeactivated {
                staff: id.clone(),
                deactivation: Deactivation { by: sub.actor.ledger_name(), at: now, reason: reason.trim().to_owned() },
            }])
        }
        Command::ReactivateStaff { staff: id, reason } => {
            let admin = administrator(state, sub)?;
            let account = staff(state, id)?;
            administers_someone_of(admin, account, sub)?;
            if account.active {
                return reject_at("staff", Code::NotDeactivated, format!("The account of {} is active.", account.name));
            }
            text("reason", "reason", reason, 500)?;
            Ok(vec![Event::StaffReactivated { staff: id.clone(), by: sub.actor.ledger_name(), at: now, reason: reason.trim().to_owned() }])
        }
        Command::SetPassword { staff: id, change } => {
            let account = staff(state, id)?;
            match (&sub.actor, change) {
                (Actor::System(_), _) => {}
                (Actor::Staff(me), PasswordChange::SelfService) if me == id => {
                    if !account.active {
                        return reject(Code::AccountInactive, "This account is deactivated.");
                    }
                }
                (Actor::Staff(_), PasswordChange::SelfService) => {
                    return reject(Code::Forbidden, "Only the account's owner changes their own password; an administrator resets it.");
                }
                (Actor::Staff(me), PasswordChange::AdministratorReset | PasswordChange::Initial) => {
                    let admin = staff_actor(state, sub, &[Administrator])?;
                    if me == id && *change == PasswordChange::AdministratorReset {
                        return reject(Code::Forbidden, "Change your own password on your account page (with your current password).");
                    }
                    administers_someone_of(Some(admin), account, sub)?;
                }
                (Actor::Patient(_), _) => return reject(Code::Forbidden, "Patients cannot set staff passwords."),
            }
            Ok(vec![Event::PasswordSet { staff: id.clone(), change: *change, at: now }])
        }
        Command::IssueApiToken { token, staff: id, label, token_hash, expires_at } => {
            let admin = administrator(state, sub)?;
            let account = staff(state, id)?;
            administers_someone_of(admin, account, sub)?;
            if !account.active {
                return reject_at("staff", Code::AccountInactive, format!("The account of {} is deactivated; it cannot get a token.", account.name));
            }
            if state.api_tokens.contains_key(token) {
                return reject_at("token", Code::Duplicate, format!("API token {token} already exists."));
            }
            text("label", "label", label, 100)?;
            if token_hash.len() != 64 || !token_hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
                return reject_at("token_hash", Code::MissingField, "The token hash must be the SHA-256 of the token in 64 lowercase hex digits.");
            }
            if expires_at.is_some_and(|e| e <= now) {
                return reject_at("expires_at", Code::Expiry, "The expiry must be in the future.");
            }
            Ok(vec![Event::ApiTokenIssued {
                token: ApiToken {
                    id: token.clone(),
                    staff: id.clone(),
                    label: label.trim().to_owned(),
                    token_hash: token_hash.clone(),
                    issued_by: sub.actor.ledger_name(),
                    issued_at: now,
                    expires_at: *expires_at,
                    revoked: None,
                },
            }])
        }
        Command::RevokeApiToken { token, reason } => {
            let record = state
                .api_tokens
                .get(token)
                .ok_or_else(|| Rejection::new(Code::UnknownApiToken, format!("API token {token} does not exist.")).at("token"))?;
            let owner_revokes = matches!(&sub.actor, Actor::Staff(me) if me == &record.staff);
            if !owner_revokes {
                let admin = administrator(state, sub)?;
                let account = staff(state, &record.staff)?;
                administers_someone_of(admin, account, sub)?;
            }
            if record.revoked.is_some() {
                return reject_at("token", Code::AlreadyRevoked, format!("API token {token} is already revoked."));
            }
            text("reason", "reason", reason, 500)?;
            Ok(vec![Event::ApiTokenRevoked {
                token: token.clone(),
                revocation: Deactivation { by: sub.actor.ledger_name(), at: now, reason: reason.trim().to_owned() },
            }])
        }
        Command::IssueSigningGrant { .. } => signatures::issue(state, sub),
        Command::SetSitePolicy { allows_unproven } => {
            staff_actor(state, sub, &[MedicalDirector])?;
            Ok(vec![Event::SitePolicySet { site: sub.site.clone(), allows_unproven: *allows_unproven }])
        }
        Command::LoadProductCatalogue { entries, source } => {
            if !matches!(sub.actor, Actor::System(_)) {
                staff_actor(state, sub, &[Administrator])?;
            }
            text("source", "source", source, 200)?;
            if entries.is_empty() {
                return reject_at("entries", Code::EmptyCatalogue, "The product description table has no rows.");
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
                    return reject_at("entries", Code::ProductCode, format!("Row {n}: '{}' is neither a 5-character product description code (e.g. S1003) nor an 8-character ISBT 128 product code.", entry.code));
                }
                if entry.description.trim().is_empty() || entry.description.chars().count() > 200 {
                    return reject_at("entries", Code::Description, format!("Row {n}: the description of {} must be 1 to 200 characters.", entry.code));
                }
                if !seen.insert(entry.code.as_str()) {
                    return reject_at("entries", Code::Duplicate, format!("Row {n}: {} appears twice; keep one row per code.", entry.code));
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
            text("version", "version", version, 40)?;
            text("source", "source", source, 200)?;
            for (field, name, file) in [("indications", "indications", indications), ("status", "status", status), ("approved_products", "approved products", approved_products)] {
                if file.trim().is_empty() {
                    return reject_at(field, Code::EmptyEvidence, format!("The {name} file is empty."));
                }
                if file.len() > EvidenceDataset::MAX_FILE_BYTES {
                    return reject_at(field, Code::EvidenceTooLarge, format!("The {name} file is larger than 2 MiB."));
                }
            }
            let written = reference(state)?
                .check_evidence(indications, status, approved_products)
                .map_err(|e| Rejection::new(Code::EvidenceData, format!("The evidence data is refused: {e}")))?;
            if &written != version {
                return reject_at("version", Code::EvidenceData, format!("The files say they are version {written}, not {version}."));
            }
            let in_force = state.evidence_data.as_ref().map(|d| d.version.clone());
            if in_force.as_ref() == Some(version) {
                return reject_at("version", Code::SameVersion, format!("Evidence data version {version} is already in force; give changed data a new version."));
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
        _ => reject(Code::Forbidden, "not an account command"),
    }
}

/// The administrator acting, or `None` for the local operator at the command line.
fn administrator<'s>(state: &'s State, sub: &Submission) -> Result<Option<&'s Staff>, Rejection> {
    match &sub.actor {
        Actor::System(_) => Ok(None),
        _ => Ok(Some(staff_actor(state, sub, &[Role::Administrator])?)),
    }
}

/// An administrator acts on accounts of the site they administer here.
fn administers_someone_of(admin: Option<&Staff>, account: &Staff, sub: &Submission) -> Result<(), Rejection> {
    if admin.is_some() && !account.memberships.iter().any(|m| m.site == sub.site) {
        return reject_at("staff", Code::OtherSite, format!("{} does not work at site {}; an administrator of their site does this.", account.name, sub.site));
    }
    Ok(())
}

/// Memberships name existing sites, each with a role, and every site whose
/// roles change is one the administrator administers.
fn check_memberships(state: &State, admin: Option<&Staff>, new: &[Membership], old: &[Membership]) -> Result<(), Rejection> {
    if new.is_empty() || new.iter().any(|m| m.roles.is_empty()) {
        return reject_at("memberships", Code::Roles, "Give the account at least one role at one site.");
    }
    let mut sites = std::collections::BTreeSet::new();
    for m in new {
        if !sites.insert(&m.site) {
            return reject_at("memberships", Code::Roles, format!("Site {} is listed twice; give each site once with all its roles.", m.site));
        }
        if !state.sites.contains_key(&m.site) {
            return reject_at("memberships", Code::UnknownSite, format!("Site {} does not exist.", m.site));
        }
    }
    let Some(admin) = admin else { return Ok(()) };
    let roles_at = |list: &[Membership], site: &SiteId| list.iter().find(|m| &m.site == site).map(|m| m.roles.clone());
    let touched = new.iter().map(|m| &m.site).chain(old.iter().map(|m| &m.site));
    for site in touched {
        if roles_at(new, site) != roles_at(old, site) && !admin.holds(Role::Administrator, site) {
            return reject_at("memberships", Code::Forbidden, format!("Only an administrator of site {site} may give or take roles there."));
        }
    }
    Ok(())
}
