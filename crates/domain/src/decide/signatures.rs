//! E-signatures (21 CFR Part 11): a signature is recorded only when celltrace
//! can show the signer gave it. The submitter's own signature is proven by
//! the authentication of the submission itself; anyone else's needs a
//! signing grant the signer recorded for this meaning, on this command (its
//! digest), for this submitter and site, not expired and never used before
//! (the store's unique claims spend it once, across servers). The time of
//! every signature is the server's, never the caller's.

use super::checks::{staff_actor, text};
use super::rejection::{reject, reject_at, Rejection, RejectionCode as Code};
use crate::command::{Actor, Command, Submission};
use crate::event::Event;
use crate::model::*;
use crate::state::State;

/// Turns a requested signature into the recorded one, or refuses it. The
/// meaning must be `meaning`; the signer must hold one of `roles` at the
/// submission's site; and the signer must be the submitter or hold a grant.
pub(super) fn sign(
    state: &State,
    sub: &Submission,
    field: &str,
    request: &SignatureRequest,
    meaning: SignatureMeaning,
    roles: &[Role],
) -> Result<Signature, Rejection> {
    if request.meaning != meaning {
        return reject_at(field, Code::SignatureMeaning, format!("The signature must mean \"{}\"", meaning.statement()));
    }
    let signer = state
        .staff
        .get(&request.signer)
        .ok_or_else(|| Rejection::new(Code::UnknownStaff, format!("Signer {} does not exist.", request.signer)).at(field))?;
    if !signer.active {
        return reject_at(field, Code::AccountInactive, format!("The account of {} is deactivated; they cannot sign.", signer.name));
    }
    if !roles.iter().any(|r| signer.holds(*r, &sub.site)) {
        let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
        return reject_at(
            field,
            Code::SignerNotAuthorised,
            format!("{} cannot sign this at site {}: it needs a {}.", signer.name, sub.site, names.join(" or ")),
        );
    }
    let submitter = match &sub.actor {
        Actor::Staff(id) => id,
        _ => return reject(Code::Forbidden, "Only a signed-in member of staff can submit a signed record."),
    };
    let Some(grant_id) = &request.grant else {
        if &request.signer == submitter {
            return Ok(Signature { signer: request.signer.clone(), meaning, signed_at: sub.at, proof: SignatureProof::Submitter });
        }
        return reject_at(
            field,
            Code::SignatureNotProven,
            format!(
                "{} did not authenticate for this signature. They re-enter their own password in the same form, or issue a signing grant for this command with their own credentials.",
                signer.name
            ),
        );
    };
    let invalid = |why: &str| Rejection::new(Code::SigningGrantInvalid, format!("The signing grant of {} {why}; nothing was signed.", signer.name)).at(field);
    let grant = state.signing_grants.get(grant_id).ok_or_else(|| invalid("does not exist"))?;
    if grant.signer != request.signer {
        return Err(invalid("was made by someone else"));
    }
    if grant.meaning != meaning {
        return Err(invalid("is for a signature of another meaning"));
    }
    if grant.site != sub.site || &grant.submitter != submitter {
        return Err(invalid("was made for another site or another person's command"));
    }
    if grant.command_digest != sub.command.signing_digest(submitter, &sub.site) {
        return Err(invalid("was made for a different command (its content changed since the signer authenticated)"));
    }
    if sub.at > grant.expires_at {
        return Err(invalid("has expired; the signer authenticates again"));
    }
    if sub.at < grant.issued_at {
        return Err(invalid("is dated after this command"));
    }
    Ok(Signature {
        signer: request.signer.clone(),
        meaning,
        signed_at: grant.issued_at,
        proof: SignatureProof::Grant { grant: grant_id.clone(), method: grant.method },
    })
}

/// Refuses a command that quotes one grant twice (each grant proves one signature).
pub(super) fn grants_used_once(command: &Command) -> Result<(), Rejection> {
    let mut seen = std::collections::BTreeSet::new();
    for grant in command.signature_requests().into_iter().filter_map(|r| r.grant.as_ref()) {
        if !seen.insert(grant) {
            return reject(Code::SigningGrantUsed, format!("Signing grant {grant} is quoted twice; each signature needs its own."));
        }
    }
    Ok(())
}

/// `IssueSigningGrant`: the signer, authenticated by the adapter, records
/// that they will sign one command. Only someone who may sign with that
/// meaning at the site may issue it.
pub(super) fn issue(state: &State, sub: &Submission) -> Result<Vec<Event>, Rejection> {
    let Command::IssueSigningGrant { grant, meaning, submitter, command_digest, method } = &sub.command else {
        return reject(Code::Forbidden, "not a signing grant");
    };
    let roles = meaning.signer_roles();
    let signer = staff_actor(state, sub, roles)?;
    if state.signing_grants.contains_key(grant) {
        return reject_at("grant", Code::Duplicate, format!("Signing grant {grant} already exists."));
    }
    let submitter_account = state
        .staff
        .get(submitter)
        .ok_or_else(|| Rejection::new(Code::UnknownStaff, format!("Staff account {submitter} does not exist.")).at("submitter"))?;
    if !submitter_account.belongs_to(&sub.site) {
        return reject_at("submitter", Code::OtherSite, format!("{} does not work at site {}.", submitter_account.name, sub.site));
    }
    text("command_digest", "command digest", command_digest, 64)?;
    if command_digest.len() != 64 || !command_digest.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return reject_at("command_digest", Code::SigningGrantInvalid, "The command digest must be 64 lowercase hex digits (SHA-256).");
    }
    Ok(vec![Event::SigningGrantIssued {
        grant: SigningGrant {
            id: grant.clone(),
            signer: signer.id.clone(),
            meaning: *meaning,
            site: sub.site.clone(),
            submitter: submitter.clone(),
            command_digest: command_digest.clone(),
            method: *method,
            issued_at: sub.at,
            expires_at: sub.at.plus_micros(SigningGrant::LIFETIME_MICROS),
        },
    }])
}

impl SignatureMeaning {
    /// The roles that may give a signature of this meaning.
    pub fn signer_roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            SignatureMeaning::Release => &[QualityAssurance],
            SignatureMeaning::ExceptionalRelease => &[QualityAssurance, Physician],
            SignatureMeaning::CustodyTransfer | SignatureMeaning::TemperatureException => &[Logistics],
            SignatureMeaning::ConsentWitness => &[Physician, Nurse],
            SignatureMeaning::EvidenceOverride => &[MedicalDirector],
            SignatureMeaning::AdministrationWitness => &[Nurse, Physician],
        }
    }
}
