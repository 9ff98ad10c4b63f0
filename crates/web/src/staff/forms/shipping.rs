//! Shipping between sites: dispatch with a signed custody transfer, and
//! receipt with the data logger's temperature log (or, without one, a
//! signed exception with its reason).

use crate::auth::{Can, ViewUnits, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::kit::layout::when;
use crate::kit::records::site_unit;
use crate::routes::{Access, Route};
use crate::AppState;
use axum::extract::{Form, FromRequest, Multipart, Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::ids::*;
use celltrace_domain::model::*;

/// The routes of the shipping forms.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/units/{id}/dispatch", Access::Staff(Permission::ViewUnits), dispatch_form),
        Route::post("/units/{id}/dispatch", Access::Staff(Permission::ViewUnits), dispatch_submit),
        Route::get("/shipments/{id}/receive", Access::Staff(Permission::ViewUnits), receive_form),
        Route::post("/shipments/{id}/receive", Access::Staff(Permission::ViewUnits), receive_submit),
    ]
}

// ---------- dispatch ----------

async fn dispatch_spec(state: &AppState, unit: &Unit) -> Result<Spec, AppError> {
    let sites = state.reader().sites().await?.into_iter().filter(|s| s.id != unit.site).map(|s| (s.id.to_string(), s.name)).collect();
    Ok(Spec::new("Dispatch the unit", format!("/units/{}/dispatch", unit.id), "Sign and dispatch")
        .intro(unit_intro(unit))
        .fields(vec![field("to_site", "Destination", "select", true).choices(sites), field("courier", "Courier and shipping conditions", "text", true)])
        .signature(SignatureMeaning::CustodyTransfer)
        .renames(&[("units", ""), ("shipment", "")]))
}

