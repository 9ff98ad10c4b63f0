//! Search parameters: the resource types served, the parameters each accepts
//! (`_id`, `patient`, `identifier`, `date`/`birthdate` with prefixes,
//! `status`), and paging (`_count`, `_cursor` from a `next` link), parsed into
//! [`SearchParams`]; [`crate::query`] turns them into the index reads that
//! answer them. An unknown parameter is a `SearchError`, which becomes an
//! OperationOutcome.

use crate::server::{operation_outcome, IssueSeverity, IssueType};
use crate::time;
use celltrace_domain::index::RecordKind;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// Page size when `_count` is not given.
pub const DEFAULT_COUNT: usize = 50;
/// Largest page served; a larger `_count` is lowered to this.
pub const MAX_COUNT: usize = 500;

/// The resource types celltrace serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceType {
    /// Patients and donors.
    Patient,
    /// Staff.
    Practitioner,
    /// Sites.
    Organization,
    /// Units.
    BiologicallyDerivedProduct,
    /// Collections and administrations.
    Procedure,
    /// QC results and follow-up scores.
    Observation,
    /// Adverse events.
    AdverseEvent,
    /// Treatment consents.
    Consent,
    /// Questionnaire instruments (supplied by the caller).
    Questionnaire,
    /// Completed questionnaires (supplied by the caller).
    QuestionnaireResponse,
    /// Ledger entries (supplied by the caller).
    Provenance,
}

impl ResourceType {
    /// Every type, in the order the CapabilityStatement lists them.
    pub const ALL: [ResourceType; 11] = [
        ResourceType::Patient,
        ResourceType::Practitioner,
        ResourceType::Organization,
        ResourceType::BiologicallyDerivedProduct,
        ResourceType::Procedure,
        ResourceType::Observation,
        ResourceType::AdverseEvent,
        ResourceType::Consent,
        ResourceType::Questionnaire,
        ResourceType::QuestionnaireResponse,
        ResourceType::Provenance,
    ];

