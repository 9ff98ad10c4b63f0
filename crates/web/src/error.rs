//! The one error type of the web layer. Handlers return
//! `Result<_, AppError>` and use `?`; nothing is rendered where it fails.
//! [`render_errors`] (a middleware on every route) turns the error into what
//! the request's surface expects — an HTML page with navigation for staff
//! pages, a page in the patient's language for the portal,
//! `{"error": {code, message}}` for the JSON API, an OperationOutcome for
//! FHIR — and logs it once, with its cause chain and the request id. Causes
//! (storage errors, template errors) are logged, never shown.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use celltrace_domain::Rejection;
use std::sync::Arc;

/// What went wrong, for people and programs; rendered by [`render_errors`].
#[derive(Debug, Clone)]
pub struct AppError {
    status: StatusCode,
    code: String,
    message: String,
    field: Option<String>,
    retry_after: Option<u64>,
    cause: Option<String>,
}

impl AppError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> AppError {
        AppError { status, code: code.to_owned(), message: message.into(), field: None, retry_after: None, cause: None }
    }

    /// The visitor must sign in (pages redirect to the sign-in page; the API
    /// and FHIR answer 401 with `WWW-Authenticate: Bearer`).
    pub fn sign_in() -> AppError {
        AppError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Sign in first: send an API token as `Authorization: Bearer TOKEN`, or sign in to the web application.")
    }

    /// The request is malformed; `message` says what to send instead.
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// A field of a form or body is wrong; the form marks it.
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError { field: Some(field.to_owned()), ..AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message) }
    }

    /// The viewer may not do this; `message` says why and what to do.
    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// A form's CSRF token is missing or wrong: a page left open too long, or
    /// a post that did not come from celltrace. Nothing changed.
    pub fn form_expired() -> AppError {
        AppError::new(StatusCode::FORBIDDEN, "form_expired", "This form has expired or did not come from celltrace. Reload the page and try again.")
    }

    /// What was asked conflicts with the record as it stands (an answered
    /// questionnaire, a closed window); `code` names the conflict for programs
    /// and for the portal's translated message.
    pub fn conflict(code: &str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::CONFLICT, code, message)
    }

    /// `what` (e.g. "This patient") does not exist or is not the viewer's to see.
    pub fn not_found(what: &str) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} was not found, or is not at your site."))
    }

    /// Too many attempts; try again after `seconds`.
    pub fn too_many(seconds: u64, message: impl Into<String>) -> AppError {
        AppError { retry_after: Some(seconds.max(1)), ..AppError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message) }
    }

    /// The rules refused a command: their code, status, message and field.
    pub fn rejected(rejection: Rejection) -> AppError {
        let status = StatusCode::from_u16(rejection.code.http_status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        AppError { field: rejection.field.clone(), ..AppError::new(status, rejection.code.as_str(), rejection.message) }
    }

    /// The database (or another dependency) did not answer; nothing changed.
    pub fn unavailable(cause: impl std::fmt::Display) -> AppError {
        AppError {
            retry_after: Some(5),
            cause: Some(cause.to_string()),
            ..AppError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "celltrace could not reach its database; nothing was changed. Try again in a moment.")
        }
    }

    /// A fault on the server's side (a corrupt record, a template that
    /// failed); the cause goes to the log with the request id.
    pub fn internal(cause: impl std::fmt::Display) -> AppError {
        AppError {
            cause: Some(cause.to_string()),
            ..AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Something went wrong on celltrace's side; nothing was changed. Give the administrator the request id shown below.")
        }
    }

    /// The same error told in other words (a precise message where the
    /// constructor's is general).
    pub fn with_message(mut self, message: impl Into<String>) -> AppError {
        self.message = message.into();
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code (`not_found`, `evidence_blocked`, …).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The field at fault, when one is.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }
}

impl From<celltrace_store::StoreError> for AppError {
    fn from(error: celltrace_store::StoreError) -> AppError {
        match error {
            celltrace_store::StoreError::Corrupt(_) => AppError::internal(error),
            celltrace_store::StoreError::Invalid(message) => AppError::bad_request(message),
            other => AppError::unavailable(other),
        }
    }
}

impl From<celltrace_store::SubmitError> for AppError {
    fn from(error: celltrace_store::SubmitError) -> AppError {
        match error {
            celltrace_store::SubmitError::Rejected(rejection) => AppError::rejected(rejection),
            celltrace_store::SubmitError::Store(e) => e.into(),
        }
    }
}

