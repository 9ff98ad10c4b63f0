//! Bedside verification and administration: the nurse scans the patient's
//! wristband and the unit's label and names the plan (never guessed when
//! the patient has several); the page shows every check the rules will make,
//! computed by the rules themselves (`celltrace_domain::bedside_checks`),
//! and a pass leads to recording the administration with a witness's
//! e-signature. A scan that identifies nothing is a STOP on the page, not an
//! error; a database that does not answer is an error.

use crate::auth::{Administer, Can, Viewer};
use crate::error::AppError;
use crate::kit::layout::{when, Layout};
use crate::kit::records::{new_command_id, record_view, render};
use crate::routes::{Access, Route};
use crate::{now_micros, AppState};
use askama::Template;
use axum::extract::{Form, State};
use axum::response::Response;
use celltrace_domain::access::Permission;
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::AdministrationId;
use celltrace_domain::model::{Plan, SignatureMeaning, SignatureRequest};
use celltrace_domain::time::Timestamp;
use celltrace_domain::bedside_checks;
use celltrace_store::scan::{Resolution, ScanError};
use serde::Deserialize;

/// The bedside page, its check and the administration.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/bedside", Access::Staff(Permission::Administer), bedside_form),
        Route::post("/bedside", Access::Staff(Permission::Administer), bedside_check),
        Route::post("/bedside/administer", Access::Staff(Permission::Administer), bedside_administer),
    ]
}

/// The outcome of a check: passed, the failures in words, and every check.
struct Verdict {
    passed: bool,
    failures: Vec<String>,
    checks: Vec<(String, bool, String)>,
}

/// What the administration form carries once every check passed.
struct Confirm {
    patient: String,
    patient_name: String,
    plan: String,
    plan_label: String,
    unit: String,
    unit_label: String,
    dose: String,
    route: String,
}

#[derive(Template)]
#[template(path = "bedside.html")]
struct BedsidePage {
    layout: Option<Layout>,
    csrf: String,
    wristband: String,
    unit_scan: String,
    verdict: Option<Verdict>,
    confirm: Option<Confirm>,
    recorded: Option<String>,
    witness_statement: &'static str,
    /// The patient's plans to choose from (id, label), once the wristband is scanned.
    plans: Vec<(String, String)>,
    /// The plan chosen.
    plan: String,
}

#[derive(Deserialize, Default)]
struct ScanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    wristband: String,
    #[serde(default)]
    unit_scan: String,
    /// The plan the nurse names: never guessed when the patient has several.
    #[serde(default)]
    plan: String,
}

#[derive(Deserialize)]
struct AdministerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    patient: String,
    #[serde(default)]
    body_site: String,
    #[serde(default)]
    witness: String,
    #[serde(default)]
    witness_password: String,
}

fn page(viewer: &Viewer, scan: &ScanForm, plans: Vec<(String, String)>, verdict: Option<Verdict>, confirm: Option<Confirm>, recorded: Option<String>) -> Result<Response, AppError> {
    render(&BedsidePage {
        layout: Some(Layout::new(viewer, "bedside")),
        csrf: viewer.session.csrf_token.clone(),
        wristband: scan.wristband.clone(),
        unit_scan: scan.unit_scan.clone(),
        verdict,
        confirm,
        recorded,
        witness_statement: SignatureMeaning::AdministrationWitness.statement(),
        plans,
        plan: scan.plan.clone(),
    })
}

fn stop(message: String) -> Verdict {
    Verdict { passed: false, failures: vec![message], checks: Vec::new() }
}

fn plan_label(plan: &Plan) -> String {
    format!("{} — {} ({}, {})", plan.indication.name, plan.product_type.code(), plan.route, format!("{:?}", plan.status).to_lowercase())
}

fn new_administration_id() -> Result<AdministrationId, AppError> {
    AdministrationId::parse(&format!("adm-{}", uuid::Uuid::now_v7().simple())).map_err(AppError::internal)
}

async fn bedside_form(Can { viewer, .. }: Can<Administer>) -> Result<Response, AppError> {
    page(&viewer, &ScanForm::default(), Vec::new(), None, None, None)
}

/// A scan's resolution, or the STOP to show: a scan that identifies
/// nothing is the nurse's to correct; a storage failure is an error.
fn scanned(outcome: Result<Resolution, ScanError>, what: &str) -> Result<Result<Resolution, Verdict>, AppError> {
    match outcome {
        Ok(resolution) => Ok(Ok(resolution)),
        Err(ScanError::Store(e)) => Err(e.into()),
        Err(e) => Ok(Err(stop(format!("{what}: {e}")))),
    }
}

