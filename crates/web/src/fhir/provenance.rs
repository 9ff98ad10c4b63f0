//! Provenance from the ledger: one per entry that concerns a FHIR resource.
//! A token sees the entries recorded at its owner's sites (newest first,
//! by the ledger's site index) and, for `patient=`, the entries of a
//! patient's own audit trail that name them. An entry's event that cannot be
//! decoded is an error, never skipped.

use super::read::find;
use super::search::Found;
use super::Requester;
use crate::error::AppError;
use crate::AppState;
use celltrace_domain::command::Actor;
use celltrace_domain::ids::{PersonId, SiteId, StaffId};
use celltrace_domain::model::{Person, Staff};
use celltrace_domain::time::Timestamp;
use celltrace_domain::{EntityKey, EntityKind, Event};
use celltrace_fhir::{PageCursor, ResourceType, TargetRef};
use celltrace_ledger::Entry;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Ledger entries read per query while filling a page.
const LEDGER_PAGE: u32 = 500;
/// Entries one page may pass over (entries that concern no resource) before
/// it stops and links to the rest.
const MOST_SCANNED: usize = 10_000;

fn actor_of(ledger_name: &str) -> Result<Actor, AppError> {
    let bad = |e: celltrace_domain::ids::IdError| AppError::internal(format!("ledger actor '{ledger_name}': {e}"));
    Ok(match ledger_name.split_once(':') {
        Some(("staff", id)) => Actor::Staff(id.parse().map_err(bad)?),
        Some(("patient", id)) => Actor::Patient(id.parse().map_err(bad)?),
        Some((_, name)) => Actor::System(name.to_owned()),
        None => Actor::System(ledger_name.to_owned()),
    })
}

/// The Provenance of each entry (newest first as given), `None` for entries
/// that concern no FHIR resource.
async fn provenances(state: &AppState, requester: &Requester, entries: &[Entry]) -> Result<Vec<(u64, Option<Value>)>, AppError> {
    let mut decoded = Vec::with_capacity(entries.len());
    for entry in entries {
        let event: Event = serde_json::from_slice(&entry.record.payload).map_err(|e| AppError::internal(format!("ledger entry {}: {e}", entry.seq)))?;
        decoded.push((entry, actor_of(&entry.record.actor)?, event));
    }
    let staff_ids: BTreeSet<String> = decoded.iter().filter_map(|(_, a, _)| if let Actor::Staff(s) = a { Some(s.to_string()) } else { None }).collect();
    let patient_ids: BTreeSet<String> = decoded.iter().filter_map(|(_, a, _)| if let Actor::Patient(p) = a { Some(p.to_string()) } else { None }).collect();
    let reader = state.reader();
    let staff: BTreeMap<StaffId, String> = reader.get_many::<Staff>(&staff_ids.into_iter().collect::<Vec<_>>()).await?.into_iter().map(|s| (s.id, s.name)).collect();
    let patients: BTreeMap<PersonId, String> = reader
        .get_many::<Person>(&patient_ids.into_iter().collect::<Vec<_>>())
        .await?
        .into_iter()
        .filter(|p| requester.sites.contains(&p.site))
        .map(|p| (p.id, p.name))
        .collect();
    let mut out = Vec::with_capacity(decoded.len());
    for (entry, actor, event) in decoded {
        let actor_name = match &actor {
            Actor::Staff(id) => staff.get(id).cloned(),
            Actor::Patient(id) => patients.get(id).cloned(),
            Actor::System(_) => None,
        };
        let ledger_entry = celltrace_fhir::LedgerEntry {
            seq: entry.seq,
            hash: celltrace_ledger::to_hex(&entry.hash),
            recorded_at: Timestamp(entry.record.recorded_at),
            actor,
            actor_name,
            site: Some(SiteId::parse(&entry.record.site).map_err(|e| AppError::internal(format!("ledger entry {}: {e}", entry.seq)))?),
            kind: entry.record.kind.clone(),
            targets: celltrace_fhir::event_targets(&event),
            signatures: celltrace_fhir::event_signatures(&event),
        };
        out.push((entry.seq, celltrace_fhir::provenance(&ledger_entry)));
    }
    Ok(out)
}

fn at_requesters_site(requester: &Requester, entry: &Entry) -> bool {
    requester.sites.iter().any(|s| s.as_str() == entry.record.site)
}