    /// The type's name, as in URLs and `resourceType`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Patient => "Patient",
            ResourceType::Practitioner => "Practitioner",
            ResourceType::Organization => "Organization",
            ResourceType::BiologicallyDerivedProduct => "BiologicallyDerivedProduct",
            ResourceType::Procedure => "Procedure",
            ResourceType::Observation => "Observation",
            ResourceType::AdverseEvent => "AdverseEvent",
            ResourceType::Consent => "Consent",
            ResourceType::Questionnaire => "Questionnaire",
            ResourceType::QuestionnaireResponse => "QuestionnaireResponse",
            ResourceType::Provenance => "Provenance",
        }
    }

    /// The type a URL segment names (exact, case-sensitive as FHIR is).
    pub fn parse(segment: &str) -> Option<ResourceType> {
        ResourceType::ALL.into_iter().find(|t| t.as_str() == segment)
    }

    /// The kinds of record in the read model served as this type (none for
    /// Questionnaire, shipped with celltrace, and Provenance, the ledger).
    pub fn records(self) -> &'static [RecordKind] {
        use ResourceType::*;
        match self {
            Patient => &[RecordKind::Person],
            Practitioner => &[RecordKind::Staff],
            Organization => &[RecordKind::Site],
            BiologicallyDerivedProduct => &[RecordKind::Unit],
            Procedure => &[RecordKind::Collection, RecordKind::Administration],
            Observation => &[RecordKind::Qc, RecordKind::FollowUp],
            AdverseEvent => &[RecordKind::AdverseEvent],
            Consent => &[RecordKind::Consent],
            QuestionnaireResponse => &[RecordKind::Response],
            Questionnaire | Provenance => &[],
        }
    }

    /// The search parameters this type accepts, besides `_id`, `_count`,
    /// `_cursor` and `_format`, with their FHIR search type.
    pub fn search_params(self) -> &'static [(&'static str, &'static str)] {
        use ResourceType::*;
        match self {
            Patient => &[("identifier", "token"), ("birthdate", "date")],
            Practitioner => &[],
            Organization => &[("identifier", "token")],
            BiologicallyDerivedProduct => &[("patient", "reference"), ("identifier", "token"), ("date", "date"), ("status", "token")],
            Procedure | Observation | Consent => {
                &[("patient", "reference"), ("identifier", "token"), ("date", "date"), ("status", "token")]
            }
            AdverseEvent => &[("patient", "reference"), ("identifier", "token"), ("date", "date")],
            Questionnaire => &[("status", "token")],
            QuestionnaireResponse => &[("patient", "reference"), ("identifier", "token"), ("date", "date"), ("status", "token")],
            Provenance => &[("patient", "reference")],
        }
    }

    /// Where a date parameter looks (dotted path).
    pub(crate) fn date_path(self) -> &'static str {
        use ResourceType::*;
        match self {
            Patient => "birthDate",
            BiologicallyDerivedProduct => "collection.collectedDateTime",
            Procedure => "performedDateTime",
            Observation => "effectiveDateTime",
            AdverseEvent => "date",
            Consent => "dateTime",
            QuestionnaireResponse => "authored",
            Provenance => "recorded",
            Practitioner | Organization | Questionnaire => "date",
        }
    }

    /// Whether the date searched is a calendar date (a whole day: birth
    /// dates, onsets) rather than an instant.
    pub(crate) fn dates_are_days(self) -> bool {
        matches!(self, ResourceType::Patient | ResourceType::AdverseEvent)
    }

    /// Whether the type lists records of every site (staff and sites are
    /// not patient data).
    pub(crate) fn is_shared(self) -> bool {
        matches!(self, ResourceType::Practitioner | ResourceType::Organization | ResourceType::Questionnaire)
    }

    /// Where `patient` looks: the fields holding references to the patient.
    fn patient_path(self) -> &'static str {
        use ResourceType::*;
        match self {
            BiologicallyDerivedProduct => "collection.source",
            Consent => "patient",
            Provenance => "target",
            _ => "subject",
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResourceType {
    type Err = SearchError;
    fn from_str(s: &str) -> Result<ResourceType, SearchError> {
        ResourceType::parse(s).ok_or_else(|| SearchError::UnknownResourceType(s.chars().take(80).collect()))
    }
}

/// Why a search cannot run. [`SearchError::operation_outcome`] says it in FHIR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchError {
    /// The URL names no type celltrace serves.
    UnknownResourceType(String),
    /// A parameter this type does not support (FHIR servers may ignore
    /// unknown parameters; celltrace refuses them, so a typo never returns
    /// everything).
    UnknownParameter {
        /// Type searched.
        resource_type: ResourceType,
        /// The parameter as given.
        parameter: String,
    },
    /// A `_cursor` that no `next` link of this search gave.
    InvalidCursor,
    /// A supported parameter with a value it cannot use.
    InvalidValue {
        /// The parameter.
        parameter: String,
        /// The value as given.
        value: String,
        /// What is expected.
        reason: &'static str,
    },
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SearchError::UnknownResourceType(t) => write!(f, "'{t}' is not a resource type this server supports"),
            SearchError::UnknownParameter { resource_type, parameter } => {
                let known: Vec<&str> = resource_type.search_params().iter().map(|(n, _)| *n).collect();
                write!(
                    f,
                    "search parameter '{parameter}' is not supported for {resource_type}; supported: _id, {}_count, _cursor",
                    known.iter().map(|k| format!("{k}, ")).collect::<String>()
                )
            }
            SearchError::InvalidValue { parameter, value, reason } => {
                write!(f, "'{value}' is not a valid value for '{parameter}': {reason}")
            }
            SearchError::InvalidCursor => f.write_str("'_cursor' is not one this search gave: follow the 'next' link of the previous page, or start again without it"),
        }
    }
}

impl std::error::Error for SearchError {}

impl SearchError {
    /// The OperationOutcome a server returns for this error.
    pub fn operation_outcome(&self) -> Value {
        let code = match self {
            SearchError::UnknownResourceType(_) => IssueType::NotSupported,
            SearchError::UnknownParameter { .. } => IssueType::NotSupported,
            SearchError::InvalidValue { .. } | SearchError::InvalidCursor => IssueType::Invalid,
        };
        operation_outcome(IssueSeverity::Error, code, &self.to_string())
    }

    /// The HTTP status that goes with it: 404 for an unknown type, else 400.
    pub fn http_status(&self) -> u16 {
        match self {
            SearchError::UnknownResourceType(_) => 404,
            _ => 400,
        }
    }
}

/// A date comparison prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePrefix {
    /// Within the range (the default).
    Eq,
    /// At or after the start of the range.
    Ge,
    /// At or before the end of the range.
    Le,
    /// After the range.
    Gt,
    /// Before the range.
    Lt,
}

/// One date condition: prefix and the instants the value covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateCondition {
    /// Comparison.
    pub prefix: DatePrefix,
    /// Start (inclusive) and end (exclusive), micros since the epoch.
    pub range: (i64, i64),
}

