//! Forms for the steps of the path. One description per form (fields,
//! permission, optional e-signature) and one template render them all; a
//! refused form comes back with what was typed and the faulty field marked.

use crate::auth::{self, Can, RecordClinical, RecordLab, Release, Viewer};
use crate::view::{when, Layout};
use crate::{now_micros, AppState};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::{AdverseEventId, CommandId, PersonId, SigningGrantId};
use celltrace_domain::model::*;
use celltrace_domain::time::{Date, Timestamp};
use celltrace_store::SubmitError;
use std::collections::BTreeSet;

/// The form routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patients/new", get(person_form).post(person_submit))
        .route("/patients/{id}/adverse-event", get(adverse_form).post(adverse_submit))
        .route("/units/{id}/qc", get(qc_form).post(qc_submit))
        .route("/units/{id}/release", get(release_form).post(release_submit))
}

/// One field as the template shows it.
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `date`, `number`, `select`, `textarea` or `checkboxes`.
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<(String, String, bool)>,
    pub required: bool,
    pub help: String,
    pub error: Option<String>,
}

/// A whole form as the template shows it.
pub struct FormView {
    pub title: String,
    pub intro: Vec<String>,
    pub action: String,
    pub fields: Vec<FieldView>,
    pub submit: &'static str,
    pub error: Option<String>,
    pub csrf: String,
    pub signature: Option<&'static str>,
    /// Whether the form uploads a file.
    pub multipart: bool,
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage {
    layout: Option<Layout>,
    form: FormView,
}

/// What was typed, in order (checkboxes may repeat a name).
pub(crate) type Values = Vec<(String, String)>;

pub(crate) fn value(values: &Values, name: &str) -> String {
    values.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

/// A select field's value as the domain's enum (they share their snake_case names).
pub(crate) fn choice<T: serde::de::DeserializeOwned>(values: &Values, name: &str) -> Result<T, serde_json::Error> {
    serde_json::from_value(serde_json::Value::String(value(values, name)))
}

pub(crate) fn values_of(values: &Values, name: &str) -> Vec<String> {
    values.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
}

/// A field description: name, label, kind, required, help, options.
pub(crate) struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    required: bool,
    help: &'static str,
    pub(crate) options: Vec<(String, String)>,
    default: String,
}

pub(crate) fn field(name: &'static str, label: &'static str, kind: &'static str, required: bool) -> Field {
    Field { name, label, kind, required, help: "", options: Vec::new(), default: String::new() }
}

impl Field {
    pub(crate) fn help(mut self, help: &'static str) -> Field {
        self.help = help;
        self
    }
    pub(crate) fn options(mut self, options: &[(&str, &str)]) -> Field {
        self.options = options.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect();
        self
    }
    pub(crate) fn default(mut self, value: &str) -> Field {
        self.default = value.to_owned();
        self
    }
}

/// What a form is: its title, intro lines, target, fields, signature and button.
pub(crate) struct Spec {
    pub(crate) title: String,
    pub(crate) intro: Vec<String>,
    pub(crate) action: String,
    pub(crate) fields: Vec<Field>,
    pub(crate) signature: Option<SignatureMeaning>,
    pub(crate) submit: &'static str,
}

/// Renders a form with `values` (or the defaults), marking empty required
/// fields and the field the refusal names.
pub(crate) fn render_form(viewer: &Viewer, spec: Spec, values: Option<&Values>, error: Option<String>) -> Response {
    let Spec { title, intro, action, fields, signature, submit } = spec;
    let error_lower = error.as_deref().unwrap_or("").to_lowercase();
    let fields: Vec<FieldView> = fields
        .into_iter()
        .map(|f| {
            let typed = values.map(|v| value(v, f.name));
            let chosen: BTreeSet<String> = match values {
                Some(v) => values_of(v, f.name).into_iter().collect(),
                None => [f.default.clone()].into_iter().collect(),
            };
            let current = typed.clone().unwrap_or_else(|| f.default.clone());
            let missing = values.is_some() && f.required && current.is_empty();
            let named = !error_lower.is_empty() && error_lower.contains(&f.label.to_lowercase());
            FieldView {
                name: f.name,
                label: f.label,
                kind: f.kind,
                options: f.options.iter().map(|(v, l)| (v.clone(), l.clone(), chosen.contains(v) || (f.kind == "select" && &current == v))).collect(),
                value: current,
                required: f.required,
                help: f.help.to_owned(),
                error: if missing { Some(format!("Enter the {}.", f.label.to_lowercase())) } else if named { Some("Check this field.".into()) } else { None },
            }
        })
        .collect();
    let multipart = fields.iter().any(|f: &FieldView| f.kind == "file");
    let form = FormView {
        multipart,
        title,
        intro,
        action,
        fields,
        submit,
        error,
        csrf: viewer.session.csrf_token.clone(),
        signature: signature.map(SignatureMeaning::statement),
    };
    let status = if form.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    match (FormPage { layout: Some(Layout::new(viewer, "dashboard")), form }).render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &format!("The form could not be shown: {e}")),
    }
}