async fn dispatch_form(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Result<Response, AppError> {
    let unit = site_unit(&state, &viewer, &id).await?;
    render_form(&viewer, &dispatch_spec(&state, &unit).await?, None, None)
}

async fn dispatch_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let unit = site_unit(&state, &viewer, &id).await?;
    let spec = dispatch_spec(&state, &unit).await?;
    let outcome = dispatch(&state, &viewer, &spec, &unit, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn dispatch(state: &AppState, viewer: &Viewer, spec: &Spec, unit: &Unit, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let to_site = value(values, "to_site").parse::<SiteId>().map_err(|_| FormRefusal::invalid("to_site", "Choose the destination."))?;
    let signature = own_signature(state, viewer, values, SignatureMeaning::CustodyTransfer).await?;
    let command = Command::DispatchShipment { shipment: new_id::<ShipmentId>("ship")?, to_site, units: vec![unit.id.clone()], courier: value(values, "courier"), signature };
    submit(state, viewer, command).await?;
    Ok(format!("/units/{}", unit.id))
}

// ---------- receipt ----------

fn receive_spec(shipment: &Shipment) -> Spec {
    Spec::new(format!("Receive shipment {}", shipment.id), format!("/shipments/{}/receive", shipment.id), "Sign and receive")
        .intro(vec![format!("From {} by {}: {} unit(s), dispatched {}.", shipment.from_site, shipment.courier, shipment.units.len(), when(shipment.dispatched.signed_at))])
        .fields(vec![
            field("condition", "Container and seals", "select", true).options(&[("ok", "Intact"), ("damaged", "Damaged or opened")]),
            field("min", "Lowest allowed temperature (°C)", "number", true).default("-196"),
            field("max", "Highest allowed temperature (°C)", "number", true).default("-150"),
            field("log_file", "Temperature log file (CSV from the data logger)", "file", false).help("The logger's export: time,temperature_c, one reading per line."),
            field("log", "Or paste the temperature log", "textarea", false).help("Excursions outside the limits are found and recorded with the receipt."),
            field("no_log_reason", "No temperature record: why", "textarea", false)
                .help("Only when there is no logger file: the units are then accepted as a signed exception, with your reason."),
        ])
        .signature(SignatureMeaning::CustodyTransfer)
        // Without a log, what the rules ask for is the reason (and the exception's signature).
        .renames(&[("temperature_log", "no_log_reason"), ("condition_ok", "condition"), ("shipment", "")])
}

/// The shipment `id`, if it is coming to the viewer's site.
async fn site_shipment(state: &AppState, viewer: &Viewer, id: &str) -> Result<Shipment, AppError> {
    match state.reader().get::<Shipment>(id).await? {
        Some(s) if s.to_site == viewer.site.id => Ok(s),
        _ => Err(AppError::not_found("This shipment")),
    }
}

async fn receive_form(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Result<Response, AppError> {
    let shipment = site_shipment(&state, &viewer, &id).await?;
    render_form(&viewer, &receive_spec(&shipment), None, None)
}

/// Reads a form sent either as `multipart/form-data` (with the logger's file)
/// or urlencoded; an uploaded file takes the place of the pasted log.
async fn receipt_values(request: Request) -> Result<Values, AppError> {
    let is_multipart = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/form-data"));
    let bad = |e: String| AppError::bad_request(format!("The form could not be read; nothing was recorded: {e}"));
    if !is_multipart {
        let Form(values) = Form::<Values>::from_request(request, &()).await.map_err(|e| bad(e.body_text()))?;
        return Ok(values);
    }
    let mut multipart = Multipart::from_request(request, &()).await.map_err(|e| bad(e.body_text()))?;
    let mut values = Values::new();
    let mut file = None;
    while let Some(part) = multipart.next_field().await.map_err(|e| bad(e.body_text()))? {
        let name = part.name().unwrap_or_default().to_owned();
        let text = part.text().await.map_err(|e| bad(format!("{name}: {} (the log must be UTF-8 text)", e.body_text())))?;
        if name == "log_file" {
            if !text.trim().is_empty() {
                file = Some(text);
            }
        } else {
            values.push((name, text));
        }
    }
    if let Some(text) = file {
        values.retain(|(k, _)| k != "log");
        values.push(("log".into(), text));
    }
    Ok(values)
}

async fn receive_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>, request: Request) -> Result<Response, AppError> {
    let values = receipt_values(request).await?;
    csrf_ok(&viewer, &values)?;
    let shipment = site_shipment(&state, &viewer, &id).await?;
    let spec = receive_spec(&shipment);
    let outcome = receive(&state, &viewer, &shipment, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn receive(state: &AppState, viewer: &Viewer, shipment: &Shipment, values: &Values) -> Result<String, Failure> {
    let (Ok(min), Ok(max)) = (value(values, "min").parse::<f64>(), value(values, "max").parse::<f64>()) else {
        return Err(FormRefusal::invalid("min", "Enter the temperature limits as numbers.").into());
    };
    let log = value(values, "log");
    let signature = own_signature(state, viewer, values, SignatureMeaning::CustodyTransfer).await?;
    let temperature_log = if log.is_empty() {
        // No logger file: the receiver accepts the units only as a signed exception with a reason.
        TemperatureLog::Missing { reason: value(values, "no_log_reason"), exception: SignatureRequest::own(signature.signer.clone(), SignatureMeaning::TemperatureException) }
    } else {
        let found = celltrace_domain::temperature::excursions(&log, min, max)
            .map_err(|lines| FormRefusal::invalid("log", format!("The temperature log could not be read; nothing was recorded: {}", lines.join("; "))))?;
        TemperatureLog::Read { excursions: found.iter().map(ToString::to_string).collect() }
    };
    let command = Command::ReceiveShipment { shipment: shipment.id.clone(), condition_ok: value(values, "condition") == "ok", temperature_log, signature };
    submit(state, viewer, command).await?;
    Ok(shipment.units.first().map(|u| format!("/units/{u}")).unwrap_or_else(|| "/".into()))
}
