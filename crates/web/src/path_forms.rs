//! Forms for the steps between plan and bedside: eligibility, consent,
//! collection (with a DIN assigned by the database), processing, storage,
//! shipping with a signed custody transfer and a temperature log, receipt and
//! allocation. They share the form mechanism of [`crate::forms`].

use crate::routes::{Access, Route};
use crate::auth::{self, Can, RecordClinical, RecordLab, Viewer, ViewUnits};
use crate::kit::forms::*;
use crate::view::when;
use crate::{now_micros, AppState};
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use celltrace_domain::access::Permission;
use celltrace_domain::command::{Command, NewUnit};
use celltrace_domain::ids::*;
use celltrace_domain::model::*;
use celltrace_domain::time::Timestamp;

/// The routes of these forms.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/plans/{id}/eligibility", Access::Staff(Permission::RecordClinical), eligibility_form),
        Route::post("/plans/{id}/eligibility", Access::Staff(Permission::RecordClinical), eligibility_submit),
        Route::get("/plans/{id}/consent", Access::Staff(Permission::RecordClinical), consent_form),
        Route::post("/plans/{id}/consent", Access::Staff(Permission::RecordClinical), consent_submit),
        Route::get("/plans/{id}/collection", Access::Staff(Permission::RecordClinical), collection_form),
        Route::post("/plans/{id}/collection", Access::Staff(Permission::RecordClinical), collection_submit),
        Route::get("/units/{id}/process", Access::Staff(Permission::RecordLab), process_form),
        Route::post("/units/{id}/process", Access::Staff(Permission::RecordLab), process_submit),
        Route::get("/units/{id}/store", Access::Staff(Permission::ViewUnits), store_form),
        Route::post("/units/{id}/store", Access::Staff(Permission::ViewUnits), store_submit),
        Route::get("/units/{id}/dispatch", Access::Staff(Permission::ViewUnits), dispatch_form),
        Route::post("/units/{id}/dispatch", Access::Staff(Permission::ViewUnits), dispatch_submit),
        Route::get("/shipments/{id}/receive", Access::Staff(Permission::ViewUnits), receive_form),
        Route::post("/shipments/{id}/receive", Access::Staff(Permission::ViewUnits), receive_submit),
        Route::get("/units/{id}/allocate", Access::Staff(Permission::RecordClinical), allocate_form),
        Route::post("/units/{id}/allocate", Access::Staff(Permission::RecordClinical), allocate_submit),
        Route::get("/patients/{id}/donation", Access::Staff(Permission::RecordClinical), donation_form),
        Route::post("/patients/{id}/donation", Access::Staff(Permission::RecordClinical), donation_submit),
        Route::get("/patients/{id}/plan", Access::Staff(Permission::RecordClinical), plan_form),
        Route::post("/patients/{id}/plan", Access::Staff(Permission::RecordClinical), plan_submit),
        Route::post("/plans/{id}/acknowledge", Access::Staff(Permission::RecordClinical), acknowledge_submit),
        Route::get("/plans/{id}/override", Access::Staff(Permission::RecordClinical), override_form),
        Route::post("/plans/{id}/override", Access::Staff(Permission::RecordClinical), override_submit),
        Route::get("/plans/{id}/follow-up", Access::Staff(Permission::RecordClinical), follow_up_form),
        Route::post("/plans/{id}/follow-up", Access::Staff(Permission::RecordClinical), follow_up_submit),
        Route::get("/units/{id}/exceptional-release", Access::Staff(Permission::Release), exceptional_form),
        Route::post("/units/{id}/exceptional-release", Access::Staff(Permission::Release), exceptional_submit),
    ]
}

fn new_id<T: std::str::FromStr>(prefix: &str) -> Option<T> {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple()).parse().ok()
}

async fn site_plan(state: &AppState, viewer: &Viewer, id: &str) -> Result<Plan, Response> {
    match state.reader().get::<Plan>(id).await {
        Ok(Some(p)) if p.site == viewer.site.id => Ok(p),
        Ok(_) => Err(auth::refusal(StatusCode::NOT_FOUND, "This plan is not at your site.")),
        Err(e) => Err(auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())),
    }
}

fn plan_intro(plan: &Plan) -> Vec<String> {
    vec![format!("Plan {}: {} — {} · {}", plan.id, plan.indication.name, plan.product_type.code(), format!("{:?}", plan.status).to_lowercase())]
}

/// Submits and, on success, goes to `next`; on refusal shows the form again.
async fn finish(state: &AppState, viewer: &Viewer, command: Command, next: String, again: impl FnOnce(String) -> Response) -> Response {
    match submit(state, viewer, command).await {
        Ok(()) => Redirect::to(&next).into_response(),
        Err(Ok(message)) => again(message),
        Err(Err(r)) => r,
    }
}

fn patient_page(plan: &Plan) -> String {
    format!("/patients/{}", plan.patient)
}

// ---------- eligibility ----------

const CRITERIA: &[(&str, &str)] = &[
    ("age", "Age within the protocol's range"),
    ("no_active_cancer", "No active cancer"),
    ("no_active_infection", "No active infection"),
    ("not_pregnant", "Not pregnant"),
    ("no_anticoagulation", "No anticoagulation"),
    ("no_immunosuppression", "No immunosuppression"),
    ("baseline_severity", "Baseline severity meets the protocol (e.g. NPRS, ODI)"),
    ("imaging", "Imaging confirms the indication"),
];

