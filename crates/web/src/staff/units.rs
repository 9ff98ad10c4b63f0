//! Units held at the viewer's site: the list (a page at a time, by status,
//! product type, or found by DIN; downloadable as CSV, streamed a page at a
//! time) and one unit's page — what it is, where it came from and what was
//! made from it, its label, QC, release, chain of custody and processing,
//! and the forms the viewer may use on it now.

use crate::auth::{Can, ViewUnits, Viewer};
use crate::error::AppError;
use crate::kit::layout::{when, Item, Layout};
use crate::kit::records::{render, site_unit};
use crate::routes::{Access, Route};
use crate::staff::labels::record_label_view;
use crate::staff::lineage::{lineage_svg, unit_family};
use crate::staff::patients::{url_encode, LIST_PAGE};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::model::{IntendedUse, ProductType, Shipment, Unit, UnitStatus};
use celltrace_store::read::{UnitFilter, MAX_PAGE};
use serde::Deserialize;

/// The list and the unit page.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/units", Access::Staff(Permission::ViewUnits), units),
        Route::get("/units/{id}", Access::Staff(Permission::ViewUnits), unit),
    ]
}

#[derive(Template)]
#[template(path = "units.html")]
struct UnitsPage {
    layout: Option<Layout>,
    site_name: String,
    units: Vec<Item>,
    /// What was searched for.
    q: String,
    /// The status filter (empty: all).
    status: String,
    /// The product type filter (empty: all).
    product_type: String,
    /// The next page's address, when there is one.
    next: Option<String>,
    first_page: bool,
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    layout: Option<Layout>,
    id: String,
    din: String,
    product_code: String,
    description: String,
    status: String,
    quantity: String,
    site: String,
    expires: String,
    intended: String,
    lineage_svg: String,
    /// The units it was made from, and those made from it.
    parents: Vec<Item>,
    children: Vec<Item>,
    qc: Vec<(String, String, String, &'static str)>,
    release: Vec<String>,
    steps: Vec<String>,
    /// Shipments with their custody signatures and temperature excursions.
    custody: Vec<String>,
    can_audit: bool,
    /// Links to the forms the viewer may use on this unit now.
    actions: Vec<(String, &'static str)>,
}

/// `?q=&status=&type=&after=&format=` of the units list. An empty filter
/// (the form's "Any") is no filter.
#[derive(Debug, Default, Deserialize)]
struct UnitsQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default, rename = "type")]
    product_type: String,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

/// A filter word of the query as its value: empty is none, anything else must be one.
fn filter_value<T: serde::de::DeserializeOwned>(word: &str, field: &str) -> Result<Option<T>, AppError> {
    if word.is_empty() {
        return Ok(None);
    }
    serde_json::from_value(serde_json::Value::String(word.to_owned())).map(Some).map_err(|_| AppError::invalid(field, format!("There is no {field} '{word}'; choose one from the list.")))
}

/// A unit as a line of a list.
pub fn unit_item(u: &Unit) -> Item {
    Item {
        id: u.id.to_string(),
        label: format!("{} {}", u.din, u.product_code),
        detail: format!("{} · {}", u.product_type.code(), u.quantity),
        status: if u.in_transit.is_some() { "in transit".into() } else { u.status.label().to_owned() },
        site: u.site.to_string(),
    }
}

