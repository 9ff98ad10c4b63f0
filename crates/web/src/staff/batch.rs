//! The batch record of a donation: every processing step, QC result and
//! release of every unit of its family, in time order, for the batch file.

use crate::auth::{Can, ViewUnits};
use crate::error::AppError;
use crate::kit::layout::{when, Layout};
use crate::kit::records::{render, site_unit};
use crate::routes::{Access, Route};
use crate::staff::lineage::unit_family;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::time::Timestamp;
use std::collections::BTreeSet;

/// The batch record.
pub fn routes() -> Vec<Route> {
    vec![Route::get("/units/{id}/batch", Access::Staff(Permission::ViewUnits), batch_page)]
}

#[derive(Template)]
#[template(path = "batch.html")]
struct BatchPage {
    layout: Option<Layout>,
    din: String,
    rows: Vec<(String, String, String, String)>,
}

async fn batch_page(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Result<Response, AppError> {
    let unit = site_unit(&state, &viewer, &id).await?;
    let family = unit_family(&state, &unit).await?;
    let mut rows: Vec<(Timestamp, String, String, String)> = Vec::new();
    let mut seen_steps = BTreeSet::new();
    for u in &family {
        if u.parents.is_empty() {
            rows.push((u.created_at, "Collection".to_owned(), String::new(), format!("{} {} · {}", u.din, u.product_code, u.quantity)));
        }
        for s in &u.steps {
            if seen_steps.insert(s.id.clone()) {
                // The units this step made: those whose first step it is.
                let made: Vec<String> = family.iter().filter(|c| !c.parents.is_empty() && c.steps.first().is_some_and(|x| x.id == s.id)).map(|c| c.product_code.clone()).collect();
                let parameters: Vec<String> = s.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
                rows.push((
                    s.at,
                    format!("{:?}", s.kind),
                    s.operator.to_string(),
                    format!("{}; lots: {}; {}{}", s.equipment, s.reagent_lots.join(", "), parameters.join("; "), if made.is_empty() { String::new() } else { format!("; made {}", made.join(", ")) }),
                ));
            }
        }
        for q in &u.qc {
            rows.push((q.at, format!("QC {}", u.product_code), q.performed_by.to_string(), format!("{}: {} (spec {}) {}", q.test, q.value, q.specification, if q.in_spec { "in spec" } else { "OUT OF SPEC" })));
        }
        for r in &u.release {
            rows.push((r.signed_at, format!("Release {}", u.product_code), r.signer.to_string(), r.meaning.statement().to_owned()));
        }
    }
    rows.sort_by_key(|r| r.0);
    render(&BatchPage { layout: Some(Layout::new(&viewer, "units")), din: unit.din.clone(), rows: rows.into_iter().map(|(at, a, b, c)| (when(at), a, b, c)).collect() })
}
