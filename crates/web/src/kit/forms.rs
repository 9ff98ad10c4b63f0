//! The form kit: one description per form ([`Spec`]: fields, an optional
//! e-signature, and where the command's field names differ from the form's)
//! and one template render them all. A refused form comes back with what was
//! typed, the refusal's message and code, and the field it names marked —
//! by the field's name, never by matching the message's text.
//!
//! Submitting a form's command (as the viewer: alone, with a secret, or with
//! co-signers' signing grants) answers `Result<_, Failure>`: a
//! [`FormRefusal`] (the rules' code, message and field, or the form's own
//! reading of what was typed) shows the form again; an [`AppError`]
//! (storage, a broken template) is the error page.

use crate::auth::{self, Viewer};
use crate::error::AppError;
use crate::kit::layout::{when, Layout};
use crate::{now_micros, AppState};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::{CommandId, SigningGrantId, StaffId};
use celltrace_domain::model::*;
use celltrace_domain::time::Timestamp;
use celltrace_domain::{Rejection, RejectionCode};
use celltrace_store::{AtomicError, Receipt, StoreError, SubmitError};
use std::collections::BTreeSet;

/// The words a failed re-authentication shows (the same for a wrong
/// username and a wrong password).
pub const WRONG_SIGNER: &str = "The signer's username or password is not right; nothing was signed.";

/// One field as the template shows it.
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `date`, `number`, `password`, `new-password`, `select`, `datalist`, `textarea`, `file` or `checkboxes`.
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
    /// The refusal's message.
    pub error: Option<String>,
    /// The rules' code of the refusal (`data-code`), when the rules refused.
    pub code: Option<&'static str>,
    /// The form field the refusal names (`data-field`), when it names one.
    pub marked: Option<String>,
    pub csrf: String,
    pub signature: Option<&'static str>,
    /// The refusal is about the viewer's own e-signature.
    pub signature_error: Option<String>,
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
pub type Values = Vec<(String, String)>;

/// The value typed in `name`, trimmed ("" when absent).
pub fn value(values: &Values, name: &str) -> String {
    values.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

/// Every value of a repeated field (checkboxes).
pub fn values_of(values: &Values, name: &str) -> Vec<String> {
    values.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
}

/// A select field's value as the domain's enum (they share their snake_case names).
pub fn choice<T: serde::de::DeserializeOwned>(values: &Values, name: &str) -> Result<T, FormRefusal> {
    serde_json::from_value(serde_json::Value::String(value(values, name))).map_err(|_| FormRefusal::invalid(name, "Choose one of the offered options."))
}

/// A fresh identifier `PREFIX-<uuid v7>` of any id type.
pub fn new_id<T: std::str::FromStr>(prefix: &str) -> Result<T, AppError> {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple()).parse().map_err(|_| AppError::internal(format!("cannot make a '{prefix}' identifier")))
}

/// A field description: name, label, kind, required, help, options.
pub struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    required: bool,
    help: &'static str,
    pub(crate) options: Vec<(String, String)>,
    default: String,
    /// Checkboxes ticked before anything is typed.
    checked: Vec<String>,
}

/// A field named `name` (what the form posts), labelled `label`.
pub fn field(name: &'static str, label: &'static str, kind: &'static str, required: bool) -> Field {
    Field { name, label, kind, required, help: "", options: Vec::new(), default: String::new(), checked: Vec::new() }
}

impl Field {
    /// A line of help under the field.
    pub fn help(mut self, help: &'static str) -> Field {
        self.help = help;
        self
    }

    /// The options of a select or checkboxes field: (value, label).
    pub fn options(mut self, options: &[(&str, &str)]) -> Field {
        self.options = options.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect();
        self
    }

    /// Options built at run time (records to choose from).
    pub fn choices(mut self, options: Vec<(String, String)>) -> Field {
        self.options = options;
        self
    }

    /// The value shown before anything is typed.
    pub fn default(mut self, value: &str) -> Field {
        self.default = value.to_owned();
        self
    }

    /// The checkboxes ticked before anything is typed (e.g. the roles held now).
    pub fn checked(mut self, values: Vec<String>) -> Field {
        self.checked = values;
        self
    }

    /// The field's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// What a form is: its title, intro lines, target, fields, signature and
/// button, and where the command names a field differently from the form.
pub struct Spec {
    pub title: String,
    pub intro: Vec<String>,
    pub action: String,
    pub fields: Vec<Field>,
    pub signature: Option<SignatureMeaning>,
    pub submit: &'static str,
    /// (command field, form field) for the fields whose names differ; a
    /// form field of "" says the form does not show that command field.
    pub renames: &'static [(&'static str, &'static str)],
}

impl Spec {
    /// A form titled `title`, posted to `action`, sent with the button `submit`.
    pub fn new(title: impl Into<String>, action: impl Into<String>, submit: &'static str) -> Spec {
        Spec { title: title.into(), intro: Vec::new(), action: action.into(), fields: Vec::new(), signature: None, submit, renames: &[] }
    }

