//! The evidence data page for administrators: which version the guard rates
//! plans with, and an upload of newer data files. The files are read whole
//! here only to learn the version they declare; the rules check them again
//! and record the change in the ledger as an `EvidenceDataLoaded` event.

use crate::auth::{Can, ManageAccounts, Viewer};
use crate::error::AppError;
use crate::kit::forms::FormRefusal;
use crate::kit::records::new_command_id;
use crate::kit::layout::{when, Layout};
use crate::routes::{Access, Route};
use crate::staff::forms::plan::evidence_in_force;
use crate::AppState;
use askama::Template;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use celltrace_domain::access::Permission;
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::model::EvidenceDataset;
use celltrace_domain::time::Timestamp;
use celltrace_domain::RejectionCode;
use celltrace_store::SubmitError;

/// The routes of the page.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/admin/evidence", Access::Staff(Permission::ManageAccounts), page),
        Route::post("/admin/evidence", Access::Staff(Permission::ManageAccounts), upload),
    ]
}

#[derive(Template)]
#[template(path = "evidence_admin.html")]
struct EvidencePage {
    layout: Option<Layout>,
    version: String,
    origin: String,
    indications: usize,
    products: usize,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
    code: Option<&'static str>,
}

async fn render(state: &AppState, viewer: &Viewer, notice: Option<String>, refusal: Option<FormRefusal>) -> Result<Response, AppError> {
    let data = evidence_in_force(state).await?;
    let loaded: Option<EvidenceDataset> = state.reader().evidence_dataset().await?;
    let origin = match &loaded {
        Some(d) => format!("loaded from {} on {} UTC", d.source, when(d.loaded_at)),
        None => "shipped with this build of celltrace (data/evidence)".to_owned(),
    };
    let status = if refusal.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let html = EvidencePage {
        layout: Some(Layout::new(viewer, "accounts")),
        version: data.version().to_owned(),
        origin,
        indications: data.indications().len(),
        products: data.products().len(),
        csrf: viewer.session.csrf_token.clone(),
        notice,
        code: refusal.as_ref().and_then(|r| r.code).map(RejectionCode::as_str),
        error: refusal.map(|r| r.message),
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

#[derive(serde::Deserialize, Default)]
struct Done {
    #[serde(default)]
    loaded: Option<String>,
}

async fn page(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, Query(done): Query<Done>) -> Result<Response, AppError> {
    let notice = done.loaded.map(|v| format!("Evidence data version {v} is now in force; new plans and every bedside check use it."));
    render(&state, &viewer, notice, None).await
}

/// The three files and the CSRF token of the upload form.
#[derive(Default)]
struct Upload {
    csrf: String,
    indications: String,
    status: String,
    approved_products: String,
}

impl Upload {
    fn set(&mut self, name: &str, text: String) {
        match name {
            "csrf" => self.csrf = text,
            "indications" => self.indications = text,
            "status" => self.status = text,
            "approved_products" => self.approved_products = text,
            _ => {}
        }
    }
}

/// The upload as the browser sends it (multipart), or urlencoded (scripts
/// pasting the files' text), so the CSRF check always runs first.
async fn read_upload(request: Request) -> Result<Upload, AppError> {
    let is_multipart = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/form-data"));
    let bad = |e: String| AppError::bad_request(format!("The upload could not be read; nothing changed: {e}"));
    let mut upload = Upload::default();
    if !is_multipart {
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(request, &()).await.map_err(|e| bad(e.body_text()))?;
        for (name, text) in fields {
            upload.set(&name, text);
        }
        return Ok(upload);
    }
    let mut multipart = Multipart::from_request(request, &()).await.map_err(|e| bad(e.body_text()))?;
    while let Some(part) = multipart.next_field().await.map_err(|e| bad(e.body_text()))? {
        let name = part.name().unwrap_or_default().to_owned();
        let text = part.text().await.map_err(|e| bad(format!("{name}: {} (the files must be UTF-8 text)", e.body_text())))?;
        upload.set(&name, text);
    }
    Ok(upload)
}

async fn upload(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, request: Request) -> Result<Response, AppError> {
    let upload = read_upload(request).await?;
    if !crate::auth::same_secret(&upload.csrf, &viewer.session.csrf_token) {
        return Err(AppError::forbidden("This form has expired or did not come from celltrace. Reload the page and try again; nothing changed."));
    }
    let missing: Vec<&str> = [("indications.toml", &upload.indications), ("status.toml", &upload.status), ("approved_products.toml", &upload.approved_products)]
        .into_iter()
        .filter(|(_, text)| text.trim().is_empty())
        .map(|(name, _)| name)
        .collect();
    if !missing.is_empty() {
        let refusal = FormRefusal::coded("indications", RejectionCode::EmptyEvidence, format!("Choose all three files; missing: {}. Nothing changed.", missing.join(", ")));
        return render(&state, &viewer, None, Some(refusal)).await;
    }
    // The version the files declare names the command; a file that does not parse has none.
    let version = match celltrace_evidence::EvidenceData::parse(&upload.indications, &upload.status, &upload.approved_products) {
        Ok(data) => data.version().to_owned(),
        Err(e) => return render(&state, &viewer, None, Some(FormRefusal::coded("status", RejectionCode::EvidenceData, format!("The files were not loaded; nothing changed. {e}")))).await,
    };
    let submission = Submission {
        id: new_command_id()?,
        actor: Actor::Staff(viewer.staff.id.clone()),
        site: viewer.site.id.clone(),
        at: Timestamp(crate::now_micros()),
        command: Command::LoadEvidenceData {
            version: version.clone(),
            indications: upload.indications,
            status: upload.status,
            approved_products: upload.approved_products,
            source: format!("upload by {}", viewer.staff.username),
        },
    };
    match state.engine.submit(submission).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/evidence?loaded={version}")).into_response()),
        Err(SubmitError::Rejected(rejection)) => render(&state, &viewer, None, Some(rejection.into())).await,
        Err(SubmitError::Store(e)) => Err(e.into()),
    }
}
