//! The HL7 FHIR R4 API under `/fhir`: capability statement, read, search with
//! paging, and `Patient/{id}/$everything`, over the records of the sites the
//! token's owner may see. Mapping to FHIR lives in `celltrace-fhir`; this
//! module authenticates, filters by site, records patient reads and answers.

use crate::routes::{Access, Route};
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use celltrace_domain::access::{staff_allows, Permission};
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::{CommandId, PersonId, SiteId};
use celltrace_domain::model::{ResponseSource, Staff};
use celltrace_domain::time::Timestamp;
use celltrace_domain::State as DomainState;
use celltrace_fhir::{IssueSeverity, IssueType, ResourceType, SearchParams};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every FHIR route.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/fhir/metadata", Access::Public, metadata),
        Route::get("/fhir/Patient/{id}/$everything", Access::Token, everything),
        Route::get("/fhir/{resource_type}", Access::Token, search),
        Route::get("/fhir/{resource_type}/{id}", Access::Token, read),
    ]
}

fn fhir_json(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/fhir+json; charset=utf-8")], body.to_string()).into_response()
}

fn outcome(status: StatusCode, code: IssueType, diagnostics: &str) -> Response {
    let severity = if status.is_server_error() { IssueSeverity::Fatal } else { IssueSeverity::Error };
    fhir_json(status, &celltrace_fhir::operation_outcome(severity, code, diagnostics))
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!("fhir storage: {e}");
    outcome(StatusCode::SERVICE_UNAVAILABLE, IssueType::Exception, "The database is not reachable right now; try again.")
}

/// The base URL resources link to, from the request's Host (and proxy scheme).
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let scheme = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).unwrap_or("http");
    format!("{scheme}://{host}/fhir")
}

async fn metadata(headers: HeaderMap) -> Response {
    fhir_json(StatusCode::OK, &celltrace_fhir::capability_statement(&base_url(&headers)))
}

/// The token's owner and the sites whose patient records they may read.
struct Reader {
    staff: Staff,
    sites: BTreeSet<SiteId>,
}

async fn reader(state: &AppState, headers: &HeaderMap) -> Result<Reader, Response> {
    let token = crate::auth::bearer_token(headers).ok_or_else(|| {
            outcome(StatusCode::UNAUTHORIZED, IssueType::Login, "Send an API token as 'Authorization: Bearer TOKEN'; an administrator creates one with 'celltrace token create'.")
        })?;
    let staff = match state.reader().staff_for_token(token, celltrace_domain::time::Timestamp(crate::now_micros())).await {
        Ok(Some(staff)) => staff,
        Ok(None) => return Err(outcome(StatusCode::UNAUTHORIZED, IssueType::Login, "This API token is unknown, revoked or expired, or its owner's account is deactivated.")),
        Err(e) => return Err(unavailable(e)),
    };
    let sites: BTreeSet<SiteId> =
        staff.memberships.iter().map(|m| m.site.clone()).filter(|site| staff_allows(&staff, site, Permission::ViewPatients)).collect();
    if sites.is_empty() {
        return Err(outcome(StatusCode::FORBIDDEN, IssueType::Forbidden, "The token's account may not read patient records at any site."));
    }
    Ok(Reader { staff, sites })
}

/// The part of the state `reader` may see: people, plans and adverse events
/// of their sites, and the units those people gave or received. Sites, staff
/// and catalogue entries are not patient data and stay whole.
fn visible(state: DomainState, reader: &Reader) -> DomainState {
    let mut out = state;
    out.persons.retain(|_, p| reader.sites.contains(&p.site));
    out.plans.retain(|_, p| reader.sites.contains(&p.site));
    out.adverse_events.retain(|_, a| reader.sites.contains(&a.site));
    let persons: BTreeSet<PersonId> = out.persons.keys().cloned().collect();
    let plans: BTreeSet<celltrace_domain::ids::PlanId> = out.plans.keys().cloned().collect();
    out.units.retain(|_, u| {
        reader.sites.contains(&u.site) || persons.contains(&u.source_person) || u.allocated_to.as_ref().is_some_and(|p| plans.contains(p))
    });
    out
}

