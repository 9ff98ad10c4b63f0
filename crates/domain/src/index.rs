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
    Records = "records": "The records an interface lists one by one (see [`RecordKind`]), by where they are kept (`site|record`, `site|record|status`; staff and sites under `all|record`), by date then record id (`{instant}|{id}`): what FHIR search pages through.";
    PersonRecords = "person_records": "The same records about one person (`person|record`, `person|record|status`), by date then record id: one patient's records of a kind.";
    RecordIds = "record_ids": "Every record of `records` by its id with `_` and `:` read as `-` (`record|id`), by the id itself: ids rewritten for alphabets without those characters still find their record.";
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

/// The records inside entities that an interface (FHIR) lists one by one:
/// an entity may hold several (a plan its administrations, follow-ups,
/// consents and questionnaire answers; a unit its QC results).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKind {
    /// A patient or donor (the person), dated by birth.
    Person,
    /// A unit, dated by collection.
    Unit,
    /// The collection of a starting-material unit (a unit with no parents), dated by collection.
    Collection,
    /// A QC result of a unit (id `{unit}-qc-{n}`, n from 1), dated when performed.
    Qc,
    /// An administration in a plan.
    Administration,
    /// A follow-up visit of a plan.
    FollowUp,
    /// A consent of a plan (status `in_force` or `withdrawn`), dated when the patient signed.
    Consent,
    /// Questionnaire answers of a plan.
    Response,
    /// An adverse event, dated by onset.
    AdverseEvent,
    /// A member of staff (undated, under `all`).
    Staff,
    /// A site (undated, under `all`).
    Site,
}

impl RecordKind {
    /// The word stored in index values.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Person => "person",
            RecordKind::Unit => "unit",
            RecordKind::Collection => "collection",
            RecordKind::Qc => "qc",
            RecordKind::Administration => "administration",
            RecordKind::FollowUp => "follow_up",
            RecordKind::Consent => "consent",
            RecordKind::Response => "response",
            RecordKind::AdverseEvent => "adverse_event",
            RecordKind::Staff => "staff",
            RecordKind::Site => "site",
        }
    }
}

/// A time as a sort key that orders as text, over the whole range (birth
/// dates before 1970 included): the sign bit flipped, 20 digits.
pub fn instant_key(at: Timestamp) -> String {
    format!("{:020}", (at.0 as u64) ^ (1 << 63))
}

/// The value of a [`Index::Records`] or [`Index::PersonRecords`] entry:
/// `scope|record` or `scope|record|status` (scope: a site, a person or `all`).
pub fn records_value(scope: &str, record: RecordKind, status: Option<&str>) -> String {
    match status {
        Some(status) => format!("{scope}|{}|{status}", record.as_str()),
        None => format!("{scope}|{}", record.as_str()),
    }
}

/// The sort key of a record: its date ([`instant_key`], empty when undated), `|`, its id.
pub fn record_sort(at: Option<Timestamp>, id: &str) -> String {
    format!("{}|{id}", at.map(instant_key).unwrap_or_default())
}

/// The record id of a [`record_sort`] key (ids have no `|`).
pub fn record_of_sort(sort: &str) -> &str {
    sort.rsplit('|').next().unwrap_or(sort)
}

/// A record id as [`Index::RecordIds`] files it: `_` and `:` read as `-`.
pub fn record_id_key(id: &str) -> String {
    id.replace(['_', ':'], "-")
}

/// The status word of a consent in the record indexes.
pub fn consent_status(c: &Consent) -> &'static str {
    if c.withdrawn.is_some() { "withdrawn" } else { "in_force" }
}

/// The id of a unit's `index`-th (0-based) QC result record.
pub fn qc_record_id(unit: &Unit, index: usize) -> String {
    format!("{}-qc-{}", unit.id, index + 1)
}

