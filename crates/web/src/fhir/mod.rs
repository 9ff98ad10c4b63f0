//! The HL7 FHIR R4 API under `/fhir`: capability statement (`metadata`),
//! read (`read`), search with cursor paging (`search`) and
//! `Patient/{id}/$everything` (`everything`), each answered from the read
//! model's indexes (`records`), never from the whole state. Mapping to FHIR
//! lives in `celltrace-fhir`. A token sees the patients of the sites where
//! its owner may read patient records ([`Requester`]); every patient whose
//! record is served is a recorded read. Absolute URLs start with the
//! configured public URL, never with what a request's headers claim.

mod everything;
mod metadata;
mod provenance;
mod read;
mod records;
mod search;

use crate::api::token::TokenOwner;
use crate::error::AppError;
use crate::routes::{Access, Route};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use celltrace_domain::access::{staff_allows, Permission};
use celltrace_domain::ids::SiteId;
use celltrace_domain::model::Staff;
use celltrace_fhir::{ResourceType, SearchError};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every FHIR route.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/fhir/metadata", Access::Public, metadata::metadata),
        Route::get("/fhir/Patient/{id}/$everything", Access::Token, everything::everything),
        Route::get("/fhir/{resource_type}", Access::Token, search::search),
        Route::get("/fhir/{resource_type}/{id}", Access::Token, read::read),
    ]
}

/// A FHIR JSON answer.
fn fhir_json(body: &Value) -> Response {
    let mut response = axum::Json(body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/fhir+json; charset=utf-8"));
    response
}

/// The base every absolute URL starts with: the deployment's configured address.
fn base_url(state: &AppState) -> String {
    format!("{}/fhir", state.config.public_url.trim_end_matches('/'))
}

/// The token's owner and the sites whose patient records they may read.
#[derive(Debug, Clone)]
pub struct Requester {
    /// The owner of the token.
    pub staff: Staff,
    /// Sites where they hold `ViewPatients`.
    pub sites: BTreeSet<SiteId>,
}

impl FromRequestParts<AppState> for Requester {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Requester, AppError> {
        let TokenOwner(staff) = TokenOwner::from_request_parts(parts, state).await?;
        let sites: BTreeSet<SiteId> =
            staff.memberships.iter().map(|m| m.site.clone()).filter(|site| staff_allows(&staff, site, Permission::ViewPatients)).collect();
        if sites.is_empty() {
            return Err(AppError::forbidden("The token's owner may not read patient records at any site."));
        }
        Ok(Requester { staff, sites })
    }
}

/// The resource type a URL segment names.
fn resource_type(segment: &str) -> Result<ResourceType, AppError> {
    ResourceType::parse(segment).ok_or_else(|| {
        let known: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
        AppError::not_found("This resource type").with_message(format!("celltrace serves no resource type '{segment}'; it serves {}.", known.join(", ")))
    })
}

/// A search that cannot run, as the client's error.
fn search_error(error: SearchError) -> AppError {
    match error {
        SearchError::UnknownResourceType(_) => AppError::not_found("This resource type").with_message(error.to_string()),
        other => AppError::bad_request(other.to_string()),
    }
}

/// Query pairs, percent-decoded (`+` is a space, as in forms).
fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], escaped) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_decoded() {
        assert_eq!(form_pairs("patient=p-1&date=ge2026-01-01&_count=5"), vec![("patient".into(), "p-1".into()), ("date".into(), "ge2026-01-01".into()), ("_count".into(), "5".into())]);
        assert_eq!(form_pairs("identifier=urn%3Aoid%7CA+B&x"), vec![("identifier".into(), "urn:oid|A B".into()), ("x".into(), String::new())]);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
