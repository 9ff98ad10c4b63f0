//! API tokens at the command line. The local operator issues and revokes
//! them as ledger events (`issue_api_token`, `revoke_api_token`), exactly as an
//! administrator does in the web: the token is shown once and only its
//! SHA-256 is recorded.

use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::{ApiTokenId, CommandId, SiteId, StaffId};
use celltrace_domain::model::{ApiToken, Staff};
use celltrace_domain::time::Timestamp;
use celltrace_store::{Engine, SubmitError};

/// A new random token (256 bits) and its public id, made as the web's
/// account pages make them.
///
/// # Errors
/// When the system has no randomness to give.
pub fn new_token() -> Result<(ApiTokenId, String), String> {
    celltrace_web::staff::accounts::new_api_token()
}

async fn submit(engine: &Engine, site: SiteId, command: Command) -> Result<(), String> {
    let id = CommandId::parse(&format!("cli-{}", uuid::Uuid::now_v7())).map_err(|e| e.to_string())?;
    let at = Timestamp(celltrace_web::now_micros());
    let submission = Submission { id, actor: Actor::System("command line".into()), site, at, command };
    match engine.submit(submission).await {
        Ok(_) => Ok(()),
        Err(SubmitError::Rejected(r)) => Err(r.message),
        Err(SubmitError::Store(e)) => Err(e.to_string()),
    }
}

async fn staff_site(engine: &Engine, staff: &StaffId) -> Result<SiteId, String> {
    let account: Staff = engine
        .database()
        .reader()
        .get::<Staff>(staff.as_str())
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("there is no staff account '{staff}'"))?;
    account.memberships.first().map(|m| m.site.clone()).ok_or_else(|| format!("{staff} belongs to no site"))
}

/// Issues a token to `staff`, recorded in the ledger; returns the token to show once.
///
/// # Errors
/// The rules' refusal (unknown or deactivated account) or a storage failure.
pub async fn create(engine: &Engine, staff: &str, label: &str, expires_days: Option<u32>) -> Result<(ApiTokenId, String), String> {
    let staff = StaffId::parse(staff).map_err(|e| e.to_string())?;
    let site = staff_site(engine, &staff).await?;
    let (id, token) = new_token()?;
    let expires_at = expires_days.map(|d| Timestamp(celltrace_web::now_micros()).plus_days(i64::from(d)));
    let command = Command::IssueApiToken { token: id.clone(), staff, label: label.to_owned(), token_hash: celltrace_store::read::token_hash(&token), expires_at };
    submit(engine, site, command).await?;
    Ok((id, token))
}

/// Revokes a token by its id, recorded in the ledger.
///
/// # Errors
/// An unknown or already revoked token, or a storage failure.
pub async fn revoke(engine: &Engine, token: &str, reason: &str) -> Result<(), String> {
    let id = ApiTokenId::parse(token).map_err(|e| e.to_string())?;
    let record: ApiToken = engine
        .database()
        .reader()
        .get::<ApiToken>(id.as_str())
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("there is no API token '{id}' (tokens are named tok-..., see 'celltrace token list')"))?;
    let site = staff_site(engine, &record.staff).await?;
    submit(engine, site, Command::RevokeApiToken { token: id, reason: reason.to_owned() }).await
}

/// One line per token of `staff`: id, label, issued, state.
///
/// # Errors
/// A storage failure.
pub async fn list(db: &celltrace_store::Database, staff: &str) -> Result<Vec<String>, String> {
    let staff = StaffId::parse(staff).map_err(|e| e.to_string())?;
    let tokens = db.reader().tokens_of(&staff).await.map_err(|e| e.to_string())?;
    let now = Timestamp(celltrace_web::now_micros());
    Ok(tokens
        .iter()
        .map(|t| {
            let state = match (&t.revoked, t.usable(now)) {
                (Some(r), _) => format!("revoked {} by {}: {}", r.at.date(), r.by, r.reason),
                (None, false) => "expired".to_owned(),
                (None, true) => "active".to_owned(),
            };
            format!("{}\t{}\tissued {} by {}\t{state}", t.id, t.label, t.issued_at.date(), t.issued_by)
        })
        .collect())
}