/// The three entries of one record: listed where it is kept, listed under
/// the person it is about (when it is about one), and found by its id.
fn record_entries(record: RecordKind, scope: &str, person: Option<&str>, status: Option<&str>, at: Option<Timestamp>, id: &str) -> Vec<IndexEntry> {
    let sort = record_sort(at, id);
    let mut out = vec![
        entry(Index::Records, records_value(scope, record, status), sort.clone()),
        entry(Index::RecordIds, format!("{}|{}", record.as_str(), record_id_key(id)), id),
    ];
    if let Some(person) = person {
        out.push(entry(Index::PersonRecords, records_value(person, record, status), sort));
    }
    out
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
    out.extend(record_entries(RecordKind::Person, p.site.as_str(), None, None, Some(p.date_of_birth.start()), p.id.as_str()));
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
    let (site, source) = (u.site.as_str(), Some(u.source_person.as_str()));
    let status = serde_json::to_value(u.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    out.extend(record_entries(RecordKind::Unit, site, source, Some(&status), Some(u.collected_at), u.id.as_str()));
    if u.parents.is_empty() {
        out.extend(record_entries(RecordKind::Collection, site, source, None, Some(u.collected_at), u.collection.as_str()));
    }
    for (i, qc) in u.qc.iter().enumerate() {
        out.extend(record_entries(RecordKind::Qc, site, source, None, Some(qc.at), &qc_record_id(u, i)));
    }
    out
}

/// The entries of a site.
pub fn site(s: &Site) -> Vec<IndexEntry> {
    let mut out = vec![entry(Index::Sites, "all", name_key(&s.name))];
    out.extend(record_entries(RecordKind::Site, "all", None, None, None, s.id.as_str()));
    out
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
    let (site, patient) = (p.site.as_str(), Some(p.patient.as_str()));
    for a in &p.administrations {
        out.extend(record_entries(RecordKind::Administration, site, patient, None, Some(a.at), a.id.as_str()));
    }
    for f in &p.follow_ups {
        out.extend(record_entries(RecordKind::FollowUp, site, patient, None, Some(f.at), f.id.as_str()));
    }
    for c in &p.consents {
        out.extend(record_entries(RecordKind::Consent, site, patient, Some(consent_status(c)), Some(c.patient_signed_at), c.id.as_str()));
    }
    for r in &p.responses {
        out.extend(record_entries(RecordKind::Response, site, patient, None, Some(r.at), r.id.as_str()));
    }
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
    out.extend(record_entries(RecordKind::AdverseEvent, a.site.as_str(), Some(a.patient.as_str()), None, Some(a.onset.start()), a.id.as_str()));
    // The medical director's alarm: every serious event not yet reviewed,
    // however many ordinary open events were reported after it.
    if a.is_serious() && a.review.is_none() {
        out.push(entry(Index::SiteAdverseEvents, scoped(&a.site, "serious"), newest_first(a.reported_at)));
    }
    out
}

/// The entries of a member of staff.
pub fn staff(s: &Staff) -> Vec<IndexEntry> {
    let mut out: Vec<IndexEntry> = s.memberships.iter().map(|m| entry(Index::SiteStaff, m.site.to_string(), s.username.to_lowercase())).collect();
    out.extend(record_entries(RecordKind::Staff, "all", None, None, None, s.id.as_str()));
    out
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
    fn instant_keys_order_as_time_does_across_the_epoch() {
        let times = [i64::MIN, -Timestamp::DAY * 365 * 50, -1, 0, 1, Timestamp::DAY, i64::MAX];
        let keys: Vec<String> = times.iter().map(|t| instant_key(Timestamp(*t))).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        assert!(keys.iter().all(|k| k.len() == 20));
        assert_eq!(record_of_sort(&record_sort(Some(Timestamp(5)), "adm-1")), "adm-1");
        assert_eq!(record_of_sort(&record_sort(None, "site_a")), "site_a");
        assert_eq!(record_id_key("p_ana:1"), "p-ana-1");
        assert_eq!(records_value("dubai", RecordKind::Unit, Some("released")), "dubai|unit|released");
    }

    #[test]
    fn every_index_name_parses_back() {
        for index in Index::ALL {
            assert_eq!(Index::parse(index.as_str()), Some(*index));
        }
    }
}
