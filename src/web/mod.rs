//! The browser app: files under `web/`, embedded into the binary at build time, prepared once
//! at start-up (`assets`: one page carrying the bundled modules, the sheet and the boot script;
//! the service worker that caches it; text compressed) and served with a strict
//! Content-Security-Policy. Paths that are not files get
//! `index.html` (the app routes on the client); unknown `/api/…` paths get a JSON 404.

mod assets;
mod bundle;
mod compact;

use crate::error::ErrorCode;
use crate::http::HttpError;
use assets::{Asset, Assets};
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING,
    CONTENT_SECURITY_POLICY as CONTENT_SECURITY_POLICY_HEADER, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
    VARY,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use include_dir::{include_dir, Dir};
use std::sync::OnceLock;

static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/web");

/// The app as served, prepared on first use (the server warms it at start-up).
fn assets() -> &'static Assets {
    static PREPARED: OnceLock<Assets> = OnceLock::new();
    PREPARED.get_or_init(|| Assets::build(&ASSETS))
}

/// Prepares the app before the first request needs it (bundling and compressing take a few
/// milliseconds, better spent before listening).
pub fn warm() {
    assets();
}

/// Fallback handler: an embedded file, the app shell, or a JSON 404 under `/api`.
pub async fn asset(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") || path == "api" {
        return HttpError::new(ErrorCode::NotFound, "no such endpoint").into_response();
    }
    let assets = assets();
    let file = assets
        .get(path)
        .filter(|_| !path.is_empty())
        .or_else(|| assets.get("index.html"));
    let Some(file) = file else {
        return HttpError::new(ErrorCode::NotFound, "no such file").into_response();
    };
    serve(file, &headers)
}

/// A file with its validators, always revalidated: `304` when the browser holds this version,
/// gzip when it takes it. The page carries its own policy (its inline elements' hashes).
fn serve(file: &'static Asset, request: &HeaderMap) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(policy) = file
        .policy
        .as_deref()
        .and_then(|p| HeaderValue::from_str(p).ok())
    {
        headers.insert(CONTENT_SECURITY_POLICY_HEADER, policy);
    }
    if let Ok(etag) = HeaderValue::from_str(&file.etag) {
        headers.insert(ETAG, etag);
    }
    let held = request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim().trim_start_matches("W/") == file.etag);
    if held {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(file.content_type));
    let Some(gzip) = &file.gzip else {
        return (headers, file.body.as_slice()).into_response();
    };
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    let takes_gzip = request
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            (name == "gzip" || name == "*") && !refused
        });
    if takes_gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        (headers, gzip.as_slice()).into_response()
    } else {
        (headers, file.body.as_slice()).into_response()
    }
}

/// Scripts and styles only from this server; the page widens `script-src` and `style-src` by
/// the hashes of its own inline elements (`assets`) and nothing else.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Security headers on every response: no framing, no sniffing, scripts and styles only from
/// this server. A response that set its own (a stored file's sandbox) keeps it. Images and
/// media may also come from `blob:` URLs: the app previews what is being uploaded or recorded
/// before it is sent.
pub async fn security_headers(request: Request<axum::body::Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
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