pub(crate) fn missing_required(fields: &[Field], values: &Values) -> Option<String> {
    let empty: Vec<&str> = fields.iter().filter(|f| f.required && value(values, f.name).is_empty()).map(|f| f.label).collect();
    (!empty.is_empty()).then(|| format!("Fill in: {}.", empty.join(", ")))
}

pub(crate) async fn submit(state: &AppState, viewer: &Viewer, command: Command) -> Result<(), Result<String, Response>> {
    let id = CommandId::parse(&uuid::Uuid::now_v7().to_string()).map_err(|e| Err(auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())))?;
    let submission = Submission { id, actor: Actor::Staff(viewer.staff.id.clone()), site: viewer.site.id.clone(), at: Timestamp(now_micros()), command };
    match state.engine.submit(submission).await {
        Ok(_) => Ok(()),
        Err(SubmitError::Rejected(r)) => Err(Ok(r.message)),
        Err(SubmitError::Store(e)) => Err(Err(auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &format!("Nothing was recorded: {e}")))),
    }
}

/// Submits `command` as the viewer with the secret it carries (a password
/// or portal code hash), recorded together or not at all.
pub(crate) async fn submit_with_secret(state: &AppState, viewer: &Viewer, command: Command, secret: celltrace_store::Secret) -> Result<(), Result<String, Response>> {
    let id = CommandId::parse(&uuid::Uuid::now_v7().to_string()).map_err(|e| Err(auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())))?;
    let submission = Submission { id, actor: Actor::Staff(viewer.staff.id.clone()), site: viewer.site.id.clone(), at: Timestamp(now_micros()), command };
    match state.engine.submit_with_secret(submission, secret).await {
        Ok(_) => Ok(()),
        Err(SubmitError::Rejected(r)) => Err(Ok(r.message)),
        Err(SubmitError::Store(e)) => Err(Err(auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &format!("Nothing was recorded: {e}")))),
    }
}

pub(crate) fn csrf_ok(viewer: &Viewer, values: &Values) -> Result<(), Response> {
    viewer.check_csrf(&value(values, "csrf"))
}

/// The viewer's own e-signature: they re-enter their password (the rules
/// then record it as the submitter's, at the server's time).
pub(crate) async fn own_signature(state: &AppState, viewer: &Viewer, values: &Values, meaning: SignatureMeaning) -> Result<SignatureRequest, String> {
    let password = value(values, "signature_password");
    if password.is_empty() {
        return Err("Re-enter your password to sign.".into());
    }
    let signer = auth::check_signer(state, viewer.client, &viewer.staff.username, &password).await?;
    Ok(SignatureRequest::own(signer, meaning))
}

/// A second person who signs in the same form with their own username and
/// password: proven by a signing grant they record for this very command.
pub(crate) struct Cosigner {
    pub(crate) signer: celltrace_domain::ids::StaffId,
    pub(crate) meaning: SignatureMeaning,
}

/// Checks a second person's password for a signature of `meaning`.
pub(crate) async fn cosigner(state: &AppState, viewer: &Viewer, username: &str, password: &str, meaning: SignatureMeaning) -> Result<Cosigner, String> {
    let signer = auth::check_signer(state, viewer.client, username, password).await?;
    Ok(Cosigner { signer, meaning })
}