fn eligibility_spec(plan: &Plan) -> Spec {
    let mut fields: Vec<Field> = CRITERIA
        .iter()
        // No answer is chosen for the assessor: each criterion is answered on purpose.
        .map(|(code, label)| field(code, label, "select", true).options(&[("", "Choose…"), ("met", "Met"), ("failed", "Not met"), ("na", "Not applicable")]))
        .collect();
    fields.push(field("findings", "Findings", "textarea", false).help("What supports the answers (results, dates)."));
    fields.push(field("valid_days", "Days the assessment stays current", "number", true).default("90"));
    Spec { title: "Assess eligibility".into(), intro: plan_intro(plan), action: format!("/plans/{}/eligibility", plan.id), fields, signature: None, submit: "Record the assessment" }
}

async fn eligibility_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Response {
    match site_plan(&state, &viewer, &id).await {
        Ok(plan) => render_form(&viewer, eligibility_spec(&plan), None, None),
        Err(r) => r,
    }
}

async fn eligibility_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let plan = match site_plan(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let again = |e: String| render_form(&viewer, eligibility_spec(&plan), Some(&values), Some(e));
    let Ok(valid_days) = value(&values, "valid_days").parse::<u32>() else { return again("Days the assessment stays current: enter a whole number.".into()) };
    if let Some(e) = missing_required(&eligibility_spec(&plan).fields, &values) {
        return again(e);
    }
    let findings = value(&values, "findings");
    let criteria = CRITERIA
        .iter()
        .filter(|(code, _)| value(&values, code) != "na")
        .map(|(code, label)| Criterion { code: (*code).into(), description: (*label).into(), met: value(&values, code) == "met", detail: findings.clone() })
        .collect();
    let Some(assessment) = new_id("elig") else { return again("Could not make an identifier.".into()) };
    let command = Command::AssessEligibility { plan: plan.id.clone(), assessment, criteria, valid_days };
    finish(&state, &viewer, command, patient_page(&plan), again).await
}

// ---------- consent ----------

fn consent_spec(plan: &Plan) -> Spec {
    let mut intro = plan_intro(plan);
    intro.push(format!("Evidence status: {:?}. {}", plan.evidence.status, plan.evidence.summary));
    intro.push(format!("The patient reads the consent document in their language first (Consent document, on the patient's page: /plans/{}/consent-document).", plan.id));
    intro.push("The witness signs with their own username and password.".into());
    Spec {
        title: "Record the signed consent".into(),
        intro,
        action: format!("/plans/{}/consent", plan.id),
        fields: vec![
            field("template", "Consent template", "text", true).default(celltrace_i18n::CONSENT_TEMPLATE),
            field("template_version", "Template version", "text", true).default(celltrace_i18n::CONSENT_VERSION),
            field("language", "Language the patient read", "select", true).options(&[("en", "English"), ("ar", "العربية (Arabic)"), ("hi", "हिन्दी (Hindi)")]),
            field("witness", "Witness username", "text", true),
            field("witness_password", "Witness password", "password", true),
        ],
        signature: None,
        submit: "Record the consent",
    }
}

async fn consent_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Response {
    match site_plan(&state, &viewer, &id).await {
        Ok(plan) => render_form(&viewer, consent_spec(&plan), None, None),
        Err(r) => r,
    }
}

async fn consent_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let plan = match site_plan(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let spec_fields = consent_spec(&plan).fields;
    let missing = missing_required(&spec_fields, &values);
    let again = |e: String| render_form(&viewer, consent_spec(&plan), Some(&values), Some(e));
    if let Some(e) = missing {
        return again(e);
    }
    let witness = match cosigner(&state, &viewer, &value(&values, "witness"), &value(&values, "witness_password"), SignatureMeaning::ConsentWitness).await {
        Ok(w) => w,
        Err(e) => return again(e),
    };
    let (Ok(language), Some(consent)) = (choice::<Language>(&values, "language"), new_id("consent")) else { return again("Choose a language.".into()) };
    let command = Command::RecordConsent {
        plan: plan.id.clone(),
        consent,
        template: value(&values, "template"),
        template_version: value(&values, "template_version"),
        language,
        witness: Some(SignatureRequest::own(witness.signer.clone(), SignatureMeaning::ConsentWitness)),
    };
    match submit_cosigned(&state, &viewer, command, &[witness]).await {
        Ok(()) => Redirect::to(&patient_page(&plan)).into_response(),
        Err(Ok(message)) => again(message),
        Err(Err(r)) => r,
    }
}

// ---------- collection ----------

fn collection_spec(plan: &Plan) -> Spec {
    let mut intro = plan_intro(plan);
    intro.push("A donation identification number (DIN) of this site is assigned when you record the collection.".into());
    Spec {
        title: "Record the collection".into(),
        intro,
        action: format!("/plans/{}/collection", plan.id),
        fields: vec![
            field("tissue", "Source tissue", "select", true).options(&[("adipose", "Adipose (lipoaspirate)"), ("bone_marrow", "Bone marrow aspirate"), ("peripheral_blood", "Peripheral blood"), ("cord_blood", "Umbilical cord blood"), ("cord_tissue", "Umbilical cord tissue")]),
            field("product_code", "ISBT 128 product code", "text", true).help("8 characters, e.g. S1001100."),
            field("volume", "Volume collected", "number", true),
            field("unit", "Unit of volume", "select", true).options(&[("mL", "mL"), ("g", "g")]),
            field("shelf_hours", "Hours until the starting material expires", "number", true).default("48"),
        ],
        signature: None,
        submit: "Record the collection",
    }
}

