//! The read model's index: for each entity, the entries under which a query
//! finds it (`index`, `value`) and the order it is listed in (`sort`). The
//! store keeps these entries in one table beside the projections, written in
//! the same transaction as the ledger entry, so every list, lookup and walk
//! of the lineage is one index range scan whose cost depends on the size of
//! the answer, never on the size of the database.
//!
//! Pure: the entries are a function of the entity alone, so `verify` can
//! recompute them and a new index can be built from the stored projections.

use crate::ids::SiteId;
use crate::model::*;
use crate::time::Timestamp;
use unicode_normalization::UnicodeNormalization;

macro_rules! indexes {
    ($($variant:ident = $text:literal: $doc:literal;)*) => {
        /// Every index of the read model. The text form is stored: never change one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Index {
            $(#[doc = $doc] $variant,)*
        }

        impl Index {
            /// Every index.
            pub const ALL: &'static [Index] = &[$(Index::$variant),*];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Index::$variant => $text,)*
                }
            }

            /// The index stored under `text`.
            pub fn parse(text: &str) -> Option<Index> {
                match text {
                    $($text => Some(Index::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

indexes! {
    SitePersons = "site_persons": "Patients or donors of a site (`site|kind`), by name key.";
    Mrn = "mrn": "A person by `site|MRN` (letters and digits, upper case): what a wristband carries.";
    Name = "name": "A person by each word of their name key (`site|word`), for prefix search.";
    SiteUnits = "site_units": "Units held at a site, by DIN and product code.";
    SiteUnitsByStatus = "site_units_status": "Units held at a site by status (`site|status`), by DIN and product code.";
    SiteUnitsByType = "site_units_type": "Units held at a site by product type (`site|type`), by DIN and product code.";
    Din = "din": "Units of a donation identification number, by product code.";
    Parent = "parent": "Child units of a unit (the parent's id), by child id.";
    Lot = "lot": "Units processed with a reagent or consumable lot (lot number, upper case), by unit id.";
    Step = "step": "Units a processing step (batch record) made or worked on (the step's id), by unit id.";
    Source = "source": "Units collected from a person (the person's id), by unit id.";
    PlanUnits = "plan_units": "Units collected for, allocated to or given in a plan (the plan's id), by unit id.";
    Location = "location": "Units by storage position (`site|freezer|rack|box`), by position.";
    Sites = "sites": "Every site (`all`), by name key.";
    SitePlans = "site_plans": "Plans of a site by status (`site|status`, `site|all`, and `site|awaiting` for active plans with no administration yet), newest first.";
    SitePlansByType = "site_plans_type": "Plans of a site by status and product type (`site|status|type`), newest first.";
    FollowUpClock = "follow_up_clock": "Plans in follow-up (active or completed, at least one administration) by `site|product type`, by the day of the first administration: follow-up windows are days after it.";
    PersonPlans = "person_plans": "Plans of a patient (the person's id), oldest first.";
    TreatedPlans = "treated_plans": "Plans with at least one administration (`all` and each site), by id: the registry's cohort.";
    Administered = "administered": "Plans in which a unit was given (the unit's id).";
    ShipmentsFrom = "shipments_from": "Shipments leaving a site by status (`site|status`), newest first.";
    ShipmentsTo = "shipments_to": "Shipments coming to a site by status (`site|status`), newest first.";
    ShipmentUnits = "shipment_units": "Shipments that carried a unit (the unit's id), newest first: its chain of custody.";
    SiteAdverseEvents = "site_adverse_events": "Adverse events of a site by review state (`site|open`, `site|reviewed`, and `site|serious` for serious ones awaiting review), newest first.";
    PersonAdverseEvents = "person_adverse_events": "Adverse events of a patient (the person's id), by onset.";
    SiteStaff = "site_staff": "Members of staff of a site, by username.";
    StaffTokens = "staff_tokens": "API tokens of a member of staff (their id), newest first.";
    TokenHash = "token_hash": "An API token by the SHA-256 of the token, hex.";
}

/// One entry: the entity is found under `index` = `value`, listed by `sort`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexEntry {
    /// Which index.
    pub index: Index,
    /// The key looked up.
    pub value: String,
    /// The order within the key (ties broken by the entity id).
    pub sort: String,
}

fn entry(index: Index, value: impl Into<String>, sort: impl Into<String>) -> IndexEntry {
    IndexEntry { index, value: value.into(), sort: sort.into() }
}

/// `site|part`: a key scoped to a site.
pub fn scoped(site: &SiteId, part: &str) -> String {
    format!("{site}|{part}")
}

/// A time as a sort key that orders as text, newest first.
pub fn newest_first(at: Timestamp) -> String {
    format!("{:020}", i64::MAX.saturating_sub(at.0))
}

/// A time as a sort key that orders as text, oldest first.
pub fn oldest_first(at: Timestamp) -> String {
    format!("{:020}", at.0.max(0))
}

/// The UTC day of a time as a sort key that orders as text (days since the epoch).
pub fn day_key(at: Timestamp) -> String {
    format!("{:010}", at.0.div_euclid(Timestamp::DAY).max(0))
}

/// Letters and digits only, upper case: how MRNs, DINs, lots and codes are
/// compared (a scanner, a keyboard and a label may differ in the rest).
pub fn code_key(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()
}

/// A lot's number: its first word, as printed on the reagent's label
/// (`MEM-2026-0088 alpha-MEM` is lot `MEM-2026-0088`).
pub fn lot_key(lot: &str) -> String {
    lot.split_whitespace().next().map(|w| w.to_uppercase()).unwrap_or_default()
}

/// A name as searched: lower case, without diacritics (Latin accents, Arabic
/// short vowels and tatweel, the Devanagari nukta), Arabic letter variants
/// folded (alef forms, teh marbuta, alef maksura), punctuation as spaces,
/// single spaces. Devanagari vowel signs are kept: they are letters.
pub fn name_key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd() {
        let folded = match c {
            // Combining marks of Latin, Greek and Cyrillic (accents, cedillas).
            '\u{0300}'..='\u{036F}' => continue,
            // Arabic: short vowels, shadda, sukun, superscript alef, Quranic marks, tatweel.
            '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{06D6}'..='\u{06ED}' | '\u{0640}' => continue,
            // Devanagari nukta.
            '\u{093C}' => continue,
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ة' => 'ه',
            'ى' => 'ي',
            c if c.is_alphanumeric() || is_devanagari_sign(c) => c,
            _ => ' ',
        };
        for lower in folded.to_lowercase() {
            if lower == ' ' && (out.is_empty() || out.ends_with(' ')) {
                continue;
            }
            out.push(lower);
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

fn is_devanagari_sign(c: char) -> bool {
    matches!(c, '\u{0900}'..='\u{0903}' | '\u{093A}'..='\u{094F}' | '\u{0955}'..='\u{0957}' | '\u{0962}'..='\u{0963}')
}

/// The entries of a person.
pub fn person(p: &Person) -> Vec<IndexEntry> {
    let key = name_key(&p.name);
    let kind = match p.kind {
        PersonKind::Patient => "patient",
        PersonKind::Donor => "donor",
    };
    let mut out = vec![entry(Index::SitePersons, scoped(&p.site, kind), key.clone()), entry(Index::Mrn, scoped(&p.site, &code_key(&p.mrn)), "")];
    let mut words: Vec<&str> = key.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_unstable();
    words.dedup();
    out.extend(words.into_iter().map(|w| entry(Index::Name, scoped(&p.site, w), key.clone())));
    out
}

fn unit_code(u: &Unit) -> String {
    format!("{}{}", u.din, u.product_code)
}

/// The entries of a unit.
pub fn unit(u: &Unit) -> Vec<IndexEntry> {
    let code = unit_code(u);
    let mut out = vec![entry(Index::Din, code_key(&u.din), u.product_code.clone()), entry(Index::Source, u.source_person.to_string(), u.id.to_string())];
    // Only where it is held: a unit in transit is at no site until received.
    if u.in_transit.is_none() {
        let status = serde_json::to_value(u.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        out.push(entry(Index::SiteUnits, u.site.to_string(), code.clone()));
        out.push(entry(Index::SiteUnitsByStatus, scoped(&u.site, &status), code.clone()));
        out.push(entry(Index::SiteUnitsByType, scoped(&u.site, u.product_type.code()), code.clone()));
        if let Some(l) = &u.location {
            out.push(entry(Index::Location, format!("{}|{}|{}|{}", u.site, l.freezer, l.rack, l.r#box), l.position.clone()));
        }
    }
    out.extend(u.parents.iter().map(|p| entry(Index::Parent, p.to_string(), u.id.to_string())));
    let mut lots: Vec<String> = u.steps.iter().flat_map(|s| s.reagent_lots.iter().map(|l| lot_key(l))).filter(|l| !l.is_empty()).collect();
    lots.sort_unstable();
    lots.dedup();
    out.extend(lots.into_iter().map(|l| entry(Index::Lot, l, u.id.to_string())));
    let mut steps: Vec<String> = u.steps.iter().map(|s| s.id.to_string()).collect();
    steps.sort_unstable();
    steps.dedup();
    out.extend(steps.into_iter().map(|s| entry(Index::Step, s, u.id.to_string())));
    let mut plans: Vec<String> = u.allocated_to.iter().map(ToString::to_string).collect();
    plans.extend(u.requests.iter().map(|r| r.plan.to_string()));
    plans.sort_unstable();
    plans.dedup();
    out.extend(plans.into_iter().map(|p| entry(Index::PlanUnits, p, u.id.to_string())));
    out
}

/// The entries of a site.
pub fn site(s: &Site) -> Vec<IndexEntry> {
    vec![entry(Index::Sites, "all", name_key(&s.name))]
}

/// The entries of a plan.
pub fn plan(p: &Plan) -> Vec<IndexEntry> {
    let status = serde_json::to_value(p.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let created = newest_first(p.created_at);
    let mut out = vec![
        entry(Index::SitePlans, scoped(&p.site, &status), created.clone()),
        entry(Index::SitePlans, scoped(&p.site, "all"), created.clone()),
        entry(Index::SitePlansByType, format!("{}|{status}|{}", p.site, p.product_type.code()), created.clone()),
        entry(Index::PersonPlans, p.patient.to_string(), oldest_first(p.created_at)),
    ];
    match p.administrations.first() {
        None if p.status == PlanStatus::Active => out.push(entry(Index::SitePlans, scoped(&p.site, "awaiting"), created)),
        None => {}
        Some(first) => {
            out.push(entry(Index::TreatedPlans, "all", p.id.to_string()));
            out.push(entry(Index::TreatedPlans, p.site.to_string(), p.id.to_string()));
            if matches!(p.status, PlanStatus::Active | PlanStatus::Completed) {
                out.push(entry(Index::FollowUpClock, scoped(&p.site, p.product_type.code()), day_key(first.at)));
            }
        }
    }
    out.extend(p.administrations.iter().map(|a| entry(Index::Administered, a.unit.to_string(), oldest_first(a.at))));
    out
}

/// The entries of a shipment.
pub fn shipment(s: &Shipment) -> Vec<IndexEntry> {
    let status = match s.status {
        ShipmentStatus::InTransit => "in_transit",
        ShipmentStatus::Received => "received",
    };
    let at = s.dispatched.signed_at;
    let mut out = vec![
        entry(Index::ShipmentsFrom, scoped(&s.from_site, status), newest_first(at)),
        entry(Index::ShipmentsTo, scoped(&s.to_site, status), newest_first(at)),
        entry(Index::ShipmentsFrom, scoped(&s.from_site, "all"), newest_first(at)),
        entry(Index::ShipmentsTo, scoped(&s.to_site, "all"), newest_first(at)),
    ];
    out.extend(s.units.iter().map(|u| entry(Index::ShipmentUnits, u.to_string(), newest_first(at))));
    out
}

/// The entries of an adverse event.
pub fn adverse_event(a: &AdverseEvent) -> Vec<IndexEntry> {
    let state = if a.review.is_some() { "reviewed" } else { "open" };
    let mut out = vec![
        entry(Index::SiteAdverseEvents, scoped(&a.site, state), newest_first(a.reported_at)),
        entry(Index::SiteAdverseEvents, scoped(&a.site, "all"), newest_first(a.reported_at)),
        entry(Index::PersonAdverseEvents, a.patient.to_string(), oldest_first(a.onset.start())),
    ];
    // The medical director's alarm: every serious event not yet reviewed,
    // however many ordinary open events were reported after it.
    if a.is_serious() && a.review.is_none() {
        out.push(entry(Index::SiteAdverseEvents, scoped(&a.site, "serious"), newest_first(a.reported_at)));
    }
    out
}

/// The entries of a member of staff.
pub fn staff(s: &Staff) -> Vec<IndexEntry> {
    s.memberships.iter().map(|m| entry(Index::SiteStaff, m.site.to_string(), s.username.to_lowercase())).collect()
}

/// The entries of an API token.
pub fn api_token(t: &ApiToken) -> Vec<IndexEntry> {
    vec![entry(Index::StaffTokens, t.staff.to_string(), newest_first(t.issued_at)), entry(Index::TokenHash, t.token_hash.clone(), "")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_without_case_or_diacritics_in_any_script() {
        assert_eq!(name_key("José  Álvarez-Núñez"), "jose alvarez nunez");
        assert_eq!(name_key("ليلى الحسن (Layla Al-Hassan)"), "ليلي الحسن layla al hassan");
        assert_eq!(name_key("فَاطِمَة"), name_key("فاطمه"), "short vowels and teh marbuta");
        assert_eq!(name_key("أحمد"), name_key("احمد"), "alef with hamza");
        assert_eq!(name_key("राजेश कुमार"), "राजेश कुमार", "Devanagari vowel signs are letters");
        assert_eq!(name_key("  "), "");
    }

    #[test]
    fn codes_and_lots() {
        assert_eq!(code_key("dxb-100231"), "DXB100231");
        assert_eq!(lot_key("MEM-2026-0088 alpha-MEM"), "MEM-2026-0088");
        assert_eq!(lot_key("  kit-1  "), "KIT-1");
        assert!(newest_first(Timestamp(2)) < newest_first(Timestamp(1)));
        assert!(oldest_first(Timestamp(1)) < oldest_first(Timestamp(2)));
    }

    #[test]
    fn every_index_name_parses_back() {
        for index in Index::ALL {
            assert_eq!(Index::parse(index.as_str()), Some(*index));
        }
    }
}
