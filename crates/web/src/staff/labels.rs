//! A unit's ISBT 128 label as PNG and PDF, and what is printed on it (also
//! used by `celltrace label`). An autologous unit's label carries its
//! patient's name, date of birth and MRN: showing it is a recorded read of
//! the patient's record.

use crate::auth::{Can, ViewUnits, Viewer};
use crate::error::AppError;
use crate::kit::records::{record_view_via, site_unit};
use crate::routes::{Access, Route};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use celltrace_domain::access::Permission;
use celltrace_domain::model::{IntendedUse, Person, Site, Unit};
use celltrace_store::Database;

/// The label images.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/units/{id}/label.png", Access::Staff(Permission::ViewUnits), label_png),
        Route::get("/units/{id}/label.pdf", Access::Staff(Permission::ViewUnits), label_pdf),
    ]
}

/// Everything printed on the label of `unit`: the unit, the site holding it,
/// its patient (autologous units) and the site-loaded product description.
pub async fn unit_label(db: &Database, unit: &Unit) -> Result<celltrace_labels::LabelData, String> {
    let reader = db.reader();
    let site: Site = reader
        .get::<Site>(unit.site.as_str())
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the site {} of unit {} is missing", unit.site, unit.id))?;
    let catalogue = reader.product_catalogue().await.map_err(|e| e.to_string())?;
    let product_description = catalogue
        .as_ref()
        .and_then(|c| c.describe(&unit.product_code))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{} (no description loaded: celltrace products load FILE)", unit.product_code));
    let autologous_patient = match &unit.intended_use {
        IntendedUse::Autologous { patient } => {
            let person: Person = reader
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

/// An autologous unit's page and label show its patient's name, date of
/// birth and MRN: that is a read of the patient's record, recorded first.
pub async fn record_label_view(state: &AppState, viewer: &Viewer, unit: &Unit, view: &str) -> Result<(), AppError> {
    match &unit.intended_use {
        IntendedUse::Autologous { patient } => record_view_via(state, viewer, patient, &format!("{view} of unit {}", unit.id), Some(&unit.id)).await,
        IntendedUse::Allogeneic => Ok(()),
    }
}

/// The label's data, after recording the read it is.
async fn label_of(state: &AppState, viewer: &Viewer, id: &str, view: &str) -> Result<celltrace_labels::LabelData, AppError> {
    let unit = site_unit(state, viewer, id).await?;
    record_label_view(state, viewer, &unit, view).await?;
    // A label that cannot be filled in (its site or patient missing) is a damaged record.
    unit_label(state.db(), &unit).await.map_err(AppError::internal)
}

async fn label_png(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Result<Response, AppError> {
    let data = label_of(&state, &viewer, &id, "label image").await?;
    let png = celltrace_labels::render_png(&data, 203).map_err(|e| AppError::invalid("label", format!("The label cannot be drawn: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

async fn label_pdf(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Result<Response, AppError> {
    let data = label_of(&state, &viewer, &id, "label PDF").await?;
    let pdf = celltrace_labels::render_pdf(&data).map_err(|e| AppError::invalid("label", format!("The label cannot be drawn: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}