/// Scans the wristband and the unit, lets the nurse name the plan, and shows
/// every check the rules will make, computed by the rules themselves.
async fn bedside_check(State(state): State<AppState>, Can { viewer, .. }: Can<Administer>, Form(form): Form<ScanForm>) -> Result<Response, AppError> {
    viewer.require_csrf(&form.csrf)?;
    let reader = state.reader();
    let site = viewer.site.id.as_str();
    let show = |plans: Vec<(String, String)>, verdict: Verdict, confirm: Option<Confirm>| page(&viewer, &form, plans, Some(verdict), confirm, None);
    let person = match scanned(reader.resolve_scan(site, &form.wristband).await, "Wristband")? {
        Ok(Resolution::Patient(p)) => p,
        Ok(Resolution::Unit(_)) => return show(Vec::new(), stop("The first scan is a unit label: scan the patient's wristband first.".into()), None),
        Err(verdict) => return show(Vec::new(), verdict, None),
    };
    let unit = match scanned(reader.resolve_scan(site, &form.unit_scan).await, "Unit label")? {
        Ok(Resolution::Unit(u)) => *u,
        Ok(Resolution::Patient(_)) => return show(Vec::new(), stop("The second scan is a wristband: scan the unit's label.".into()), None),
        Err(verdict) => return show(Vec::new(), verdict, None),
    };
    record_view(&state, &viewer, &person.id, "bedside verification").await?;
    let plans: Vec<Plan> = reader.plans_of(&person.id).await?.into_iter().filter(|p| p.site == viewer.site.id).collect();
    let choices: Vec<(String, String)> = plans.iter().map(|p| (p.id.to_string(), plan_label(p))).collect();
    let chosen = if form.plan.is_empty() {
        match plans.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    } else {
        plans.iter().find(|p| p.id.as_str() == form.plan)
    };
    let Some(plan) = chosen else {
        let message = if plans.is_empty() {
            format!("{} has no treatment plan at this site: do not administer.", person.name)
        } else {
            format!("{} has {} plans at this site: choose the plan this unit is given for, then check again.", person.name, plans.len())
        };
        return show(choices, stop(message), None);
    };
    let now = Timestamp(now_micros());
    // The administration as it would be submitted: the rules load what it names and check it.
    let preview = Submission {
        id: new_command_id()?,
        actor: Actor::Staff(viewer.staff.id.clone()),
        site: viewer.site.id.clone(),
        at: now,
        command: Command::AdministerUnit {
            administration: new_administration_id()?,
            unit: unit.id.clone(),
            patient: person.id.clone(),
            plan: plan.id.clone(),
            dose: plan.dose.clone(),
            body_site: String::new(),
            witness: SignatureRequest::own(viewer.staff.id.clone(), SignatureMeaning::AdministrationWitness),
        },
    };
    let decision_state = state.engine.state_for(&preview).await?;
    let checks: Vec<(String, bool, String)> = bedside_checks(&decision_state, &viewer.site.id, &unit, &person.id, plan, &plan.dose, now)
        .into_iter()
        .map(|c| (c.title, c.passed, c.message))
        .collect();
    let passed = checks.iter().all(|c| c.1);
    let failures = checks.iter().filter(|c| !c.1).map(|c| c.2.clone()).collect();
    let confirm = passed.then(|| Confirm {
        patient: person.id.to_string(),
        patient_name: person.name.clone(),
        plan: plan.id.to_string(),
        plan_label: plan_label(plan),
        unit: unit.id.to_string(),
        unit_label: format!("{} {}", unit.din, unit.product_code),
        dose: plan.dose.to_string(),
        route: plan.route.clone(),
    });
    show(choices, Verdict { passed, failures, checks }, confirm)
}

/// Records the administration with the witness's e-signature; the rules
/// make every bedside check again, with the data in force now.
async fn bedside_administer(State(state): State<AppState>, Can { viewer, .. }: Can<Administer>, Form(form): Form<AdministerForm>) -> Result<Response, AppError> {
    viewer.require_csrf(&form.csrf)?;
    let retry = |message: String| page(&viewer, &ScanForm::default(), Vec::new(), Some(stop(message)), None, None);
    let typed: crate::kit::forms::Values = vec![("witness".into(), form.witness.clone()), ("witness_password".into(), form.witness_password.clone())];
    let witness = match crate::kit::forms::authenticate_cosigner(&state, &viewer, &typed, "witness", "witness_password", SignatureMeaning::AdministrationWitness).await {
        Ok(w) => w,
        Err(crate::kit::forms::Failure::Refused(refusal)) => return retry(refusal.message),
        Err(crate::kit::forms::Failure::Error(error)) => return Err(error),
    };
    let Some(plan) = state.reader().get::<Plan>(&form.plan).await? else {
        return retry("The plan is unknown; scan again.".into());
    };
    let (Ok(unit), Ok(patient)) = (form.unit.parse(), form.patient.parse()) else {
        return retry("The form was damaged; scan again.".into());
    };
    let command = Command::AdministerUnit {
        administration: new_administration_id()?,
        unit,
        patient,
        plan: plan.id.clone(),
        dose: plan.dose.clone(),
        body_site: form.body_site.clone(),
        witness: SignatureRequest::own(witness.signer.clone(), SignatureMeaning::AdministrationWitness),
    };
    match crate::kit::forms::submit_with_cosigners(&state, &viewer, command, &[witness]).await {
        Ok(_) => page(&viewer, &ScanForm::default(), Vec::new(), None, None, Some(format!("Administration recorded for {} at {} UTC.", plan_label(&plan), when(Timestamp(now_micros()))))),
        Err(crate::kit::forms::Failure::Refused(refusal)) => retry(refusal.message),
        Err(crate::kit::forms::Failure::Error(error)) => Err(error),
    }
}
