//! How a search is answered from the read model's indexes: [`Strategy`]
//! says which index reads to make (a lookup by id or identifier, or record
//! lists of the caller's sites or of named patients, between two dates), so
//! the cost of a page depends on the page, never on the database. The web
//! layer runs the reads; [`PageCursor`] is the opaque `_cursor` of `next` links.

use crate::resources::code_of;
use crate::search::{DatePrefix, ResourceType, SearchParams, Token};
use crate::systems::{ISBT128_DIN, ISBT128_FIN, MRN_BASE, RECORD_ID, UNIT_CODE};
use celltrace_domain::index::{code_key, instant_key, RecordKind};
use celltrace_domain::model::UnitStatus;
use celltrace_domain::time::Timestamp;
use isbt128::DataStructure;

/// Which index reads answer a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// Nothing can match (a status no record has, an empty date range).
    Nothing,
    /// Read these FHIR ids (`_id`, first occurrence), keep what `filter` matches.
    Ids {
        /// The ids, as in URLs.
        ids: Vec<String>,
        /// The rest of the search.
        filter: SearchParams,
    },
    /// Look these identifiers up (`identifier`, first occurrence), keep what `filter` matches.
    Identifiers {
        /// One lookup per identifier that can name a record of the type.
        lookups: Vec<Lookup>,
        /// The rest of the search.
        filter: SearchParams,
    },
    /// Page through record lists, list after list.
    Lists(Lists),
    /// Provenance of ledger entries: of the caller's sites, newest first, or
    /// of the named patients' records.
    Ledger {
        /// Patients (FHIR ids) whose entries are asked for; empty: every entry of the sites.
        patients: Vec<String>,
    },
    /// The questionnaires celltrace ships, kept when `filter` matches.
    Questionnaires {
        /// The search.
        filter: SearchParams,
    },
}

/// Record lists a search reads, list after list, each between `from` and `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lists {
    /// Whose lists.
    pub scope: Scope,
    /// Which lists of each scope.
    pub lists: Vec<ListKey>,
    /// First sort key included (empty: from the start).
    pub from: String,
    /// First sort key excluded (`None`: to the end).
    pub to: Option<String>,
}

/// Whose record lists a search reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The sites the caller may read.
    Sites,
    /// Records about these patients (FHIR ids; every one asked for).
    Patients(Vec<String>),
    /// Records of no site (staff, sites): the key `all`.
    All,
}

/// One list of a scope: a kind of record, and its status when lists are kept by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListKey {
    /// The kind of record.
    pub record: RecordKind,
    /// The status word of the list (`released`, `in_force`…), when kept by status.
    pub status: Option<&'static str>,
}

/// A lookup an identifier asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A record of one of `kinds` by its celltrace id.
    Record {
        /// Kinds of record the type serves.
        kinds: Vec<RecordKind>,
        /// The id, as the identifier carries it.
        id: String,
    },
    /// A person by medical record number at a site (every site the caller may read when `None`).
    Mrn {
        /// Site id, from the identifier's system.
        site: Option<String>,
        /// The MRN.
        mrn: String,
    },
    /// Units of a DIN, of one product code when given.
    Unit {
        /// The 13-character DIN.
        din: String,
        /// The product code.
        product_code: Option<String>,
    },
    /// A site by its facility identification number.
    Fin(String),
}

/// Every unit status, for the lists kept by status.
const UNIT_STATUSES: [UnitStatus; 5] = [UnitStatus::Quarantine, UnitStatus::Released, UnitStatus::Consumed, UnitStatus::Administered, UnitStatus::Discarded];

/// The FHIR status of a unit: only released units are available. (A new
/// status fails to compile here; add it to [`UNIT_STATUSES`] too.)
pub fn unit_availability(status: UnitStatus) -> &'static str {
    match status {
        UnitStatus::Released => "available",
        UnitStatus::Quarantine | UnitStatus::Consumed | UnitStatus::Administered | UnitStatus::Discarded => "unavailable",
    }
}

fn unit_status_word(status: UnitStatus) -> &'static str {
    match status {
        UnitStatus::Quarantine => "quarantine",
        UnitStatus::Released => "released",
        UnitStatus::Consumed => "consumed",
        UnitStatus::Administered => "administered",
        UnitStatus::Discarded => "discarded",
    }
}

