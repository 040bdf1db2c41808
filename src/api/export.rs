//! `GET /api/user/@me/export`: "download my data" — the caller's account exported as one zip
//! archive (the same contents `parlor export account` writes: JSON Lines, Markdown, HTML,
//! manifest and files). The export is made before the answer starts, so a refusal is a proper
//! error; the archive is then compressed while it is sent. What goes in, and the brake (one
//! export per account at a time, a few per node), are the core's `Exports` service's.

use super::ErrorResponse;
use crate::http::{AppState, ClientIp, CurrentSession, HttpError};
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{IntoResponse, Response};

#[utoipa::path(get, path = "/api/user/@me/export", tag = "users",
    responses(
        (status = 200, description = "The caller's data as a zip archive (an attachment, never cached): \
            `manifest.json` (profile, sessions, memberships, ignore list, counts, files), \
            `messages.jsonl` (the caller's messages everywhere, and both sides of their conversations), \
            `audit.jsonl`, `export.md`, `export.html` and `files/`, in one folder", content_type = "application/zip"),
        (status = 403, description = "registration_required: guests keep no data to download", body = ErrorResponse),
        (status = 429, description = "rate_limited: an export of this account is being made, or the server makes as many as it can at once (with `retry_after`)", body = ErrorResponse)))]
pub async fn export_me(
    State(state): State<AppState>,
    session: CurrentSession,
    ClientIp(ip): ClientIp,
) -> Result<Response, HttpError> {
    let export = state
        .chat
        .exports
        .own(&session.identity, ip)
        .await
        .map_err(|err| HttpError::from(err.body()))?;
    let disposition = format!("attachment; filename=\"{}\"", export.file_name());
    Ok((
        [
            (CONTENT_TYPE, "application/zip".to_owned()),
            (CONTENT_DISPOSITION, disposition),
            (CACHE_CONTROL, "no-store".to_owned()),
            (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        Body::from_stream(export.into_zip()),
    )
        .into_response())
}
