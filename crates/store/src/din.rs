//! DIN assignment: the next Donation Identification Number of a facility
//! (FIN) for a year, unique across processes and servers because the
//! increment is a row-locked update in the database.

use crate::{Database, StoreError};
use sqlx::Row;

/// Highest sequence number a DIN can carry.
const MAX_SEQUENCE: i64 = 999_999;

impl Database {
    /// Assigns the next DIN of `fin` for the two-digit `year`, skipping any
    /// DIN already claimed by a donation (for example one keyed in by hand).
    pub async fn assign_din(&self, fin: &str, year: u8) -> Result<isbt128::Din, StoreError> {
        let fin_checked = isbt128::Fin::new(fin).map_err(|e| StoreError::Invalid(format!("FIN '{fin}': {e}")))?;
        loop {
            let mut tx = self.pool().begin().await?;
            sqlx::query("INSERT INTO din_sequences (fin, year, next) VALUES ($1, $2, 1) ON CONFLICT (fin, year) DO NOTHING")
                .bind(fin.to_owned())
                .bind(i64::from(year))
                .execute(&mut *tx)
                .await?;
            let sequence: i64 = sqlx::query("UPDATE din_sequences SET next = next + 1 WHERE fin = $1 AND year = $2 RETURNING next - 1")
                .bind(fin.to_owned())
                .bind(i64::from(year))
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            tx.commit().await?;
            if sequence > MAX_SEQUENCE {
                return Err(StoreError::Invalid(format!(
                    "every DIN of FIN {fin} for year {year:02} has been used (sequence 999999 reached)"
                )));
            }
            let din = isbt128::Din::from_fin(fin_checked, year, u32::try_from(sequence).unwrap_or(u32::MAX))
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            let taken = sqlx::query("SELECT 1 FROM claims WHERE namespace = 'din' AND value = $1")
                .bind(din.to_string())
                .fetch_optional(self.pool())
                .await?;
            if taken.is_none() {
                return Ok(din);
            }
        }
    }
}