/// Every list a type's records are kept in, with the FHIR status its resources carry.
fn lists_of(rt: ResourceType) -> Vec<(ListKey, &'static str)> {
    let plain = |record| (ListKey { record, status: None }, "");
    match rt {
        ResourceType::BiologicallyDerivedProduct => UNIT_STATUSES
            .iter()
            .map(|s| (ListKey { record: RecordKind::Unit, status: Some(unit_status_word(*s)) }, unit_availability(*s)))
            .collect(),
        ResourceType::Consent => vec![
            (ListKey { record: RecordKind::Consent, status: Some("in_force") }, "active"),
            (ListKey { record: RecordKind::Consent, status: Some("withdrawn") }, "inactive"),
        ],
        ResourceType::Procedure => rt.records().iter().map(|r| (ListKey { record: *r, status: None }, "completed")).collect(),
        ResourceType::Observation => rt.records().iter().map(|r| (ListKey { record: *r, status: None }, "final")).collect(),
        ResourceType::QuestionnaireResponse => vec![(ListKey { record: RecordKind::Response, status: None }, "completed")],
        other => other.records().iter().map(|r| plain(*r)).collect(),
    }
}

/// Alternatives of each occurrence that all must hold, as the set of values
/// every occurrence allows (`None`: no occurrence).
fn intersect(occurrences: &[Vec<String>]) -> Option<Vec<String>> {
    let (first, rest) = occurrences.split_first()?;
    let mut out: Vec<String> = first.iter().filter(|v| rest.iter().all(|alts| alts.contains(v))).cloned().collect();
    out.sort();
    out.dedup();
    Some(out)
}

/// The sort keys between which records satisfy every date condition; `None`
/// when no date can. A record's date covers a whole day for dated types
/// (birth, onset) and one instant otherwise.
fn sort_range(params: &SearchParams) -> Option<(String, Option<String>)> {
    let width = if params.resource_type.dates_are_days() { Timestamp::DAY } else { 1 };
    let (mut lo, mut hi) = (i64::MIN, i64::MAX);
    for c in &params.dates {
        let (s, e) = c.range;
        let after = |t: i64| t.saturating_sub(width).saturating_add(1);
        let (l, h) = match c.prefix {
            DatePrefix::Eq => (s, after(e)),
            DatePrefix::Ge => (after(s), i64::MAX),
            DatePrefix::Le => (i64::MIN, e),
            DatePrefix::Gt => (after(e), i64::MAX),
            DatePrefix::Lt => (i64::MIN, s),
        };
        lo = lo.max(l);
        hi = hi.min(h);
    }
    if lo >= hi {
        return None;
    }
    let from = if lo == i64::MIN { String::new() } else { instant_key(Timestamp(lo)) };
    let to = (hi != i64::MAX).then(|| instant_key(Timestamp(hi)));
    Some((from, to))
}

/// The DIN and product code an ISBT 128 identifier names: bar code text
/// (data structures 001 and 003, or a compound message), a DIN keyed with
/// its check character, or the DIN followed by the product code.
fn unit_lookup(value: &str) -> Option<Lookup> {
    if let Ok(scan) = isbt128::parse_scan(value.trim()) {
        let (mut din, mut product_code) = (None, None);
        for s in scan.into_structures() {
            let parts = match s {
                DataStructure::CompoundMessage(c) => c.structures().to_vec(),
                other => vec![other],
            };
            for part in parts {
                match part {
                    DataStructure::Din(d) => din = Some(d.din().to_string()),
                    DataStructure::ProductCode(p) => product_code = Some(p.content().to_owned()),
                    _ => {}
                }
            }
        }
        if let Some(din) = din {
            return Some(Lookup::Unit { din, product_code });
        }
    }
    let key = code_key(value);
    if key.len() == 14 {
        if let Ok(keyed) = isbt128::parse_keyed_din(&key) {
            return Some(Lookup::Unit { din: keyed.din.to_string(), product_code: None });
        }
    }
    let din: String = key.chars().take(13).collect();
    let product: String = key.chars().skip(13).collect();
    (din.len() == 13).then(|| Lookup::Unit { din, product_code: (!product.is_empty()).then_some(product) })
}

/// What one identifier token can name of a type.
fn lookups_for(rt: ResourceType, token: &Token) -> Option<Lookup> {
    let value = token.value.clone()?;
    let system = token.system.as_deref();
    match rt {
        ResourceType::Patient => match system {
            None => Some(Lookup::Mrn { site: None, mrn: value }),
            Some(s) => s.strip_prefix(MRN_BASE).and_then(|rest| rest.strip_prefix('/')).map(|site| Lookup::Mrn { site: Some(site.to_owned()), mrn: value }),
        },
        ResourceType::BiologicallyDerivedProduct => match system {
            None | Some(ISBT128_DIN) | Some(UNIT_CODE) => unit_lookup(&value),
            Some(_) => None,
        },
        ResourceType::Organization => matches!(system, None | Some(ISBT128_FIN)).then_some(Lookup::Fin(value)),
        _ => matches!(system, None | Some(RECORD_ID)).then(|| Lookup::Record { kinds: rt.records().to_vec(), id: value }),
    }
}

