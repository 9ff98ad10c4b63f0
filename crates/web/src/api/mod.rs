//! The JSON API for scripts and other servers: commands (`commands`), the
//! lists staff work from, paged by cursor (`reads`), health and the public
//! status page (`health`), and `/api/openapi.json` describing them from the
//! handlers' own annotations. Requests authenticate with a bearer token
//! (`token`); every error is an `AppError`, rendered as [`ApiError`].

pub mod commands;
pub mod health;
pub mod reads;
pub mod tlog;
pub mod token;

use crate::routes::{Access, Route};
use axum::Json;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

/// The API, health and status routes, and `/api/openapi.json` describing
/// them. The document lists the same handlers' annotations; a test checks
/// it names exactly the API routes of the route table.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/healthz", Access::Public, health::healthz),
        Route::get("/readyz", Access::Public, health::readyz),
        Route::get("/status", Access::Public, health::status_page),
        Route::get("/api/openapi.json", Access::Public, || async { Json(openapi()) }),
        Route::get("/api/ledger/head", Access::Public, reads::ledger_head),
        Route::get("/api/ledger/checkpoint", Access::Public, tlog::checkpoint),
        Route::get("/api/ledger/proof/inclusion", Access::Public, tlog::inclusion),
        Route::get("/api/ledger/proof/consistency", Access::Public, tlog::consistency),
        Route::post("/api/commands", Access::Token, commands::submit),
        Route::get("/api/commands/{id}", Access::Token, commands::command_status),
        Route::get("/api/patients", Access::Token, reads::patients),
        Route::get("/api/units", Access::Token, reads::units),
        Route::get("/api/units/{id}/lineage", Access::Token, reads::lineage),
        Route::get("/api/ledger", Access::Token, reads::ledger),
    ]
}

/// The OpenAPI document of the JSON API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(
    paths(health::healthz, health::readyz, commands::submit, commands::command_status, reads::ledger_head, tlog::checkpoint, tlog::inclusion, tlog::consistency, reads::patients, reads::units, reads::lineage, reads::ledger),
    info(title = "celltrace JSON API", description = "Commands and lists for scripts and integrations. Every change is a command: authorised, decided by the rules, appended to the signed ledger, then acknowledged. Lists are pages: pass a page's `next` as `after` (or `before` for the ledger) for the following one; `null` means the last page. Reading patients is recorded in the ledger. HL7 FHIR R4 is served separately under /fhir."),
    modifiers(&BearerToken),
    components(schemas(ApiError, ErrorBody, health::Readiness, commands::CommandAccepted, commands::CommandRecorded, reads::LedgerHead, tlog::InclusionProofBody, tlog::ConsistencyProofBody, reads::PatientList, reads::UnitList, reads::LineageList, reads::LedgerList))
)]
struct ApiDoc;

/// Declares the bearer API token (made by `celltrace token create`).
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("api_token", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// Every error of the API, as `crate::error::render_errors` writes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    /// What went wrong.
    pub error: ErrorBody,
}

/// An error's code for programs and message for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable code, e.g. `unauthenticated`, `bad_request`, `forbidden`, `already_administered`.
    pub code: String,
    /// What happened and what to do, in words.
    pub message: String,
    /// The field or parameter at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The request's id, as in the server's log.
    pub request_id: String,
}

#[cfg(test)]
mod tests {
    /// The document describes exactly the JSON API routes of the table (and health and readiness).
    #[test]
    fn the_document_names_every_api_route_and_no_other() {
        let document = super::openapi();
        let mut described: Vec<(String, String)> = Vec::new();
        for (path, item) in &document.paths.paths {
            for (method, operation) in [("GET", &item.get), ("POST", &item.post), ("PUT", &item.put), ("DELETE", &item.delete)] {
                if operation.is_some() {
                    described.push((method.to_owned(), path.clone()));
                }
            }
        }
        described.sort();
        let mut routed: Vec<(String, String)> = crate::routes::table()
            .iter()
            .filter(|r| (r.path.starts_with("/api/") && r.path != "/api/openapi.json") || r.path == "/healthz" || r.path == "/readyz")
            .map(|r| (r.method.to_string(), r.path.to_owned()))
            .collect();
        routed.sort();
        assert_eq!(described, routed);
    }

    /// The documented error body is the one the middleware writes.
    #[test]
    fn the_error_schema_matches_the_rendered_body() {
        let error = crate::error::AppError::invalid("site", "No such site.");
        let rendered = crate::error::api_body(&error, "r-1");
        let documented = serde_json::to_value(super::ApiError {
            error: super::ErrorBody { code: error.code().to_owned(), message: error.message().to_owned(), field: Some("site".into()), request_id: "r-1".into() },
        })
        .expect("json");
        assert_eq!(rendered, documented);
    }
}