/// Submits `command` as the viewer together with each co-signer's grant,
/// all or nothing: the grants bind the co-signers' authentication to the
/// command's exact content, and the rules spend each once.
pub(crate) async fn submit_cosigned(state: &AppState, viewer: &Viewer, mut command: Command, cosigners: &[Cosigner]) -> Result<(), Result<String, Response>> {
    let fail = |e: String| Err(auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e));
    let at = Timestamp(now_micros());
    let digest = command.signing_digest(&viewer.staff.id, &viewer.site.id);
    let mut subs = Vec::new();
    for c in cosigners {
        let (Ok(grant), Ok(id)) = (SigningGrantId::parse(&format!("sg-{}", uuid::Uuid::now_v7().simple())), CommandId::parse(&uuid::Uuid::now_v7().to_string())) else {
            return Err(fail("cannot make an identifier".into()));
        };
        subs.push(Submission {
            id,
            actor: Actor::Staff(c.signer.clone()),
            site: viewer.site.id.clone(),
            at,
            command: Command::IssueSigningGrant {
                grant: grant.clone(),
                meaning: c.meaning,
                submitter: viewer.staff.id.clone(),
                command_digest: digest.clone(),
                method: AuthenticationMethod::Password,
            },
        });
        command.attach_grant(&c.signer, c.meaning, grant);
    }
    let Ok(id) = CommandId::parse(&uuid::Uuid::now_v7().to_string()) else { return Err(fail("cannot make an identifier".into())) };
    subs.push(Submission { id, actor: Actor::Staff(viewer.staff.id.clone()), site: viewer.site.id.clone(), at, command });
    match state.engine.submit_atomic(subs).await {
        Ok(_) => Ok(()),
        Err(celltrace_store::AtomicError::Rejected { rejection, .. }) => Err(Ok(rejection.message)),
        Err(celltrace_store::AtomicError::Store(e)) => Err(Err(auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &format!("Nothing was recorded: {e}")))),
    }
}

pub(crate) async fn site_unit(state: &AppState, viewer: &Viewer, id: &str) -> Result<Unit, Response> {
    match state.reader().get::<Unit>(id).await {
        Ok(Some(u)) if u.site == viewer.site.id => Ok(u),
        Ok(_) => Err(auth::refusal(StatusCode::NOT_FOUND, "This unit is not at your site.")),
        Err(e) => Err(auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())),
    }
}

pub(crate) async fn site_person(state: &AppState, viewer: &Viewer, id: &str) -> Result<Person, Response> {
    match state.reader().get::<Person>(id).await {
        Ok(Some(p)) if p.site == viewer.site.id => Ok(p),
        Ok(_) => Err(auth::refusal(StatusCode::NOT_FOUND, "This patient is not registered at your site.")),
        Err(e) => Err(auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())),
    }
}

// ---------- register a patient or donor ----------

fn person_fields() -> Vec<Field> {
    vec![
        field("kind", "Patient or donor", "select", true).options(&[("patient", "Patient"), ("donor", "Donor")]).default("patient"),
        field("mrn", "Medical record number", "text", true),
        field("name", "Full name", "text", true).help("In any script, as on the person's identification."),
        field("date_of_birth", "Date of birth", "date", true),
        field("sex", "Sex", "select", true).options(&[("female", "Female"), ("male", "Male"), ("other", "Other or not stated")]),
        field("language", "Preferred language", "select", true).options(&[("en", "English"), ("ar", "العربية (Arabic)"), ("hi", "हिन्दी (Hindi)")]),
        field("contact", "Phone or e-mail", "text", false),
    ]
}

fn person_spec(viewer: &Viewer) -> Spec {
    Spec {
        title: "Register a patient or donor".into(),
        intro: vec![format!("At {}.", viewer.site.name)],
        action: "/patients/new".into(),
        fields: person_fields(),
        signature: None,
        submit: "Register",
    }
}

async fn person_form(Can { viewer, .. }: Can<RecordClinical>) -> Response {
    render_form(&viewer, person_spec(&viewer), None, None)
}

async fn person_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let again = |error: String| render_form(&viewer, person_spec(&viewer), Some(&values), Some(error));
    if let Some(e) = missing_required(&person_fields(), &values) {
        return again(e);
    }
    let date_of_birth = match Date::parse(&value(&values, "date_of_birth")) {
        Ok(d) => d,
        Err(e) => return again(format!("Date of birth: {e}")),
    };
    let (Ok(kind), Ok(sex), Ok(language)) = (choice(&values, "kind"), choice(&values, "sex"), choice(&values, "language")) else {
        return again("Choose one of the offered options.".into());
    };
    let Ok(person) = PersonId::parse(&format!("p-{}", uuid::Uuid::now_v7().simple())) else {
        return again("Could not make an identifier; try again.".into());
    };
    let command = Command::RegisterPerson {
        person: person.clone(),
        kind,
        mrn: value(&values, "mrn"),
        name: value(&values, "name"),
        date_of_birth,
        sex,
        language,
        contact: value(&values, "contact"),
    };
    match submit(&state, &viewer, command).await {
        Ok(()) => Redirect::to(&format!("/patients/{person}")).into_response(),
        Err(Ok(message)) => again(message),
        Err(Err(r)) => r,
    }
}