impl From<celltrace_store::AtomicError> for AppError {
    fn from(error: celltrace_store::AtomicError) -> AppError {
        match error {
            celltrace_store::AtomicError::Rejected { rejection, .. } => AppError::rejected(rejection),
            celltrace_store::AtomicError::Store(e) => e.into(),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> AppError {
        AppError::internal(format!("a page could not be rendered: {error}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // Rendered by `render_errors`, which knows the request's surface.
        let mut response = self.status.into_response();
        response.extensions_mut().insert(Arc::new(self));
        response
    }
}

/// Which kind of client a path serves, and so how its errors look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Staff web pages (HTML with navigation).
    Page,
    /// The patient portal (HTML in the patient's language).
    Portal,
    /// The JSON API.
    Api,
    /// HL7 FHIR R4.
    Fhir,
}

impl Surface {
    /// The surface of a request path.
    pub fn of(path: &str) -> Surface {
        let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
        if under("/api") || path == "/healthz" || path == "/readyz" {
            Surface::Api
        } else if under("/fhir") {
            Surface::Fhir
        } else if under("/portal") {
            Surface::Portal
        } else {
            Surface::Page
        }
    }
}

/// The request id the request-id layer gave this request.
fn request_id(request: &Request) -> String {
    request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned()
}

/// Renders every [`AppError`] (and every bodiless error status, such as a
/// 404 or 405 from the router or a 503 from load shedding) for its surface,
/// and logs it once.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let mut response = render(request, next).await;
    // Every 401 says how to authenticate (RFC 9110 §11.6.1), pages included.
    if response.status() == StatusCode::UNAUTHORIZED && !response.headers().contains_key(header::WWW_AUTHENTICATE) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"celltrace\""));
    }
    response
}

async fn render(request: Request, next: Next) -> Response {
    let surface = Surface::of(request.uri().path());
    let id = request_id(&request);
    let language = crate::portal::request_language(request.headers());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let error = match response.extensions().get::<Arc<AppError>>() {
        Some(error) => error.as_ref().clone(),
        None if response.status().is_client_error() || response.status().is_server_error() => {
            let bodiless = response.headers().get(header::CONTENT_TYPE).is_none();
            if !bodiless {
                return response;
            }
            framework_error(response.status())
        }
        None => return response,
    };
    if error.status.is_server_error() {
        tracing::error!(request_id = %id, %method, %path, status = error.status.as_u16(), code = %error.code, cause = error.cause.as_deref().unwrap_or(""), "request failed");
    } else {
        tracing::info!(request_id = %id, %method, %path, status = error.status.as_u16(), code = %error.code, "request refused");
    }
    let mut out = match surface {
        Surface::Page if error.status == StatusCode::UNAUTHORIZED => Redirect::to("/login").into_response(),
        Surface::Portal if error.status == StatusCode::UNAUTHORIZED => Redirect::to("/portal/login").into_response(),
        Surface::Page => (error.status, Html(crate::kit::layout::error_page(&error, &id))).into_response(),
        Surface::Portal => (error.status, Html(crate::portal::error_page(language, &error, &id))).into_response(),
        Surface::Api => (error.status, axum::Json(api_body(&error, &id))).into_response(),
        Surface::Fhir => {
            let outcome = serde_json::json!({
                "resourceType": "OperationOutcome",
                "issue": [{ "severity": fhir_severity(error.status), "code": fhir_code(error.status), "diagnostics": error.message }],
            });
            let mut r = (error.status, axum::Json(outcome)).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/fhir+json"));
            r
        }
    };
    if let Some(seconds) = error.retry_after {
        if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
            out.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    out
}

/// An error the framework answered with no body (unknown route, wrong method, body too large).
pub(crate) fn framework_error(status: StatusCode) -> AppError {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "There is no such address. Check the link, or start from the home page."),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "This address does not accept that method; see the API description at /api/openapi.json."),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "What was sent is larger than this address accepts."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "Send JSON with Content-Type: application/json."),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "The request took too long and was stopped; nothing was changed."),
        StatusCode::SERVICE_UNAVAILABLE => ("busy", "celltrace is busy; try again in a moment."),
        s if s.is_server_error() => ("internal", "Something went wrong on celltrace's side; nothing was changed."),
        _ => ("bad_request", "The request could not be understood."),
    };
    AppError::new(status, code, message)
}

/// The JSON API's error body.
pub fn api_body(error: &AppError, request_id: &str) -> serde_json::Value {
    let mut body = serde_json::json!({ "code": error.code, "message": error.message, "request_id": request_id });
    if let Some(field) = &error.field {
        body["field"] = serde_json::Value::String(field.clone());
    }
    serde_json::json!({ "error": body })
}

fn fhir_severity(status: StatusCode) -> &'static str {
    if status.is_server_error() { "fatal" } else { "error" }
}

fn fhir_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "login",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "not-supported",
        StatusCode::TOO_MANY_REQUESTS => "throttled",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        s if s.is_server_error() => "exception",
        _ => "invalid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_surface() {
        assert_eq!(Surface::of("/api/commands"), Surface::Api);
        assert_eq!(Surface::of("/fhir/Patient/p-1"), Surface::Fhir);
        assert_eq!(Surface::of("/portal"), Surface::Portal);
        assert_eq!(Surface::of("/portal-code"), Surface::Page);
        assert_eq!(Surface::of("/apiary"), Surface::Page);
        assert_eq!(Surface::of("/patients/p-1"), Surface::Page);
    }

    #[test]
    fn storage_faults_are_not_shown() {
        let e = AppError::from(celltrace_store::StoreError::Corrupt("secret detail".into()));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message().contains("secret detail"));
        let body = api_body(&e, "r-1");
        assert_eq!(body["error"]["code"], "internal");
        assert!(!body.to_string().contains("secret detail"));
    }
}
