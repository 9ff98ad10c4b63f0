//! `celltrace label`: the label of a unit in the database, as PNG, PDF or
//! ZPL; finds the unit a person names and builds its label data.

use celltrace_domain::model::Unit;
use celltrace_labels::LabelData;
use celltrace_store::Database;

/// Finds the unit a person means: a unit id, a 13-character DIN (when only
/// one unit carries it), or a DIN followed by the 8-character product code.
pub async fn find_unit(db: &Database, wanted: &str) -> Result<Unit, String> {
    if let Some(unit) = db.reader().get::<Unit>(wanted).await.map_err(|e| e.to_string())? {
        return Ok(unit);
    }
    let din = wanted.get(..13).unwrap_or(wanted);
    let product = wanted.get(13..).filter(|p| !p.is_empty());
    let mut matching = db.reader().units_by_din(din).await.map_err(|e| e.to_string())?;
    matching.retain(|u| product.is_none_or(|p| u.product_code == p));
    match matching.len() {
        0 => Err(format!("no unit has id or DIN '{wanted}'")),
        1 => Ok(matching.remove(0)),
        many => Err(format!(
            "DIN {din} is a divided product with {many} units; add the product code, one of: {}",
            matching.iter().map(|u| u.product_code.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Everything printed on the label of `unit`.
pub async fn label_data(db: &Database, unit: &Unit) -> Result<LabelData, String> {
    celltrace_web::staff::labels::unit_label(db, unit).await
}
