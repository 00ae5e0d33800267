//! Headers on every response: a Content-Security-Policy that allows nothing but the relay's
//! own origin (violations are reported back to the relay and counted), no referrer, no
//! sniffing, no framing, and device access only for this origin.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::metrics;
use crate::web::AppState;

pub const CSP_REPORT_PATH: &str = "/csp-report";

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; \
media-src 'self' blob: mediastream:; connect-src 'self'; font-src 'self'; worker-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; \
report-uri /csp-report";

const HEADERS: [(&str, &str); 6] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(self), microphone=(self), display-capture=(self), fullscreen=(self), \
         geolocation=(), payment=(), usb=(), interest-cohort=()",
    ),
];

pub async fn add(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

/// A browser reports a CSP violation. Only counted: the report may carry URLs, and the
/// count is what operations needs.
pub async fn report(State(state): State<AppState>) -> &'static str {
    metrics::add(&state.metrics.csp_violations, 1);
    ""
}
