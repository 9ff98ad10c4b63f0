//! The layers every request passes through, outermost first: a request id
//! (taken from `X-Request-Id` or made, and echoed back), a tracing span per
//! request, security headers, compression, rendering of errors for their
//! surface, a concurrency limit that sheds load with 503 + `Retry-After`,
//! a request timeout, and a default body limit (routes that take uploads
//! raise their own). The header-read timeout is the server's (`serve`).

use crate::error::render_errors;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Request, StatusCode};
use axum::response::IntoResponse;
use axum::{middleware, BoxError, Router};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Limits of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// How long a client may take to send a request's headers.
    pub header_read: Duration,
    /// How long a request may take from its headers to the response.
    pub request: Duration,
    /// Requests handled at once; more are refused with 503 and `Retry-After`.
    pub concurrent_requests: usize,
    /// The largest body a route accepts unless it says otherwise.
    pub body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { header_read: Duration::from_secs(10), request: Duration::from_secs(60), concurrent_requests: 512, body_bytes: 256 * 1024 }
    }
}

/// The Content-Security-Policy of every response: nothing but celltrace's
/// own scripts (there are none inline), styles and images, no framing, and
/// forms that post only back to celltrace.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The security headers every response gets (unless the handler set its own).
pub fn security_headers(https: bool) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
        (HeaderName::from_static("permissions-policy"), HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()")),
        // Patient data must not linger in shared caches or the browser's back-forward cache.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    if https {
        headers.push((header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains")));
    }
    headers
}

/// Wraps the routes in the service's layers.
pub fn wrap(routes: Router, limits: &Limits, https: bool) -> Router {
    let shed = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|error: BoxError| async move {
            if error.is::<tower::load_shed::error::Overloaded>() {
                (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")]).into_response()
            } else {
                tracing::error!(%error, "a layer failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }))
        .load_shed()
        .concurrency_limit(limits.concurrent_requests);
    let mut router = routes
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request))
        .layer(shed)
        .layer(middleware::from_fn(render_errors))
        .layer(CompressionLayer::new());
    for (name, value) in security_headers(https) {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    let request_id = HeaderName::from_static("x-request-id");
    router
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
