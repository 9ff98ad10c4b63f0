//! The lists staff and their scripts work from, as pages: patients and
//! donors of a site (all, or found by name, MRN or number), units of a site
//! (by status, product type, DIN), a unit's lineage, and a site's ledger,
//! newest first. Each answer is `{"items": [...], "next": cursor|null}`;
//! each read is an index range scan of its page. The token's owner needs the
//! matching permission at the site asked for, and every patient listed is a
//! recorded read, as when staff open the list's records.

use super::token::TokenOwner;
use super::ApiError;
use crate::error::AppError;
use crate::kit::records::new_command_id;
use crate::{now_micros, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use celltrace_domain::access::Permission;
use celltrace_domain::ids::SiteId;
use celltrace_domain::model::{Person, PersonKind, ProductType, Sex, Unit, UnitStatus};
use celltrace_domain::time::{Date, Timestamp};
use celltrace_domain::{Actor, Command, Submission};
use celltrace_store::read::{UnitFilter, MAX_PAGE};
use celltrace_store::Cursor;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Rows per page when `limit` is not given.
const DEFAULT_LIMIT: u32 = 50;

/// A query string that does not fit its parameters, as the client's error.
fn query_error(rejection: QueryRejection) -> AppError {
    AppError::bad_request(rejection.body_text())
}

fn site_of(text: &str) -> Result<SiteId, AppError> {
    SiteId::parse(text).map_err(|e| AppError::bad_request(e.to_string()))
}

fn limit_of(limit: Option<u32>) -> Result<u32, AppError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_PAGE => Ok(n),
        _ => Err(AppError::bad_request(format!("'limit' is a number of rows from 1 to {MAX_PAGE}."))),
    }
}

/// An `after` that no page of the list gave points nowhere.
fn no_such_page() -> AppError {
    AppError::not_found("This page").with_message("'after' is not a cursor a page of this list gave: pass a page's 'next', or start without 'after'.")
}

/// The head of the hash chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerHead {
    /// Sequence number of the last entry (0 when empty).
    pub seq: u64,
    /// Its hash, hex.
    pub hash: String,
}

/// The head of the hash chain, for anyone comparing copies of the ledger.
#[utoipa::path(get, path = "/api/ledger/head", tag = "ledger", responses(
    (status = 200, description = "The last entry", body = LedgerHead),
    (status = 503, description = "The database is not reachable", body = ApiError),
))]
pub async fn ledger_head(State(state): State<AppState>) -> Result<Json<LedgerHead>, AppError> {
    let head = state.reader().head().await?;
    Ok(Json(LedgerHead { seq: head.seq, hash: celltrace_ledger::to_hex(&head.hash) }))
}

/// Which people `GET /api/patients` lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientQuery {
    /// The site whose people are listed; the token's owner must see patient records there.
    #[param(pattern = "^[A-Za-z0-9._:-]{1,64}$", example = "dubai-clinic")]
    pub site: String,
    /// Patients (the default) or donors.
    pub kind: Option<PersonKind>,
    /// A patient number, an MRN, or words of the name (any script, any case, diacritics ignored).
    pub q: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A patient or donor as lists show them.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatientItem {
    /// The patient number (record id).
    pub id: String,
    /// The registering site.
    pub site: String,
    /// Patient or donor.
    pub kind: PersonKind,
    /// Medical record number at the site.
    pub mrn: String,
    /// Full name.
    pub name: String,
    /// Date of birth.
    pub date_of_birth: Date,
    /// Administrative sex.
    pub sex: Sex,
}

/// One page of people.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatientList {
    /// The people, by name (or, for a search, the exact match first).
    pub items: Vec<PatientItem>,
    /// Pass as `after` for the next page; `null` on the last one.
    pub next: Option<String>,
}

/// Records in the ledger that `owner` read each of `people` at `site`, in
/// one transaction, before the list is shown: no read goes unrecorded.
async fn record_reads(state: &AppState, owner: &TokenOwner, site: &SiteId, people: &[Person], view: &str) -> Result<(), AppError> {
    let mut submissions = Vec::with_capacity(people.len());
    for p in people {
        submissions.push(Submission {
            id: new_command_id()?,
            actor: Actor::Staff(owner.0.id.clone()),
            site: site.clone(),
            at: Timestamp(now_micros()),
            command: Command::RecordRecordViewed { person: p.id.clone(), view: view.to_owned(), via_unit: None },
        });
    }
    state.engine.submit_atomic(submissions).await?;
    Ok(())
}