fn unit_csv_row(u: &Unit) -> Vec<String> {
    vec![
        u.id.to_string(),
        u.din.clone(),
        u.product_code.clone(),
        u.product_type.code().to_owned(),
        u.status.label().to_owned(),
        u.quantity.to_string(),
        u.collected_at.date().to_string(),
        when(u.expires_at),
        u.parents.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
        u.location.as_ref().map(|l| format!("{} / {} / {} / {}", l.freezer, l.rack, l.r#box, l.position)).unwrap_or_default(),
    ]
}

/// The whole list as CSV, streamed a page at a time.
async fn units_csv(state: AppState, viewer: Viewer, filter: UnitFilter) -> Result<Response, AppError> {
    let first = state.reader().units(&viewer.site.id, &filter, None, MAX_PAGE).await?;
    let filename = format!("units-{}.csv", viewer.site.id);
    let first_rows: Vec<Vec<String>> = first.units.iter().map(unit_csv_row).collect();
    let rest = futures_util::stream::unfold(first.next, move |after| {
        let (state, site, filter) = (state.clone(), viewer.site.id.clone(), filter.clone());
        async move {
            let after = after?;
            Some(match state.reader().units(&site, &filter, Some(&after), MAX_PAGE).await {
                Ok(page) => (Ok(page.units.iter().map(unit_csv_row).collect()), page.next),
                Err(e) => (Err(AppError::from(e)), None),
            })
        }
    });
    let pages = futures_util::StreamExt::chain(futures_util::stream::iter([Ok(first_rows)]), rest);
    Ok(crate::kit::csv::stream(&filename, &["unit_id", "din", "product_code", "product_type", "status", "quantity", "collected_on", "expires_at_utc", "parents", "location"], pages))
}

async fn units(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Query(query): Query<UnitsQuery>) -> Result<Response, AppError> {
    let status: Option<UnitStatus> = filter_value(&query.status, "status")?;
    let product_type: Option<ProductType> = filter_value(&query.product_type, "type")?;
    let filter = UnitFilter { status, product_type, text: query.q.clone() };
    if query.format.as_deref() == Some("csv") {
        return units_csv(state, viewer, filter).await;
    }
    let page = state.reader().units(&viewer.site.id, &filter, query.after.as_deref(), LIST_PAGE).await?;
    let (status, product_type) = (url_encode(&query.status), url_encode(&query.product_type));
    let next = page.next.map(|after| format!("/units?q={}&status={status}&type={product_type}&after={}", url_encode(&query.q), url_encode(&after)));
    render(&UnitsPage {
        layout: Some(Layout::new(&viewer, "units")),
        site_name: viewer.site.name.clone(),
        units: page.units.iter().map(|u| Item { site: when(u.expires_at), ..unit_item(u) }).collect(),
        q: query.q.clone(),
        status: query.status.clone(),
        product_type: query.product_type.clone(),
        next,
        first_page: query.after.is_none(),
    })
}

fn custody_line(s: &Shipment) -> String {
    let received = match (&s.received, s.condition_ok) {
        (Some(r), Some(ok)) => format!("received by {} on {} ({})", r.signer, when(r.signed_at), if ok { "container intact" } else { "CONTAINER DAMAGED" }),
        _ => "in transit".to_owned(),
    };
    let excursions = if s.excursions.is_empty() { "no temperature excursion".to_owned() } else { format!("TEMPERATURE EXCURSIONS: {}", s.excursions.join("; ")) };
    format!("{} → {} by {}: dispatched by {} on {}; {}; {}", s.from_site, s.to_site, s.courier, s.dispatched.signer, when(s.dispatched.signed_at), received, excursions)
}

async fn unit(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Result<Response, AppError> {
    let unit = site_unit(&state, &viewer, &id).await?;
    record_label_view(&state, &viewer, &unit, "unit page").await?;
    let family = unit_family(&state, &unit).await?;
    let catalogue = state.reader().product_catalogue().await?;
    let description = catalogue.as_ref().and_then(|c| c.describe(&unit.product_code)).unwrap_or("(no description loaded)").to_owned();
    let shipments = state.reader().shipments_of(&unit.id).await?;
    let parents = family.iter().filter(|u| unit.parents.contains(&u.id)).map(unit_item).collect();
    let children = family.iter().filter(|u| u.parents.contains(&unit.id)).map(unit_item).collect();
    render(&UnitPage {
        layout: Some(Layout::new(&viewer, "units")),
        id: unit.id.to_string(),
        din: unit.din.clone(),
        product_code: unit.product_code.clone(),
        description,
        status: if unit.in_transit.is_some() { "in transit".into() } else { unit.status.label().to_owned() },
        quantity: unit.quantity.to_string(),
        site: unit.site.to_string(),
        expires: when(unit.expires_at),
        intended: match &unit.intended_use {
            IntendedUse::Autologous { patient } => format!("autologous: only for {patient}"),
            IntendedUse::Allogeneic => match &unit.allocated_to {
                Some(plan) => format!("allogeneic, allocated to plan {plan}"),
                None => "allogeneic, not allocated".into(),
            },
        },
        lineage_svg: lineage_svg(&family, &unit.id),
        parents,
        children,
        qc: unit.qc.iter().map(|q| (q.test.clone(), q.value.clone(), q.specification.clone(), if q.in_spec { "yes" } else { "NO" })).collect(),
        release: unit.release.iter().map(|s| format!("{} signed \"{}\" on {}", s.signer, s.meaning.statement(), when(s.signed_at))).collect(),
        steps: unit.steps.iter().map(|s| format!("{} {:?} by {} with {} (lots: {})", when(s.at), s.kind, s.operator, s.equipment, s.reagent_lots.join(", "))).collect(),
        custody: shipments.iter().map(custody_line).collect(),
        can_audit: viewer.can(Permission::ViewAudit),
        actions: unit_actions(&viewer, &unit),
    })
}

/// The forms that fit this unit now, for this viewer.
fn unit_actions(viewer: &Viewer, unit: &Unit) -> Vec<(String, &'static str)> {
    let mut actions = crate::staff::forms::links::unit_links(viewer, unit);
    if unit.status == UnitStatus::Quarantine && unit.in_transit.is_none() {
        if viewer.can(Permission::RecordLab) {
            actions.push((format!("/units/{}/qc", unit.id), "Record a QC result"));
        }
        if viewer.can(Permission::Release) && !unit.qc.is_empty() {
            let latest = unit.latest_qc();
            if latest.iter().all(|q| q.in_spec && !q.pending) {
                actions.push((format!("/units/{}/release", unit.id), "Release with e-signature"));
            } else if latest.iter().any(|q| q.pending) {
                actions.push((format!("/units/{}/exceptional-release", unit.id), "Exceptional release (results pending)"));
            } else {
                actions.push((format!("/units/{}/exceptional-release", unit.id), "Exceptional release (out of specification)"));
            }
        }
    }
    actions
}
