//! Records as FHIR reads them from the read model: the entity holding a
//! record (a plan holds its administrations…) fetched by kind, by id
//! (mapped FHIR ids included) or by page of a list; the site rule applied to
//! each (who may see which record); the names a page's resources mention,
//! loaded for that page only; and the patient reads recorded in the ledger.

use super::Requester;
use crate::error::AppError;
use crate::kit::records::new_command_id;
use crate::{now_micros, AppState};
use celltrace_domain::ids::{PersonId, SiteId, StaffId, UnitId};
use celltrace_domain::index::RecordKind;
use celltrace_domain::model::{AdverseEvent, Person, Plan, Site, Staff, Unit};
use celltrace_domain::time::Timestamp;
use celltrace_domain::{Actor, Command, Projection, Submission};
use celltrace_fhir::{Context, Holder, Needs, QuestionnaireDef};
use celltrace_store::read::{Filed, RecordRange, Reader};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// An entity that holds records.
#[derive(Debug, Clone)]
pub enum Entity {
    /// A patient or donor.
    Person(Person),
    /// A unit.
    Unit(Unit),
    /// A plan.
    Plan(Plan),
    /// An adverse event.
    AdverseEvent(AdverseEvent),
    /// A member of staff.
    Staff(Staff),
    /// A site.
    Site(Site),
}

impl Entity {
    /// The entity as the mapping takes it.
    pub fn holder(&self) -> Holder<'_> {
        match self {
            Entity::Person(p) => Holder::Person(p),
            Entity::Unit(u) => Holder::Unit(u),
            Entity::Plan(p) => Holder::Plan(p),
            Entity::AdverseEvent(a) => Holder::AdverseEvent(a),
            Entity::Staff(s) => Holder::Staff(s),
            Entity::Site(s) => Holder::Site(s),
        }
    }

    /// The entity's own id (the cursor's tie-breaker).
    pub fn id(&self) -> &str {
        match self {
            Entity::Person(p) => p.id.as_str(),
            Entity::Unit(u) => u.id.as_str(),
            Entity::Plan(p) => p.id.as_str(),
            Entity::AdverseEvent(a) => a.id.as_str(),
            Entity::Staff(s) => s.id.as_str(),
            Entity::Site(s) => s.id.as_str(),
        }
    }
}

/// One record: its kind and id, the entity holding it, and the sort key it was listed by.
#[derive(Debug, Clone)]
pub struct Row {
    /// The kind of record.
    pub kind: RecordKind,
    /// The record's own id.
    pub record_id: String,
    /// The entry's sort key (the record id for lookups by id).
    pub sort: String,
    /// The entity holding it.
    pub entity: Entity,
}

impl Row {
    fn new(kind: RecordKind, filed: Filed<Entity>) -> Row {
        let record_id = celltrace_domain::index::record_of_sort(&filed.sort).to_owned();
        Row { kind, record_id, sort: filed.sort, entity: filed.item }
    }

    /// A row for an entity that is its own record (a person, a unit, a site…).
    pub fn whole(kind: RecordKind, entity: Entity) -> Row {
        let id = entity.id().to_owned();
        Row { kind, record_id: id.clone(), sort: id, entity }
    }
}

fn wrapped<T>(filed: Vec<Filed<T>>, wrap: fn(T) -> Entity) -> Vec<Filed<Entity>> {
    filed.into_iter().map(|f| Filed { sort: f.sort, item: wrap(f.item) }).collect()
}

/// How the holders of a kind of record are read, by type.
macro_rules! by_holder {
    ($kind:expr, $read:ident ( $($arg:expr),* )) => {
        match $kind {
            RecordKind::Person => $read::<Person>($($arg),*, Entity::Person).await,
            RecordKind::Unit | RecordKind::Collection | RecordKind::Qc => $read::<Unit>($($arg),*, Entity::Unit).await,
            RecordKind::Administration | RecordKind::FollowUp | RecordKind::Consent | RecordKind::Response => $read::<Plan>($($arg),*, Entity::Plan).await,
            RecordKind::AdverseEvent => $read::<AdverseEvent>($($arg),*, Entity::AdverseEvent).await,
            RecordKind::Staff => $read::<Staff>($($arg),*, Entity::Staff).await,
            RecordKind::Site => $read::<Site>($($arg),*, Entity::Site).await,
        }
    };
}

