//! The evidence data page for administrators: which version the guard rates
//! plans with, and an upload of newer data files, checked whole before the
//! change is recorded in the ledger as an `EvidenceDataLoaded` event.

use crate::routes::{Access, Route};
use celltrace_domain::access::Permission;
use crate::auth::{self, Can, ManageAccounts};
use crate::view::Layout;
use crate::AppState;
use askama::Template;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::model::EvidenceDataset;
use celltrace_domain::time::Timestamp;

/// The route of the page.
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
}

async fn render(state: &AppState, viewer: &auth::Viewer, notice: Option<String>, error: Option<String>) -> Response {
    let data = match crate::path_forms::evidence_in_force(state).await {
        Ok(d) => d,
        Err(e) => return auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &format!("The evidence data is not readable: {e}")),
    };
    let loaded: Option<EvidenceDataset> = state.reader().evidence_dataset().await.unwrap_or(None);
    let origin = match &loaded {
        Some(d) => format!("loaded from {} on {} UTC", d.source, crate::view::when(d.loaded_at)),
        None => "shipped with this build of celltrace (data/evidence)".to_owned(),
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = EvidencePage {
        layout: Some(Layout::new(viewer, "accounts")),
        version: data.version().to_owned(),
        origin,
        indications: data.indications().len(),
        products: data.products().len(),
        csrf: viewer.session.csrf_token.clone(),
        notice,
        error,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[derive(serde::Deserialize, Default)]
struct Done {
    #[serde(default)]
    loaded: Option<String>,
}

async fn page(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, axum::extract::Query(done): axum::extract::Query<Done>) -> Response {
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
async fn read_upload(request: Request) -> Result<Upload, String> {
    let is_multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let mut upload = Upload::default();
    if !is_multipart {
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(request, &()).await.map_err(|e| e.to_string())?;
        for (name, text) in fields {
            upload.set(&name, text);
        }
        return Ok(upload);
    }
    let mut multipart = Multipart::from_request(request, &()).await.map_err(|e| e.to_string())?;
    while let Some(part) = multipart.next_field().await.map_err(|e| e.to_string())? {
        let name = part.name().unwrap_or_default().to_owned();
        let text = part.text().await.map_err(|e| format!("{name}: {e} (the files must be UTF-8 text)"))?;
        upload.set(&name, text);
    }
    Ok(upload)
}

async fn upload(State(state): State<AppState>, Can { viewer, .. }: Can<ManageAccounts>, request: Request) -> Response {
    let upload = match read_upload(request).await {
        Ok(u) => u,
        Err(e) => return auth::refusal(StatusCode::BAD_REQUEST, &format!("The upload could not be read: {e}")),
    };
    if let Err(r) = viewer.check_csrf(&upload.csrf) {
        return r;
    }
    let missing: Vec<&str> = [("indications.toml", &upload.indications), ("status.toml", &upload.status), ("approved_products.toml", &upload.approved_products)]
        .into_iter()
        .filter(|(_, text)| text.trim().is_empty())
        .map(|(name, _)| name)
        .collect();
    if !missing.is_empty() {
        return render(&state, &viewer, None, Some(format!("Choose all three files; missing: {}. Nothing changed.", missing.join(", ")))).await;
    }
    let data = match celltrace_evidence::EvidenceData::parse(&upload.indications, &upload.status, &upload.approved_products) {
        Ok(d) => d,
        Err(e) => return render(&state, &viewer, None, Some(format!("The files were not loaded; nothing changed. {e}"))).await,
    };
    let Ok(id) = celltrace_domain::ids::CommandId::parse(&uuid::Uuid::now_v7().to_string()) else {
        return auth::refusal(StatusCode::INTERNAL_SERVER_ERROR, "Could not make an identifier.");
    };
    let version = data.version().to_owned();
    let submission = Submission {
        id,
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
        Ok(_) => Redirect::to(&format!("/admin/evidence?loaded={version}")).into_response(),
        Err(celltrace_store::SubmitError::Rejected(r)) => render(&state, &viewer, None, Some(r.message)).await,
        Err(celltrace_store::SubmitError::Store(e)) => auth::refusal(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}
