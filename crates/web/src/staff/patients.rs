//! Patients and donors of the viewer's site: the list (a page at a time,
//! found by name in any script, MRN or patient number; downloadable as CSV,
//! streamed a page at a time) and one person's record with their plans,
//! units and the newest entries of their timeline. Every read of a
//! patient's identity is recorded in the ledger before it is shown.

use crate::auth::{Can, ViewPatients, Viewer};
use crate::error::AppError;
use crate::kit::layout::{when, Item, Layout};
use crate::kit::records::{record_view, render, site_person};
use crate::routes::{Access, Route};
use crate::staff::audit::TimelineRow;
use crate::staff::units::unit_item;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::model::{EvidenceStatus, Person, PersonKind, Plan, PlanStatus, ResponseSource, Unit};
use celltrace_domain::{EntityKey, EntityKind};
use celltrace_store::read::MAX_PAGE;
use serde::Deserialize;

/// The list and the record.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/patients", Access::Staff(Permission::ViewPatients), patients),
        Route::get("/patients/{id}", Access::Staff(Permission::ViewPatients), patient),
    ]
}

/// Rows of a list page.
pub const LIST_PAGE: u32 = 100;
/// Entries of the timeline on a patient's page; the audit page has the rest.
const TIMELINE: u32 = 50;

/// Percent-encodes a query value.
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

struct PersonRow {
    id: String,
    name: String,
    mrn: String,
    dob: String,
    kind: String,
    language: String,
}

#[derive(Template)]
#[template(path = "patients.html")]
struct PatientsPage {
    layout: Option<Layout>,
    can_record: bool,
    site_name: String,
    people: Vec<PersonRow>,
    /// What was searched for.
    q: String,
    /// `patient` or `donor`.
    kind: String,
    /// The next page's address, when there is one.
    next: Option<String>,
    first_page: bool,
}

struct PlanView {
    id: String,
    indication: String,
    product: String,
    status: String,
    status_class: &'static str,
    evidence: String,
    evidence_class: &'static str,
    trial: Option<String>,
    blocked_reason: Option<String>,
    route: String,
    sessions: u32,
    dose: String,
    cost: String,
    lines: Vec<String>,
    /// Forms that fit this plan now.
    links: Vec<(String, &'static str)>,
    /// Blocked as unproven and the patient has not yet signed the warning.
    needs_acknowledgement: bool,
    /// The schedule's questionnaires: what, where it stands, and the paper-entry form when open.
    questionnaires: Vec<(String, String, Option<String>)>,
}

#[derive(Template)]
#[template(path = "patient.html")]
struct PatientPage {
    layout: Option<Layout>,
    id: String,
    name: String,
    mrn: String,
    dob: String,
    sex: String,
    kind: String,
    language: String,
    plans: Vec<PlanView>,
    units: Vec<Item>,
    /// The newest entries concerning the person, their plans and units.
    timeline: Vec<TimelineRow>,
    /// Whether older entries exist (the audit page shows them).
    timeline_continues: bool,
    can_audit: bool,
    can_record: bool,
    csrf: String,
}

/// `?q=&kind=&after=&format=` of the patients list.
#[derive(Debug, Default, Deserialize)]
struct PeopleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: Option<PersonKind>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

fn kind_word(kind: PersonKind) -> &'static str {
    match kind {
        PersonKind::Patient => "patient",
        PersonKind::Donor => "donor",
    }
}

async fn patients(State(state): State<AppState>, Can { viewer, .. }: Can<ViewPatients>, Query(query): Query<PeopleQuery>) -> Result<Response, AppError> {
    let kind = query.kind.unwrap_or(PersonKind::Patient);
    if query.format.as_deref() == Some("csv") {
        return patients_csv(state, viewer, kind, query.q).await;
    }
    let page = state.reader().people(&viewer.site.id, kind, &query.q, query.after.as_deref(), LIST_PAGE).await?;
    let people = page
        .people
        .into_iter()
        .map(|p| PersonRow {
            id: p.id.to_string(),
            name: p.name,
            mrn: p.mrn,
            dob: p.date_of_birth.to_string(),
            kind: kind_word(p.kind).to_owned(),
            language: format!("{:?}", p.language).to_lowercase(),
        })
        .collect();
    let next = page.next.map(|after| format!("/patients?kind={}&q={}&after={}", kind_word(kind), url_encode(&query.q), url_encode(&after)));
    render(&PatientsPage {
        layout: Some(Layout::new(&viewer, "patients")),
        can_record: viewer.can(Permission::RecordClinical),
        site_name: viewer.site.name.clone(),
        people,
        q: query.q.clone(),
        kind: kind_word(kind).to_owned(),
        next,
        first_page: query.after.is_none(),
    })
}