async fn collection_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Response {
    match site_plan(&state, &viewer, &id).await {
        Ok(plan) => render_form(&viewer, collection_spec(&plan), None, None),
        Err(r) => r,
    }
}

/// The collection a form describes, with a DIN of the site assigned by the
/// database, and the new unit's id.
async fn collection_command(state: &AppState, viewer: &Viewer, values: &Values, source: &PersonId, plan: Option<PlanId>, product_type: ProductType) -> Result<(Command, UnitId), String> {
    let volume = quantity(values, "volume", "unit").ok_or("Volume collected: enter a number above zero.")?;
    let shelf_hours = value(values, "shelf_hours").parse::<i64>().map_err(|_| "Hours until the starting material expires: enter a whole number.")?;
    let tissue = choice::<SourceTissue>(values, "tissue").map_err(|_| "Choose the source tissue.")?;
    let now = Timestamp(now_micros());
    let (year, ..) = now.utc_parts();
    let din = state
        .db()
        .assign_din(&viewer.site.fin, u8::try_from(year.rem_euclid(100)).unwrap_or(0))
        .await
        .map_err(|e| format!("No DIN could be assigned: {e}"))?;
    let (Some(collection), Some(unit)) = (new_id::<CollectionId>("col"), new_id::<UnitId>("u")) else { return Err("Could not make an identifier.".into()) };
    let command = Command::RecordCollection {
        collection,
        source_person: source.clone(),
        plan,
        tissue,
        product_type,
        unit: unit.clone(),
        din: din.to_string(),
        product_code: value(values, "product_code").to_uppercase(),
        quantity: volume,
        collected_at: now,
        expires_at: Timestamp(now.0 + shelf_hours.clamp(1, 24 * 365) * 3_600_000_000),
    };
    Ok((command, unit))
}

fn quantity(values: &Values, amount: &str, unit: &str) -> Option<Quantity> {
    let amount: f64 = value(values, amount).parse().ok().filter(|x: &f64| x.is_finite() && *x > 0.0)?;
    Some(Quantity { milli: (amount * 1000.0).round() as i64, unit: value(values, unit) })
}

async fn collection_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let plan = match site_plan(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let again = |e: String| render_form(&viewer, collection_spec(&plan), Some(&values), Some(e));
    if let Some(e) = missing_required(&collection_spec(&plan).fields, &values) {
        return again(e);
    }
    let (command, unit) = match collection_command(&state, &viewer, &values, &plan.patient, Some(plan.id.clone()), plan.product_type).await {
        Ok(made) => made,
        Err(e) => return again(e),
    };
    finish(&state, &viewer, command, format!("/units/{unit}"), again).await
}

// ---------- processing and storage ----------

fn process_spec(unit: &Unit) -> Spec {
    Spec {
        title: "Record a processing step".into(),
        intro: unit_intro(unit),
        action: format!("/units/{}/process", unit.id),
        fields: vec![
            field("kind", "Step", "select", true).options(&[
                ("isolation", "Isolation"),
                ("expansion", "Expansion"),
                ("harvest", "Harvest"),
                ("cryopreservation", "Cryopreservation"),
                ("thaw", "Thaw"),
                ("exosome_isolation", "Exosome isolation"),
                ("prp_preparation", "PRP preparation"),
                ("division", "Division into aliquots"),
            ]),
            field("outputs", "Product codes of the units made", "text", false).help("Comma-separated, one per new unit (e.g. S1002100 or S10031A0, S10031B0). Leave empty when the step changes this unit in place."),
            field("volume", "Volume of each new unit", "number", false),
            field("unit", "Unit of volume", "select", true).options(&[("mL", "mL"), ("million cells", "million cells"), ("g", "g")]),
            field("shelf_days", "Days until each new unit expires", "number", false).default("2"),
            field("equipment", "Equipment", "text", true),
            field("lots", "Reagent lots", "text", false).help("Comma-separated lot numbers."),
            field("parameters", "Parameters", "text", false).help("name=value pairs separated by semicolons, e.g. spin=12 min; temperature=37 °C"),
        ],
        signature: None,
        submit: "Record the step",
    }
}

async fn process_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordLab>, Path(id): Path<String>) -> Response {
    match site_unit(&state, &viewer, &id).await {
        Ok(unit) => render_form(&viewer, process_spec(&unit), None, None),
        Err(r) => r,
    }
}