impl SearchParams {
    /// The index reads that answer this search. `_id` and `identifier` are
    /// lookups (few records, filtered by the rest of the search in memory);
    /// otherwise the type's lists, by status and date range, of the caller's
    /// sites or of the patients named.
    pub fn strategy(&self) -> Strategy {
        let rt = self.resource_type;
        if let Some((first, rest)) = self.ids.split_first() {
            return Strategy::Ids { ids: first.clone(), filter: SearchParams { ids: rest.to_vec(), ..self.clone() } };
        }
        let patients = intersect(&self.patients);
        if patients.as_ref().is_some_and(Vec::is_empty) {
            return Strategy::Nothing;
        }
        match rt {
            ResourceType::Questionnaire => return Strategy::Questionnaires { filter: self.clone() },
            ResourceType::Provenance => return Strategy::Ledger { patients: patients.unwrap_or_default() },
            _ => {}
        }
        if let Some((first, rest)) = self.identifiers.split_first() {
            let lookups = first.iter().filter_map(|t| lookups_for(rt, t)).collect();
            return Strategy::Identifiers { lookups, filter: SearchParams { identifiers: rest.to_vec(), ..self.clone() } };
        }
        let lists: Vec<ListKey> = lists_of(rt)
            .into_iter()
            .filter(|(_, fhir_status)| self.statuses.iter().all(|alts| alts.iter().any(|a| a == fhir_status)))
            .map(|(key, _)| key)
            .collect();
        let Some((from, to)) = sort_range(self) else { return Strategy::Nothing };
        if lists.is_empty() {
            return Strategy::Nothing;
        }
        let scope = match patients {
            Some(ids) => Scope::Patients(ids),
            None if rt.is_shared() => Scope::All,
            None => Scope::Sites,
        };
        Strategy::Lists(Lists { scope, lists, from, to })
    }
}

/// Where the next page of a search starts: the list it is in, and the sort
/// key and id of the last record served. Opaque to clients (`_cursor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    /// The list (an index key, or `lookup`, `ledger`).
    pub list: String,
    /// Sort key of the last record served (empty: the list's start).
    pub sort: String,
    /// Id of the last record's entity (empty: the list's start).
    pub id: String,
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

impl PageCursor {
    /// A cursor at the start of `list`.
    pub fn start_of(list: &str) -> PageCursor {
        PageCursor { list: list.to_owned(), sort: String::new(), id: String::new() }
    }

    /// The URL-safe text (`hex.hex.hex`).
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", hex(&self.list), hex(&self.sort), hex(&self.id))
    }

    /// The cursor of [`PageCursor::encode`]'s text.
    pub fn decode(text: &str) -> Option<PageCursor> {
        let mut parts = text.split('.');
        let cursor = PageCursor { list: unhex(parts.next()?)?, sort: unhex(parts.next()?)?, id: unhex(parts.next()?)? };
        parts.next().is_none().then_some(cursor)
    }
}

