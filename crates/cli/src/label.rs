//! `celltrace label`: the label of a unit in the database, as PNG, PDF or
//! ZPL, built from the unit, its site, its patient (autologous) and the
//! site-loaded product description table.

use celltrace_domain::model::{IntendedUse, Person, ProductCatalogue, Site, Unit};
use celltrace_domain::time::Timestamp;
use celltrace_domain::EntityKind;
use celltrace_labels::{LabelData, PatientLine};
use celltrace_store::Database;

/// A timestamp as (year, month, day, hour, minute) in UTC.
pub fn utc_parts(at: Timestamp) -> (i32, u8, u8, u8, u8) {
    let (year, month, day) = at.date().parts();
    let minutes = at.0.rem_euclid(Timestamp::DAY) / 60_000_000;
    (year, month, day, (minutes / 60) as u8, (minutes % 60) as u8)
}

/// Finds the unit a person means: a unit id, a 13-character DIN (when only
/// one unit carries it), or a DIN followed by the 8-character product code.
pub async fn find_unit(db: &Database, wanted: &str) -> Result<Unit, String> {
    if let Some(unit) = db.get::<Unit>(EntityKind::Unit, wanted).await.map_err(|e| e.to_string())? {
        return Ok(unit);
    }
    let din = wanted.get(..13).unwrap_or(wanted);
    let product = wanted.get(13..).filter(|p| !p.is_empty());
    let all = db.list(EntityKind::Unit, None, None, 100_000).await.map_err(|e| e.to_string())?;
    let matching: Vec<_> = all
        .iter()
        .filter(|u| u.reference.as_deref().is_some_and(|r| r.starts_with(din) && product.is_none_or(|p| r.ends_with(p))))
        .collect();
    match matching.as_slice() {
        [] => Err(format!("no unit has id or DIN '{wanted}'")),
        [one] => serde_json::from_str(&one.body).map_err(|e| e.to_string()),
        many => Err(format!(
            "DIN {din} is a divided product with {} units; add the product code, one of: {}",
            many.len(),
            many.iter().filter_map(|u| u.reference.as_deref()).map(|r| r.get(13..).unwrap_or(r)).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Everything printed on the label of `unit`.
pub async fn label_data(db: &Database, unit: &Unit) -> Result<LabelData, String> {
    let site: Site = db
        .get(EntityKind::Site, unit.site.as_str())
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the site {} of unit {} is missing", unit.site, unit.id))?;
    let catalogue: Option<ProductCatalogue> = db.get(EntityKind::Catalogue, ProductCatalogue::ID).await.map_err(|e| e.to_string())?;
    let description = catalogue
        .as_ref()
        .and_then(|c| c.describe(&unit.product_code))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{} (no description loaded: celltrace products load FILE)", unit.product_code));
    let autologous_patient = match &unit.intended_use {
        IntendedUse::Autologous { patient } => {
            let person: Person = db
                .get(EntityKind::Person, patient.as_str())
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("patient {patient} of unit {} is missing", unit.id))?;
            Some(PatientLine { name: person.name, date_of_birth: person.date_of_birth.to_string(), mrn: person.mrn })
        }
        IntendedUse::Allogeneic => None,
    };
    Ok(LabelData {
        din: unit.din.clone(),
        flags: "00".into(),
        product_code: unit.product_code.clone(),
        product_description: description,
        collected_at: utc_parts(unit.collected_at),
        expires_at: utc_parts(unit.expires_at),
        facility: format!("{} (FIN {})", site.name, site.fin),
        quantity: unit.quantity.to_string(),
        autologous_patient,
        warnings: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_split_into_utc_parts() {
        let at = celltrace_domain::time::Date::parse("2026-03-02").expect("date").start();
        assert_eq!(utc_parts(Timestamp(at.0 + (9 * 60 + 30) * 60_000_000)), (2026, 3, 2, 9, 30));
        assert_eq!(utc_parts(Timestamp(at.0 - 60_000_000)), (2026, 3, 1, 23, 59));
    }
}
