//! What a FHIR endpoint returns around the resources: the CapabilityStatement,
//! OperationOutcomes, searchset Bundles with `self` and `next` links, and
//! Patient `$everything`. Every absolute URL starts with the `base_url` the
//! caller passes (the deployment's configured address, never a request's).

use crate::query::PageCursor;
use crate::search::{ResourceType, SearchParams, MAX_COUNT};
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
            "documentation": format!(
                "Search parameters not listed are refused with an OperationOutcome. Paging: _count (at most {MAX_COUNT}) and the 'next' link, whose _cursor continues after the last result; Bundle.total counts every match (not for Provenance of a whole site, which lists the ledger newest first). A token sees the patients of the sites where its owner may read patient records, their records and the units they gave or received, and the units and records kept at those sites; searches without 'patient' list what is kept at those sites."
            ),
            "resource": resources,
        }],
    }))
}

/// A searchset Bundle. Each entry's `fullUrl` is `{base_url}/{type}/{id}`;
/// links are `self`, and `next` when given; `total` when counted.
pub fn bundle_searchset(base_url: &str, resources: Vec<Value>, total: Option<u64>, self_url: &str, next_url: Option<&str>) -> Value {
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
    crate::json::prune(json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    }))
}

/// The searchset Bundle of one page of a search: a `self` link for the page
/// asked for and a `next` link continuing after it, both repeating the
/// search's filters.
pub fn searchset(base_url: &str, params: &SearchParams, resources: Vec<Value>, total: Option<u64>, next: Option<&PageCursor>) -> Value {
    let base = base_url.trim_end_matches('/');
    let url = |cursor: Option<&str>| format!("{base}/{}?{}", params.resource_type, params.query_string(cursor));
    let next_url = next.map(|c| url(Some(&c.encode())));
    bundle_searchset(base, resources, total, &url(params.cursor.as_deref()), next_url.as_deref())
}

/// `GET {base}/Patient/{id}/$everything`: the patient's compartment
/// ([`crate::records::compartment`]) as a searchset Bundle.
pub fn everything(base_url: &str, patient_fhir_id: &str, resources: Vec<Value>) -> Value {
    let base = base_url.trim_end_matches('/');
    let total = resources.len() as u64;
    let self_url = format!("{base}/Patient/{patient_fhir_id}/$everything");
    bundle_searchset(base, resources, Some(total), &self_url, None)
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
    fn searchset_links_continue_from_a_cursor() {
        let mut params = SearchParams::new(ResourceType::Patient);
        params.count = 2;
        params.cursor = Some(PageCursor::start_of("a").encode());
        let next = PageCursor { list: "a".into(), sort: "s".into(), id: "p3".into() };
        let b = searchset("https://x/fhir", &params, vec![json!({"resourceType": "Patient", "id": "p3"})], Some(5), Some(&next));
        assert_eq!(b["total"], 5);
        assert_eq!(b["link"][0]["url"], "https://x/fhir/Patient?_count=2&_cursor=61..");
        assert_eq!(b["link"][1], json!({"relation": "next", "url": format!("https://x/fhir/Patient?_count=2&_cursor={}", next.encode())}));
        assert_eq!(b["entry"][0]["fullUrl"], "https://x/fhir/Patient/p3");
        let last = searchset("https://x/fhir", &params, vec![], None, None);
        assert!(last.get("total").is_none());
        assert_eq!(last["link"].as_array().map(Vec::len), Some(1));
    }
}