    /// Lines shown above the form.
    pub fn intro(mut self, intro: Vec<String>) -> Spec {
        self.intro = intro;
        self
    }

    /// The fields, in order.
    pub fn fields(mut self, fields: Vec<Field>) -> Spec {
        self.fields = fields;
        self
    }

    /// The viewer signs the form with this meaning (re-entering their password).
    pub fn signature(mut self, meaning: SignatureMeaning) -> Spec {
        self.signature = Some(meaning);
        self
    }

    /// Command fields whose form fields are named differently.
    pub fn renames(mut self, renames: &'static [(&'static str, &'static str)]) -> Spec {
        self.renames = renames;
        self
    }

    /// The form field a refusal names, if the form shows it.
    pub fn form_field(&self, blame: &Blame) -> Option<String> {
        let shown = |name: &str| self.fields.iter().any(|f| f.name == name) || (self.signature.is_some() && name == "signature_password");
        let name = match blame {
            Blame::Form(name) => name.as_str(),
            Blame::Command(name) => match self.renames.iter().find(|(command, _)| command == name) {
                Some((_, form)) => form,
                // The viewer's own signature is the password box under the form.
                None if name == "signature" && self.signature.is_some() => "signature_password",
                None => name.as_str(),
            },
        };
        shown(name).then(|| name.to_owned())
    }

    /// Refuses when a required field is empty, naming the first and listing all.
    pub fn check_required(&self, values: &Values) -> Result<(), FormRefusal> {
        let empty: Vec<&Field> = self.fields.iter().filter(|f| f.required && value(values, f.name).is_empty()).collect();
        match empty.first() {
            None => Ok(()),
            Some(first) => {
                let labels: Vec<&str> = empty.iter().map(|f| f.label).collect();
                Err(FormRefusal::coded(first.name, RejectionCode::MissingField, format!("Fill in: {}.", labels.join(", "))))
            }
        }
    }
}

/// Which field a refusal names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blame {
    /// A field of the command, as the rules name it (`Rejection::field`).
    Command(String),
    /// A field of the form, as the form names it.
    Form(String),
}

/// Why a form was not accepted: the rules' refusal, or the form's own
/// reading of what was typed (then `code` is the rules' code for the same
/// fault, or `None` when the rules have no say, e.g. an unreadable number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormRefusal {
    /// The rules' code.
    pub code: Option<RejectionCode>,
    /// What is wrong and what to do.
    pub message: String,
    /// The field at fault.
    pub field: Option<Blame>,
}

impl FormRefusal {
    /// The form could not read the value typed in its field `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> FormRefusal {
        FormRefusal { code: None, message: message.into(), field: Some(Blame::Form(field.to_owned())) }
    }

    /// The form refuses its field `field` for a reason the rules name `code`.
    pub fn coded(field: &str, code: RejectionCode, message: impl Into<String>) -> FormRefusal {
        FormRefusal { code: Some(code), message: message.into(), field: Some(Blame::Form(field.to_owned())) }
    }
}

impl From<Rejection> for FormRefusal {
    fn from(rejection: Rejection) -> FormRefusal {
        FormRefusal { code: Some(rejection.code), message: rejection.message, field: rejection.field.map(Blame::Command) }
    }
}

/// Why a form's submission ended without a record.
#[derive(Debug)]
pub enum Failure {
    /// Refused: the form comes back.
    Refused(FormRefusal),
    /// Failed: the error page.
    Error(AppError),
}

impl From<FormRefusal> for Failure {
    fn from(refusal: FormRefusal) -> Failure {
        Failure::Refused(refusal)
    }
}