/// Patients or donors of a site: all of them by name, or those a search finds.
#[utoipa::path(get, path = "/api/patients", tag = "lists", params(PatientQuery), security(("api_token" = [])), responses(
    (status = 200, description = "One page; each person listed is recorded as read by the token's owner", body = PatientList),
    (status = 400, description = "A parameter is malformed", body = ApiError),
    (status = 401, description = "No token, or an unknown one", body = ApiError),
    (status = 403, description = "The token's owner may not see patient records at this site", body = ApiError),
    (status = 404, description = "'after' is no cursor of this list", body = ApiError),
    (status = 503, description = "The database is not reachable", body = ApiError),
))]
pub async fn patients(State(state): State<AppState>, owner: TokenOwner, query: Result<Query<PatientQuery>, QueryRejection>) -> Result<Json<PatientList>, AppError> {
    let Query(query) = query.map_err(query_error)?;
    let site = site_of(&query.site)?;
    owner.require(&site, Permission::ViewPatients)?;
    let limit = limit_of(query.limit)?;
    let text = query.q.as_deref().unwrap_or("").trim();
    if let Some(after) = &query.after {
        // A name search continues from a position; a list (or a short word's prefix scan) from a cursor.
        let readable = Cursor::decode(after).is_some() || (!text.is_empty() && after.parse::<i64>().is_ok());
        if !readable {
            return Err(no_such_page());
        }
    }
    let page = state.reader().people(&site, query.kind.unwrap_or(PersonKind::Patient), text, query.after.as_deref(), limit).await?;
    record_reads(&state, &owner, &site, &page.people, "API patient list").await?;
    let items = page
        .people
        .into_iter()
        .map(|p| PatientItem { id: p.id.to_string(), site: p.site.to_string(), kind: p.kind, mrn: p.mrn, name: p.name, date_of_birth: p.date_of_birth, sex: p.sex })
        .collect();
    Ok(Json(PatientList { items, next: page.next }))
}

/// Which units `GET /api/units` lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    /// The site holding the units; the token's owner must see units there.
    #[param(pattern = "^[A-Za-z0-9._:-]{1,64}$", example = "dubai-clinic")]
    pub site: String,
    /// Only units in this status.
    pub status: Option<UnitStatus>,
    /// Only units of this product type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub product_type: Option<ProductType>,
    /// A DIN, or a DIN followed by its product code.
    pub q: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A unit as lists show it (no patient data: staff who see units need not see patients).
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitItem {
    /// The unit's id.
    pub id: String,
    /// ISBT 128 donation identification number.
    pub din: String,
    /// ISBT 128 product code.
    pub product_code: String,
    /// Product type.
    pub product_type: ProductType,
    /// Where it is in its life.
    pub status: UnitStatus,
    /// The site holding it (or sending it, while in transit).
    pub site: String,
    /// Whether it is in transit between sites.
    pub in_transit: bool,
    /// When the starting material was collected.
    pub collected_at: Timestamp,
    /// When it expires.
    pub expires_at: Timestamp,
    /// Quantity, e.g. `6 mL`.
    pub quantity: String,
    /// The units it was made from.
    pub parents: Vec<String>,
}

impl From<Unit> for UnitItem {
    fn from(u: Unit) -> UnitItem {
        UnitItem {
            id: u.id.to_string(),
            din: u.din,
            product_code: u.product_code,
            product_type: u.product_type,
            status: u.status,
            site: u.site.to_string(),
            in_transit: u.in_transit.is_some(),
            collected_at: u.collected_at,
            expires_at: u.expires_at,
            quantity: u.quantity.to_string(),
            parents: u.parents.iter().map(ToString::to_string).collect(),
        }
    }
}

/// One page of units.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitList {
    /// The units, by DIN and product code.
    pub items: Vec<UnitItem>,
    /// Pass as `after` for the next page; `null` on the last one.
    pub next: Option<String>,
}

/// Units held at a site: all, by status or product type, or those of a DIN.
#[utoipa::path(get, path = "/api/units", tag = "lists", params(UnitQuery), security(("api_token" = [])), responses(
    (status = 200, description = "One page", body = UnitList),
    (status = 400, description = "A parameter is malformed", body = ApiError),
    (status = 401, description = "No token, or an unknown one", body = ApiError),
    (status = 403, description = "The token's owner may not see units at this site", body = ApiError),
    (status = 404, description = "'after' is no cursor of this list", body = ApiError),
    (status = 503, description = "The database is not reachable", body = ApiError),
))]
pub async fn units(State(state): State<AppState>, owner: TokenOwner, query: Result<Query<UnitQuery>, QueryRejection>) -> Result<Json<UnitList>, AppError> {
    let Query(query) = query.map_err(query_error)?;
    let site = site_of(&query.site)?;
    owner.require(&site, Permission::ViewUnits)?;
    let limit = limit_of(query.limit)?;
    if query.after.as_deref().is_some_and(|a| Cursor::decode(a).is_none()) {
        return Err(no_such_page());
    }
    let filter = UnitFilter { status: query.status, product_type: query.product_type, text: query.q.unwrap_or_default() };
    let page = state.reader().units(&site, &filter, query.after.as_deref(), limit).await?;
    Ok(Json(UnitList { items: page.units.into_iter().map(UnitItem::from).collect(), next: page.next }))
}

