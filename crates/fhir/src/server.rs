//! What a FHIR endpoint returns around the resources: the CapabilityStatement,
//! OperationOutcomes, searchset Bundles with paging links, and Patient
//! `$everything`.

use crate::ids::fhir_id;
use crate::search::{resources_of_type, ResourceType, SearchPage, SearchParams};
use celltrace_domain::model::Person;
use celltrace_domain::State;
use serde_json::{json, Value};

/// FHIR version served.
pub const FHIR_VERSION: &str = "4.0.1";
/// When the interface (this crate's resources and parameters) last changed.
pub const CAPABILITY_DATE: &str = "2026-11-23";

/// OperationOutcome issue severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueSeverity {
    /// The action failed and nothing else can be done.
    Fatal,
    /// The action failed.
    Error,
    /// The action succeeded with a caveat.
    Warning,
    /// For information only.
    Information,
}

impl IssueSeverity {
    /// The FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueSeverity::Fatal => "fatal",
            IssueSeverity::Error => "error",
            IssueSeverity::Warning => "warning",
            IssueSeverity::Information => "information",
        }
    }
}

/// OperationOutcome issue type: the codes a celltrace endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueType {
    /// Content invalid (bad parameter value).
    Invalid,
    /// Not found.
    NotFound,
    /// Not supported (unknown type or parameter).
    NotSupported,
    /// Forbidden to this user.
    Forbidden,
    /// Not signed in / bad credentials.
    Login,
    /// Too many results or requests.
    TooCostly,
    /// Processing failed.
    Processing,
    /// Unexpected internal error.
    Exception,
    /// Informational note.
    Informational,
}

impl IssueType {
    /// The FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueType::Invalid => "invalid",
            IssueType::NotFound => "not-found",
            IssueType::NotSupported => "not-supported",
            IssueType::Forbidden => "forbidden",
            IssueType::Login => "login",
            IssueType::TooCostly => "too-costly",
            IssueType::Processing => "processing",
            IssueType::Exception => "exception",
            IssueType::Informational => "informational",
        }
    }
}

/// An OperationOutcome of one issue.
pub fn operation_outcome(severity: IssueSeverity, code: IssueType, diagnostics: &str) -> Value {
    crate::json::prune(json!({
        "resourceType": "OperationOutcome",
        "issue": [{ "severity": severity.as_str(), "code": code.as_str(), "diagnostics": diagnostics }],
    }))
}

/// The CapabilityStatement (`GET {base}/metadata`): every type with read and
/// search, its search parameters, and Patient `$everything`. Only JSON.
pub fn capability_statement(base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    let resources: Vec<Value> = ResourceType::ALL
        .into_iter()
        .map(|rt| {
            let mut params = vec![json!({ "name": "_id", "type": "token" })];
            params.extend(rt.search_params().iter().map(|(name, kind)| json!({ "name": name, "type": kind })));
            let operation = (rt == ResourceType::Patient).then(|| {
                json!([{ "name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything" }])
            });
            json!({
                "type": rt.as_str(),
                "interaction": [{ "code": "read" }, { "code": "search-type" }],
                "searchParam": params,
                "operation": operation,
            })
        })
        .collect();
    crate::json::prune(json!({
        "resourceType": "CapabilityStatement",
        "id": "celltrace",
        "url": format!("{base}/metadata"),
        "version": env!("CARGO_PKG_VERSION"),
        "name": "CelltraceFhirInterface",
        "title": "celltrace FHIR interface",
        "status": "active",
        "experimental": false,
        "date": CAPABILITY_DATE,
        "publisher": "celltrace",
        "description": "Read and search access to celltrace's vein-to-vein records: patients and donors, units (ISBT 128), collections, administrations, QC results, follow-up scores, adverse events, consents, questionnaires and the ledger's provenance.",
        "kind": "instance",
        "software": { "name": "celltrace", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "celltrace", "url": base },
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "documentation": "Search parameters not listed are refused with an OperationOutcome. Paging: _count (at most 500) and _offset.",
            "resource": resources,
        }],
    }))
}

/// A searchset Bundle. Each entry's `fullUrl` is `{base_url}/{type}/{id}`;
/// links are `self`, and `next`/`previous` when given.
pub fn bundle_searchset(
    base_url: &str,
    resources: Vec<Value>,
    total: usize,
    self_url: &str,
    next_url: Option<&str>,
    prev_url: Option<&str>,
) -> Value {
    let base = base_url.trim_end_matches('/');
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| {
            let full_url = match (r.get("resourceType").and_then(Value::as_str), r.get("id").and_then(Value::as_str)) {
                (Some(t), Some(id)) => Value::String(format!("{base}/{t}/{id}")),
                _ => Value::Null,
            };
            json!({ "fullUrl": full_url, "resource": r, "search": { "mode": "match" } })
        })
        .collect();
    let mut links = vec![json!({ "relation": "self", "url": self_url })];
    if let Some(next) = next_url {
        links.push(json!({ "relation": "next", "url": next }));
    }
    if let Some(prev) = prev_url {
        links.push(json!({ "relation": "previous", "url": prev }));
    }
    crate::json::prune(json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    }))
}

