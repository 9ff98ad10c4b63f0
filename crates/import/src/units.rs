//! Collected units: one `RecordCollection` per row, with the DIN and product
//! code checked as ISBT 128 before the domain sees them.

use crate::fields;
use crate::table::Cells;
use celltrace_domain::ids::{CollectionId, PersonId, PlanId, UnitId};
use celltrace_domain::Command;

pub(crate) const REQUIRED: &[&str] = &[
    "unit_id",
    "din",
    "product_code",
    "product_type",
    "source_person",
    "tissue",
    "quantity",
    "quantity_unit",
    "collected_at",
    "expires_at",
];
pub(crate) const OPTIONAL: &[&str] = &["plan", "collection_id"];

pub(crate) fn command(cells: &mut Cells<'_>) -> Option<Command> {
    let unit = cells.parse("unit_id", |v| fields::id(v, UnitId::parse));
    let din = cells.parse("din", fields::din);
    let product_code = cells.parse("product_code", fields::product_code);
    let product_type = cells.parse("product_type", fields::product_type);
    let source_person = cells.parse("source_person", |v| fields::id(v, PersonId::parse));
    let plan = cells.parse_optional("plan", |v| fields::id(v, PlanId::parse));
    let tissue = cells.parse("tissue", fields::tissue);
    let amount = cells.parse("quantity", fields::milli);
    let quantity_unit = cells.parse("quantity_unit", |v| {
        if v.chars().count() > 20 {
            Err(format!("'{}' is not a unit of measure; write e.g. mL or million cells", fields::shown(v)))
        } else {
            Ok(v.to_owned())
        }
    });
    let collected_at = cells.parse("collected_at", fields::timestamp);
    let expires_at = cells.parse("expires_at", fields::timestamp);
    let unit = unit?;
    // The demo and the web form name a collection after its unit; a file may name it.
    let collection = if cells.optional("collection_id").is_some() {
        cells.parse("collection_id", |v| fields::id(v, CollectionId::parse))
    } else {
        match CollectionId::parse(&format!("col-{unit}")) {
            Ok(id) => Some(id),
            Err(_) => {
                cells.fail("unit_id", "is too long to name its collection after (col-<unit_id>); add a collection_id column");
                None
            }
        }
    };
    Some(Command::RecordCollection {
        collection: collection?,
        source_person: source_person?,
        plan: plan?,
        tissue: tissue?,
        product_type: product_type?,
        unit,
        din: din?,
        product_code: product_code?,
        quantity: celltrace_domain::model::Quantity { milli: amount?, unit: quantity_unit? },
        collected_at: collected_at?,
        expires_at: expires_at?,
    })
}
