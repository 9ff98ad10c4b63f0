//! Lookback and recall: from a reagent lot, a processing step, a donor, a
//! DIN, a unit or a shipment, the whole tree on one page — where the units
//! came from (up), every unit made from them (down) — and every patient who
//! received one. The answer comes from the read model's index
//! (`Reader::recall`), so its cost follows the size of the recall.
//!
//! A recall crosses sites (a lot used at a lab, units shipped to clinics,
//! patients treated there), but records stay with the sites that hold them
//! (issue 13): see [`Scope`].

use crate::auth::{Can, ViewAudit, Viewer};
use crate::error::AppError;
use crate::kit::layout::{when, Layout};
use crate::kit::records::{record_view, render};
use crate::routes::{Access, Route};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use celltrace_domain::access::{staff_allows, Permission};
use celltrace_domain::ids::{PersonId, SiteId, UnitId};
use celltrace_domain::lookback::Origin;
use celltrace_domain::model::{Person, Site, Unit};
use celltrace_store::read::{Recall, Recipient};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// The routes of the lookback page.
pub fn routes() -> Vec<Route> {
    vec![Route::get("/lookback", Access::Staff(Permission::ViewAudit), lookback_page)]
}

/// What a recall may start from: the `by` value, and its label.
const CHOICES: [(&str, &str); 6] = [
    ("lot", "Reagent or consumable lot"),
    ("step", "Processing step (batch record id)"),
    ("donor", "Donor or patient (MRN or id)"),
    ("din", "Donation identification number (DIN)"),
    ("unit", "Unit id"),
    ("shipment", "Shipment id"),
];

/// Whose records a viewer sees in a recall.
///
/// A viewer is network-wide when they hold `ViewAudit` at EVERY site of the
/// deployment (in the demo, the auditor); they see every record the recall
/// reaches. Anyone else sees the records held at the sites where they hold
/// `ViewAudit` — units held there, patients treated there — and is told how
/// many records at which other sites were withheld, so a recall is never
/// silently incomplete: those sites' QA, or a network-wide auditor, follow
/// them up.
///
/// Why not "ViewAudit at every site they belong to": a QA who belongs to one
/// site holds ViewAudit at every site they belong to, so that reading would
/// make every single-site QA network-wide and show them other sites'
/// records, which is what issue 13 forbids. And why the sites where they
/// hold ViewAudit rather than every site they belong to: this is an audit
/// page, and belonging to a site as, say, a nurse grants no audit reading
/// there (`domain::access`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    /// Every site's records.
    Network,
    /// The records of these sites only.
    Sites(BTreeSet<SiteId>),
}

impl Scope {
    fn of(viewer: &Viewer, every_site: &[Site]) -> Scope {
        let audited: BTreeSet<SiteId> = viewer.staff.memberships.iter().map(|m| m.site.clone()).filter(|site| staff_allows(&viewer.staff, site, Permission::ViewAudit)).collect();
        if every_site.iter().all(|s| audited.contains(&s.id)) {
            Scope::Network
        } else {
            Scope::Sites(audited)
        }
    }

    fn sees(&self, site: &SiteId) -> bool {
        match self {
            Scope::Network => true,
            Scope::Sites(sites) => sites.contains(site),
        }
    }
}

#[derive(Deserialize)]
struct LookbackQuery {
    #[serde(default)]
    by: String,
    #[serde(default)]
    q: String,
}

/// One unit of the tree.
struct UnitRow {
    /// `↳` marks, one per level below the units the recall started from.
    depth: String,
    id: String,
    label: String,
    made_from: String,
    detail: String,
    status: String,
    site: String,
    /// Whether it is held at the viewer's current site (its page opens there).
    here: bool,
}

/// One administration of an affected unit.
struct RecipientRow {
    /// Their name where the viewer may read it (in its own direction), else who and where.
    patient: String,
    mrn: Option<String>,
    /// The patient's record opens from here (their site is the viewer's current one).
    link: Option<String>,
    plan: String,
    unit: String,
    given: String,
    site: String,
}

