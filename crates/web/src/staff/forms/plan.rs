//! Ordering a treatment plan (rated by the evidence guard with the data in
//! force, never by the person ordering), and the forms of a plan before
//! collection: eligibility, consent with a witness who signs with their own
//! credentials, the patient's acknowledgement of the evidence warning, and
//! the medical director's signed override of an evidence block.

use super::{patient_page, plan_intro, quantity};
use crate::auth::{Can, RecordClinical, Viewer};
use crate::error::AppError;
use crate::kit::forms::*;
use crate::kit::records::{site_person, site_plan, submit_as_viewer};
use crate::routes::{Access, Route};
use crate::AppState;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use celltrace_domain::access::Permission;
use celltrace_domain::command::Command;
use celltrace_domain::ids::*;
use celltrace_domain::model::*;

/// The routes of the plan forms.
pub fn routes() -> Vec<Route> {
    let clinical = Access::Staff(Permission::RecordClinical);
    vec![
        Route::get("/patients/{id}/plan", clinical, plan_form),
        Route::post("/patients/{id}/plan", clinical, plan_submit),
        Route::get("/plans/{id}/eligibility", clinical, eligibility_form),
        Route::post("/plans/{id}/eligibility", clinical, eligibility_submit),
        Route::get("/plans/{id}/consent", clinical, consent_form),
        Route::post("/plans/{id}/consent", clinical, consent_submit),
        Route::post("/plans/{id}/acknowledge", clinical, acknowledge_submit),
        Route::get("/plans/{id}/override", clinical, override_form),
        Route::post("/plans/{id}/override", clinical, override_submit),
    ]
}

// ---------- ordering a plan ----------

/// The evidence data in force: what an administrator last loaded into the
/// ledger, else the data shipped with this build (parsed once per version
/// by the reference data the rules use too).
pub async fn evidence_in_force(state: &AppState) -> Result<std::sync::Arc<celltrace_evidence::EvidenceData>, AppError> {
    let dataset: Option<EvidenceDataset> = state.reader().evidence_dataset().await?;
    state.reference.evidence_data(dataset.as_ref()).map_err(|e| AppError::internal(format!("the evidence data in force is not readable: {e}")))
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
    let indications = data.indications().iter().map(|i| (i.primary_code().to_owned(), format!("{} ({})", i.name, i.primary_code()))).collect();
    Spec::new(format!("Order a treatment plan: {}", person.name), format!("/patients/{}/plan", person.id), "Order the plan")
        .intro(vec![format!(
            "The evidence guard rates the plan against the evidence data (version {}): approved uses proceed; investigational, unproven and research-only uses need a registered trial, and unproven uses outside a trial are blocked unless this site allows them with the patient's acknowledgement and the medical director's signature.",
            data.version()
        )])
        .fields(vec![
            field("indication", "Indication", "select", true).choices(indications),
            field("product_type", "Product type", "select", true).options(PRODUCT_CHOICES),
            field("route", "Route", "text", true).help("e.g. intradiscal, intra-articular, intravenous infusion, topical after microneedling"),
            field("sessions", "Sessions", "number", true).default("1"),
            field("dose", "Dose per session", "number", true),
            field("dose_unit", "Unit of dose", "select", true).options(&[("million cells", "million cells"), ("mL", "mL"), ("x10^6 CD34+ cells/kg", "x10^6 CD34+ cells/kg")]),
            field("cost", "Cost quoted to the patient", "number", true),
            field("currency", "Currency", "select", true).options(&[("USD", "USD"), ("AED", "AED"), ("INR", "INR"), ("GBP", "GBP"), ("EUR", "EUR")]),
            field("trial", "Trial registration (if inside a trial)", "text", false).help("NCT and 8 digits, e.g. NCT01234567"),
            field("ethics", "Ethics approval reference (if inside a trial)", "text", false),
        ])
        .renames(&[("cost_quote", "cost"), ("patient", "")])
}

