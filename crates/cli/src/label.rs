//! `celltrace label`: the label of a unit in the database, as PNG, PDF or
//! ZPL; finds the unit a person names and builds its label data.

use celltrace_domain::model::Unit;
use celltrace_domain::EntityKind;
use celltrace_labels::LabelData;
use celltrace_store::Database;

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
    celltrace_web::unit_label(db, unit).await
}
