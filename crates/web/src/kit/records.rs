//! Reading and changing records from a staff page: the record must be at the
//! viewer's site, a read of a patient's record is recorded in the ledger
//! before it is shown, and a command is submitted as the viewer. Every
//! failure is an [`AppError`].

use crate::auth::Viewer;
use crate::error::AppError;
use crate::{now_micros, AppState};
use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use celltrace_domain::ids::{CommandId, PersonId, UnitId};
use celltrace_domain::model::{Person, Plan, Unit};
use celltrace_domain::time::Timestamp;
use celltrace_domain::{Actor, Command, Submission};
use celltrace_store::Receipt;

/// A fresh command id (UUIDv7: ordered by time).
pub fn new_command_id() -> Result<CommandId, AppError> {
    CommandId::parse(&uuid::Uuid::now_v7().to_string()).map_err(AppError::internal)
}

/// Submits `command` as the viewer at their site, now. A refusal by the
/// rules is an [`AppError`] with the rules' code, message and field.
pub async fn submit_as_viewer(state: &AppState, viewer: &Viewer, command: Command) -> Result<Receipt, AppError> {
    let submission = Submission { id: new_command_id()?, actor: Actor::Staff(viewer.staff.id.clone()), site: viewer.site.id.clone(), at: Timestamp(now_micros()), command };
    Ok(state.engine.submit(submission).await?)
}

/// Records in the ledger that the viewer read `person`'s record, in `view`.
/// Called before the record is shown: no read goes unrecorded.
pub async fn record_view(state: &AppState, viewer: &Viewer, person: &PersonId, view: &str) -> Result<(), AppError> {
    record_view_via(state, viewer, person, view, None).await
}

/// As [`record_view`], for a patient's identity shown on a unit of this
/// site (an autologous label), which staff without patient access may see.
pub async fn record_view_via(state: &AppState, viewer: &Viewer, person: &PersonId, view: &str, unit: Option<&UnitId>) -> Result<(), AppError> {
    let command = Command::RecordRecordViewed { person: person.clone(), view: view.to_owned(), via_unit: unit.cloned() };
    submit_as_viewer(state, viewer, command).await.map(|_| ())
}

/// A page rendered, or the template's failure as an error.
pub fn render<T: Template>(page: &T) -> Result<Response, AppError> {
    Ok(Html(page.render()?).into_response())
}

/// The unit `id`, if it is held at the viewer's site.
pub async fn site_unit(state: &AppState, viewer: &Viewer, id: &str) -> Result<Unit, AppError> {
    match state.reader().get::<Unit>(id).await? {
        Some(u) if u.site == viewer.site.id => Ok(u),
        _ => Err(AppError::not_found("This unit")),
    }
}

/// The patient or donor `id`, if registered at the viewer's site.
pub async fn site_person(state: &AppState, viewer: &Viewer, id: &str) -> Result<Person, AppError> {
    match state.reader().get::<Person>(id).await? {
        Some(p) if p.site == viewer.site.id => Ok(p),
        _ => Err(AppError::not_found("This patient")),
    }
}

/// The plan `id`, if it is a plan of the viewer's site.
pub async fn site_plan(state: &AppState, viewer: &Viewer, id: &str) -> Result<Plan, AppError> {
    match state.reader().get::<Plan>(id).await? {
        Some(p) if p.site == viewer.site.id => Ok(p),
        _ => Err(AppError::not_found("This plan")),
    }
}
