//! The browser app: files under `web/`, embedded into the binary at build time and served with
//! a strict Content-Security-Policy. Paths that are not files get `index.html` (the app routes
//! on the client); unknown `/api/…` paths get a JSON 404.

use crate::error::ErrorCode;
use crate::http::HttpError;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, Request, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use include_dir::{include_dir, Dir};

static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/web");

/// Fallback handler: an embedded file, the app shell, or a JSON 404 under `/api`.
pub async fn asset(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") || path == "api" {
        return HttpError::new(ErrorCode::NotFound, "no such endpoint").into_response();
    }
    let file = ASSETS
        .get_file(path)
        .filter(|_| !path.is_empty())
        .or_else(|| ASSETS.get_file("index.html"));
    let Some(file) = file else {
        return HttpError::new(ErrorCode::NotFound, "no such file").into_response();
    };
    let content_type = content_type(file.path().extension().and_then(|e| e.to_str()));
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        file.contents(),
    )
        .into_response()
}

fn content_type(extension: Option<&str>) -> &'static str {
    match extension {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json" | "webmanifest") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// Security headers on every response: no framing, no sniffing, scripts and styles only from
/// this server. A response that set its own (a stored file's sandbox) keeps it. Images and
/// media may also come from `blob:` URLs: the app previews what is being uploaded or recorded
/// before it is sent.
pub async fn security_headers(request: Request<axum::body::Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = [
        ("content-security-policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ];
    for (name, value) in set {
        headers
            .entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