impl From<Rejection> for Failure {
    fn from(rejection: Rejection) -> Failure {
        Failure::Refused(rejection.into())
    }
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Failure {
        Failure::Error(error)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Failure {
        Failure::Error(error.into())
    }
}

impl From<SubmitError> for Failure {
    fn from(error: SubmitError) -> Failure {
        match error {
            SubmitError::Rejected(rejection) => rejection.into(),
            SubmitError::Store(e) => e.into(),
        }
    }
}

/// Renders a form with `values` (or the defaults): empty required fields
/// are marked once something was sent, and the field `refusal` names.
pub fn render_form(viewer: &Viewer, spec: &Spec, values: Option<&Values>, refusal: Option<&FormRefusal>) -> Result<Response, AppError> {
    let marked = refusal.and_then(|r| r.field.as_ref()).and_then(|blame| spec.form_field(blame));
    let fields: Vec<FieldView> = spec
        .fields
        .iter()
        .map(|f| {
            let typed = values.map(|v| value(v, f.name));
            let chosen: BTreeSet<String> = match values {
                Some(v) => values_of(v, f.name).into_iter().collect(),
                None => f.checked.iter().cloned().chain([f.default.clone()]).collect(),
            };
            let current = typed.unwrap_or_else(|| f.default.clone());
            let missing = values.is_some() && f.required && current.is_empty();
            let named = marked.as_deref() == Some(f.name);
            let error = match (named, refusal) {
                (true, Some(r)) => Some(r.message.clone()),
                _ if missing => Some(format!("Enter the {}.", f.label.to_lowercase())),
                _ => None,
            };
            FieldView {
                name: f.name,
                label: f.label,
                kind: f.kind,
                options: f.options.iter().map(|(v, l)| (v.clone(), l.clone(), chosen.contains(v) || (f.kind == "select" && &current == v))).collect(),
                // A password is never sent back to the browser.
                value: if f.kind.ends_with("password") { String::new() } else { current },
                required: f.required,
                help: f.help.to_owned(),
                error,
            }
        })
        .collect();
    let signature_error = match (marked.as_deref(), refusal) {
        (Some("signature_password"), Some(r)) => Some(r.message.clone()),
        _ => None,
    };
    let form = FormView {
        multipart: fields.iter().any(|f| f.kind == "file"),
        title: spec.title.clone(),
        intro: spec.intro.clone(),
        action: spec.action.clone(),
        fields,
        submit: spec.submit,
        error: refusal.map(|r| r.message.clone()),
        code: refusal.and_then(|r| r.code).map(RejectionCode::as_str),
        marked,
        csrf: viewer.session.csrf_token.clone(),
        signature: spec.signature.map(SignatureMeaning::statement),
        signature_error,
    };
    let status = if refusal.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let html = FormPage { layout: Some(Layout::new(viewer, "dashboard")), form }.render()?;
    Ok((status, Html(html)).into_response())
}

/// Ends a form's submission: on to `next` when it was recorded, the form
/// again with the refusal, or the error page.
pub fn respond(viewer: &Viewer, spec: &Spec, values: &Values, outcome: Result<String, Failure>) -> Result<Response, AppError> {
    match outcome {
        Ok(next) => Ok(Redirect::to(&next).into_response()),
        Err(Failure::Refused(refusal)) => render_form(viewer, spec, Some(values), Some(&refusal)),
        Err(Failure::Error(error)) => Err(error),
    }
}

/// Checks the CSRF token a form sent.
pub fn csrf_ok(viewer: &Viewer, values: &Values) -> Result<(), AppError> {
    if auth::same_secret(&value(values, "csrf"), &viewer.session.csrf_token) {
        Ok(())
    } else {
        Err(AppError::forbidden("This form has expired or did not come from celltrace. Reload the page and try again; nothing was recorded."))
    }
}

fn submission(viewer: &Viewer, at: Timestamp, command: Command) -> Result<Submission, AppError> {
    let id = CommandId::parse(&uuid::Uuid::now_v7().to_string()).map_err(AppError::internal)?;
    Ok(Submission { id, actor: Actor::Staff(viewer.staff.id.clone()), site: viewer.site.id.clone(), at, command })
}

/// Submits `command` as the viewer at their site, now.
pub async fn submit(state: &AppState, viewer: &Viewer, command: Command) -> Result<Receipt, Failure> {
    let submission = submission(viewer, Timestamp(now_micros()), command)?;
    Ok(state.engine.submit(submission).await?)
}

/// Submits `command` as the viewer with the secret it carries (a password
/// or portal code hash), recorded together or not at all.
pub async fn submit_secret(state: &AppState, viewer: &Viewer, command: Command, secret: celltrace_store::Secret) -> Result<Receipt, Failure> {
    let submission = submission(viewer, Timestamp(now_micros()), command)?;
    Ok(state.engine.submit_with_secret(submission, secret).await?)
}

/// The viewer's own e-signature: they re-enter their password in the
/// form's `signature_password` (the rules then record it as the
/// submitter's, at the server's time).
pub async fn own_signature(state: &AppState, viewer: &Viewer, values: &Values, meaning: SignatureMeaning) -> Result<SignatureRequest, Failure> {
    let password = value(values, "signature_password");
    if password.is_empty() {
        return Err(FormRefusal::coded("signature_password", RejectionCode::SignatureNotProven, "Re-enter your password to sign; nothing was signed.").into());
    }
    match auth::check_signer(state, viewer.client, &viewer.staff.username, &password).await? {
        Some(signer) => Ok(SignatureRequest::own(signer, meaning)),
        None => Err(FormRefusal::coded("signature_password", RejectionCode::SignatureNotProven, WRONG_SIGNER).into()),
    }
}

/// A second person who signs in the same form with their own username and
/// password: proven by a signing grant they record for this very command.
pub struct Cosigner {
    pub signer: StaffId,
    pub meaning: SignatureMeaning,
    /// The form field that names them (a refusal of their grant marks it).
    pub field: String,
}

/// Checks the second signer named in the form's `username_field`, with the
/// password in `password_field`. A signer who does not authenticate has not
/// signed: refused as the rules refuse a signature without proof.
pub async fn authenticate_cosigner(state: &AppState, viewer: &Viewer, values: &Values, username_field: &str, password_field: &str, meaning: SignatureMeaning) -> Result<Cosigner, Failure> {
    let (username, password) = (value(values, username_field), value(values, password_field));
    if username.is_empty() || password.is_empty() {
        let empty = if username.is_empty() { username_field } else { password_field };
        return Err(FormRefusal::coded(empty, RejectionCode::SignatureNotProven, "The second signer enters their own username and password; nothing was signed.").into());
    }
    match auth::check_signer(state, viewer.client, &username, &password).await? {
        Some(signer) => Ok(Cosigner { signer, meaning, field: username_field.to_owned() }),
        None => Err(FormRefusal::coded(password_field, RejectionCode::SignatureNotProven, WRONG_SIGNER).into()),
    }
}

/// Submits `command` as the viewer together with each co-signer's grant,
/// all or nothing: the grants bind the co-signers' authentication to the
/// command's exact content, and the rules spend each once. A refused grant
/// marks its co-signer's field.
pub async fn submit_with_cosigners(state: &AppState, viewer: &Viewer, mut command: Command, cosigners: &[Cosigner]) -> Result<Vec<Receipt>, Failure> {
    let at = Timestamp(now_micros());
    let digest = command.signing_digest(&viewer.staff.id, &viewer.site.id);
    let mut subs = Vec::new();
    for c in cosigners {
        let grant: SigningGrantId = new_id("sg")?;
        let issue = Command::IssueSigningGrant { grant: grant.clone(), meaning: c.meaning, submitter: viewer.staff.id.clone(), command_digest: digest.clone(), method: AuthenticationMethod::Password };
        subs.push(Submission { actor: Actor::Staff(c.signer.clone()), ..submission(viewer, at, issue)? });
        command.attach_grant(&c.signer, c.meaning, grant);
    }
    subs.push(submission(viewer, at, command)?);
    match state.engine.submit_atomic(subs).await {
        Ok(receipts) => Ok(receipts),
        Err(AtomicError::Rejected { index, rejection }) => {
            let mut refusal = FormRefusal::from(rejection);
            if let Some(c) = cosigners.get(index) {
                refusal.field = Some(Blame::Form(c.field.clone()));
            }
            Err(refusal.into())
        }
        Err(AtomicError::Store(e)) => Err(e.into()),
    }
}

/// The lines that introduce a unit on its forms: identity, status, expiry and each QC result.
pub fn unit_intro(unit: &Unit) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec::new("Collect", "/x", "Go")
            .fields(vec![field("volume", "Volume collected", "number", true), field("unit", "Unit of volume", "select", true), field("tissue", "Source tissue", "select", true)])
            .signature(SignatureMeaning::Release)
            .renames(&[("quantity", "volume"), ("unit", "")])
    }

    #[test]
    fn refusals_mark_fields_by_name_through_the_renames() {
        let spec = spec();
        let at = |name: &str| spec.form_field(&Blame::Command(name.to_owned()));
        assert_eq!(at("quantity").as_deref(), Some("volume"), "renamed");
        assert_eq!(at("tissue").as_deref(), Some("tissue"), "same name");
        assert_eq!(at("unit"), None, "the command's unit is not the form's unit of volume");
        assert_eq!(at("din"), None, "not on the form");
        assert_eq!(at("signature").as_deref(), Some("signature_password"), "the viewer's own signature");
        assert_eq!(spec.form_field(&Blame::Form("unit".into())).as_deref(), Some("unit"), "the form's own field");
    }

    #[test]
    fn required_fields_are_named_in_order() {
        let values: Values = vec![("volume".into(), "12".into())];
        let refusal = spec().check_required(&values).expect_err("two are empty");
        assert_eq!(refusal.code, Some(RejectionCode::MissingField));
        assert_eq!(refusal.field, Some(Blame::Form("unit".into())));
        assert_eq!(refusal.message, "Fill in: Unit of volume, Source tissue.");
    }

    #[test]
    fn a_rejection_keeps_its_code_and_field() {
        let refusal = FormRefusal::from(Rejection::new(RejectionCode::OutsideWindow, "too early").at("time_point"));
        assert_eq!(refusal.code, Some(RejectionCode::OutsideWindow));
        assert_eq!(refusal.field, Some(Blame::Command("time_point".into())));
    }
}
