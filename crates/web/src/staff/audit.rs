//! The audit trail of one record: every ledger entry that concerns it,
//! newest first, a page at a time (`?before=` the oldest entry shown), and
//! as CSV with each entry's full hash and payload for inspectors. Site rules:
//! a record shows only at the site that holds it, and the trail of a
//! patient's record (the person, their plans and adverse events) only to
//! staff who may see patient records, and opening it is a recorded read.
//! Also how an entry is described in words, for the timeline and ledger.

use crate::auth::{Can, ViewAudit, Viewer};
use crate::error::AppError;
use crate::kit::layout::{when, Layout};
use crate::kit::records::{record_view, render, site_person, site_plan, site_unit};
use crate::routes::{Access, Route};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::ids::PersonId;
use celltrace_domain::model::AdverseEvent;
use celltrace_domain::time::Timestamp;
use celltrace_domain::{EntityKey, EntityKind, Event};
use celltrace_ledger::Entry;
use celltrace_store::read::MAX_PAGE;
use serde::Deserialize;

/// The audit trail of any record.
pub fn routes() -> Vec<Route> {
    vec![Route::get("/audit/{kind}/{id}", Access::Staff(Permission::ViewAudit), audit)]
}

/// Entries of one page of a trail.
const TRAIL_PAGE: u32 = 50;

/// An entry in words, for lists.
pub fn describe_event(payload: &[u8]) -> String {
    match serde_json::from_slice::<Event>(payload) {
        Ok(event) => match &event {
            Event::PlanCreated { plan } => format!("Plan {} created ({:?})", plan.id, plan.status),
            Event::EligibilityAssessed { assessment, .. } => format!("Eligibility assessed: {}", if assessment.eligible() { "eligible" } else { "NOT eligible" }),
            Event::ConsentRecorded { consent, .. } => format!("Consent signed ({} v{})", consent.template, consent.template_version),
            Event::ConsentWithdrawn { withdrawal, .. } => format!("Consent WITHDRAWN: {}", withdrawal.reason),
            Event::CollectionRecorded { unit, tissue, .. } => format!("Collected {:?}: unit {} {}", tissue, unit.din, unit.product_code),
            Event::UnitReleased { exceptional, .. } => if *exceptional { "Unit released EXCEPTIONALLY".into() } else { "Unit released by QA".into() },
            Event::UnitAdministered { administration, .. } => format!("Administered {} at {}", administration.dose, administration.body_site),
            Event::FollowUpRecorded { follow_up, .. } => format!("Follow-up {} {}: {}", follow_up.time_point, follow_up.instrument, follow_up.score_milli.map(|s| format!("{}", s as f64 / 1000.0)).unwrap_or_default()),
            Event::AdverseEventReported { adverse_event } => format!("Adverse event: {} grade {}", adverse_event.term, adverse_event.grade),
            Event::RecordViewed { view, .. } => format!("Record viewed ({view})"),
            other => other.kind().replace('_', " "),
        },
        // `celltrace verify` names such an entry; the list says so rather than hide it.
        Err(_) => "unreadable entry".to_owned(),
    }
}

/// One ledger entry in a list: number, time, what and who.
pub struct TimelineRow {
    pub seq: u64,
    pub when: String,
    pub what: String,
    pub who: String,
    pub site: String,
}

impl TimelineRow {
    /// The row of `entry`.
    pub fn of(entry: &Entry) -> TimelineRow {
        TimelineRow {
            seq: entry.seq,
            when: when(Timestamp(entry.record.recorded_at)),
            what: describe_event(&entry.record.payload),
            who: entry.record.actor.clone(),
            site: entry.record.site.clone(),
        }
    }
}

struct AuditRow {
    seq: u64,
    when: String,
    who: String,
    site: String,
    what: String,
    payload: String,
    hash: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Option<Layout>,
    subject: String,
    path: String,
    entries: Vec<AuditRow>,
    next: Option<String>,
    first_page: bool,
}

/// `?before=&format=` of an audit trail.
#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    before: Option<u64>,
    #[serde(default)]
    format: Option<String>,
}

