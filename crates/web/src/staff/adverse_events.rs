//! An adverse event's printable report (the fields a regulator's adverse
//! reaction report asks for: patient, event, product, reporter) and the
//! medical director's review of it, recorded in the ledger. Opening the
//! report is a recorded read of the patient's record.

use crate::auth::{Can, ViewPatients};
use crate::error::AppError;
use crate::kit::layout::{when, Layout};
use crate::kit::records::{record_view, render, submit_as_viewer};
use crate::routes::{Access, Route};
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::model::{AdverseEvent, Person, Plan, Role, Unit};
use serde::Deserialize;

/// The report and its review.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/adverse-events/{id}", Access::Staff(Permission::ViewPatients), adverse_event_report),
        Route::post("/adverse-events/{id}/review", Access::Staff(Permission::ViewPatients), review_adverse_event),
    ]
}

#[derive(Template)]
#[template(path = "ae_report.html")]
struct AdverseEventReport {
    layout: Option<Layout>,
    id: String,
    serious: bool,
    rows: Vec<(&'static str, String)>,
    /// The review form, for a medical director while the event awaits review.
    review_csrf: Option<String>,
}

#[derive(Deserialize)]
struct ReviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// A record the report names that is not there: the store is damaged.
fn missing(what: String) -> AppError {
    AppError::internal(format!("{what} is named by an adverse event but missing"))
}

async fn adverse_event_report(State(state): State<AppState>, Can { viewer, .. }: Can<ViewPatients>, Path(id): Path<String>) -> Result<Response, AppError> {
    let reader = state.reader();
    let ae = match reader.get::<AdverseEvent>(&id).await? {
        Some(a) if a.site == viewer.site.id => a,
        _ => return Err(AppError::not_found("This adverse event")),
    };
    record_view(&state, &viewer, &ae.patient, &format!("adverse event report {id}")).await?;
    let person = reader.get::<Person>(ae.patient.as_str()).await?.ok_or_else(|| missing(format!("patient {}", ae.patient)))?;
    let plan: Option<Plan> = match &ae.plan {
        Some(p) => Some(reader.get::<Plan>(p.as_str()).await?.ok_or_else(|| missing(format!("plan {p}")))?),
        None => None,
    };
    // The suspect unit: the one named, else the plan's last administered.
    let unit_id = ae.unit.clone().or_else(|| plan.as_ref().and_then(|p| p.administrations.last().map(|a| a.unit.clone())));
    let unit: Option<Unit> = match &unit_id {
        Some(u) => Some(reader.get::<Unit>(u.as_str()).await?.ok_or_else(|| missing(format!("unit {u}")))?),
        None => None,
    };
    let grade_text = state.reference.ctcae().term(&ae.term).and_then(|t| t.grade(ae.grade)).unwrap_or("").to_owned();
    let age = person.date_of_birth.years_until(ae.onset);
    let seriousness: Vec<String> = ae.seriousness.iter().map(|s| format!("{s:?}").to_lowercase().replace('_', " ")).collect();
    let rows = vec![
        ("Report", format!("{} at {}, reported {} by {}", ae.id, ae.site, when(ae.reported_at), ae.reported_by)),
        ("Patient", format!("MRN {} · {} · age {age} at onset", person.mrn, format!("{:?}", person.sex).to_lowercase())),
        ("Event (CTCAE v5.0 term)", ae.term.clone()),
        ("Grade", format!("{} — {grade_text}", ae.grade)),
        ("Onset", ae.onset.to_string()),
        ("Seriousness criteria", if seriousness.is_empty() { "none (not serious)".into() } else { seriousness.join(", ") }),
        ("Description", ae.description.clone()),
        ("Action taken", ae.action.clone()),
        ("Outcome", ae.outcome.clone()),
        ("Relation to the product", format!("{:?}", ae.relatedness).to_lowercase()),
        ("Treatment plan", plan.as_ref().map(|p| format!("{} — {} ({}) · {} · evidence {:?}", p.id, p.indication.name, p.indication.icd10, p.product_type.code(), p.evidence.status)).unwrap_or_else(|| "not linked".into())),
        ("Product (suspect unit)", unit.as_ref().map(|u| format!("DIN {} · product code {} · {}", u.din, u.product_code, u.product_type.code())).unwrap_or_else(|| "not identified".into())),
        ("Administration", plan.as_ref().and_then(|p| p.administrations.last()).map(|a| format!("{} {} at {} by {}", when(a.at), a.dose, a.body_site, a.operator)).unwrap_or_else(|| "none recorded".into())),
        ("Medical director's review", ae.review.as_ref().map(|(who, at, note)| format!("{who} on {}: {note}", when(*at))).unwrap_or_else(|| "awaiting review".into())),
    ];
    // Only a medical director sees the form; the rules decide whether the review stands.
    let may_review = ae.review.is_none() && viewer.staff.memberships.iter().any(|m| m.site == viewer.site.id && m.roles.contains(&Role::MedicalDirector));
    render(&AdverseEventReport {
        layout: Some(Layout::new(&viewer, "patients")),
        id: ae.id.to_string(),
        serious: ae.is_serious(),
        rows,
        review_csrf: may_review.then(|| viewer.session.csrf_token.clone()),
    })
}

/// The medical director's review of an adverse event, recorded in the ledger.
async fn review_adverse_event(State(state): State<AppState>, Can { viewer, .. }: Can<ViewPatients>, Path(id): Path<String>, Form(form): Form<ReviewForm>) -> Result<Response, AppError> {
    viewer.require_csrf(&form.csrf)?;
    let adverse_event = id.parse().map_err(|_| AppError::not_found("This adverse event"))?;
    submit_as_viewer(&state, &viewer, Command::ReviewAdverseEvent { adverse_event, note: form.note.trim().to_owned() }).await?;
    Ok(Redirect::to(&format!("/adverse-events/{id}")).into_response())
}