fn person_csv_row(p: &Person) -> Vec<String> {
    vec![
        p.id.to_string(),
        p.mrn.clone(),
        p.name.clone(),
        p.date_of_birth.to_string(),
        kind_word(p.kind).to_owned(),
        format!("{:?}", p.sex).to_lowercase(),
        format!("{:?}", p.language).to_lowercase(),
    ]
}

/// Records the reads of a page of people (one commit for the lot: the
/// engine groups concurrent submissions), then gives their CSV rows.
async fn exported(state: &AppState, viewer: &Viewer, people: &[Person]) -> Result<Vec<Vec<String>>, AppError> {
    let reads = people.iter().map(|p| record_view(state, viewer, &p.id, "patient list exported as CSV"));
    futures_util::future::try_join_all(reads).await?;
    Ok(people.iter().map(person_csv_row).collect())
}

/// The whole list as CSV, streamed a page at a time; every name that
/// leaves in the file is a recorded read, recorded before it is sent.
async fn patients_csv(state: AppState, viewer: Viewer, kind: PersonKind, text: String) -> Result<Response, AppError> {
    let first = state.reader().people(&viewer.site.id, kind, &text, None, MAX_PAGE).await?;
    let first_rows = exported(&state, &viewer, &first.people).await?;
    let filename = format!("patients-{}.csv", viewer.site.id);
    let rest = futures_util::stream::unfold(first.next, move |after| {
        let (state, viewer, text) = (state.clone(), viewer.clone(), text.clone());
        async move {
            let after = after?;
            let page = async {
                let page = state.reader().people(&viewer.site.id, kind, &text, Some(&after), MAX_PAGE).await?;
                Ok::<_, AppError>((exported(&state, &viewer, &page.people).await?, page.next))
            };
            Some(match page.await {
                Ok((rows, next)) => (Ok(rows), next),
                Err(e) => (Err(e), None),
            })
        }
    });
    let pages = futures_util::StreamExt::chain(futures_util::stream::iter([Ok(first_rows)]), rest);
    Ok(crate::kit::csv::stream(&filename, &["person_id", "mrn", "name", "date_of_birth", "kind", "sex", "language"], pages))
}