impl DateCondition {
    pub(crate) fn matches(&self, (start, end): (i64, i64)) -> bool {
        let (s, e) = self.range;
        match self.prefix {
            DatePrefix::Eq => start >= s && end <= e,
            DatePrefix::Ge => end > s,
            DatePrefix::Le => start < e,
            DatePrefix::Gt => end > e,
            DatePrefix::Lt => start < s,
        }
    }
}

/// A token search value: `[system]|value`, `value`, or `system|`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// `None`: any system; `Some("")`: no system.
    pub system: Option<String>,
    /// `None`: any value.
    pub value: Option<String>,
}

/// A parsed search. Repeated parameters must all hold; commas within one
/// value are alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParams {
    /// Type searched.
    pub resource_type: ResourceType,
    /// `_id` alternatives, per occurrence.
    pub ids: Vec<Vec<String>>,
    /// `patient` references (`Patient/x` or `x`), per occurrence.
    pub patients: Vec<Vec<String>>,
    /// `identifier` tokens, per occurrence.
    pub identifiers: Vec<Vec<Token>>,
    /// Date conditions (`date`, `birthdate`, `recorded`).
    pub dates: Vec<DateCondition>,
    /// `status` alternatives, per occurrence.
    pub statuses: Vec<Vec<String>>,
    /// Page size.
    pub count: usize,
    /// Where the page starts: the `_cursor` of a `next` link, as given.
    pub cursor: Option<String>,
    /// The filters as given, to rebuild paging links.
    pub filters: Vec<(String, String)>,
}

impl SearchParams {
    /// No filters, default paging.
    pub fn new(resource_type: ResourceType) -> SearchParams {
        SearchParams {
            resource_type,
            ids: Vec::new(),
            patients: Vec::new(),
            identifiers: Vec::new(),
            dates: Vec::new(),
            statuses: Vec::new(),
            count: DEFAULT_COUNT,
            cursor: None,
            filters: Vec::new(),
        }
    }

    /// Parses decoded query pairs (as a web framework hands them over).
    pub fn parse<I, K, V>(resource_type: ResourceType, pairs: I) -> Result<SearchParams, SearchError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut p = SearchParams::new(resource_type);
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref());
            let invalid = |reason| SearchError::InvalidValue { parameter: key.to_owned(), value: value.chars().take(80).collect(), reason };
            let supported = resource_type.search_params().iter().any(|(n, _)| *n == key);
            match key {
                "_count" => p.count = value.parse::<usize>().map_err(|_| invalid("a whole number of results per page"))?.min(MAX_COUNT),
                "_cursor" => p.cursor = Some(value.to_owned()),
                // Only JSON is served; the handler decides what to do with other formats.
                "_format" => {}
                "_id" => {
                    p.ids.push(alternatives(value).ok_or_else(|| invalid("one or more ids, separated by commas"))?);
                    p.filters.push((key.to_owned(), value.to_owned()));
                }
                "patient" if supported => {
                    let refs = alternatives(value).ok_or_else(|| invalid("a patient id or Patient/id"))?;
                    p.patients.push(refs.into_iter().map(|r| r.strip_prefix("Patient/").map(str::to_owned).unwrap_or(r)).collect());
                    p.filters.push((key.to_owned(), value.to_owned()));
                }
                "identifier" if supported => {
                    let tokens: Vec<Token> = alternatives(value).ok_or_else(|| invalid("system|value or value"))?.iter().map(|t| token(t)).collect();
                    if tokens.iter().any(|t| t.value.is_none()) {
                        return Err(invalid("an identifier with its value (system|value or value): a system alone names no record"));
                    }
                    p.identifiers.push(tokens);
                    p.filters.push((key.to_owned(), value.to_owned()));
                }
                "date" | "birthdate" if supported => {
                    p.dates.push(date_condition(value).ok_or_else(|| invalid("an optional prefix (eq, ge, le, gt, lt) and a date, e.g. ge2026-01-02 or le2026-01-02T10:00:00Z"))?);
                    p.filters.push((key.to_owned(), value.to_owned()));
                }
                "status" if supported => {
                    p.statuses.push(alternatives(value).ok_or_else(|| invalid("one or more status codes, separated by commas"))?);
                    p.filters.push((key.to_owned(), value.to_owned()));
                }
                _ => return Err(SearchError::UnknownParameter { resource_type, parameter: key.chars().take(80).collect() }),
            }
        }
        Ok(p)
    }

    /// Whether a resource satisfies every filter (paging aside).
    pub fn matches(&self, resource: &Value) -> bool {
        let rt = self.resource_type;
        if resource.get("resourceType").and_then(Value::as_str) != Some(rt.as_str()) {
            return false;
        }
        let id = resource.get("id").and_then(Value::as_str).unwrap_or_default();
        if !self.ids.iter().all(|alts| alts.iter().any(|a| a == id)) {
            return false;
        }
        if !self.patients.is_empty() {
            let refs = references_at(resource, rt.patient_path());
            if !self.patients.iter().all(|alts| alts.iter().any(|a| refs.iter().any(|r| *r == format!("Patient/{a}")))) {
                return false;
            }
        }
        if !self.identifiers.is_empty() {
            let ids = identifiers(resource);
            if !self.identifiers.iter().all(|alts| alts.iter().any(|t| ids.iter().any(|(s, v)| token_matches(t, s, v)))) {
                return false;
            }
        }
        if !self.dates.is_empty() {
            let Some(range) = lookup(resource, rt.date_path()).and_then(Value::as_str).and_then(time::range) else {
                return false;
            };
            if !self.dates.iter().all(|c| c.matches(range)) {
                return false;
            }
        }
        let status = resource.get("status").and_then(Value::as_str).unwrap_or_default();
        self.statuses.iter().all(|alts| alts.iter().any(|a| a == status))
    }

    /// The query string of this search from `cursor` on, percent-encoded,
    /// for `self` and `next` links.
    pub fn query_string(&self, cursor: Option<&str>) -> String {
        let mut parts: Vec<String> = self.filters.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        parts.push(format!("_count={}", self.count));
        if let Some(cursor) = cursor {
            parts.push(format!("_cursor={}", encode(cursor)));
        }
        parts.join("&")
    }
}