// ---------- adverse event ----------

const SERIOUSNESS: &[(&str, &str)] = &[
    ("death", "Resulted in death"),
    ("life_threatening", "Life-threatening"),
    ("hospitalisation", "Required or prolonged hospitalisation"),
    ("disability", "Persistent or significant disability"),
    ("congenital_anomaly", "Congenital anomaly"),
    ("important_medical_event", "Other important medical event"),
];

async fn adverse_fields(state: &AppState, person: &Person) -> Vec<Field> {
    let plans: Vec<(String, String)> = state
        .reader()
        .plans_of(&person.id)
        .await
        .unwrap_or_default()
        .iter()
        .map(|p| (p.id.to_string(), format!("{} — {}", p.product_type.code(), p.indication.name)))
        .collect();
    // No default: a serious event must name its plan, and the rules refuse it otherwise.
    let mut plan_options = vec![(String::new(), "Choose… (or: not linked to a plan)".to_owned())];
    plan_options.extend(plans);
    let mut plan_field = field("plan", "Treatment plan", "select", false);
    plan_field.options = plan_options;
    vec![
        plan_field,
        {
            let mut term = field("term", "CTCAE term", "datalist", true).help("Start typing: the CTCAE v5.0 terms are offered, e.g. Injection site reaction, Joint effusion, Fever.");
            term.options = state.reference.ctcae().terms().iter().map(|t| (t.term.clone(), t.soc.clone())).collect();
            term
        },
        field("grade", "CTCAE grade", "select", true).options(&[("1", "1 — mild"), ("2", "2 — moderate"), ("3", "3 — severe or medically significant"), ("4", "4 — life-threatening"), ("5", "5 — death")]),
        field("onset", "Onset date", "date", true),
        field("seriousness", "Seriousness criteria (tick all that apply)", "checkboxes", false).options(SERIOUSNESS),
        field("relatedness", "Relation to the product", "select", true)
            .options(&[("not_assessed", "Not yet assessed"), ("unrelated", "Unrelated"), ("unlikely", "Unlikely"), ("possible", "Possible"), ("probable", "Probable"), ("definite", "Definite")])
            .default("not_assessed"),
        field("action", "Action taken", "text", true),
        field("outcome", "Outcome", "text", true),
        field("description", "What happened", "textarea", true),
    ]
}

fn adverse_spec(person: &Person, fields: Vec<Field>) -> Spec {
    Spec {
        title: format!("Report an adverse event: {}", person.name),
        intro: vec![format!("MRN {}. Serious events go to the medical director's queue.", person.mrn)],
        action: format!("/patients/{}/adverse-event", person.id),
        fields,
        signature: None,
        submit: "Report the adverse event",
    }
}

