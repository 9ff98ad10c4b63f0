//! Templates (askama, auto-escaped) and the small view models they show.
//! Handlers build these from domain types; templates never see the database.

use askama::Template;

pub use crate::kit::layout::*;

pub struct DemoAccount {
    pub role: String,
    pub username: String,
    pub name: String,
    pub site: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub layout: Option<Layout>,
    pub csrf: String,
    pub error: Option<String>,
    pub username: String,
    pub demo_accounts: Vec<DemoAccount>,
    pub demo_password: &'static str,
}

#[derive(Default, serde::Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub site_name: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub fin: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
}

#[derive(Template)]
#[template(path = "setup.html")]
pub struct SetupPage {
    pub layout: Option<Layout>,
    pub csrf: String,
    pub error: Option<String>,
    pub form: SetupForm,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub layout: Option<Layout>,
    pub site_name: String,
    pub quarantine: Vec<Item>,
    pub transit: Vec<Item>,
    pub ready: Vec<Item>,
    pub follow_ups: Vec<Item>,
    /// Serious adverse events the medical director has not reviewed yet.
    pub serious: Vec<Item>,
    pub adverse: Vec<Item>,
    pub blocked: Vec<Item>,
}

pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub mrn: String,
    pub dob: String,
    pub kind: String,
    pub language: String,
}

#[derive(Template)]
#[template(path = "patients.html")]
pub struct PatientsPage {
    pub layout: Option<Layout>,
    pub can_record: bool,
    pub site_name: String,
    pub people: Vec<PersonRow>,
    /// What was searched for.
    pub q: String,
    /// `patient` or `donor`.
    pub kind: String,
    /// The next page's address, when there is one.
    pub next: Option<String>,
    pub first_page: bool,
}

pub struct PlanView {
    pub id: String,
    pub indication: String,
    pub product: String,
    pub status: String,
    pub status_class: &'static str,
    pub evidence: String,
    pub evidence_class: &'static str,
    pub trial: Option<String>,
    pub blocked_reason: Option<String>,
    pub route: String,
    pub sessions: u32,
    pub dose: String,
    pub cost: String,
    pub lines: Vec<String>,
    /// Forms that fit this plan now.
    pub links: Vec<(String, &'static str)>,
    /// Blocked as unproven and the patient has not yet signed the warning.
    pub needs_acknowledgement: bool,
    /// The schedule's questionnaires: what, where it stands, and the paper-entry form when open.
    pub questionnaires: Vec<(String, String, Option<String>)>,
}

pub struct TimelineRow {
    pub seq: u64,
    pub when: String,
    pub what: String,
    pub who: String,
}

#[derive(Template)]
#[template(path = "patient.html")]
pub struct PatientPage {
    pub layout: Option<Layout>,
    pub id: String,
    pub name: String,
    pub mrn: String,
    pub dob: String,
    pub sex: String,
    pub kind: String,
    pub language: String,
    pub plans: Vec<PlanView>,
    pub units: Vec<Item>,
    pub timeline: Vec<TimelineRow>,
    pub can_audit: bool,
    pub can_record: bool,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "units.html")]
pub struct UnitsPage {
    pub layout: Option<Layout>,
    pub site_name: String,
    pub units: Vec<Item>,
    /// What was searched for.
    pub q: String,
    /// The status filter (empty: all).
    pub status: String,
    /// The product type filter (empty: all).
    pub product_type: String,
    /// The next page's address, when there is one.
    pub next: Option<String>,
    pub first_page: bool,
}

#[derive(Template)]
#[template(path = "unit.html")]
pub struct UnitPage {
    pub layout: Option<Layout>,
    pub id: String,
    pub din: String,
    pub product_code: String,
    pub description: String,
    pub status: String,
    pub quantity: String,
    pub site: String,
    pub expires: String,
    pub intended: String,
    pub lineage_svg: String,
    pub qc: Vec<(String, String, String, &'static str)>,
    pub release: Vec<String>,
    pub steps: Vec<String>,
    /// Shipments with their custody signatures and temperature excursions.
    pub custody: Vec<String>,
    pub can_audit: bool,
    /// Links to the forms the viewer may use on this unit now.
    pub actions: Vec<(String, &'static str)>,
}

pub struct AuditRow {
    pub seq: u64,
    pub when: String,
    pub who: String,
    pub site: String,
    pub what: String,
    pub payload: String,
    pub hash: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub layout: Option<Layout>,
    pub subject: String,
    pub entries: Vec<AuditRow>,
}

#[derive(Template)]
#[template(path = "ledger.html")]
pub struct LedgerPage {
    pub layout: Option<Layout>,
    pub csrf: String,
    pub entries: u64,
    pub checkpoints: i64,
    pub head: String,
    pub report: Option<(bool, String)>,
    pub findings: Vec<String>,
    pub latest: Vec<TimelineRow>,
}

pub struct Verdict {
    pub passed: bool,
    pub failures: Vec<String>,
    pub checks: Vec<(String, bool, String)>,
}

pub struct Confirm {
    pub patient: String,
    pub patient_name: String,
    pub plan: String,
    pub plan_label: String,
    pub unit: String,
    pub unit_label: String,
    pub dose: String,
    pub route: String,
}

#[derive(Template)]
#[template(path = "bedside.html")]
pub struct BedsidePage {
    pub layout: Option<Layout>,
    pub csrf: String,
    pub wristband: String,
    pub unit_scan: String,
    pub verdict: Option<Verdict>,
    pub confirm: Option<Confirm>,
    pub recorded: Option<String>,
    pub witness_statement: &'static str,
    /// The patient's plans to choose from (id, label), once the wristband is scanned.
    pub plans: Vec<(String, String)>,
    /// The plan chosen.
    pub plan: String,
}