fn alternatives(value: &str) -> Option<Vec<String>> {
    let alts: Vec<String> = value.split(',').map(|s| s.trim().to_owned()).collect();
    (!alts.iter().any(String::is_empty)).then_some(alts)
}

fn token(text: &str) -> Token {
    match text.split_once('|') {
        Some((system, "")) => Token { system: Some(system.to_owned()), value: None },
        Some((system, value)) => Token { system: Some(system.to_owned()), value: Some(value.to_owned()) },
        None => Token { system: None, value: Some(text.to_owned()) },
    }
}

fn token_matches(t: &Token, system: &str, value: &str) -> bool {
    t.system.as_deref().is_none_or(|s| s == system) && t.value.as_deref().is_none_or(|v| v == value)
}

fn date_condition(value: &str) -> Option<DateCondition> {
    let prefixes = [("eq", DatePrefix::Eq), ("ge", DatePrefix::Ge), ("le", DatePrefix::Le), ("gt", DatePrefix::Gt), ("lt", DatePrefix::Lt)];
    let (prefix, rest) = prefixes
        .iter()
        .find_map(|(p, d)| value.strip_prefix(p).map(|rest| (*d, rest)))
        .unwrap_or((DatePrefix::Eq, value));
    Some(DateCondition { prefix, range: time::range(rest)? })
}

/// The value at a dotted path.
fn lookup<'v>(resource: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(resource, |v, key| v.get(key))
}

/// The `reference` strings at a path (a Reference or an array of them).
fn references_at<'v>(resource: &'v Value, path: &str) -> Vec<&'v str> {
    match lookup(resource, path) {
        Some(Value::Array(items)) => items.iter().filter_map(|r| r.get("reference").and_then(Value::as_str)).collect(),
        Some(r) => r.get("reference").and_then(Value::as_str).into_iter().collect(),
        None => Vec::new(),
    }
}