async fn adverse_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>) -> Response {
    let person = match site_person(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let fields = adverse_fields(&state, &person).await;
    render_form(&viewer, adverse_spec(&person, fields), None, None)
}

async fn adverse_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordClinical>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let person = match site_person(&state, &viewer, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let fields = adverse_fields(&state, &person).await;
    let missing = missing_required(&fields, &values);
    let again = |error: String| render_form(&viewer, adverse_spec(&person, fields), Some(&values), Some(error));
    if let Some(e) = missing {
        return again(e);
    }
    let onset = match Date::parse(&value(&values, "onset")) {
        Ok(d) => d,
        Err(e) => return again(format!("Onset date: {e}")),
    };
    let Ok(grade) = value(&values, "grade").parse::<u8>() else { return again("Choose a CTCAE grade.".into()) };
    // Whether the term exists and allows this grade is the rules' question (the same for every entry path).
    let term_name = value(&values, "term");
    let seriousness: Result<BTreeSet<Seriousness>, _> = values_of(&values, "seriousness")
        .into_iter()
        .map(|s| serde_json::from_value(serde_json::Value::String(s)))
        .collect();
    let (Ok(seriousness), Ok(relatedness)) = (seriousness, choice::<Relatedness>(&values, "relatedness")) else {
        return again("Choose one of the offered options.".into());
    };
    let plan = value(&values, "plan");
    let (Ok(adverse_event), Ok(plan)) = (AdverseEventId::parse(&format!("ae-{}", uuid::Uuid::now_v7().simple())), (!plan.is_empty()).then(|| plan.parse()).transpose()) else {
        return again("The plan chosen is not valid.".into());
    };
    let command = Command::ReportAdverseEvent {
        adverse_event,
        patient: person.id.clone(),
        plan,
        unit: None,
        term: term_name,
        grade,
        onset,
        seriousness,
        relatedness,
        action: value(&values, "action"),
        outcome: value(&values, "outcome"),
        description: value(&values, "description"),
    };
    match submit(&state, &viewer, command).await {
        Ok(()) => Redirect::to(&format!("/patients/{id}")).into_response(),
        Err(Ok(message)) => again(message),
        Err(Err(r)) => r,
    }
}

// ---------- QC and release ----------

fn qc_fields() -> Vec<Field> {
    vec![
        field("test", "Test", "text", true).help("e.g. viability, cell count, sterility, endotoxin, mycoplasma, identity markers"),
        field("value", "Result", "text", true),
        field("specification", "Specification", "text", true).help("e.g. >= 70 %"),
        field("outcome", "Outcome", "select", true).options(&[("", "Choose…"), ("in_specification", "Within specification"), ("out_of_specification", "Out of specification"), ("pending", "Pending (sample sent, result not in yet)")]),
    ]
}

pub(crate) fn unit_intro(unit: &Unit) -> Vec<String> {
    let mut intro = vec![format!("Unit {} {} · {} · expires {}", unit.din, unit.product_code, unit.status.label(), when(unit.expires_at))];
    intro.extend(unit.qc.iter().map(|q| {
        let mark = match q.outcome() {
            QcOutcome::InSpecification => "✔",
            QcOutcome::OutOfSpecification => "✘",
            QcOutcome::Pending => "⧗ pending:",
        };
        format!("{mark} {}: {} (spec {})", q.test, q.value, q.specification)
    }));
    intro
}

fn qc_spec(unit: &Unit) -> Spec {
    Spec {
        title: "Record a QC result".into(),
        intro: unit_intro(unit),
        action: format!("/units/{}/qc", unit.id),
        fields: qc_fields(),
        signature: None,
        submit: "Record the result",
    }
}

fn release_spec(unit: &Unit) -> Spec {
    Spec {
        title: "Release the unit".into(),
        intro: unit_intro(unit),
        action: format!("/units/{}/release", unit.id),
        fields: Vec::new(),
        signature: Some(SignatureMeaning::Release),
        submit: "Sign and release",
    }
}

async fn qc_form(State(state): State<AppState>, Can { viewer, .. }: Can<RecordLab>, Path(id): Path<String>) -> Response {
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    render_form(&viewer, qc_spec(&unit), None, None)
}

async fn qc_submit(State(state): State<AppState>, Can { viewer, .. }: Can<RecordLab>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let again = |error: String| render_form(&viewer, qc_spec(&unit), Some(&values), Some(error));
    if let Some(e) = missing_required(&qc_fields(), &values) {
        return again(e);
    }
    let command = Command::RecordQcResult {
        unit: unit.id.clone(),
        test: value(&values, "test"),
        value: value(&values, "value"),
        specification: value(&values, "specification"),
        outcome: match choice(&values, "outcome") {
            Ok(outcome) => outcome,
            Err(_) => return again("Outcome: choose within specification, out of specification or pending.".into()),
        },
    };
    match submit(&state, &viewer, command).await {
        Ok(()) => Redirect::to(&format!("/units/{id}")).into_response(),
        Err(Ok(message)) => again(message),
        Err(Err(r)) => r,
    }
}

async fn release_form(State(state): State<AppState>, Can { viewer, .. }: Can<Release>, Path(id): Path<String>) -> Response {
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    render_form(&viewer, release_spec(&unit), None, None)
}

async fn release_submit(State(state): State<AppState>, Can { viewer, .. }: Can<Release>, Path(id): Path<String>, Form(values): Form<Values>) -> Response {
    if let Err(r) = csrf_ok(&viewer, &values) {
        return r;
    }
    let unit = match site_unit(&state, &viewer, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let again = |error: String| render_form(&viewer, release_spec(&unit), Some(&values), Some(error));
    let signature = match own_signature(&state, &viewer, &values, SignatureMeaning::Release).await {
        Ok(s) => s,
        Err(message) => return again(message),
    };
    match submit(&state, &viewer, Command::ReleaseUnit { unit: unit.id.clone(), signature }).await {
        Ok(()) => Redirect::to(&format!("/units/{id}")).into_response(),
        Err(Ok(message)) => again(message),
        Err(Err(r)) => r,
    }
}