async fn plan_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Result<Response, AppError> {
    let person = site_person(&state, &viewer, &id).await?;
    let data = evidence_in_force(&state).await?;
    render_form(&viewer, &plan_spec(&person, &data), None, None)
}

async fn plan_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let person = site_person(&state, &viewer, &id).await?;
    let spec = plan_spec(&person, &*evidence_in_force(&state).await?);
    let outcome = order(&state, &viewer, &spec, &person, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn order(state: &AppState, viewer: &Viewer, spec: &Spec, person: &Person, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let product_type = celltrace_evidence::parse_product_type(&value(values, "product_type")).ok_or_else(|| FormRefusal::invalid("product_type", "Choose a product type."))?;
    let dose = quantity(values, "dose", "dose_unit").ok_or_else(|| FormRefusal::invalid("dose", "Dose per session: enter a number above zero."))?;
    let sessions = value(values, "sessions").parse::<u32>().map_err(|_| FormRefusal::invalid("sessions", "Sessions: enter a whole number."))?;
    let cost = value(values, "cost").parse::<f64>().ok().filter(|c| c.is_finite()).ok_or_else(|| FormRefusal::invalid("cost", "Cost quoted to the patient: enter a number."))?;
    let trial = match (value(values, "trial"), value(values, "ethics")) {
        (t, e) if t.is_empty() && e.is_empty() => None,
        (t, e) => Some(Trial { registration: t.to_uppercase(), ethics_approval: e }),
    };
    let command = Command::CreatePlan {
        plan: new_id::<PlanId>("plan")?,
        patient: person.id.clone(),
        // The rules rate the plan with the data in force; the form only names the condition.
        indication: value(values, "indication"),
        product_type,
        route: value(values, "route"),
        sessions,
        dose,
        cost_quote: Money { minor: (cost * 100.0).round() as i64, currency: value(values, "currency") },
        trial,
    };
    submit(state, viewer, command).await?;
    Ok(format!("/patients/{}", person.id))
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
    Spec::new("Assess eligibility", format!("/plans/{}/eligibility", plan.id), "Record the assessment")
        .intro(plan_intro(plan))
        .fields(fields)
        .renames(&[("criteria", "findings"), ("plan", "")])
}

async fn eligibility_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Result<Response, AppError> {
    let plan = site_plan(&state, &viewer, &id).await?;
    render_form(&viewer, &eligibility_spec(&plan), None, None)
}

async fn eligibility_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let plan = site_plan(&state, &viewer, &id).await?;
    let spec = eligibility_spec(&plan);
    let outcome = assess(&state, &viewer, &spec, &plan, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn assess(state: &AppState, viewer: &Viewer, spec: &Spec, plan: &Plan, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let valid_days = value(values, "valid_days").parse::<u32>().map_err(|_| FormRefusal::invalid("valid_days", "Days the assessment stays current: enter a whole number."))?;
    let findings = value(values, "findings");
    let criteria = CRITERIA
        .iter()
        .filter(|(code, _)| value(values, code) != "na")
        .map(|(code, label)| Criterion { code: (*code).into(), description: (*label).into(), met: value(values, code) == "met", detail: findings.clone() })
        .collect();
    let command = Command::AssessEligibility { plan: plan.id.clone(), assessment: new_id("elig")?, criteria, valid_days };
    submit(state, viewer, command).await?;
    Ok(patient_page(plan))
}

// ---------- consent ----------

fn consent_spec(plan: &Plan) -> Spec {
    let mut intro = plan_intro(plan);
    intro.push(format!("Evidence status: {:?}. {}", plan.evidence.status, plan.evidence.summary));
    intro.push(format!("The patient reads the consent document in their language first (Consent document, on the patient's page: /plans/{}/consent-document).", plan.id));
    intro.push("The witness signs with their own username and password.".into());
    Spec::new("Record the signed consent", format!("/plans/{}/consent", plan.id), "Record the consent")
        .intro(intro)
        .fields(vec![
            field("template", "Consent template", "text", true).default(celltrace_i18n::CONSENT_TEMPLATE),
            field("template_version", "Template version", "text", true).default(celltrace_i18n::CONSENT_VERSION),
            field("language", "Language the patient read", "select", true).options(&[("en", "English"), ("ar", "العربية (Arabic)"), ("hi", "हिन्दी (Hindi)")]),
            field("witness", "Witness username", "text", true),
            field("witness_password", "Witness password", "password", true),
        ])
        .renames(&[("plan", ""), ("consent", "")])
}

async fn consent_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Result<Response, AppError> {
    let plan = site_plan(&state, &viewer, &id).await?;
    render_form(&viewer, &consent_spec(&plan), None, None)
}

async fn consent_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let plan = site_plan(&state, &viewer, &id).await?;
    let spec = consent_spec(&plan);
    let outcome = consent(&state, &viewer, &spec, &plan, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn consent(state: &AppState, viewer: &Viewer, spec: &Spec, plan: &Plan, values: &Values) -> Result<String, Failure> {
    spec.check_required(values)?;
    let witness = authenticate_cosigner(state, viewer, values, "witness", "witness_password", SignatureMeaning::ConsentWitness).await?;
    let command = Command::RecordConsent {
        plan: plan.id.clone(),
        consent: new_id("consent")?,
        template: value(values, "template"),
        template_version: value(values, "template_version"),
        language: choice(values, "language")?,
        witness: Some(SignatureRequest::own(witness.signer.clone(), SignatureMeaning::ConsentWitness)),
    };
    submit_with_cosigners(state, viewer, command, &[witness]).await?;
    Ok(patient_page(plan))
}

// ---------- the evidence warning and its override ----------

/// The patient's signed acknowledgement of the evidence warning (a button
/// on the patient page); a refusal is the error page with the rules' code,
/// message and field.
async fn acknowledge_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let plan = site_plan(&state, &viewer, &id).await?;
    submit_as_viewer(&state, &viewer, Command::AcknowledgeEvidenceWarning { plan: plan.id.clone() }).await?;
    Ok(Redirect::to(&patient_page(&plan)).into_response())
}

fn override_spec(plan: &Plan) -> Spec {
    let mut intro = plan_intro(plan);
    intro.push(format!("Evidence: {:?}. {}", plan.evidence.status, plan.evidence.summary));
    if let Some(reason) = &plan.blocked_reason {
        intro.push(reason.clone());
    }
    Spec::new("Override the evidence block", format!("/plans/{}/override", plan.id), "Sign the override")
        .intro(intro)
        .fields(vec![field("reason", "Reason for the override", "textarea", true).help("Why this patient should have this treatment despite its evidence status; recorded with your signature.")])
        .signature(SignatureMeaning::EvidenceOverride)
        .renames(&[("plan", "")])
}

async fn override_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Result<Response, AppError> {
    let plan = site_plan(&state, &viewer, &id).await?;
    render_form(&viewer, &override_spec(&plan), None, None)
}

async fn override_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Result<Response, AppError> {
    csrf_ok(&viewer, &values)?;
    let plan = site_plan(&state, &viewer, &id).await?;
    let spec = override_spec(&plan);
    let outcome = override_block(&state, &viewer, &plan, &values).await;
    respond(&viewer, &spec, &values, outcome)
}

async fn override_block(state: &AppState, viewer: &Viewer, plan: &Plan, values: &Values) -> Result<String, Failure> {
    let signature = own_signature(state, viewer, values, SignatureMeaning::EvidenceOverride).await?;
    submit(state, viewer, Command::OverrideEvidenceBlock { plan: plan.id.clone(), signature, reason: value(values, "reason") }).await?;
    Ok(patient_page(plan))
}