/// `Provenance/ledger-{seq}`, if the entry was recorded at one of the requester's sites.
pub async fn read(state: &AppState, requester: &Requester, fhir_id: &str) -> Result<Option<Value>, AppError> {
    let Some(seq) = fhir_id.strip_prefix("ledger-").and_then(|n| n.parse::<u64>().ok()).filter(|n| *n > 0 && *n <= i64::MAX as u64) else { return Ok(None) };
    let entries: Vec<Entry> = state.reader().entries(seq, 1).await?.into_iter().map(|(e, _)| e).filter(|e| e.seq == seq && at_requesters_site(requester, e)).collect();
    Ok(provenances(state, requester, &entries).await?.into_iter().next().and_then(|(_, p)| p))
}

/// A page of the Provenance of the requester's sites, newest first, from `before`.
pub async fn of_sites(state: &AppState, requester: &Requester, count: usize, cursor: Option<&PageCursor>) -> Result<Found, AppError> {
    let mut before = match cursor {
        None => None,
        Some(c) if c.list == "ledger" => Some(c.sort.parse::<u64>().map_err(|_| super::search_error(celltrace_fhir::SearchError::InvalidCursor))?),
        Some(_) => return Err(super::search_error(celltrace_fhir::SearchError::InvalidCursor)),
    };
    let sites: Vec<SiteId> = requester.sites.iter().cloned().collect();
    let mut found = Found::default();
    let mut scanned = 0;
    if count == 0 {
        return Ok(found);
    }
    loop {
        let page = state.reader().ledger_of_sites(&sites, before, LEDGER_PAGE).await?;
        let entries: Vec<Entry> = page.entries.into_iter().map(|(e, _)| e).collect();
        scanned += entries.len();
        let last = entries.len();
        for (i, (seq, provenance)) in provenances(state, requester, &entries).await?.into_iter().enumerate() {
            if found.resources.len() == count {
                break;
            }
            found.resources.extend(provenance);
            if found.resources.len() == count && (i + 1 < last || page.next_before.is_some()) {
                found.next = Some(PageCursor { list: "ledger".into(), sort: seq.to_string(), id: String::new() });
            }
        }
        match page.next_before {
            Some(next) if found.resources.len() < count => {
                before = Some(next);
                if scanned >= MOST_SCANNED {
                    // A long run of entries that concern no resource: link to the rest rather than read on.
                    found.next = Some(PageCursor { list: "ledger".into(), sort: next.to_string(), id: String::new() });
                    break;
                }
            }
            _ => break,
        }
    }
    Ok(found)
}

/// The Provenance of entries naming any of `patients` (FHIR ids) the
/// requester may see, from each patient's audit trail, newest first.
pub async fn of_patients(state: &AppState, requester: &Requester, patients: &[String], count: usize, cursor: Option<&PageCursor>) -> Result<Found, AppError> {
    let before = match cursor {
        None => u64::MAX,
        Some(c) if c.list == "ledger-patients" => c.sort.parse::<u64>().map_err(|_| super::search_error(celltrace_fhir::SearchError::InvalidCursor))?,
        Some(_) => return Err(super::search_error(celltrace_fhir::SearchError::InvalidCursor)),
    };
    let mut entries: BTreeMap<u64, Entry> = BTreeMap::new();
    for fhir_id in patients {
        for row in find(state, requester, ResourceType::Patient, fhir_id).await? {
            let target = TargetRef::new(ResourceType::Patient, row.entity.id());
            for (entry, _) in state.reader().trail(&EntityKey::new(EntityKind::Person, row.entity.id())).await? {
                let event: Event = serde_json::from_slice(&entry.record.payload).map_err(|e| AppError::internal(format!("ledger entry {}: {e}", entry.seq)))?;
                if celltrace_fhir::event_targets(&event).contains(&target) {
                    entries.insert(entry.seq, entry);
                }
            }
        }
    }
    let total = entries.len() as u64;
    let newest_first: Vec<Entry> = entries.into_values().rev().filter(|e| e.seq < before).collect();
    let page: Vec<Entry> = newest_first.iter().take(count).cloned().collect();
    let mut found = Found { total: Some(total), ..Found::default() };
    if newest_first.len() > page.len() {
        found.next = page.last().map(|e| PageCursor { list: "ledger-patients".into(), sort: e.seq.to_string(), id: String::new() });
    }
    found.resources = provenances(state, requester, &page).await?.into_iter().filter_map(|(_, p)| p).collect();
    Ok(found)
}