fn questionnaire_defs() -> Vec<celltrace_fhir::QuestionnaireDef> {
    let Ok(instruments) = crate::kit::questionnaires::instruments() else { return Vec::new() };
    instruments
        .values()
        .map(|i| celltrace_fhir::QuestionnaireDef {
            id: i.id.clone(),
            title: i.name.clone(),
            version: i.version.clone(),
            loinc_panel: i.loinc_panel.clone(),
            items: i
                .items
                .iter()
                .map(|item| celltrace_fhir::QuestionnaireItem {
                    link_id: item.id.clone(),
                    text: item.text.clone(),
                    loinc: item.loinc.clone(),
                    options: item.options.iter().map(|o| celltrace_fhir::AnswerOptionDef { value: o.value, label: o.label.clone() }).collect(),
                })
                .collect(),
        })
        .collect()
}

fn questionnaire_responses(state: &DomainState) -> Vec<Value> {
    let defs = questionnaire_defs();
    state
        .plans
        .values()
        .flat_map(|plan| plan.responses.iter().map(move |r| (plan, r)))
        .filter_map(|(plan, r)| {
            let def = defs.iter().find(|d| d.id == r.instrument)?;
            let author = match &r.source {
                ResponseSource::Portal => Actor::Patient(plan.patient.clone()),
                ResponseSource::Paper(staff) => Actor::Staff(staff.clone()),
            };
            let input = celltrace_fhir::ResponseInput { id: r.id.to_string(), patient: plan.patient.clone(), author, authored: r.at, answers: r.answers.clone() };
            Some(celltrace_fhir::questionnaire_response(def, &input))
        })
        .collect()
}

/// Provenance of every ledger entry that concerns a resource `state` holds.
async fn provenances(state: &AppState, visible: &DomainState) -> Result<Vec<Value>, Response> {
    // Built once: testing each entry's targets by building resources would
    // make the walk over the ledger quadratic.
    let visible_ids: BTreeSet<(ResourceType, String)> = ResourceType::ALL
        .into_iter()
        .flat_map(|rt| {
            celltrace_fhir::resources_of_type(visible, rt).into_iter().filter_map(move |r| Some((rt, r.get("id")?.as_str()?.to_owned())))
        })
        .collect();
    let mut out = Vec::new();
    let mut from = 1;
    loop {
        let entries = state.reader().entries(from, 1000).await.map_err(unavailable)?;
        let Some((last, _)) = entries.last() else { break };
        from = last.seq + 1;
        for (entry, _) in &entries {
            let Ok(event) = serde_json::from_slice::<celltrace_domain::Event>(&entry.record.payload) else { continue };
            let targets: Vec<celltrace_fhir::TargetRef> = celltrace_fhir::event_targets(&event)
                .into_iter()
                .filter(|t| visible_ids.contains(&(t.resource_type, celltrace_fhir::fhir_id(&t.id))))
                .collect();
            if targets.is_empty() {
                continue;
            }
            let actor = parse_actor(&entry.record.actor);
            let actor_name = match &actor {
                Actor::Staff(id) => visible.staff.get(id.as_str()).map(|s| s.name.clone()),
                Actor::Patient(id) => visible.persons.get(id.as_str()).map(|p| p.name.clone()),
                Actor::System(_) => None,
            };
            let ledger_entry = celltrace_fhir::LedgerEntry {
                seq: entry.seq,
                hash: celltrace_ledger::to_hex(&entry.hash),
                recorded_at: Timestamp(entry.record.recorded_at),
                actor,
                actor_name,
                site: SiteId::parse(&entry.record.site).ok(),
                kind: entry.record.kind.clone(),
                targets,
                signatures: celltrace_fhir::event_signatures(&event),
            };
            out.extend(celltrace_fhir::provenance(&ledger_entry));
        }
        if entries.len() < 1000 {
            break;
        }
    }
    Ok(out)
}