async fn process_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordLab>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let again = |e: String| render_form(&viewer, process_spec(&unit), Some(&values), Some(e));
    if let Some(e) = missing_required(&process_spec(&unit).fields, &values) {
        return again(e);
    }
    let Ok(kind) = choice::<ProcessingKind>(&values, "kind") else { return again("Choose the step.".into()) };
    let codes: Vec<String> = value(&values, "outputs").split(',').map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty()).collect();
    let now = Timestamp(now_micros());
    let mut outputs = Vec::new();
    if !codes.is_empty() {
        let Some(each) = quantity(&values, "volume", "unit") else { return again("Volume of each new unit: enter a number above zero.".into()) };
        let Ok(days) = value(&values, "shelf_days").parse::<i64>() else { return again("Days until each new unit expires: enter a whole number.".into()) };
        for code in codes {
            let Some(id) = new_id::<UnitId>("u") else { return again("Could not make an identifier.".into()) };
            outputs.push(NewUnit { unit: id, product_code: code, quantity: each.clone(), expires_at: now.plus_days(days.clamp(0, 3650)) });
        }
    }
    let Some(step) = new_id::<StepId>("step") else { return again("Could not make an identifier.".into()) };
    let parameters = value(&values, "parameters")
        .split(';')
        .filter_map(|p| p.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect();
    let next = match outputs.first() {
        Some(o) => format!("/units/{}", o.unit),
        None => format!("/units/{}", unit.id),
    };
    let command = Command::RecordProcessingStep {
        step,
        kind,
        inputs: vec![unit.id.clone()],
        outputs,
        equipment: value(&values, "equipment"),
        reagent_lots: value(&values, "lots").split(',').map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect(),
        parameters,
    };
    finish(&state, &viewer, command, next, again).await
}

fn store_spec(unit: &Unit) -> Spec {
    Spec {
        title: "Store the unit".into(),
        intro: unit_intro(unit),
        action: format!("/units/{}/store", unit.id),
        fields: vec![field("freezer", "Freezer or tank", "text", true), field("rack", "Rack", "text", true), field("box", "Box", "text", true), field("position", "Position", "text", true)],
        signature: None,
        submit: "Record the location",
    }
}

/// Storage is for the lab and logistics; the capability checked is seeing units,
/// and the domain's rules refuse anyone else.
async fn store_form(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Response {
    match site_unit(&state, &viewer, &id).await {
        Ok(unit) => render_form(&viewer, store_spec(&unit), None, None),
        Err(r) => r,
    }
}

async fn store_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let again = |e: String| render_form(&viewer, store_spec(&unit), Some(&values), Some(e));
    if let Some(e) = missing_required(&store_spec(&unit).fields, &values) {
        return again(e);
    }
    let location = StorageLocation { freezer: value(&values, "freezer"), rack: value(&values, "rack"), r#box: value(&values, "box"), position: value(&values, "position") };
    finish(&state, &viewer, Command::StoreUnit { unit: unit.id.clone(), location }, format!("/units/{id}"), again).await
}

// ---------- shipping ----------

async fn dispatch_spec(state: &AppState, unit: &Unit) -> Spec {
    let sites: Vec<(String, String)> = state
        .reader()
        .sites()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.id != unit.site)
        .map(|s| (s.id.to_string(), s.name))
        .collect();
    let mut to = field("to_site", "Destination", "select", true);
    to.options = sites;
    Spec {
        title: "Dispatch the unit".into(),
        intro: unit_intro(unit),
        action: format!("/units/{}/dispatch", unit.id),
        fields: vec![to, field("courier", "Courier and shipping conditions", "text", true)],
        signature: Some(SignatureMeaning::CustodyTransfer),
        submit: "Sign and dispatch",
    }
}

async fn dispatch_form(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Response {
    match site_unit(&state, &viewer, &id).await {
        Ok(unit) => {
            let spec = dispatch_spec(&state, &unit).await;
            render_form(&viewer, spec, None, None)
        }
        Err(r) => r,
    }
}

async fn dispatch_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let spec = dispatch_spec(&state, &unit).await;
    let missing = missing_required(&spec.fields, &values);
    let again = |e: String| render_form(&viewer, spec, Some(&values), Some(e));
    if let Some(e) = missing {
        return again(e);
    }
    let signature = match own_signature(&state, &viewer, &values, SignatureMeaning::CustodyTransfer).await {
        Ok(s) => s,
        Err(e) => return again(e),
    };
    let (Some(shipment), Ok(to_site)) = (new_id::<ShipmentId>("ship"), value(&values, "to_site").parse()) else { return again("Choose the destination.".into()) };
    let command = Command::DispatchShipment { shipment, to_site, units: vec![unit.id.clone()], courier: value(&values, "courier"), signature };
    finish(&state, &viewer, command, format!("/units/{id}"), again).await
}

fn receive_spec(shipment: &Shipment) -> Spec {
    Spec {
        title: format!("Receive shipment {}", shipment.id),
        intro: vec![format!("From {} by {}: {} unit(s), dispatched {}.", shipment.from_site, shipment.courier, shipment.units.len(), when(shipment.dispatched.signed_at))],
        action: format!("/shipments/{}/receive", shipment.id),
        fields: vec![
            field("condition", "Container and seals", "select", true).options(&[("ok", "Intact"), ("damaged", "Damaged or opened")]),
            field("min", "Lowest allowed temperature (°C)", "number", true).default("-196"),
            field("max", "Highest allowed temperature (°C)", "number", true).default("-150"),
            field("log_file", "Temperature log file (CSV from the data logger)", "file", false).help("The logger's export: time,temperature_c, one reading per line."),
            field("log", "Or paste the temperature log", "textarea", false).help("Excursions outside the limits are found and recorded with the receipt."),
            field("no_log_reason", "No temperature record: why", "textarea", false)
                .help("Only when there is no logger file: the units are then accepted as a signed exception, with your reason."),
        ],
        signature: Some(SignatureMeaning::CustodyTransfer),
        submit: "Sign and receive",
    }
}

