//! The form kit: one description per form (fields, optional e-signature)
//! and one template render them all; a refused form comes back with what was
//! typed and the faulty field marked. Also submitting a form's command as the
//! viewer, alone, with a secret, or with co-signers' signing grants.

use crate::auth::{self, Viewer};
use crate::view::{when, Layout};
use crate::{now_micros, AppState};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::{CommandId, SigningGrantId};
use celltrace_domain::model::*;
use celltrace_domain::time::Timestamp;
use celltrace_store::SubmitError;
use std::collections::BTreeSet;


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


/// The lines that introduce a unit on its forms: identity, status, expiry and each QC result.
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
