//! Ending every session of a member of staff at once, when an administrator
//! deactivates the account: each request already refuses a deactivated
//! account, and with its sessions gone a later reactivation revives none of
//! them (the person signs in again). Sign-in storage, not ledger state.

use crate::{Database, StoreError};
use celltrace_domain::ids::StaffId;

impl Database {
    /// Ends every session of `staff`; returns how many there were.
    pub async fn end_sessions_of(&self, staff: &StaffId) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE staff_id = $1").bind(staff.to_string()).execute(self.pool()).await?;
        Ok(done.rows_affected())
    }
}