fn parse_actor(ledger_name: &str) -> Actor {
    match ledger_name.split_once(':') {
        Some(("staff", id)) => id.parse().map(Actor::Staff).unwrap_or_else(|_| Actor::System(ledger_name.to_owned())),
        Some(("patient", id)) => id.parse().map(Actor::Patient).unwrap_or_else(|_| Actor::System(ledger_name.to_owned())),
        Some((_, name)) => Actor::System(name.to_owned()),
        None => Actor::System(ledger_name.to_owned()),
    }
}

/// Every resource of `resource_type` the reader may see.
async fn resources(state: &AppState, visible: &DomainState, resource_type: ResourceType) -> Result<Vec<Value>, Response> {
    Ok(match resource_type {
        ResourceType::Questionnaire => questionnaire_defs().iter().map(celltrace_fhir::questionnaire).collect(),
        ResourceType::QuestionnaireResponse => questionnaire_responses(visible),
        ResourceType::Provenance => provenances(state, visible).await?,
        other => celltrace_fhir::resources_of_type(visible, other),
    })
}

/// Patients a set of resources is about: their reads go into the audit trail.
fn patients_in(resources: &[Value]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in resources {
        if r.get("resourceType").and_then(Value::as_str) == Some("Patient") {
            out.extend(r.get("id").and_then(Value::as_str).map(str::to_owned));
        }
        for field in ["subject", "patient"] {
            let reference = r.get(field).and_then(|v| v.get("reference")).and_then(Value::as_str);
            out.extend(reference.and_then(|s| s.strip_prefix("Patient/")).map(str::to_owned));
        }
    }
    out
}

async fn record_reads(state: &AppState, reader: &Reader, visible: &DomainState, resources: &[Value], view: &str) -> Result<(), Response> {
    for fhir_id in patients_in(resources) {
        // FHIR ids equal celltrace ids except where mapped; only recorded people count.
        let Some(person) = visible.persons.values().find(|p| celltrace_fhir::fhir_id(p.id.as_str()) == fhir_id) else { continue };
        let id = CommandId::parse(&uuid::Uuid::now_v7().to_string()).map_err(|e| outcome(StatusCode::INTERNAL_SERVER_ERROR, IssueType::Exception, &e.to_string()))?;
        let submission = Submission {
            id,
            actor: Actor::Staff(reader.staff.id.clone()),
            site: person.site.clone(),
            at: Timestamp(crate::now_micros()),
            command: Command::RecordRecordViewed { person: person.id.clone(), view: format!("FHIR {view}"), via_unit: None },
        };
        state.engine.submit(submission).await.map_err(|e| outcome(StatusCode::SERVICE_UNAVAILABLE, IssueType::Exception, &e.to_string()))?;
    }
    Ok(())
}

async fn loaded(state: &AppState, headers: &HeaderMap) -> Result<(Reader, DomainState), Response> {
    let reader = reader(state, headers).await?;
    let whole = state.db().load_state().await.map_err(unavailable)?;
    let visible = visible(whole, &reader);
    Ok((reader, visible))
}

fn resource_type(segment: &str) -> Result<ResourceType, Response> {
    ResourceType::parse(segment).ok_or_else(|| {
        let known: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
        outcome(StatusCode::NOT_FOUND, IssueType::NotSupported, &format!("celltrace serves no resource type '{segment}'; it serves {}.", known.join(", ")))
    })
}

