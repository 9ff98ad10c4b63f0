//! Pages that read across many records: lookback and recall from a lot, a
//! donor, a DIN, a unit or a shipment; and the registry's routes.

use crate::routes::{Access, Route};
use celltrace_domain::access::Permission;
use crate::auth::{self, Can, ViewAudit};
use crate::kit::layout::{Item, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use celltrace_domain::lookback::{lookback, Origin};
use serde::Deserialize;

/// The routes of these pages.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/lookback", Access::Staff(Permission::ViewAudit), lookback_page),
        Route::get("/registry", Access::Staff(Permission::ViewPatients), crate::registry::registry_page),
        Route::get("/registry/{format}", Access::Staff(Permission::ViewPatients), crate::registry::export),
        Route::get("/registry/plots/{instrument}/{file}", Access::Staff(Permission::ViewPatients), crate::registry::plot_file),
    ]
}

#[derive(Template)]
#[template(path = "lookback.html")]
struct LookbackPage {
    layout: Option<Layout>,
    choices: Vec<(&'static str, &'static str)>,
    by: String,
    q: String,
    searched: bool,
    site_id: String,
    affected: Vec<Item>,
    recipients: Vec<Item>,
}

#[derive(Deserialize)]
struct LookbackQuery {
    #[serde(default)]
    by: String,
    #[serde(default)]
    q: String,
}

fn page<T: Template>(t: T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &format!("The page could not be shown: {e}")),
    }
}

async fn lookback_page(State(state): State<AppState>, Can { viewer, .. }: Can<ViewAudit>, Query(query): Query<LookbackQuery>) -> Response {
    let choices = vec![("lot", "Reagent lot"), ("donor", "Donor (MRN or id)"), ("din", "Donation identification number (DIN)"), ("unit", "Unit id"), ("shipment", "Shipment id")];
    let origin = match (query.by.as_str(), query.q.trim()) {
        (_, "") => None,
        ("lot", q) => Some(Origin::ReagentLot(q.to_owned())),
        ("donor", q) => Some(Origin::Donor(q.to_owned())),
        ("din", q) => Some(Origin::Din(q.to_owned())),
        ("unit", q) => Some(Origin::Unit(q.to_owned())),
        ("shipment", q) => Some(Origin::Shipment(q.to_owned())),
        _ => None,
    };
    let mut affected = Vec::new();
    let mut recipients = Vec::new();
    if let Some(origin) = &origin {
        let whole = match state.db().load_state().await {
            Ok(s) => s,
            Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        };
        let found = lookback(&whole, origin);
        for id in &found.affected {
            if let Some(u) = whole.units.get(id) {
                affected.push(Item {
                    id: u.id.to_string(),
                    label: format!("{} {}", u.din, u.product_code),
                    detail: format!("{} · {}", u.product_type.code(), u.quantity),
                    status: u.status.label().to_owned(),
                    site: u.site.to_string(),
                });
            }
        }
        for (unit, plan, patient) in &found.recipients {
            let person = whole.persons.get(patient);
            let site = person.map(|p| p.site.to_string()).unwrap_or_default();
            let label = match person {
                Some(p) if p.site == viewer.site.id => {
                    if let Err(e) = crate::kit::records::record_view(&state, &viewer, &p.id, "lookback").await {
                        return e.into_response();
                    }
                    format!("{} (MRN {})", p.name, p.mrn)
                }
                Some(p) => format!("patient {} at {}", p.id, p.site),
                None => patient.to_string(),
            };
            recipients.push(Item { id: patient.to_string(), label, detail: plan.to_string(), status: unit.to_string(), site });
        }
    }
    page(LookbackPage {
        layout: Some(Layout::new(&viewer, "ledger")),
        choices,
        by: query.by,
        q: query.q,
        searched: origin.is_some(),
        site_id: viewer.site.id.to_string(),
        affected,
        recipients,
    })
}