async fn page_of<T: Projection>(reader: &Reader, range: &RecordRange, after: Option<(&str, &str)>, limit: u32, wrap: fn(T) -> Entity) -> Result<(Vec<Filed<Entity>>, bool), AppError> {
    let page = reader.record_page::<T>(range, after, limit).await?;
    Ok((wrapped(page.items, wrap), page.more))
}

async fn ids_of<T: Projection>(reader: &Reader, kind: RecordKind, id: &str, prefix: bool, wrap: fn(T) -> Entity) -> Result<Vec<Filed<Entity>>, AppError> {
    Ok(wrapped(reader.records_by_id::<T>(kind, id, prefix).await?, wrap))
}

/// Up to `limit` records of one list after (`sort`, entity id), and whether more follow.
pub async fn list_page(reader: &Reader, kind: RecordKind, range: &RecordRange, after: Option<(&str, &str)>, limit: u32) -> Result<(Vec<Row>, bool), AppError> {
    let (filed, more) = by_holder!(kind, page_of(reader, range, after, limit))?;
    Ok((filed.into_iter().map(|f| Row::new(kind, f)).collect(), more))
}

/// The records of `kind` whose celltrace id is `id`.
pub async fn by_record_id(reader: &Reader, kind: RecordKind, id: &str) -> Result<Vec<Row>, AppError> {
    let filed = by_holder!(kind, ids_of(reader, kind, id, false))?;
    Ok(filed.into_iter().map(|f| Row { kind, record_id: f.sort.clone(), sort: f.sort, entity: f.item }).filter(|r| r.record_id == id).collect())
}

/// The records of `kind` whose FHIR id is `fhir_id`: ids that are valid FHIR
/// ids as they stand, and mapped ids (`{readable}.{hash}`), found by their
/// readable part (exact, or as a prefix when the id was cut) and compared
/// after mapping.
pub async fn by_fhir_id(reader: &Reader, kind: RecordKind, fhir_id: &str) -> Result<Vec<Row>, AppError> {
    let mut filed = by_holder!(kind, ids_of(reader, kind, fhir_id, false))?;
    if let Some((readable, hash)) = fhir_id.rsplit_once('.') {
        if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && !readable.is_empty() {
            let cut = readable.len() >= 47;
            filed.extend(by_holder!(kind, ids_of(reader, kind, readable, cut))?);
        }
    }
    let mut seen = BTreeSet::new();
    Ok(filed
        .into_iter()
        .filter(|f| celltrace_fhir::fhir_id(&f.sort) == fhir_id && seen.insert((f.sort.clone(), f.item.id().to_owned())))
        .map(|f| Row { kind, record_id: f.sort.clone(), sort: f.sort, entity: f.item })
        .collect())
}

/// Whether the requester may see a record (today's site rule, per record):
/// people, plans and adverse events of their sites; units held at their
/// sites, or given by or allocated to their sites' patients; staff and sites
/// (not patient data) always.
pub async fn visible(state: &AppState, requester: &Requester, entity: &Entity) -> Result<bool, AppError> {
    let sites = &requester.sites;
    Ok(match entity {
        Entity::Person(p) => sites.contains(&p.site),
        Entity::Plan(p) => sites.contains(&p.site),
        Entity::AdverseEvent(a) => sites.contains(&a.site),
        Entity::Staff(_) | Entity::Site(_) => true,
        Entity::Unit(u) => {
            if sites.contains(&u.site) {
                return Ok(true);
            }
            let reader = state.reader();
            if reader.get::<Person>(u.source_person.as_str()).await?.is_some_and(|p| sites.contains(&p.site)) {
                return Ok(true);
            }
            match &u.allocated_to {
                Some(plan) => reader.get::<Plan>(plan.as_str()).await?.is_some_and(|p| sites.contains(&p.site)),
                None => false,
            }
        }
    })
}

