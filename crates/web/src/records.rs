//! Pages that read across many records: the batch record of a donation and
//! adverse event reports.

use crate::routes::{Access, Route};
use celltrace_domain::access::Permission;
use crate::auth::{self, Can, ViewUnits};
use crate::view::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use celltrace_domain::model::Unit;

/// The routes of these pages.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/units/{id}/batch", Access::Staff(Permission::ViewUnits), batch_page),
        Route::get("/adverse-events/{id}", Access::Staff(Permission::ViewPatients), adverse_event_report),
        Route::post("/adverse-events/{id}/review", Access::Staff(Permission::ViewPatients), review_adverse_event),
    ]
}

fn page<T: Template>(t: T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &format!("The page could not be shown: {e}")),
    }
}

#[derive(Template)]
#[template(path = "batch.html")]
struct BatchPage {
    layout: Option<Layout>,
    din: String,
    rows: Vec<(String, String, String, String)>,
}

async fn batch_page(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Response {
    let db = state.db();
    let unit: Unit = match db.reader().get::<Unit>(&id).await {
        Ok(Some(u)) if u.site == viewer.site.id => u,
        Ok(_) => return auth::refusal(StatusCode::NOT_FOUND, "This unit is not at your site."),
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    let family: Vec<Unit> = match crate::pages::unit_family(&state, &unit).await {
        Ok(f) => f,
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    let mut rows = Vec::new();
    let mut seen_steps = std::collections::BTreeSet::new();
    for u in &family {
        if u.parents.is_empty() {
            rows.push((u.created_at, "Collection".to_owned(), String::new(), format!("{} {} · {}", u.din, u.product_code, u.quantity)));
        }
        for s in &u.steps {
            if seen_steps.insert(s.id.clone()) {
                let made: Vec<String> = family.iter().filter(|c| c.steps.iter().any(|x| x.id == s.id) && !c.parents.is_empty() && c.steps.first().is_some_and(|x| x.id == s.id)).map(|c| c.product_code.clone()).collect();
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
    page(BatchPage { layout: Some(Layout::new(&viewer, "units")), din: unit.din.clone(), rows: rows.into_iter().map(|(at, a, b, c)| (when(at), a, b, c)).collect() })
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

async fn adverse_event_report(State(state): State<AppState>, Can { viewer, .. }: Can<crate::auth::ViewPatients>, Path(id): Path<String>) -> Response {
    use celltrace_domain::model::{AdverseEvent, Person, Plan};
    
    let db = state.db();
    let ae: AdverseEvent = match db.reader().get::<AdverseEvent>(&id).await {
        Ok(Some(a)) if a.site == viewer.site.id => a,
        Ok(_) => return auth::refusal(StatusCode::NOT_FOUND, "This adverse event is not at your site."),
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    if let Err(r) = crate::pages::record_view(&state, &viewer, &ae.patient, &format!("adverse event report {id}")).await {
        return r;
    }
    let person: Option<Person> = db.reader().get::<Person>(ae.patient.as_str()).await.unwrap_or(None);
    let plan: Option<Plan> = match &ae.plan {
        Some(p) => db.reader().get::<Plan>(p.as_str()).await.unwrap_or(None),
        None => None,
    };
    let unit_id = ae.unit.clone().or_else(|| plan.as_ref().and_then(|p| p.administrations.last().map(|a| a.unit.clone())));
    let unit: Option<Unit> = match &unit_id {
        Some(u) => db.reader().get::<Unit>(u.as_str()).await.unwrap_or(None),
        None => None,
    };
    let grade_text = state.reference.ctcae().term(&ae.term).and_then(|t| t.grade(ae.grade)).unwrap_or("").to_owned();
    let age = person.as_ref().map(|p| p.date_of_birth.years_until(ae.onset).to_string()).unwrap_or_default();
    let seriousness: Vec<String> = ae.seriousness.iter().map(|s| format!("{s:?}").to_lowercase().replace('_', " ")).collect();
    let rows = vec![
        ("Report", format!("{} at {}, reported {} by {}", ae.id, ae.site, when(ae.reported_at), ae.reported_by)),
        ("Patient", person.as_ref().map(|p| format!("MRN {} · {} · age {age} at onset", p.mrn, format!("{:?}", p.sex).to_lowercase())).unwrap_or_else(|| ae.patient.to_string())),
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
        ("Administration", plan.as_ref().and_then(|p| p.administrations.last()).map(|a| format!("{} {} at {} by {}", when(a.at), a.dose, a.body_site, a.operator)).unwrap_or_default()),
        ("Medical director's review", ae.review.as_ref().map(|(who, at, note)| format!("{who} on {}: {note}", when(*at))).unwrap_or_else(|| "awaiting review".into())),
    ];
    let may_review = ae.review.is_none() && viewer.staff.memberships.iter().any(|m| m.site == viewer.site.id && m.roles.contains(&celltrace_domain::model::Role::MedicalDirector));
    page(AdverseEventReport {
        layout: Some(Layout::new(&viewer, "patients")),
        id: ae.id.to_string(),
        serious: ae.is_serious(),
        rows,
        review_csrf: may_review.then(|| viewer.session.csrf_token.clone()),
    })
}

#[derive(serde::Deserialize)]
struct ReviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// The medical director's review of an adverse event, recorded in the ledger.
async fn review_adverse_event(State(state): State<AppState>, Can { viewer, .. }: Can<crate::auth::ViewPatients>, Path(id): Path<String>, axum::Form(form): axum::Form<ReviewForm>) -> Response {
    use celltrace_domain::command::{Actor, Command, Submission};
    if let Err(r) = viewer.check_csrf(&form.csrf) {
        return r;
    }
    let (Ok(command_id), Ok(adverse_event)) = (celltrace_domain::ids::CommandId::parse(&uuid::Uuid::now_v7().to_string()), id.parse()) else {
        return auth::refusal(StatusCode::NOT_FOUND, "There is no such adverse event.");
    };
    let submission = Submission {
        id: command_id,
        actor: Actor::Staff(viewer.staff.id.clone()),
        site: viewer.site.id.clone(),
        at: celltrace_domain::time::Timestamp(crate::now_micros()),
        command: Command::ReviewAdverseEvent { adverse_event, note: form.note.trim().to_owned() },
    };
    match state.engine.submit(submission).await {
        Ok(_) => axum::response::Redirect::to(&format!("/adverse-events/{id}")).into_response(),
        Err(celltrace_store::SubmitError::Rejected(r)) => auth::refusal(if r.code == "forbidden" { StatusCode::FORBIDDEN } else { StatusCode::UNPROCESSABLE_ENTITY }, &r.message),
        Err(celltrace_store::SubmitError::Store(e)) => auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}
