//! The HTTP adapter of celltrace: the staff web application (server-rendered
//! HTML), the JSON command API, health and status. Every change goes through
//! the engine; every page is guarded by one capability extractor (`auth::Can`).

// Older handlers return `Result<_, Response>` so a refusal is a finished
// page; new ones return `Result<_, AppError>` (see `error`).
#![allow(clippy::result_large_err)]

pub mod accounts_page;
pub mod assets;
pub mod error;
pub mod layers;
pub mod serve;
pub mod staff;
pub mod api;
pub mod fhir_api;
pub mod kit;
pub mod auth;
pub mod evidence_admin;
pub mod forms;
pub mod pages;
pub mod path_forms;
pub mod portal;
pub mod questionnaires;
pub mod records;
pub mod routes;
mod view;

use axum::Router;
use celltrace_store::{Database, Engine};

/// How this deployment is reached and what it trusts.
#[derive(Clone)]
pub struct WebConfig {
    /// The URL people and programs reach celltrace at, e.g.
    /// `https://celltrace.clinic.example` (no trailing slash). Every absolute
    /// link is built from it, never from a request's `Host` or
    /// `X-Forwarded-*` headers; when it is https, cookies are `Secure` and
    /// pages send HSTS.
    pub public_url: String,
    /// The key that verifies the ledger's checkpoints (shown on the ledger page).
    pub verifying_key: Option<celltrace_ledger::VerifyingKey>,
    /// Limits of the service (timeouts, concurrency, bodies).
    pub limits: layers::Limits,
}

impl WebConfig {
    /// A configuration for `public_url` with the default limits.
    pub fn new(public_url: &str) -> WebConfig {
        WebConfig { public_url: public_url.trim_end_matches('/').to_owned(), verifying_key: None, limits: layers::Limits::default() }
    }

    /// Whether the deployment is served over TLS.
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig").field("public_url", &self.public_url).field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The command path (and through it the database).
    pub engine: Engine,
    /// The reference data the rules consult, for forms and pages that show it.
    pub reference: std::sync::Arc<celltrace_reference::ReferenceData>,
    /// How the deployment is reached.
    pub config: std::sync::Arc<WebConfig>,
    /// The registry last computed, reused while nothing it counts changes.
    pub registry: std::sync::Arc<staff::registry::RegistryCache>,
}

impl AppState {
    /// The database.
    pub fn db(&self) -> &Database {
        self.engine.database()
    }

    /// The read-only handle every read goes through.
    pub fn reader(&self) -> &celltrace_store::read::Reader {
        self.engine.database().reader()
    }
}

/// Every route of celltrace, behind the service's layers.
pub fn router(state: AppState) -> Router {
    let limits = state.config.limits.clone();
    let https = state.config.https();
    let routes = routes::router().with_state(state);
    layers::wrap(routes, &limits, https)
}

/// Microseconds since the epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Everything printed on the label of `unit`: the unit, the site holding it,
/// its patient (autologous units) and the site-loaded product description.
pub async fn unit_label(db: &Database, unit: &celltrace_domain::model::Unit) -> Result<celltrace_labels::LabelData, String> {
    use celltrace_domain::model::{IntendedUse, Person, ProductCatalogue, Site};
    
    let site: Site = db.reader()
        .get::<Site>(unit.site.as_str())
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the site {} of unit {} is missing", unit.site, unit.id))?;
    let catalogue: Option<ProductCatalogue> = db.reader().product_catalogue().await.map_err(|e| e.to_string())?;
    let product_description = catalogue
        .as_ref()
        .and_then(|c| c.describe(&unit.product_code))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{} (no description loaded: celltrace products load FILE)", unit.product_code));
    let autologous_patient = match &unit.intended_use {
        IntendedUse::Autologous { patient } => {
            let person: Person = db.reader()
                .get::<Person>(patient.as_str())
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("patient {patient} of unit {} is missing", unit.id))?;
            Some(celltrace_labels::PatientLine { name: person.name, date_of_birth: person.date_of_birth.to_string(), mrn: person.mrn })
        }
        IntendedUse::Allogeneic => None,
    };
    Ok(celltrace_labels::LabelData {
        din: unit.din.clone(),
        flags: "00".into(),
        product_code: unit.product_code.clone(),
        product_description,
        collected_at: unit.collected_at.utc_parts(),
        expires_at: unit.expires_at.utc_parts(),
        facility: format!("{} (FIN {})", site.name, site.fin),
        quantity: unit.quantity.to_string(),
        autologous_patient,
        warnings: Vec::new(),
    })
}