#[derive(Template)]
#[template(path = "lookback.html")]
struct LookbackPage {
    layout: Option<Layout>,
    choices: Vec<(&'static str, &'static str)>,
    by: String,
    q: String,
    searched: bool,
    network: bool,
    ancestors: Vec<UnitRow>,
    affected: Vec<UnitRow>,
    recipients: Vec<RecipientRow>,
    /// Records the recall reached at sites the viewer does not see: (units, administrations, sites).
    withheld: Option<(usize, usize, String)>,
}

fn origin(by: &str, q: &str) -> Result<Option<Origin>, AppError> {
    if q.is_empty() {
        return Ok(None);
    }
    let value = q.to_owned();
    Ok(Some(match by {
        "lot" => Origin::ReagentLot(value),
        "step" => Origin::Step(value),
        "donor" => Origin::Donor(value),
        "din" => Origin::Din(value),
        "unit" => Origin::Unit(value),
        "shipment" => Origin::Shipment(value),
        _ => return Err(AppError::invalid("by", "Choose what the value is: a lot, a processing step, a donor, a DIN, a unit or a shipment.")),
    }))
}

fn unit_row(unit: &Unit, depth: usize, names: &BTreeMap<&UnitId, String>, viewer: &Viewer) -> UnitRow {
    let made_from: Vec<String> = unit.parents.iter().map(|p| names.get(p).cloned().unwrap_or_else(|| "a unit at another site".to_owned())).collect();
    UnitRow {
        depth: "↳ ".repeat(depth),
        id: unit.id.to_string(),
        label: format!("{} {}", unit.din, unit.product_code),
        made_from: made_from.join(", "),
        detail: format!("{} · {}", unit.product_type.code(), unit.quantity),
        status: unit.status.label().to_owned(),
        site: unit.site.to_string(),
        here: unit.site == viewer.site.id,
    }
}

