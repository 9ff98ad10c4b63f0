//! The lists staff work from, as pages that say where the next one starts:
//! patients and donors of a site (all, or found by name in any script, by
//! MRN or by patient number) and units of a site (all, by status or product
//! type, or found by DIN or DIN + product code).

use super::reader::{Cursor, Page, Reader, MAX_PAGE};
use crate::StoreError;
use celltrace_domain::ids::SiteId;
use celltrace_domain::index::{code_key, name_key, scoped, Index};
use celltrace_domain::model::{Person, PersonKind, ProductType, Unit, UnitStatus};

/// A page of people and the opaque text that asks for the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct PeoplePage {
    /// The people, in the list's order.
    pub people: Vec<Person>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next: Option<String>,
}

/// A page of units and the opaque text that asks for the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitsPage {
    /// The units, by DIN and product code.
    pub units: Vec<Unit>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next: Option<String>,
}

/// Which units a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitFilter {
    /// Only units in this status.
    pub status: Option<UnitStatus>,
    /// Only units of this product type.
    pub product_type: Option<ProductType>,
    /// A DIN (with or without its flag and check characters) or DIN + product code.
    pub text: String,
}

fn kind_word(kind: PersonKind) -> &'static str {
    match kind {
        PersonKind::Patient => "patient",
        PersonKind::Donor => "donor",
    }
}

fn status_word(status: UnitStatus) -> String {
    serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl Reader {
    /// People of `site` and `kind`: all of them by name when `text` is
    /// empty; else the one with this patient number or MRN, followed by
    /// those whose name contains every word of `text` (ignoring case and
    /// diacritics, in any script). `limit` at a time, after `after`.
    pub async fn people(&self, site: &SiteId, kind: PersonKind, text: &str, after: Option<&str>, limit: u32) -> Result<PeoplePage, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let text = text.trim();
        if text.is_empty() {
            let cursor = after.and_then(Cursor::decode);
            let page: Page<Person> = self.page(Index::SitePersons, &scoped(site, kind_word(kind)), cursor.as_ref(), limit).await?;
            return Ok(PeoplePage { people: page.items, next: page.next.map(|c| c.encode()) });
        }
        let mut people = Vec::new();
        if after.is_none() {
            // An exact identifier first: the patient number (the record's id) or the MRN.
            if let Some(p) = self.get::<Person>(text).await?.filter(|p| &p.site == site && p.kind == kind) {
                people.push(p);
            }
            if let Some(p) = self.person_by_mrn(site.as_str(), text).await?.filter(|p| p.kind == kind && !people.contains(p)) {
                people.push(p);
            }
        }
        let words: Vec<String> = name_key(text).split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
        if words.iter().all(|w| w.chars().count() < 3) {
            // Too short for the trigram index: names with a word starting with the first word.
            let Some(first) = words.first() else { return Ok(PeoplePage { people, next: None }) };
            let cursor = after.and_then(Cursor::decode);
            let page: Page<Person> = self.prefix_page(Index::Name, &scoped(site, first), cursor.as_ref(), limit).await?;
            for p in page.items {
                let name = name_key(&p.name);
                if words.iter().all(|w| name.contains(w.as_str())) && !people.iter().any(|q| q.id == p.id) {
                    people.push(p);
                }
            }
            return Ok(PeoplePage { people, next: page.next.map(|c| c.encode()) });
        }
        let position = after.and_then(|a| a.parse::<i64>().ok());
        let matches = self.people_matching(site.as_str(), kind_word(kind), text, position, limit).await?;
        for p in matches.people {
            if !people.iter().any(|q| q.id == p.id) {
                people.push(p);
            }
        }
        Ok(PeoplePage { people, next: matches.next.map(|n| n.to_string()) })
    }

    /// Units held at `site` that pass `filter`, by DIN and product code,
    /// `limit` at a time after `after`.
    pub async fn units(&self, site: &SiteId, filter: &UnitFilter, after: Option<&str>, limit: u32) -> Result<UnitsPage, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let cursor = after.and_then(Cursor::decode);
        let text = code_key(&filter.text);
        let page: Page<Unit> = if !text.is_empty() {
            // A DIN, or a DIN followed by its product code: the DIN is the first 13 characters.
            let din: String = text.chars().take(13).collect();
            let mut units = self.units_by_din(&din).await?;
            units.retain(|u| &u.site == site && u.in_transit.is_none() && code_key(&format!("{}{}", u.din, u.product_code)).starts_with(&text));
            Page { items: units, next: None }
        } else if let Some(status) = filter.status {
            self.page(Index::SiteUnitsByStatus, &scoped(site, &status_word(status)), cursor.as_ref(), limit).await?
        } else if let Some(product_type) = filter.product_type {
            self.page(Index::SiteUnitsByType, &scoped(site, product_type.code()), cursor.as_ref(), limit).await?
        } else {
            self.page(Index::SiteUnits, site.as_str(), cursor.as_ref(), limit).await?
        };
        let units = page
            .items
            .into_iter()
            .filter(|u| filter.status.is_none_or(|s| u.status == s) && filter.product_type.is_none_or(|t| u.product_type == t))
            .collect();
        Ok(UnitsPage { units, next: page.next.map(|c| c.encode()) })
    }
}
