//! The HTTP adapter of celltrace: the staff web application (server-rendered
//! HTML), the JSON command API, health and status. Every change goes through
//! the engine; every page is guarded by one capability extractor (`auth::Can`).

// Handlers return `Result<_, Response>` so a refusal is a finished page;
// a Response is large, and boxing it would only add noise to every handler.
#![allow(clippy::result_large_err)]

pub mod accounts_page;
pub mod api;
pub mod fhir_api;
pub mod auth;
pub mod csv_export;
pub mod evidence_admin;
pub mod forms;
pub mod pages;
pub mod path_forms;
pub mod portal;
pub mod questionnaires;
pub mod records;
pub mod registry;
mod view;

use axum::Router;
use celltrace_store::{Database, Engine};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The command path (and through it the database).
    pub engine: Engine,
    /// The reference data the rules consult, for forms and pages that show it.
    pub reference: std::sync::Arc<celltrace_reference::ReferenceData>,
}

impl AppState {
    /// The database.
    pub fn db(&self) -> &Database {
        self.engine.database()
    }
}

/// Every route of celltrace.
pub fn router(state: AppState) -> Router {
    api::routes().merge(pages::routes()).merge(forms::routes()).merge(path_forms::routes()).merge(records::routes()).merge(accounts_page::routes()).merge(portal::routes()).merge(questionnaires::routes()).merge(fhir_api::routes()).merge(evidence_admin::routes()).with_state(state)
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
    use celltrace_domain::EntityKind;
    let site: Site = db
        .get(EntityKind::Site, unit.site.as_str())
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the site {} of unit {} is missing", unit.site, unit.id))?;
    let catalogue: Option<ProductCatalogue> = db.get(EntityKind::Catalogue, ProductCatalogue::ID).await.map_err(|e| e.to_string())?;
    let product_description = catalogue
        .as_ref()
        .and_then(|c| c.describe(&unit.product_code))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{} (no description loaded: celltrace products load FILE)", unit.product_code));
    let autologous_patient = match &unit.intended_use {
        IntendedUse::Autologous { patient } => {
            let person: Person = db
                .get(EntityKind::Person, patient.as_str())
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