/// The FHIR status code each unit status is served as, for documentation and tests.
pub fn unit_status_codes() -> Vec<(String, &'static str)> {
    UNIT_STATUSES.iter().map(|s| (code_of(s), unit_availability(*s))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strategy(rt: ResourceType, query: &[(&str, &str)]) -> Strategy {
        SearchParams::parse(rt, query.iter().copied()).expect("params").strategy()
    }

    #[test]
    fn unit_status_words_are_the_domains() {
        for (word, _) in unit_status_codes() {
            assert!(UNIT_STATUSES.iter().any(|s| unit_status_word(*s) == word), "{word}");
        }
    }

    #[test]
    fn statuses_choose_lists_and_nothing_when_none_fits() {
        let Strategy::Lists(Lists { lists, scope, .. }) = strategy(ResourceType::BiologicallyDerivedProduct, &[("status", "available")]) else { panic!("lists") };
        assert_eq!((lists, scope), (vec![ListKey { record: RecordKind::Unit, status: Some("released") }], Scope::Sites));
        let Strategy::Lists(Lists { lists, .. }) = strategy(ResourceType::BiologicallyDerivedProduct, &[("status", "unavailable")]) else { panic!("lists") };
        assert_eq!(lists.len(), 4);
        assert_eq!(strategy(ResourceType::BiologicallyDerivedProduct, &[("status", "available"), ("status", "unavailable")]), Strategy::Nothing);
        assert_eq!(strategy(ResourceType::Procedure, &[("status", "in-progress")]), Strategy::Nothing);
        let Strategy::Lists(Lists { lists, .. }) = strategy(ResourceType::Consent, &[("status", "inactive")]) else { panic!("lists") };
        assert_eq!(lists, vec![ListKey { record: RecordKind::Consent, status: Some("withdrawn") }]);
        let Strategy::Lists(Lists { scope, .. }) = strategy(ResourceType::Practitioner, &[]) else { panic!("lists") };
        assert_eq!(scope, Scope::All);
    }

    #[test]
    fn patients_must_all_hold() {
        let Strategy::Lists(Lists { scope, lists, .. }) = strategy(ResourceType::Observation, &[("patient", "Patient/p1,p2"), ("patient", "p2")]) else { panic!("lists") };
        assert_eq!(scope, Scope::Patients(vec!["p2".into()]));
        assert_eq!(lists.len(), 2);
        assert_eq!(strategy(ResourceType::Observation, &[("patient", "p1"), ("patient", "p2")]), Strategy::Nothing);
    }

    #[test]
    fn dates_become_sort_key_ranges() {
        let day = |d: &str| crate::time::range(d).expect("date").0;
        let Strategy::Lists(Lists { from, to, .. }) = strategy(ResourceType::Procedure, &[("date", "ge2026-01-02"), ("date", "lt2026-01-05")]) else { panic!("lists") };
        assert_eq!((from, to), (instant_key(Timestamp(day("2026-01-02"))), Some(instant_key(Timestamp(day("2026-01-05"))))));
        // Birth dates are whole days: eq a year is every birthday in it.
        let Strategy::Lists(Lists { from, to, .. }) = strategy(ResourceType::Patient, &[("birthdate", "1975")]) else { panic!("lists") };
        assert_eq!(from, instant_key(Timestamp(day("1975-01-01"))));
        assert_eq!(to, Some(instant_key(Timestamp(day("1975-12-31") + 1))));
        assert_eq!(strategy(ResourceType::Procedure, &[("date", "lt2026-01-02"), ("date", "gt2026-01-03")]), Strategy::Nothing);
    }

    #[test]
    fn identifiers_become_lookups() {
        let lookups = |rt, q: &str| match strategy(rt, &[("identifier", q)]) {
            Strategy::Identifiers { lookups, .. } => lookups,
            other => panic!("{other:?}"),
        };
        assert_eq!(lookups(ResourceType::Patient, "http://celltrace.org/fhir/sid/mrn/dubai|DXB-1"), vec![Lookup::Mrn { site: Some("dubai".into()), mrn: "DXB-1".into() }]);
        assert_eq!(lookups(ResourceType::Patient, "DXB-1"), vec![Lookup::Mrn { site: None, mrn: "DXB-1".into() }]);
        assert!(lookups(ResourceType::Patient, "http://other|DXB-1").is_empty());
        let unit = |din: &str, code: Option<&str>| Lookup::Unit { din: din.into(), product_code: code.map(str::to_owned) };
        assert_eq!(lookups(ResourceType::BiologicallyDerivedProduct, "https://www.isbt128.org/uri/DonationIdentificationNumber|A999926000001"), vec![unit("A999926000001", None)]);
        assert_eq!(lookups(ResourceType::BiologicallyDerivedProduct, "a999926000001s0001100"), vec![unit("A999926000001", Some("S0001100"))]);
        let check = isbt128::parse_keyed_din("A999926000001").expect("din").din.check_character();
        assert_eq!(lookups(ResourceType::BiologicallyDerivedProduct, &format!("A999926000001{check}")), vec![unit("A999926000001", None)]);
        assert_eq!(lookups(ResourceType::BiologicallyDerivedProduct, "=A99992600000100"), vec![unit("A999926000001", None)]);
        assert_eq!(lookups(ResourceType::Procedure, "http://celltrace.org/fhir/sid/record|adm-1"), vec![Lookup::Record { kinds: vec![RecordKind::Collection, RecordKind::Administration], id: "adm-1".into() }]);
        let Strategy::Ids { ids, filter } = strategy(ResourceType::Procedure, &[("_id", "a,b"), ("identifier", "x")]) else { panic!("ids") };
        assert_eq!((ids, filter.identifiers.len()), (vec!["a".to_owned(), "b".to_owned()], 1));
    }

    #[test]
    fn cursors_round_trip() {
        for c in [PageCursor::start_of("dubai|unit|released"), PageCursor { list: "ledger".into(), sort: "42".into(), id: "p-1.x".into() }] {
            assert_eq!(PageCursor::decode(&c.encode()), Some(c));
        }
        assert_eq!(PageCursor::decode("zz.00.00"), None);
        assert_eq!(PageCursor::decode("61.62"), None);
        assert_eq!(PageCursor::decode("61.62.63.64"), None);
    }
}
