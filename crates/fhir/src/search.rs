//! Search: the resource types served, the search parameters each accepts
//! (`_id`, `patient`, `identifier`, `date` with prefixes, `status`), and paging
//! (`_count`, `_offset`) over already-built resources. An unknown parameter is
//! a `SearchError`, which becomes an OperationOutcome.

use crate::resources;
use crate::server::{operation_outcome, IssueSeverity, IssueType};
use crate::time;
use celltrace_domain::State;
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

    /// Whether the resources of this type come from the `State` (the others,
    /// Questionnaire, QuestionnaireResponse and Provenance, the caller supplies).
    pub fn from_state(self) -> bool {
        !matches!(self, ResourceType::Questionnaire | ResourceType::QuestionnaireResponse | ResourceType::Provenance)
    }

    /// The search parameters this type accepts, besides `_id`, `_count`,
    /// `_offset` and `_format`, with their FHIR search type.
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
            Provenance => &[("patient", "reference"), ("date", "date"), ("recorded", "date")],
        }
    }

    /// Where a date parameter looks (dotted path).
    fn date_path(self) -> &'static str {
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
                    "search parameter '{parameter}' is not supported for {resource_type}; supported: _id, {}_count, _offset",
                    known.iter().map(|k| format!("{k}, ")).collect::<String>()
                )
            }
            SearchError::InvalidValue { parameter, value, reason } => {
                write!(f, "'{value}' is not a valid value for '{parameter}': {reason}")
            }
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
            SearchError::InvalidValue { .. } => IssueType::Invalid,
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
    fn matches(&self, (start, end): (i64, i64)) -> bool {
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
    /// Index of the first result of the page.
    pub offset: usize,
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
            offset: 0,
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
                "_offset" => p.offset = value.parse().map_err(|_| invalid("a whole number of results to skip"))?,
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
                    let tokens = alternatives(value).ok_or_else(|| invalid("system|value, |value or value"))?;
                    p.identifiers.push(tokens.iter().map(|t| token(t)).collect());
                    p.filters.push((key.to_owned(), value.to_owned()));
                }
                "date" | "birthdate" | "recorded" if supported => {
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

    /// The query string of this search at another offset, percent-encoded,
    /// for `self`, `next` and `previous` links.
    pub fn query_string(&self, offset: usize) -> String {
        let mut parts: Vec<String> = self.filters.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        parts.push(format!("_count={}", self.count));
        parts.push(format!("_offset={offset}"));
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

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// The resources of the page.
    pub resources: Vec<Value>,
    /// How many resources matched in all.
    pub total: usize,
    /// Index of the page's first result.
    pub offset: usize,
}

/// Filters `resources` (any order; kept as given) and cuts the page.
pub fn search(params: &SearchParams, resources: Vec<Value>) -> SearchPage {
    let matched: Vec<Value> = resources.into_iter().filter(|r| params.matches(r)).collect();
    let total = matched.len();
    let resources = matched.into_iter().skip(params.offset).take(params.count).collect();
    SearchPage { resources, total, offset: params.offset }
}

/// Searches the resources of the state (types from [`ResourceType::from_state`];
/// others find nothing here and are searched with [`search`]).
pub fn search_state(state: &State, params: &SearchParams) -> SearchPage {
    search(params, resources_of_type(state, params.resource_type))
}

/// Every resource of a type the state holds, in id order.
pub fn resources_of_type(state: &State, resource_type: ResourceType) -> Vec<Value> {
    match resource_type {
        ResourceType::Patient => state.persons.values().map(|p| resources::patient(state, p)).collect(),
        ResourceType::Practitioner => state.staff.values().map(resources::practitioner).collect(),
        ResourceType::Organization => state.sites.values().map(resources::organization).collect(),
        ResourceType::BiologicallyDerivedProduct => {
            state.units.values().map(|u| resources::biologically_derived_product(state, u)).collect()
        }
        ResourceType::Procedure => resources::procedures(state),
        ResourceType::Observation => resources::observations(state),
        ResourceType::AdverseEvent => state.adverse_events.values().map(|a| resources::adverse_event(state, a)).collect(),
        ResourceType::Consent => resources::consents(state),
        ResourceType::Questionnaire | ResourceType::QuestionnaireResponse | ResourceType::Provenance => Vec::new(),
    }
}

/// The resource with this FHIR id, for `GET /fhir/{type}/{id}`. Entities whose
/// celltrace id is their FHIR id are found directly; mapped ids by building
/// the type's resources and comparing.
pub fn read(state: &State, resource_type: ResourceType, id: &str) -> Option<Value> {
    let direct = match resource_type {
        ResourceType::Patient => state.persons.get(id).map(|p| resources::patient(state, p)),
        ResourceType::Practitioner => state.staff.get(id).map(resources::practitioner),
        ResourceType::Organization => state.sites.get(id).map(resources::organization),
        ResourceType::BiologicallyDerivedProduct => state.units.get(id).map(|u| resources::biologically_derived_product(state, u)),
        ResourceType::AdverseEvent => state.adverse_events.get(id).map(|a| resources::adverse_event(state, a)),
        _ => None,
    };
    direct
        .filter(|r| r.get("id").and_then(Value::as_str) == Some(id))
        .or_else(|| {
            resources_of_type(state, resource_type)
                .into_iter()
                .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
        })
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
        Ok(search(&p, sample()).resources.iter().map(|r| r["id"].as_str().unwrap_or_default().to_owned()).collect())
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
        assert_eq!(run(&[("identifier", "http://x|")]).map(|v| v.len()), Ok(3));
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
    fn pages_and_totals() {
        let p = SearchParams::parse(ResourceType::Observation, [("_count", "2"), ("_offset", "1")]).expect("params");
        let page = search(&p, sample());
        assert_eq!(page.total, 3);
        assert_eq!(page.resources.len(), 2);
        assert_eq!(page.resources[0]["id"], "o2");
        let big = SearchParams::parse(ResourceType::Observation, [("_count", "100000")]).expect("params");
        assert_eq!(big.count, MAX_COUNT);
        assert!(SearchParams::parse(ResourceType::Observation, [("_count", "-1")]).is_err());
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
        assert_eq!(p.query_string(10), "patient=p%201&date=ge2026-01-01&_count=5&_offset=10");
    }
}