/// `(system, value)` of every identifier (an array, or one object as in
/// AdverseEvent and QuestionnaireResponse).
fn identifiers(resource: &Value) -> Vec<(&str, &str)> {
    fn one(i: &Value) -> Option<(&str, &str)> {
        Some((i.get("system").and_then(Value::as_str).unwrap_or_default(), i.get("value").and_then(Value::as_str)?))
    }
    match resource.get("identifier") {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(i) => one(i).into_iter().collect(),
        None => Vec::new(),
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obs(id: &str, patient: &str, at: &str, status: &str) -> Value {
        json!({
            "resourceType": "Observation", "id": id, "status": status,
            "subject": {"reference": format!("Patient/{patient}")},
            "effectiveDateTime": at,
            "identifier": [{"system": "http://x", "value": id}],
        })
    }

    fn sample() -> Vec<Value> {
        vec![
            obs("o1", "p1", "2026-01-01T10:00:00Z", "final"),
            obs("o2", "p1", "2026-01-02T10:00:00Z", "final"),
            obs("o3", "p2", "2026-01-03T10:00:00Z", "amended"),
            json!({"resourceType": "Patient", "id": "o4"}),
        ]
    }

    fn run(query: &[(&str, &str)]) -> Result<Vec<String>, SearchError> {
        let p = SearchParams::parse(ResourceType::Observation, query.iter().copied())?;
        Ok(sample().iter().filter(|r| p.matches(r)).map(|r| r["id"].as_str().unwrap_or_default().to_owned()).collect())
    }

    #[test]
    fn types_parse_from_url_segments() {
        assert_eq!(ResourceType::parse("BiologicallyDerivedProduct"), Some(ResourceType::BiologicallyDerivedProduct));
        assert_eq!(ResourceType::parse("patient"), None);
        let err = "Bundle".parse::<ResourceType>().expect_err("not served");
        assert_eq!(err.http_status(), 404);
        assert_eq!(err.operation_outcome()["issue"][0]["code"], "not-supported");
    }

    #[test]
    fn filters_by_patient_identifier_status_and_id() {
        assert_eq!(run(&[("patient", "p1")]), Ok(vec!["o1".into(), "o2".into()]));
        assert_eq!(run(&[("patient", "Patient/p2")]), Ok(vec!["o3".into()]));
        assert_eq!(run(&[("identifier", "http://x|o2")]), Ok(vec!["o2".into()]));
        assert_eq!(run(&[("identifier", "http://y|o2")]), Ok(vec![]));
        assert_eq!(run(&[("identifier", "o3")]), Ok(vec!["o3".into()]));
        assert!(matches!(run(&[("identifier", "http://x|")]), Err(SearchError::InvalidValue { .. })), "a system alone names no record");
        assert_eq!(run(&[("status", "amended,cancelled")]), Ok(vec!["o3".into()]));
        assert_eq!(run(&[("_id", "o1,o3"), ("patient", "p1")]), Ok(vec!["o1".into()]));
    }

    #[test]
    fn filters_by_date_with_prefixes() {
        assert_eq!(run(&[("date", "2026-01-02")]), Ok(vec!["o2".into()]));
        assert_eq!(run(&[("date", "ge2026-01-02")]), Ok(vec!["o2".into(), "o3".into()]));
        assert_eq!(run(&[("date", "le2026-01-02")]), Ok(vec!["o1".into(), "o2".into()]));
        assert_eq!(run(&[("date", "ge2026-01-02"), ("date", "le2026-01-02")]), Ok(vec!["o2".into()]));
        assert_eq!(run(&[("date", "gt2026-01-02")]), Ok(vec!["o3".into()]));
        assert_eq!(run(&[("date", "lt2026-01-02")]), Ok(vec!["o1".into()]));
        assert_eq!(run(&[("date", "le2026-01-02T09:59:59Z")]), Ok(vec!["o1".into()]));
        assert!(matches!(run(&[("date", "sa2026-01-02")]), Err(SearchError::InvalidValue { .. })));
    }

    #[test]
    fn page_size_and_cursor() {
        let p = SearchParams::parse(ResourceType::Observation, [("_count", "2"), ("_cursor", "abc")]).expect("params");
        assert_eq!((p.count, p.cursor.as_deref()), (2, Some("abc")));
        let big = SearchParams::parse(ResourceType::Observation, [("_count", "100000")]).expect("params");
        assert_eq!(big.count, MAX_COUNT);
        assert!(SearchParams::parse(ResourceType::Observation, [("_count", "-1")]).is_err());
        assert!(SearchParams::parse(ResourceType::Observation, [("_offset", "10")]).is_err(), "paging is by cursor only");
    }

    #[test]
    fn unknown_parameters_are_refused_with_an_outcome() {
        let err = SearchParams::parse(ResourceType::Observation, [("subject", "p1")]).expect_err("unknown");
        assert_eq!(err.http_status(), 400);
        let outcome = err.operation_outcome();
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        assert!(outcome["issue"][0]["diagnostics"].as_str().unwrap_or_default().contains("'subject'"));
        // Parameters of other types are unknown here too.
        assert!(SearchParams::parse(ResourceType::Practitioner, [("patient", "p1")]).is_err());
        assert!(SearchParams::parse(ResourceType::Patient, [("status", "active")]).is_err());
    }

    #[test]
    fn query_strings_rebuild_the_filters() {
        let p = SearchParams::parse(ResourceType::Observation, [("patient", "p 1"), ("date", "ge2026-01-01"), ("_count", "5")]).expect("params");
        assert_eq!(p.query_string(None), "patient=p%201&date=ge2026-01-01&_count=5");
        assert_eq!(p.query_string(Some("61.62")), "patient=p%201&date=ge2026-01-01&_count=5&_cursor=61.62");
    }
}