async fn search(State(state): State<AppState>, headers: HeaderMap, Path(segment): Path<String>, RawQuery(query): RawQuery) -> Response {
    let resource_type = match resource_type(&segment) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let (reader, visible) = match loaded(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let pairs: Vec<(String, String)> = query.as_deref().map(form_pairs).unwrap_or_default();
    let params = match SearchParams::parse(resource_type, pairs) {
        Ok(p) => p,
        Err(e) => return fhir_json(StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST), &e.operation_outcome()),
    };
    let all = match resources(&state, &visible, resource_type).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let page = celltrace_fhir::search(&params, all);
    if let Err(r) = record_reads(&state, &reader, &visible, &page.resources, resource_type.as_str()).await {
        return r;
    }
    fhir_json(StatusCode::OK, &celltrace_fhir::searchset(&base_url(&headers), &params, page))
}

/// Query pairs, percent-decoded (`+` is a space, as in forms).
fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], escaped) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn read(State(state): State<AppState>, headers: HeaderMap, Path((segment, id)): Path<(String, String)>) -> Response {
    let resource_type = match resource_type(&segment) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let (reader, visible) = match loaded(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let found = match resource_type {
        ResourceType::Questionnaire | ResourceType::QuestionnaireResponse | ResourceType::Provenance => {
            match resources(&state, &visible, resource_type).await {
                Ok(all) => all.into_iter().find(|r| r.get("id").and_then(Value::as_str) == Some(id.as_str())),
                Err(r) => return r,
            }
        }
        other => celltrace_fhir::read(&visible, other, &id),
    };
    let Some(resource) = found else {
        return outcome(StatusCode::NOT_FOUND, IssueType::NotFound, &format!("{segment}/{id} is not found, or not at a site this token may read."));
    };
    if let Err(r) = record_reads(&state, &reader, &visible, std::slice::from_ref(&resource), resource_type.as_str()).await {
        return r;
    }
    fhir_json(StatusCode::OK, &resource)
}

async fn everything(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (reader, visible) = match loaded(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(person) = visible.persons.values().find(|p| celltrace_fhir::fhir_id(p.id.as_str()) == id).cloned() else {
        return outcome(StatusCode::NOT_FOUND, IssueType::NotFound, &format!("Patient/{id} is not found, or not at a site this token may read."));
    };
    let mut bundle = celltrace_fhir::everything(&visible, &person, &base_url(&headers));
    // The compartment also holds the patient's questionnaire answers.
    let target = format!("Patient/{}", celltrace_fhir::fhir_id(person.id.as_str()));
    let extra: Vec<Value> = questionnaire_responses(&visible)
        .into_iter()
        .filter(|r| r.get("subject").and_then(|s| s.get("reference")).and_then(Value::as_str) == Some(target.as_str()))
        .collect();
    if let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) {
        let base = base_url(&headers);
        for r in extra {
            let full_url = format!("{base}/QuestionnaireResponse/{}", r.get("id").and_then(Value::as_str).unwrap_or_default());
            entries.push(serde_json::json!({ "fullUrl": full_url, "resource": r, "search": { "mode": "match" } }));
        }
        let total = entries.len();
        bundle["total"] = Value::from(total);
    }
    if let Err(r) = record_reads(&state, &reader, &visible, std::slice::from_ref(&celltrace_fhir::patient(&visible, &person)), "$everything").await {
        return r;
    }
    fhir_json(StatusCode::OK, &bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_decoded() {
        assert_eq!(form_pairs("patient=p-1&date=ge2026-01-01&_count=5"), vec![("patient".into(), "p-1".into()), ("date".into(), "ge2026-01-01".into()), ("_count".into(), "5".into())]);
        assert_eq!(form_pairs("identifier=urn%3Aoid%7CA+B&x"), vec![("identifier".into(), "urn:oid|A B".into()), ("x".into(), String::new())]);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn ledger_actor_names_parse_back() {
        assert_eq!(parse_actor("staff:dr.haddad"), Actor::Staff("dr.haddad".parse().expect("id")));
        assert_eq!(parse_actor("patient:p-1"), Actor::Patient("p-1".parse().expect("id")));
        assert_eq!(parse_actor("system:cli"), Actor::System("cli".into()));
    }
}