/// Whether the viewer may open the trail of `key`; the patient whose record
/// it is, when it is one, so the read can be recorded.
async fn open(state: &AppState, viewer: &Viewer, key: &EntityKey) -> Result<Option<PersonId>, AppError> {
    let patients_only = || {
        if viewer.can(Permission::ViewPatients) {
            Ok(())
        } else {
            Err(AppError::forbidden("A patient's audit trail shows their clinical record: it is open only to staff who may see patient records at this site."))
        }
    };
    match key.kind {
        EntityKind::Person => {
            patients_only()?;
            Ok(Some(site_person(state, viewer, &key.id).await?.id))
        }
        EntityKind::Plan => {
            patients_only()?;
            Ok(Some(site_plan(state, viewer, &key.id).await?.patient))
        }
        EntityKind::AdverseEvent => {
            patients_only()?;
            match state.reader().get::<AdverseEvent>(&key.id).await? {
                Some(a) if a.site == viewer.site.id => Ok(Some(a.patient)),
                _ => Err(AppError::not_found("This adverse event")),
            }
        }
        EntityKind::Unit => site_unit(state, viewer, &key.id).await.map(|_| None),
        // Sites, staff, shipments, the catalogue, tokens and grants: records
        // of this site, or of the whole deployment.
        _ => match state.reader().entity(key).await? {
            Some(row) if row.site == viewer.site.id.as_str() || row.site == "all" => Ok(None),
            _ => Err(AppError::not_found("This record")),
        },
    }
}

fn csv_row(entry: &Entry, command: &str) -> Vec<String> {
    vec![
        entry.seq.to_string(),
        when(Timestamp(entry.record.recorded_at)),
        entry.record.actor.clone(),
        entry.record.site.clone(),
        entry.record.kind.clone(),
        describe_event(&entry.record.payload),
        command.to_owned(),
        celltrace_ledger::to_hex(&entry.hash),
        String::from_utf8_lossy(&entry.record.payload).into_owned(),
    ]
}

/// The whole trail as CSV, newest first, streamed a page at a time.
fn trail_csv(state: AppState, key: EntityKey) -> Response {
    let name = format!("audit-{}-{}.csv", key.kind.as_str(), key.id);
    let pages = futures_util::stream::unfold(Some(None), move |before: Option<Option<u64>>| {
        let (state, key) = (state.clone(), key.clone());
        async move {
            let before = before?;
            Some(match state.reader().trail_page(std::slice::from_ref(&key), before, MAX_PAGE).await {
                Ok(page) => (Ok(page.entries.iter().map(|(e, c)| csv_row(e, c)).collect()), page.next_before.map(Some)),
                Err(e) => (Err(AppError::from(e)), None),
            })
        }
    });
    crate::kit::csv::stream(&name, &["entry", "recorded_at_utc", "actor", "site", "kind", "what", "command", "hash", "payload"], pages)
}

async fn audit(State(state): State<AppState>, Can { viewer, .. }: Can<ViewAudit>, Path((kind, id)): Path<(String, String)>, Query(query): Query<AuditQuery>) -> Result<Response, AppError> {
    let kind = EntityKind::parse(&kind).ok_or_else(|| AppError::not_found("This kind of record"))?;
    let key = EntityKey::new(kind, &id);
    if let Some(patient) = open(&state, &viewer, &key).await? {
        // Reading a patient's audit trail is reading their record.
        record_view(&state, &viewer, &patient, &format!("audit trail of {key}")).await?;
    }
    if query.format.as_deref() == Some("csv") {
        return Ok(trail_csv(state, key));
    }
    let page = state.reader().trail_page(std::slice::from_ref(&key), query.before, TRAIL_PAGE).await?;
    let path = format!("/audit/{}/{}", key.kind.as_str(), crate::staff::patients::url_encode(&key.id));
    let entries = page
        .entries
        .iter()
        .map(|(e, _)| {
            // Payloads are stored as the engine wrote them (JSON); shown pretty when they parse, as stored when not.
            let payload = match serde_json::from_slice::<serde_json::Value>(&e.record.payload) {
                Ok(value) => serde_json::to_string_pretty(&value).map_err(AppError::internal)?,
                Err(_) => String::from_utf8_lossy(&e.record.payload).into_owned(),
            };
            Ok(AuditRow {
                seq: e.seq,
                when: when(Timestamp(e.record.recorded_at)),
                who: e.record.actor.clone(),
                site: e.record.site.clone(),
                what: describe_event(&e.record.payload),
                payload,
                hash: celltrace_ledger::to_hex(&e.hash).chars().take(16).collect(),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    render(&AuditPage {
        layout: Some(Layout::new(&viewer, "ledger")),
        subject: key.to_string(),
        next: page.next_before.map(|before| format!("{path}?before={before}")),
        path,
        entries,
        first_page: query.before.is_none(),
    })
}
