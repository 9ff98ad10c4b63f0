//! Bearer API tokens (`Access::Token`): the member of staff a request's
//! `Authorization: Bearer TOKEN` belongs to, for the JSON API and FHIR.
//! Tokens are ledger grants stored as SHA-256 hashes; a revoked or expired
//! token, or one whose owner is deactivated, is refused at once.

use crate::error::AppError;
use crate::{now_micros, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use celltrace_domain::access::{staff_allows, Permission};
use celltrace_domain::ids::SiteId;
use celltrace_domain::model::Staff;
use celltrace_domain::time::Timestamp;

/// The owner of the request's API token. A handler that takes one cannot
/// run without a valid token: the request is answered 401 with
/// `WWW-Authenticate: Bearer`.
#[derive(Debug, Clone)]
pub struct TokenOwner(pub Staff);

impl TokenOwner {
    /// Refuses unless the owner holds `permission` at `site`.
    pub fn require(&self, site: &SiteId, permission: Permission) -> Result<(), AppError> {
        if staff_allows(&self.0, site, permission) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!("The token's owner may not {} at site '{site}'.", permission.label())))
        }
    }
}

impl FromRequestParts<AppState> for TokenOwner {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<TokenOwner, AppError> {
        let token = crate::auth::bearer_token(&parts.headers).ok_or_else(|| {
            AppError::sign_in().with_message("Send an API token as 'Authorization: Bearer TOKEN'; an administrator issues one with 'celltrace token create'.")
        })?;
        match state.reader().staff_for_token(token, Timestamp(now_micros())).await? {
            Some(staff) => Ok(TokenOwner(staff)),
            None => Err(AppError::sign_in().with_message("This API token is unknown, revoked or expired, or its owner's account is deactivated.")),
        }
    }
}
