//! Reads of grants of access: which member of staff an API token acts as,
//! and a person's tokens. Tokens are ledger records found by their hash.

use super::{token_hash, Reader};
use crate::StoreError;
use celltrace_domain::ids::StaffId;
use celltrace_domain::index::Index;
use celltrace_domain::model::{ApiToken, Staff};
use celltrace_domain::time::Timestamp;

impl Reader {
    /// The member of staff an API token acts as: its record (issued in the
    /// ledger) must exist, not be revoked or expired at `now`, and its owner's
    /// account must be active, so a revocation or deactivation takes effect at
    /// once on every server.
    pub async fn staff_for_token(&self, token: &str, now: Timestamp) -> Result<Option<Staff>, StoreError> {
        let Some(record) = self.all_under::<ApiToken>(Index::TokenHash, &[token_hash(token)]).await?.into_iter().next() else {
            return Ok(None);
        };
        if !record.usable(now) {
            return Ok(None);
        }
        Ok(self.get::<Staff>(record.staff.as_str()).await?.filter(|s| s.active))
    }

    /// The API tokens issued to a member of staff, newest first.
    pub async fn tokens_of(&self, staff: &StaffId) -> Result<Vec<ApiToken>, StoreError> {
        self.all_under(Index::StaffTokens, &[staff.to_string()]).await
    }
}