async fn site_shipment(state: &AppState, viewer: &Viewer, id: &str) -> Result<Shipment, Response> {
    match state.reader().get::<Shipment>(id).await {
        Ok(Some(s)) if s.to_site == viewer.site.id => Ok(s),
        Ok(_) => Err(auth::refusal(StatusCode::NOT_FOUND, "No shipment with this id is coming to your site.")),
        Err(e) => Err(auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())),
    }
}

async fn receive_form(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>) -> Response {
    match site_shipment(&state, &viewer, &id).await {
        Ok(s) => render_form(&viewer, receive_spec(&s), None, None),
        Err(r) => r,
    }
}

/// Reads a form sent either as `multipart/form-data` (with the logger's file)
/// or urlencoded; an uploaded file takes the place of the pasted log.
async fn receipt_values(request: axum::extract::Request) -> Result<Values, Response> {
    use axum::extract::FromRequest;
    let is_multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let bad = |e: String| auth::refusal(StatusCode::BAD_REQUEST, &format!("The form could not be read: {e}"));
    if !is_multipart {
        let Form(values) = Form::<Values>::from_request(request, &()).await.map_err(|e| bad(e.to_string()))?;
        return Ok(values);
    }
    let mut multipart = axum::extract::Multipart::from_request(request, &()).await.map_err(|e| bad(e.to_string()))?;
    let mut values = Values::new();
    let mut file = None;
    while let Some(part) = multipart.next_field().await.map_err(|e| bad(e.to_string()))? {
        let name = part.name().unwrap_or_default().to_owned();
        let text = part.text().await.map_err(|e| bad(e.to_string()))?;
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

async fn receive_submit(State(state): State<AppState>, Can { viewer, .. }: Can<ViewUnits>, Path(id): Path<String>, request: axum::extract::Request) -> Response {
    let values = match receipt_values(request).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let shipment = match site_shipment(&state, &viewer, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let again = |e: String| render_form(&viewer, receive_spec(&shipment), Some(&values), Some(e));
    let (Ok(min), Ok(max)) = (value(&values, "min").parse::<f64>(), value(&values, "max").parse::<f64>()) else {
        return again("Enter the temperature limits as numbers.".into());
    };
    let log = value(&values, "log");
    let signature = match own_signature(&state, &viewer, &values, SignatureMeaning::CustodyTransfer).await {
        Ok(s) => s,
        Err(e) => return again(e),
    };
    let temperature_log = if log.is_empty() {
        // No logger file: the receiver accepts the units only as a signed exception with a reason.
        TemperatureLog::Missing {
            reason: value(&values, "no_log_reason"),
            exception: SignatureRequest::own(signature.signer.clone(), SignatureMeaning::TemperatureException),
        }
    } else {
        match celltrace_domain::temperature::excursions(&log, min, max) {
            Ok(found) => TemperatureLog::Read { excursions: found.iter().map(ToString::to_string).collect() },
            Err(lines) => return again(format!("The temperature log could not be read; nothing was recorded: {}", lines.join("; "))),
        }
    };
    let first_unit = shipment.units.first().map(|u| format!("/units/{u}")).unwrap_or_else(|| "/".into());
    let command = Command::ReceiveShipment { shipment: shipment.id.clone(), condition_ok: value(&values, "condition") == "ok", temperature_log, signature };
    finish(&state, &viewer, command, first_unit, again).await
}

// ---------- allocation ----------

async fn allocate_spec(state: &AppState, viewer: &Viewer, unit: &Unit) -> Spec {
    let plans: Vec<(String, String)> = state
        .reader()
        .page::<Plan>(celltrace_domain::index::Index::SitePlansByType, &format!("{}|active|{}", viewer.site.id, unit.product_type.code()), None, 100)
        .await
        .map(|p| p.items)
        .unwrap_or_default()
        .iter()
        .map(|p| (p.id.to_string(), format!("{} — {} ({})", p.id, p.indication.name, p.patient)))
        .collect();
    let mut plan = field("plan", "Plan", "select", true);
    plan.options = plans;
    Spec { title: "Allocate the unit to a plan".into(), intro: unit_intro(unit), action: format!("/units/{}/allocate", unit.id), fields: vec![plan], signature: None, submit: "Allocate" }
}

async fn allocate_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Response {
    match site_unit(&state, &viewer, &id).await {
        Ok(unit) => {
            let spec = allocate_spec(&state, &viewer, &unit).await;
            render_form(&viewer, spec, None, None)
        }
        Err(r) => r,
    }
}

async fn allocate_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let spec = allocate_spec(&state, &viewer, &unit).await;
    let again = |e: String| render_form(&viewer, spec, Some(&values), Some(e));
    let Ok(plan) = value(&values, "plan").parse::<PlanId>() else { return again("Choose a plan.".into()) };
    finish(&state, &viewer, Command::AllocateUnit { unit: unit.id.clone(), plan }, format!("/units/{id}"), again).await
}

/// Links to the path forms that fit a unit now, for the unit page.
pub fn unit_links(viewer: &Viewer, unit: &Unit) -> Vec<(String, &'static str)> {
    let mut links = Vec::new();
    let usable = matches!(unit.status, UnitStatus::Quarantine | UnitStatus::Released) && unit.in_transit.is_none();
    if !usable {
        return links;
    }
    if viewer.can(Permission::RecordLab) {
        links.push((format!("/units/{}/process", unit.id), "Record a processing step"));
    }
    if viewer.can(Permission::RecordLab) || viewer.staff.holds(Role::Logistics, &viewer.site.id) {
        links.push((format!("/units/{}/store", unit.id), "Store"));
    }
    if viewer.staff.holds(Role::Logistics, &viewer.site.id) {
        links.push((format!("/units/{}/dispatch", unit.id), "Dispatch to another site"));
    }
    if unit.intended_use == IntendedUse::Allogeneic && unit.allocated_to.is_none() && viewer.staff.holds(Role::Physician, &viewer.site.id) {
        links.push((format!("/units/{}/allocate", unit.id), "Allocate to a plan"));
    }
    links
}

/// Links to the path forms that fit a plan now, for the patient page.
pub fn plan_links(viewer: &Viewer, plan: &Plan) -> Vec<(String, &'static str)> {
    let mut links = Vec::new();
    if !viewer.can(Permission::RecordClinical) || !matches!(plan.status, PlanStatus::Active | PlanStatus::Blocked) {
        return links;
    }
    if plan.status == PlanStatus::Blocked && plan.evidence.status == EvidenceStatus::Unproven && viewer.staff.holds(Role::MedicalDirector, &viewer.site.id) {
        links.push((format!("/plans/{}/override", plan.id), "Override the evidence block (medical director)"));
    }
    links.push((format!("/plans/{}/eligibility", plan.id), "Assess eligibility"));
    links.push((format!("/plans/{}/consent", plan.id), "Record consent"));
    if plan.status == PlanStatus::Active && plan.product_type.is_autologous() {
        links.push((format!("/plans/{}/collection", plan.id), "Record the collection"));
    }
    links.push((format!("/plans/{}/follow-up", plan.id), "Record a follow-up"));
    links
}

// ---------- plan and the evidence guard ----------

/// The evidence data in force: what an administrator last loaded into the
/// ledger, else the data shipped with this build (parsed once per version
/// by the reference data the rules use too).
pub async fn evidence_in_force(state: &AppState) -> Result<std::sync::Arc<celltrace_evidence::EvidenceData>, String> {
    use celltrace_domain::model::EvidenceDataset;
    let dataset: Option<EvidenceDataset> = state.reader().evidence_dataset().await.map_err(|e| e.to_string())?;
    state.reference.evidence_data(dataset.as_ref())
}

const PRODUCT_CHOICES: &[(&str, &str)] = &[
    ("autologous-adipose", "Autologous adipose-derived cells (SVF / expanded MSC)"),
    ("autologous-bone-marrow", "Autologous bone-marrow cells (BMAC / expanded MSC)"),
    ("cord-blood-hpc", "HPC, Cord Blood (allogeneic)"),
    ("allogeneic-msc", "Allogeneic umbilical-cord or donor MSC"),
    ("embryonic-derived", "Embryonic-stem-cell-derived product"),
    ("msc-exosome", "MSC-derived exosomes / extracellular vesicles"),
    ("prp", "Platelet-rich plasma (PRP)"),
];

fn plan_spec(person: &Person, data: &celltrace_evidence::EvidenceData) -> Spec {
    let mut indication = field("indication", "Indication", "select", true);
    indication.options = data.indications().iter().map(|i| (i.primary_code().to_owned(), format!("{} ({})", i.name, i.primary_code()))).collect();
    Spec {
        title: format!("Order a treatment plan: {}", person.name),
        intro: vec![format!(
            "The evidence guard rates the plan against the evidence data (version {}): approved uses proceed; investigational, unproven and research-only uses need a registered trial, and unproven uses outside a trial are blocked unless this site allows them with the patient's acknowledgement and the medical director's signature.",
            data.version()
        )],
        action: format!("/patients/{}/plan", person.id),
        fields: vec![
            indication,
            field("product_type", "Product type", "select", true).options(PRODUCT_CHOICES),
            field("route", "Route", "text", true).help("e.g. intradiscal, intra-articular, intravenous infusion, topical after microneedling"),
            field("sessions", "Sessions", "number", true).default("1"),
            field("dose", "Dose per session", "number", true),
            field("dose_unit", "Unit of dose", "select", true).options(&[("million cells", "million cells"), ("mL", "mL"), ("x10^6 CD34+ cells/kg", "x10^6 CD34+ cells/kg")]),
            field("cost", "Cost quoted to the patient", "number", true),
            field("currency", "Currency", "select", true).options(&[("USD", "USD"), ("AED", "AED"), ("INR", "INR"), ("GBP", "GBP"), ("EUR", "EUR")]),
            field("trial", "Trial registration (if inside a trial)", "text", false).help("NCT and 8 digits, e.g. NCT01234567"),
            field("ethics", "Ethics approval reference (if inside a trial)", "text", false),
        ],
        signature: None,
        submit: "Order the plan",
    }
}

/// The patient-facing plan pages need the same rating the plan recorded.
async fn plan_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Response {
    let person = match site_person(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match evidence_in_force(&state).await {
        Ok(data) => render_form(&viewer, plan_spec(&person, &data), None, None),
        Err(e) => auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &format!("The evidence data is not readable: {e}")),
    }
}

async fn plan_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let person = match site_person(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let data = match evidence_in_force(&state).await {
        Ok(d) => d,
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &format!("The evidence data is not readable: {e}")),
    };
    let spec = plan_spec(&person, &data);
    let missing = missing_required(&spec.fields, &values);
    let again = |e: String| render_form(&viewer, spec, Some(&values), Some(e));
    if let Some(e) = missing {
        return again(e);
    }
    let Some(product_type) = celltrace_evidence::parse_product_type(&value(&values, "product_type")) else { return again("Choose a product type.".into()) };
    let Some(dose) = quantity(&values, "dose", "dose_unit") else { return again("Dose per session: enter a number above zero.".into()) };
    let Ok(sessions) = value(&values, "sessions").parse::<u32>() else { return again("Sessions: enter a whole number.".into()) };
    let Ok(cost) = value(&values, "cost").parse::<f64>() else { return again("Cost quoted to the patient: enter a number.".into()) };
    let trial = match (value(&values, "trial"), value(&values, "ethics")) {
        (t, e) if t.is_empty() && e.is_empty() => None,
        (t, e) => Some(Trial { registration: t.to_uppercase(), ethics_approval: e }),
    };
    let Some(plan) = new_id::<PlanId>("plan") else { return again("Could not make an identifier.".into()) };
    let command = Command::CreatePlan {
        plan,
        patient: person.id.clone(),
        // The rules rate the plan with the data in force; the form only names the condition.
        indication: value(&values, "indication"),
        product_type,
        route: value(&values, "route"),
        sessions,
        dose,
        cost_quote: Money { minor: (cost * 100.0).round() as i64, currency: value(&values, "currency") },
        trial,
    };
    finish(&state, &viewer, command, format!("/patients/{}", person.id), again).await
}

async fn acknowledge_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let plan = match site_plan(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let back = patient_page(&plan);
    finish(&state, &viewer, Command::AcknowledgeEvidenceWarning { plan: plan.id.clone() }, back, |e| auth::refusal(StatusCode::UNPROCESSABLE_ENTITY, &e)).await
}

fn override_spec(plan: &Plan) -> Spec {
    let mut intro = plan_intro(plan);
    intro.push(format!("Evidence: {:?}. {}", plan.evidence.status, plan.evidence.summary));
    if let Some(reason) = &plan.blocked_reason {
        intro.push(reason.clone());
    }
    Spec {
        title: "Override the evidence block".into(),
        intro,
        action: format!("/plans/{}/override", plan.id),
        fields: vec![field("reason", "Reason for the override", "textarea", true).help("Why this patient should have this treatment despite its evidence status; recorded with your signature.")],
        signature: Some(SignatureMeaning::EvidenceOverride),
        submit: "Sign the override",
    }
}

async fn override_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Response {
    match site_plan(&state, &viewer, &id).await {
        Ok(plan) => render_form(&viewer, override_spec(&plan), None, None),
        Err(r) => r,
    }
}

async fn override_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let plan = match site_plan(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let again = |e: String| render_form(&viewer, override_spec(&plan), Some(&values), Some(e));
    let signature = match own_signature(&state, &viewer, &values, SignatureMeaning::EvidenceOverride).await {
        Ok(s) => s,
        Err(e) => return again(e),
    };
    finish(&state, &viewer, Command::OverrideEvidenceBlock { plan: plan.id.clone(), signature, reason: value(&values, "reason") }, patient_page(&plan), again).await
}

fn donation_spec(person: &Person) -> Spec {
    Spec {
        title: format!("Record a donation: {}", person.name),
        intro: vec!["Allogeneic material from a screened donor. A DIN of this site is assigned when you record the collection.".into()],
        action: format!("/patients/{}/donation", person.id),
        fields: vec![
            field("product_type", "Product type", "select", true).options(&[("cord-blood-hpc", "HPC, Cord Blood"), ("allogeneic-msc", "Allogeneic MSC"), ("msc-exosome", "MSC for exosome production")]),
            field("tissue", "Source tissue", "select", true).options(&[("cord_blood", "Umbilical cord blood"), ("cord_tissue", "Umbilical cord tissue"), ("bone_marrow", "Bone marrow aspirate"), ("peripheral_blood", "Peripheral blood")]),
            field("product_code", "ISBT 128 product code", "text", true).help("8 characters, e.g. S3001V00."),
            field("volume", "Volume collected", "number", true),
            field("unit", "Unit of volume", "select", true).options(&[("mL", "mL"), ("g", "g")]),
            field("shelf_hours", "Hours until the starting material expires", "number", true).default("48"),
        ],
        signature: None,
        submit: "Record the donation",
    }
}

async fn donation_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Response {
    match site_person(&state, &viewer, &id).await {
        Ok(person) => render_form(&viewer, donation_spec(&person), None, None),
        Err(r) => r,
    }
}

async fn donation_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let person = match site_person(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let again = |e: String| render_form(&viewer, donation_spec(&person), Some(&values), Some(e));
    if let Some(e) = missing_required(&donation_spec(&person).fields, &values) {
        return again(e);
    }
    let Some(product_type) = celltrace_evidence::parse_product_type(&value(&values, "product_type")) else { return again("Choose the product type.".into()) };
    let (command, unit) = match collection_command(&state, &viewer, &values, &person.id, None, product_type).await {
        Ok(made) => made,
        Err(e) => return again(e),
    };
    finish(&state, &viewer, command, format!("/units/{unit}"), again).await
}

/// Routes of the plan and evidence-guard forms.
pub fn plan_routes() -> Router<AppState> {
    Router::new()
        .route("/patients/{id}/donation", get(donation_form).post(donation_submit))
        .route("/patients/{id}/plan", get(plan_form).post(plan_submit))
        .route("/plans/{id}/acknowledge", axum::routing::post(acknowledge_submit))
        .route("/plans/{id}/override", get(override_form).post(override_submit))
}

// ---------- follow-up and exceptional release ----------

fn follow_up_spec(plan: &Plan) -> Spec {
    Spec {
        title: "Record a follow-up".into(),
        intro: plan_intro(plan),
        action: format!("/plans/{}/follow-up", plan.id),
        fields: vec![
            field("time_point", "Time point", "select", true).options(&[("baseline", "Baseline"), ("1m", "1 month"), ("3m", "3 months"), ("6m", "6 months"), ("12m", "12 months")]),
            field("instrument", "Instrument", "select", true).options(&[("NPRS", "NPRS (0-10 pain)"), ("KOOS pain", "KOOS pain subscale (0-100)"), ("PGIC", "Patient global impression of change (1-7)"), ("clinician", "Clinician assessment (no score)")]),
            field("score", "Score", "number", false).help("Leave empty for a clinician assessment."),
            field("notes", "Notes", "textarea", false),
        ],
        signature: None,
        submit: "Record the follow-up",
    }
}

async fn follow_up_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Response {
    match site_plan(&state, &viewer, &id).await {
        Ok(plan) => render_form(&viewer, follow_up_spec(&plan), None, None),
        Err(r) => r,
    }
}

async fn follow_up_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let plan = match site_plan(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let again = |e: String| render_form(&viewer, follow_up_spec(&plan), Some(&values), Some(e));
    let score = value(&values, "score");
    let score_milli = if score.is_empty() {
        None
    } else {
        match score.parse::<f64>() {
            Ok(s) if s.is_finite() => Some((s * 1000.0).round() as i64),
            _ => return again("Score: enter a number, or leave it empty.".into()),
        }
    };
    let Some(visit) = new_id::<VisitId>("visit") else { return again("Could not make an identifier.".into()) };
    let command = Command::RecordFollowUp { plan: plan.id.clone(), visit, time_point: value(&values, "time_point"), instrument: value(&values, "instrument"), score_milli, notes: value(&values, "notes") };
    finish(&state, &viewer, command, patient_page(&plan), again).await
}

fn exceptional_spec(unit: &Unit) -> Spec {
    let mut intro = unit_intro(unit);
    intro.push("Out of specification, or results still pending: release only with the physician's and your signatures, after the patient has been informed.".into());
    Spec {
        title: "Exceptional release".into(),
        intro,
        action: format!("/units/{}/exceptional-release", unit.id),
        fields: vec![
            field("justification", "Justification", "textarea", true),
            field("patient_informed", "Patient informed", "select", true).options(&[("no", "Not yet"), ("yes", "Yes, the patient has been informed")]),
            field("physician", "Physician username", "text", true),
            field("physician_password", "Physician password", "password", true),
        ],
        signature: Some(SignatureMeaning::ExceptionalRelease),
        submit: "Sign the exceptional release",
    }
}

async fn exceptional_form(State(state): State<AppState>, Can { viewer, .. }: Can<crate::auth::Release>, Path(id): Path<String>) -> Response {
    match site_unit(&state, &viewer, &id).await {
        Ok(unit) => render_form(&viewer, exceptional_spec(&unit), None, None),
        Err(r) => r,
    }
}

async fn exceptional_submit(State(state): State<AppState>, Can { viewer, .. }: Can<crate::auth::Release>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let missing = missing_required(&exceptional_spec(&unit).fields, &values);
    let again = |e: String| render_form(&viewer, exceptional_spec(&unit), Some(&values), Some(e));
    if let Some(e) = missing {
        return again(e);
    }
    let physician = match cosigner(&state, &viewer, &value(&values, "physician"), &value(&values, "physician_password"), SignatureMeaning::ExceptionalRelease).await {
        Ok(p) => p,
        Err(e) => return again(e),
    };
    let qa = match own_signature(&state, &viewer, &values, SignatureMeaning::ExceptionalRelease).await {
        Ok(s) => s,
        Err(e) => return again(e),
    };
    let command = Command::ExceptionalRelease {
        unit: unit.id.clone(),
        physician: SignatureRequest::own(physician.signer.clone(), SignatureMeaning::ExceptionalRelease),
        qa,
        justification: value(&values, "justification"),
        patient_informed: value(&values, "patient_informed") == "yes",
    };
    match submit_cosigned(&state, &viewer, command, &[physician]).await {
        Ok(()) => Redirect::to(&format!("/units/{id}")).into_response(),
        Err(Ok(message)) => again(message),
        Err(Err(r)) => r,
    }
}

/// Routes of the follow-up and exceptional-release forms.
pub fn more_routes() -> Router<AppState> {
    Router::new()
        .route("/plans/{id}/follow-up", get(follow_up_form).post(follow_up_submit))
        .route("/units/{id}/exceptional-release", get(exceptional_form).post(exceptional_submit))
}