fn plan_view(viewer: &Viewer, p: &Plan) -> PlanView {
    let mut lines = Vec::new();
    match p.current_eligibility() {
        Some(e) => {
            for c in &e.criteria {
                lines.push(format!("{} {}: {}", if c.met { "✔" } else { "✘" }, c.description, c.detail));
            }
            lines.push(format!("Eligibility valid until {}", e.valid_until.date()));
        }
        None => lines.push("No eligibility assessment yet".into()),
    }
    match p.consents.last() {
        Some(c) => match &c.withdrawn {
            Some(w) => lines.push(format!("Consent withdrawn on {}: {}", w.at.date(), w.reason)),
            None => lines.push(format!("Consent signed {} ({} v{}, {:?})", c.patient_signed_at.date(), c.template, c.template_version, c.language)),
        },
        None => lines.push("No consent yet".into()),
    }
    if let Some(s) = &p.override_signature {
        lines.push(format!("Evidence override signed by {} on {}", s.signer, s.signed_at.date()));
    }
    for a in &p.administrations {
        lines.push(format!("Administered {} on {} ({}), witnessed by {}", a.dose, when(a.at), a.body_site, a.witness));
    }
    let score = |milli: Option<i64>| milli.map(|m| format!("{}", m as f64 / 1000.0)).unwrap_or_else(|| "not scored".into());
    for r in &p.responses {
        let scores: Vec<String> = r.scores.iter().map(|(name, s)| format!("{name} {}", score(*s))).collect();
        let by = match &r.source {
            ResponseSource::Portal => "by the patient in the portal".to_owned(),
            ResponseSource::Paper(staff) => format!("from paper by {staff}"),
        };
        lines.push(format!("{} {} answered {by} ({:?}): {}", r.time_point, r.instrument, r.language, scores.join(", ")));
    }
    for f in &p.follow_ups {
        lines.push(format!("{} {}: {}", f.time_point, f.instrument, score(f.score_milli)));
    }
    PlanView {
        id: p.id.to_string(),
        indication: format!("{} ({})", p.indication.name, p.indication.icd10),
        product: p.product_type.code().to_owned(),
        status: format!("{:?}", p.status).to_lowercase(),
        status_class: match p.status {
            PlanStatus::Active | PlanStatus::Completed => "ok",
            PlanStatus::Blocked | PlanStatus::Stopped => "stop",
        },
        evidence: format!("{:?}", p.evidence.status).to_lowercase(),
        evidence_class: match p.evidence.status {
            EvidenceStatus::Approved => "ok",
            EvidenceStatus::Investigational => "warn",
            EvidenceStatus::Unproven | EvidenceStatus::ResearchOnly => "stop",
        },
        trial: p.trial.as_ref().map(|t| format!("{} (ethics {})", t.registration, t.ethics_approval)),
        blocked_reason: if p.status == PlanStatus::Blocked { p.blocked_reason.clone() } else { None },
        route: p.route.clone(),
        sessions: p.sessions,
        dose: p.dose.to_string(),
        cost: format!("{:.2} {}", p.cost_quote.minor as f64 / 100.0, p.cost_quote.currency),
        lines,
        links: crate::staff::forms::links::plan_links(viewer, p),
        needs_acknowledgement: p.status == PlanStatus::Blocked && p.evidence.status == EvidenceStatus::Unproven && p.warning_acknowledged_at.is_none(),
        questionnaires: crate::kit::questionnaires::staff_lines(p, viewer.can(Permission::RecordClinical)),
    }
}

async fn patient(State(state): State<AppState>, Can { viewer, .. }: Can<ViewPatients>, Path(id): Path<String>) -> Result<Response, AppError> {
    let person = site_person(&state, &viewer, &id).await?;
    // The read is recorded before the record is shown.
    record_view(&state, &viewer, &person.id, "patient record").await?;
    let reader = state.reader();
    let plans: Vec<Plan> = reader.plans_of(&person.id).await?.into_iter().filter(|p| p.site == viewer.site.id).collect();
    // The person's own material, and the units allocated to their plans.
    let mut units: Vec<Unit> = reader.units_from(&person.id).await?;
    for p in &plans {
        units.extend(reader.units_for_plan(p.id.as_str()).await?.into_iter().filter(|u| u.allocated_to.as_ref() == Some(&p.id)));
    }
    units.sort_by(|a, b| a.id.cmp(&b.id));
    units.dedup_by(|a, b| a.id == b.id);
    let mut records = vec![EntityKey::new(EntityKind::Person, &person.id)];
    records.extend(plans.iter().map(|p| EntityKey::new(EntityKind::Plan, &p.id)));
    records.extend(units.iter().map(|u| EntityKey::new(EntityKind::Unit, &u.id)));
    let newest = reader.trail_page(&records, None, TIMELINE).await?;
    render(&PatientPage {
        layout: Some(Layout::new(&viewer, "patients")),
        id: person.id.to_string(),
        name: person.name.clone(),
        mrn: person.mrn.clone(),
        dob: person.date_of_birth.to_string(),
        sex: format!("{:?}", person.sex).to_lowercase(),
        kind: kind_word(person.kind).to_owned(),
        language: format!("{:?}", person.language).to_lowercase(),
        plans: plans.iter().map(|p| plan_view(&viewer, p)).collect(),
        units: units.iter().map(unit_item).collect(),
        timeline: newest.entries.iter().map(|(e, _)| TimelineRow::of(e)).collect(),
        timeline_continues: newest.next_before.is_some(),
        can_audit: viewer.can(Permission::ViewAudit),
        can_record: viewer.can(Permission::RecordClinical),
        csrf: viewer.session.csrf_token.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::url_encode;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(url_encode("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(url_encode("ليلى"), "%D9%84%D9%8A%D9%84%D9%89");
    }
}
