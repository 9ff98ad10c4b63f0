//! `GET /fhir/{type}?…`: a search runs as its [`Strategy`] says — record
//! lists of the requester's sites (or of the patients named) read page by
//! page with a keyset cursor, `Bundle.total` from a count of the same index
//! ranges; or lookups by id or identifier, filtered by the rest of the
//! search. Nothing is cut silently: a full page links to the next.

use super::read::find;
use super::records::{by_record_id, context_for, list_page, questionnaire_defs, record_reads, resource_of, visible, Entity, Row};
use super::{base_url, fhir_json, form_pairs, provenance, resource_type, search_error, Requester};
use crate::error::AppError;
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use celltrace_domain::ids::{PersonId, SiteId};
use celltrace_domain::index::{code_key, records_value, Index, RecordKind};
use celltrace_fhir::{Lists, Lookup, PageCursor, ResourceType, Scope, SearchError, SearchParams, Strategy};
use celltrace_store::read::RecordRange;
use serde_json::Value;
use std::collections::BTreeSet;

/// The cursor list of lookups (their results are few and sorted by id).
const LOOKUP: &str = "lookup";

/// One page of a search: the resources, the total when counted, where the
/// next page starts, and the patients whose records it shows.
#[derive(Debug, Default)]
pub struct Found {
    /// The resources of the page.
    pub resources: Vec<Value>,
    /// How many resources match in all, when counted.
    pub total: Option<u64>,
    /// The next page, if there is one.
    pub next: Option<PageCursor>,
    /// Patients whose records the page shows (recorded reads).
    pub subjects: BTreeSet<PersonId>,
}

fn bad_cursor() -> AppError {
    search_error(SearchError::InvalidCursor)
}

/// One search.
pub async fn search(State(state): State<AppState>, requester: Requester, Path(segment): Path<String>, RawQuery(query): RawQuery) -> Result<Response, AppError> {
    let rt = resource_type(&segment)?;
    let params = SearchParams::parse(rt, form_pairs(query.as_deref().unwrap_or(""))).map_err(search_error)?;
    let cursor = params.cursor.as_deref().map(|c| PageCursor::decode(c).ok_or_else(bad_cursor)).transpose()?;
    let cursor = cursor.as_ref();
    let count = params.count;
    let found = match params.strategy() {
        Strategy::Nothing => Found { total: Some(0), ..Found::default() },
        Strategy::Ids { ids, filter } => {
            let resources = match rt {
                ResourceType::Questionnaire => questionnaires()?.into_iter().filter(|q| ids.iter().any(|id| q["id"] == id.as_str())).map(|q| (q, None)).collect(),
                ResourceType::Provenance => {
                    let mut out = Vec::new();
                    for id in &ids {
                        out.extend(provenance::read(&state, &requester, id).await?.map(|p| (p, None)));
                    }
                    out
                }
                _ => {
                    let mut rows = Vec::new();
                    for id in &ids {
                        rows.extend(find(&state, &requester, rt, id).await?);
                    }
                    resources_of_rows(&state, &requester, rows).await?
                }
            };
            in_memory(resources, &filter, count, cursor)?
        }
        Strategy::Identifiers { lookups, filter } => {
            let rows = lookup_rows(&state, &requester, &lookups).await?;
            in_memory(resources_of_rows(&state, &requester, rows).await?, &filter, count, cursor)?
        }
        Strategy::Lists(lists) => lists_page(&state, &requester, &lists, count, cursor).await?,
        Strategy::Ledger { patients } if patients.is_empty() => provenance::of_sites(&state, &requester, count, cursor).await?,
        Strategy::Ledger { patients } => provenance::of_patients(&state, &requester, &patients, count, cursor).await?,
        Strategy::Questionnaires { filter } => in_memory(questionnaires()?.into_iter().map(|q| (q, None)).collect(), &filter, count, cursor)?,
    };
    record_reads(&state, &requester, found.subjects, rt.as_str()).await?;
    Ok(fhir_json(&celltrace_fhir::searchset(&base_url(&state), &params, found.resources, found.total, found.next.as_ref())))
}

fn questionnaires() -> Result<Vec<Value>, AppError> {
    Ok(questionnaire_defs()?.iter().map(celltrace_fhir::questionnaire).collect())
}

/// The resources of rows, with the patient each is about.
async fn resources_of_rows(state: &AppState, requester: &Requester, rows: Vec<Row>) -> Result<Vec<(Value, Option<PersonId>)>, AppError> {
    let ctx = context_for(state, requester, rows.iter().map(|r| &r.entity)).await?;
    Ok(rows.iter().filter_map(|row| resource_of(row, &ctx).map(|r| (r, celltrace_fhir::subject_of(row.kind, row.entity.holder())))).collect())
}