/// The searchset Bundle of one page of a search, with `self`, `next` and
/// `previous` links that repeat the search's filters.
pub fn searchset(base_url: &str, params: &SearchParams, page: SearchPage) -> Value {
    let base = base_url.trim_end_matches('/');
    let url = |offset: usize| format!("{base}/{}?{}", params.resource_type, params.query_string(offset));
    let next = (page.offset.saturating_add(params.count) < page.total && params.count > 0).then(|| url(page.offset + params.count));
    let prev = (page.offset > 0).then(|| url(page.offset.saturating_sub(params.count)));
    bundle_searchset(base, page.resources, page.total, &url(page.offset), next.as_deref(), prev.as_deref())
}

/// Whether a resource references `target` (`Type/id`) anywhere.
fn references(value: &Value, target: &str) -> bool {
    match value {
        Value::Object(map) => {
            map.get("reference").and_then(Value::as_str) == Some(target) || map.values().any(|v| references(v, target))
        }
        Value::Array(items) => items.iter().any(|v| references(v, target)),
        _ => false,
    }
}

/// The Patient and every resource of the state that references them (units
/// collected from them, their procedures, observations, consents and adverse
/// events), Patient first. Resources that only reference another person,
/// such as a cord blood unit given to this patient, whose source is the donor,
/// are left out, so one person's export names no one else.
pub fn patient_compartment(state: &State, person: &Person) -> Vec<Value> {
    let target = format!("Patient/{}", fhir_id(person.id.as_str()));
    let mut out = vec![crate::resources::patient(state, person)];
    for rt in [
        ResourceType::BiologicallyDerivedProduct,
        ResourceType::Procedure,
        ResourceType::Observation,
        ResourceType::Consent,
        ResourceType::AdverseEvent,
    ] {
        out.extend(resources_of_type(state, rt).into_iter().filter(|r| references(r, &target)));
    }
    out
}

/// `GET {base}/Patient/{id}/$everything`: [`patient_compartment`] as a searchset Bundle.
pub fn everything(state: &State, person: &Person, base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    let resources = patient_compartment(state, person);
    let total = resources.len();
    let self_url = format!("{base}/Patient/{}/$everything", fhir_id(person.id.as_str()));
    bundle_searchset(base, resources, total, &self_url, None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_has_one_issue() {
        let o = operation_outcome(IssueSeverity::Error, IssueType::NotFound, "no Patient x");
        assert_eq!(o, json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found", "diagnostics": "no Patient x"}]}));
    }

    #[test]
    fn capability_lists_every_type_and_everything() {
        let c = capability_statement("https://ct.example/fhir/");
        assert_eq!(c["implementation"]["url"], "https://ct.example/fhir");
        assert_eq!(c["fhirVersion"], "4.0.1");
        let types: Vec<&str> = c["rest"][0]["resource"].as_array().map(|a| a.iter().filter_map(|r| r["type"].as_str()).collect()).unwrap_or_default();
        assert_eq!(types.len(), ResourceType::ALL.len());
        assert_eq!(c["rest"][0]["resource"][0]["operation"][0]["name"], "everything");
    }

    #[test]
    fn searchset_links_page_forward_and_back() {
        let mut params = SearchParams::new(ResourceType::Patient);
        params.count = 2;
        params.offset = 2;
        let page = SearchPage { resources: vec![json!({"resourceType": "Patient", "id": "p3"})], total: 5, offset: 2 };
        let b = searchset("https://x/fhir", &params, page);
        assert_eq!(b["total"], 5);
        assert_eq!(b["link"][0]["url"], "https://x/fhir/Patient?_count=2&_offset=2");
        assert_eq!(b["link"][1], json!({"relation": "next", "url": "https://x/fhir/Patient?_count=2&_offset=4"}));
        assert_eq!(b["link"][2], json!({"relation": "previous", "url": "https://x/fhir/Patient?_count=2&_offset=0"}));
        assert_eq!(b["entry"][0]["fullUrl"], "https://x/fhir/Patient/p3");
    }

    #[test]
    fn reference_scan_finds_nested_references() {
        let r = json!({"a": [{"b": {"reference": "Patient/p1"}}]});
        assert!(references(&r, "Patient/p1"));
        assert!(!references(&r, "Patient/p2"));
    }
}