/// The affected units in tree order: each root (a unit none of whose
/// parents is in the list, e.g. because they are held at a site the viewer
/// does not see) followed by what was made from it, depth first; a unit
/// made from several (a pool) is listed once, under the first reached.
/// Lineage has no cycles, so every unit is reached from a root.
fn tree_order<'u>(affected: &[&'u Unit]) -> Vec<(&'u Unit, usize)> {
    let ids: BTreeSet<&UnitId> = affected.iter().map(|u| &u.id).collect();
    let mut children: BTreeMap<&UnitId, Vec<&'u Unit>> = BTreeMap::new();
    for u in affected {
        for p in u.parents.iter().filter(|p| ids.contains(p)) {
            children.entry(p).or_default().push(u);
        }
    }
    let mut out = Vec::with_capacity(affected.len());
    let mut listed = BTreeSet::new();
    let mut stack: Vec<(&'u Unit, usize)> = affected.iter().rev().filter(|u| !u.parents.iter().any(|p| ids.contains(p))).map(|u| (*u, 0)).collect();
    while let Some((unit, depth)) = stack.pop() {
        if listed.insert(&unit.id) {
            out.push((unit, depth));
            stack.extend(children.get(&unit.id).into_iter().flatten().rev().map(|c| (*c, depth + 1)));
        }
    }
    out
}

/// The patients' names the viewer may read here: those treated at their
/// current site, when they may see patient records there (each read goes
/// in the ledger first, as on every page that names a patient).
async fn names(state: &AppState, viewer: &Viewer, recipients: &[&Recipient]) -> Result<BTreeMap<PersonId, Person>, AppError> {
    if !viewer.can(Permission::ViewPatients) {
        return Ok(BTreeMap::new());
    }
    let mut ids: Vec<String> = recipients.iter().filter(|r| r.site == viewer.site.id).map(|r| r.patient.to_string()).collect();
    ids.sort();
    ids.dedup();
    let mut out = BTreeMap::new();
    for person in state.reader().get_many::<Person>(&ids).await? {
        if person.site == viewer.site.id {
            record_view(state, viewer, &person.id, "lookback").await?;
            out.insert(person.id.clone(), person);
        }
    }
    Ok(out)
}

async fn lookback_page(State(state): State<AppState>, Can { viewer, .. }: Can<ViewAudit>, Query(query): Query<LookbackQuery>) -> Result<Response, AppError> {
    let origin = origin(&query.by, query.q.trim())?;
    let mut page = LookbackPage {
        layout: Some(Layout::new(&viewer, "ledger")),
        choices: CHOICES.to_vec(),
        by: query.by.clone(),
        q: query.q.clone(),
        searched: origin.is_some(),
        network: false,
        ancestors: Vec::new(),
        affected: Vec::new(),
        recipients: Vec::new(),
        withheld: None,
    };
    let Some(origin) = origin else { return render(&page) };
    let scope = Scope::of(&viewer, &state.reader().sites().await?);
    page.network = scope == Scope::Network;
    let Recall { affected, ancestors, recipients, .. } = state.reader().recall(&origin).await?;
    let shown = |u: &&Unit| scope.sees(&u.site);
    let names_of_units: BTreeMap<&UnitId, String> = affected.iter().chain(&ancestors).filter(shown).map(|u| (&u.id, format!("{} {}", u.din, u.product_code))).collect();
    page.ancestors = ancestors.iter().filter(shown).map(|u| unit_row(u, 0, &names_of_units, &viewer)).collect();
    let visible: Vec<&Unit> = affected.iter().filter(shown).collect();
    page.affected = tree_order(&visible).into_iter().map(|(u, depth)| unit_row(u, depth, &names_of_units, &viewer)).collect();
    let treated: Vec<&Recipient> = recipients.iter().filter(|r| scope.sees(&r.site)).collect();
    let people = names(&state, &viewer, &treated).await?;
    page.recipients = treated
        .iter()
        .map(|r| {
            let (patient, mrn, link) = match people.get(&r.patient) {
                Some(p) => (p.name.clone(), Some(p.mrn.clone()), Some(format!("/patients/{}", p.id))),
                None => (format!("patient {} at {}", r.patient, r.site), None, None),
            };
            RecipientRow { patient, mrn, link, plan: r.plan.to_string(), unit: names_of_units.get(&r.unit).cloned().unwrap_or_else(|| r.unit.to_string()), given: when(r.at), site: r.site.to_string() }
        })
        .collect();
    let hidden_units: Vec<&Unit> = affected.iter().filter(|u| !scope.sees(&u.site)).collect();
    let hidden_given: Vec<&Recipient> = recipients.iter().filter(|r| !scope.sees(&r.site)).collect();
    if !hidden_units.is_empty() || !hidden_given.is_empty() {
        let sites: BTreeSet<String> = hidden_units.iter().map(|u| u.site.to_string()).chain(hidden_given.iter().map(|r| r.site.to_string())).collect();
        page.withheld = Some((hidden_units.len(), hidden_given.len(), sites.into_iter().collect::<Vec<_>>().join(", ")));
    }
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use celltrace_domain::model::{IntendedUse, ProductType, Quantity, UnitStatus};
    use celltrace_domain::time::Timestamp;

    fn unit(id: &str, parents: &[&str]) -> Unit {
        let ids = |s: &str| s.parse::<UnitId>().expect("id");
        Unit {
            id: ids(id),
            din: "A999826000001".into(),
            product_code: format!("S5001{id}"),
            product_type: ProductType::Prp,
            source_person: "p-1".parse().expect("id"),
            intended_use: IntendedUse::Allogeneic,
            collection: "c-1".parse().expect("id"),
            parents: parents.iter().map(|p| ids(p)).collect(),
            site: "clinic".parse().expect("id"),
            quantity: Quantity { milli: 1000, unit: "mL".into() },
            collected_at: Timestamp(0),
            expires_at: Timestamp(1),
            status: UnitStatus::Quarantine,
            qc: vec![],
            release: vec![],
            exceptional: false,
            steps: vec![],
            location: None,
            in_transit: None,
            allocated_to: None,
            requests: vec![],
            administered_in: None,
            discard_reason: None,
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn the_tree_lists_each_unit_once_under_its_first_parent_depth_first() {
        let units = [unit("a", &[]), unit("b", &["a"]), unit("c", &["b"]), unit("d", &["a"]), unit("e", &[]), unit("pool", &["c", "e"])];
        let refs: Vec<&Unit> = units.iter().collect();
        let order: Vec<(String, usize)> = tree_order(&refs).into_iter().map(|(u, d)| (u.id.to_string(), d)).collect();
        let expected = [("a", 0), ("b", 1), ("c", 2), ("pool", 3), ("d", 1), ("e", 0)];
        assert_eq!(order, expected.map(|(u, d)| (u.to_owned(), d)));
    }
}