/// The records identifiers name, that the requester may see.
async fn lookup_rows(state: &AppState, requester: &Requester, lookups: &[Lookup]) -> Result<Vec<Row>, AppError> {
    let reader = state.reader();
    let mut rows = Vec::new();
    for lookup in lookups {
        match lookup {
            Lookup::Record { kinds, id } => {
                for kind in kinds {
                    rows.extend(by_record_id(reader, *kind, id).await?);
                }
            }
            Lookup::Mrn { site, mrn } => {
                let sites: Vec<&SiteId> = match site {
                    Some(named) => requester.sites.iter().filter(|s| s.as_str() == named).collect(),
                    None => requester.sites.iter().collect(),
                };
                for site in sites {
                    rows.extend(reader.person_by_mrn(site.as_str(), mrn).await?.map(|p| Row::whole(RecordKind::Person, Entity::Person(p))));
                }
            }
            Lookup::Unit { din, product_code } => {
                let units = reader.units_by_din(din).await?;
                let wanted = |code: &str| product_code.as_deref().is_none_or(|c| code_key(c) == code_key(code));
                rows.extend(units.into_iter().filter(|u| wanted(&u.product_code)).map(|u| Row::whole(RecordKind::Unit, Entity::Unit(u))));
            }
            Lookup::Fin(fin) => {
                let sites = reader.sites().await?;
                rows.extend(sites.into_iter().filter(|s| code_key(&s.fin) == code_key(fin)).map(|s| Row::whole(RecordKind::Site, Entity::Site(s))));
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for row in rows {
        if seen.insert((row.kind, row.record_id.clone())) && visible(state, requester, &row.entity).await? {
            out.push(row);
        }
    }
    Ok(out)
}

/// A page of a few resources found by lookup: those the rest of the search
/// matches, by id, after the cursor's id.
fn in_memory(found: Vec<(Value, Option<PersonId>)>, filter: &SearchParams, count: usize, cursor: Option<&PageCursor>) -> Result<Found, AppError> {
    let after = match cursor {
        None => None,
        Some(c) if c.list == LOOKUP => Some(c.id.as_str()),
        Some(_) => return Err(bad_cursor()),
    };
    let id = |r: &Value| r.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut matched: Vec<(String, Value, Option<PersonId>)> = found.into_iter().filter(|(r, _)| filter.matches(r)).map(|(r, p)| (id(&r), r, p)).collect();
    matched.sort_by(|a, b| a.0.cmp(&b.0));
    matched.dedup_by(|a, b| a.0 == b.0);
    let total = matched.len() as u64;
    let rest: Vec<_> = matched.into_iter().filter(|(i, _, _)| after.is_none_or(|a| i.as_str() > a)).collect();
    let more = rest.len() > count;
    let page: Vec<_> = rest.into_iter().take(count).collect();
    let next = if more { page.last().map(|(i, _, _)| PageCursor { list: LOOKUP.into(), sort: String::new(), id: i.clone() }) } else { None };
    Ok(Found {
        subjects: page.iter().filter_map(|(_, _, p)| p.clone()).collect(),
        resources: page.into_iter().map(|(_, r, _)| r).collect(),
        total: Some(total),
        next,
    })
}

/// The lists a search reads, in order: for each scope (site, patient or
/// `all`), each list of the type.
async fn segments(state: &AppState, requester: &Requester, lists: &Lists) -> Result<Vec<(RecordKind, RecordRange)>, AppError> {
    let scopes: Vec<(Index, String)> = match &lists.scope {
        Scope::Sites => requester.sites.iter().map(|s| (Index::Records, s.to_string())).collect(),
        Scope::All => vec![(Index::Records, "all".to_owned())],
        Scope::Patients(ids) => {
            let mut people = BTreeSet::new();
            for id in ids {
                people.extend(find(state, requester, ResourceType::Patient, id).await?.into_iter().map(|row| row.entity.id().to_owned()));
            }
            people.into_iter().map(|p| (Index::PersonRecords, p)).collect()
        }
    };
    Ok(scopes
        .iter()
        .flat_map(|(index, key)| {
            lists.lists.iter().map(move |l| {
                (l.record, RecordRange { index: *index, value: records_value(key, l.record, l.status), from: lists.from.clone(), to: lists.to.clone() })
            })
        })
        .collect())
}

/// A page of record lists read one after the other from the cursor, with
/// the total of all of them.
async fn lists_page(state: &AppState, requester: &Requester, lists: &Lists, count: usize, cursor: Option<&PageCursor>) -> Result<Found, AppError> {
    let reader = state.reader();
    let segments = segments(state, requester, lists).await?;
    let mut counts = Vec::with_capacity(segments.len());
    for (_, range) in &segments {
        counts.push(reader.record_count(range).await?);
    }
    let total = counts.iter().sum();
    let (start, mut after) = match cursor {
        None => (0, None),
        Some(c) => {
            let i = segments.iter().position(|(_, r)| r.value == c.list).ok_or_else(bad_cursor)?;
            (i, (!c.sort.is_empty()).then(|| (c.sort.clone(), c.id.clone())))
        }
    };
    let nonempty_from = |i: usize| (i..segments.len()).find(|j| counts[*j] > 0);
    let mut rows: Vec<Row> = Vec::new();
    let mut next = None;
    let mut i = start;
    // `_count=0` asks for the total alone.
    while count > rows.len() {
        let Some(current) = nonempty_from(i) else { break };
        if current != i {
            after = None;
        }
        let (kind, range) = &segments[current];
        let need = u32::try_from(count - rows.len()).map_err(AppError::internal)?;
        let (page, more) = list_page(reader, *kind, range, after.as_ref().map(|(s, id)| (s.as_str(), id.as_str())), need).await?;
        rows.extend(page);
        if rows.len() == count {
            next = match (more, rows.last()) {
                (true, Some(last)) => Some(PageCursor { list: range.value.clone(), sort: last.sort.clone(), id: last.entity.id().to_owned() }),
                _ => nonempty_from(current + 1).map(|j| PageCursor::start_of(&segments[j].1.value)),
            };
            break;
        }
        after = None;
        i = current + 1;
    }
    let found = resources_of_rows(state, requester, rows).await?;
    Ok(Found { subjects: found.iter().filter_map(|(_, p)| p.clone()).collect(), resources: found.into_iter().map(|(r, _)| r).collect(), total: Some(total), next })
}