/// The questionnaire instruments celltrace ships, as FHIR describes them.
pub fn questionnaire_defs() -> Result<Vec<QuestionnaireDef>, AppError> {
    let instruments = crate::kit::questionnaires::instruments().map_err(AppError::internal)?;
    Ok(instruments
        .values()
        .map(|i| QuestionnaireDef {
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
        .collect())
}

/// What the resources of `entities` mention.
pub fn needs_of<'e>(entities: impl IntoIterator<Item = &'e Entity>) -> Needs {
    let mut needs = Needs::default();
    for e in entities {
        match e {
            Entity::Person(p) => needs.person(p),
            Entity::Unit(u) => needs.unit(u),
            Entity::Plan(p) => needs.plan(p),
            Entity::AdverseEvent(a) => needs.adverse_event(a),
            Entity::Staff(_) | Entity::Site(_) => {}
        }
    }
    needs
}

/// The names and links the resources of `entities` mention, loaded for
/// them only.
pub async fn context_for<'e>(state: &AppState, requester: &Requester, entities: impl IntoIterator<Item = &'e Entity>) -> Result<Context, AppError> {
    load_context(state, requester, &needs_of(entities)).await
}

/// The names and links `needs` lists. People's names are loaded only for
/// people of the requester's sites, so a record names no one the token may
/// not see.
pub async fn load_context(state: &AppState, requester: &Requester, needs: &Needs) -> Result<Context, AppError> {
    let reader = state.reader();
    let sites: Vec<Site> = reader.get_many(&needs.sites.iter().map(SiteId::to_string).collect::<Vec<_>>()).await?;
    let staff: Vec<Staff> = reader.get_many(&needs.staff.iter().map(StaffId::to_string).collect::<Vec<_>>()).await?;
    let mut persons: Vec<Person> = reader.get_many(&needs.persons.iter().map(PersonId::to_string).collect::<Vec<_>>()).await?;
    persons.retain(|p| requester.sites.contains(&p.site));
    let units: Vec<Unit> = reader.get_many(&needs.units.iter().map(UnitId::to_string).collect::<Vec<_>>()).await?;
    let catalogue = if needs.catalogue { reader.product_catalogue().await? } else { None };
    let mut ctx = Context { catalogue, questionnaires: questionnaire_defs()?, ..Context::default() }.with_sites(&sites).with_staff(&staff).with_persons(&persons);
    ctx.units = units.into_iter().map(|u| (u.id.clone(), u)).collect::<BTreeMap<_, _>>();
    Ok(ctx)
}

/// The resource of a row; `None` when the holder no longer holds the
/// record, or holds answers to an instrument celltrace does not ship.
pub fn resource_of(row: &Row, ctx: &Context) -> Option<Value> {
    celltrace_fhir::record(row.kind, &row.record_id, row.entity.holder(), ctx)
}

/// Records in the ledger that the requester read the records of `people`,
/// in one transaction, before they are served. Only people of the
/// requester's sites are recorded: another site's patient is named by
/// reference only (a QC result of a unit held here), never shown.
pub async fn record_reads(state: &AppState, requester: &Requester, people: BTreeSet<PersonId>, view: &str) -> Result<(), AppError> {
    if people.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = people.iter().map(ToString::to_string).collect();
    let persons: Vec<Person> = state.reader().get_many(&ids).await?;
    let mut submissions = Vec::new();
    for p in persons.into_iter().filter(|p| requester.sites.contains(&p.site)) {
        submissions.push(Submission {
            id: new_command_id()?,
            actor: Actor::Staff(requester.staff.id.clone()),
            site: p.site.clone(),
            at: Timestamp(now_micros()),
            command: Command::RecordRecordViewed { person: p.id, view: format!("FHIR {view}"), via_unit: None },
        });
    }
    state.engine.submit_atomic(submissions).await?;
    Ok(())
}