/// How a unit of a lineage is related to the unit asked about.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// A unit it was made from, directly or not.
    Ancestor,
    /// The unit asked about.
    Unit,
    /// A unit made from it, directly or not.
    Descendant,
}

/// A unit of a lineage.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineageItem {
    /// Its relation to the unit asked about.
    pub relation: Relation,
    /// The unit.
    pub unit: UnitItem,
}

/// A unit's whole family (one page: a lineage is as long as it is).
#[derive(Debug, Serialize, ToSchema)]
pub struct LineageList {
    /// Ancestors nearest first, the unit, then descendants level by level.
    pub items: Vec<LineageItem>,
    /// Always `null`: the lineage is one page.
    pub next: Option<String>,
}

/// A unit's ancestors and descendants.
#[utoipa::path(get, path = "/api/units/{id}/lineage", tag = "lists", security(("api_token" = [])),
    params(("id" = String, Path, description = "The unit's id")),
    responses(
        (status = 200, description = "The lineage", body = LineageList),
        (status = 401, description = "No token, or an unknown one", body = ApiError),
        (status = 403, description = "The token's owner may not see units at the unit's site", body = ApiError),
        (status = 404, description = "No such unit", body = ApiError),
        (status = 503, description = "The database is not reachable", body = ApiError),
))]
pub async fn lineage(State(state): State<AppState>, owner: TokenOwner, Path(id): Path<String>) -> Result<Json<LineageList>, AppError> {
    let Some(unit) = state.reader().get::<Unit>(&id).await? else { return Err(AppError::not_found("This unit")) };
    owner.require(&unit.site, Permission::ViewUnits)?;
    let family = state.reader().lineage_of(&unit).await?;
    let item = |relation, unit: Unit| LineageItem { relation, unit: unit.into() };
    let mut items: Vec<LineageItem> = family.ancestors.into_iter().map(|u| item(Relation::Ancestor, u)).collect();
    items.push(item(Relation::Unit, unit));
    items.extend(family.descendants.into_iter().map(|u| item(Relation::Descendant, u)));
    Ok(Json(LineageList { items, next: None }))
}

/// Which entries `GET /api/ledger` lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// The site whose entries are listed; the token's owner must see the audit trail there.
    #[param(pattern = "^[A-Za-z0-9._:-]{1,64}$", example = "dubai-clinic")]
    pub site: String,
    /// The `next` of the previous page: entries before this sequence number.
    #[param(minimum = 1)]
    pub before: Option<u64>,
    /// Rows per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A ledger entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerItem {
    /// Sequence number in the chain.
    pub seq: u64,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// Who submitted the command (`staff:…`, `patient:…`, `system:…`).
    pub actor: String,
    /// The site it was recorded at.
    pub site: String,
    /// The event's kind, e.g. `unit_released`.
    pub kind: String,
    /// The command that wrote it.
    pub command: String,
    /// The entry's hash, hex.
    pub hash: String,
    /// The event, as stored.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// One page of ledger entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerList {
    /// The entries, newest first.
    pub items: Vec<LedgerItem>,
    /// Pass as `before` for the next (older) page; `null` on the last one.
    pub next: Option<String>,
}

/// The ledger entries of a site, newest first.
#[utoipa::path(get, path = "/api/ledger", tag = "ledger", params(LedgerQuery), security(("api_token" = [])), responses(
    (status = 200, description = "One page", body = LedgerList),
    (status = 400, description = "A parameter is malformed", body = ApiError),
    (status = 401, description = "No token, or an unknown one", body = ApiError),
    (status = 403, description = "The token's owner may not see the audit trail at this site", body = ApiError),
    (status = 503, description = "The database is not reachable", body = ApiError),
))]
pub async fn ledger(State(state): State<AppState>, owner: TokenOwner, query: Result<Query<LedgerQuery>, QueryRejection>) -> Result<Json<LedgerList>, AppError> {
    let Query(query) = query.map_err(query_error)?;
    let site = site_of(&query.site)?;
    owner.require(&site, Permission::ViewAudit)?;
    let limit = limit_of(query.limit)?;
    // Sequence numbers fit an i64: any later `before` means "from the newest".
    let before = query.before.map(|b| b.min(i64::MAX as u64));
    let page = state.reader().ledger_of_sites(std::slice::from_ref(&site), before, limit).await?;
    let mut items = Vec::with_capacity(page.entries.len());
    for (entry, command) in page.entries {
        let payload = serde_json::from_slice(&entry.record.payload).map_err(|e| AppError::internal(format!("ledger entry {}: {e}", entry.seq)))?;
        items.push(LedgerItem {
            seq: entry.seq,
            recorded_at: Timestamp(entry.record.recorded_at),
            actor: entry.record.actor,
            site: entry.record.site,
            kind: entry.record.kind,
            command,
            hash: celltrace_ledger::to_hex(&entry.hash),
            payload,
        });
    }
    Ok(Json(LedgerList { items, next: page.next_before.map(|seq| seq.to_string()) }))
}
