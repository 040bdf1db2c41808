//! Files: upload (a raw body or a multipart form, streamed, never whole in memory), download
//! (with ranges) and thumbnails. Who may do what is the core's `Files` service; the headers
//! every file response carries are `http::serve_file`'s.

use super::ErrorResponse;
use crate::core::{Readable, Upload};
use crate::domain::FileName;
use crate::error::ErrorCode;
use crate::files::FileView;
use crate::http::serve_file::{self, Presentation, Wanted};
use crate::http::{room_name, AppState, ClientIp, CurrentSession, HttpError, Path, Query};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Where the file will be sent: `lobby`, a room's slug, `pm:<id>:<id>` or `e:<CODE>`.
    room: String,
    /// The file's name, for display (a multipart part's own file name is used when absent).
    name: Option<String>,
    /// Audio and video: the length the client measured, in milliseconds.
    #[param(minimum = 0, maximum = 86400000)]
    duration_ms: Option<i64>,
}

#[utoipa::path(post, path = "/api/files", tag = "files", params(UploadQuery),
    request_body(description = "The file's bytes as the body (any content type but multipart), or `multipart/form-data` with the file in a part named `file`", content_type = "application/octet-stream", content = Vec<u8>),
    responses((status = 201, description = "Stored, pending until a message of the uploader's in that room takes it", body = FileView),
        (status = 403, description = "media_not_allowed (the room's policy), muted, banned", body = ErrorResponse),
        (status = 404, description = "not_found: no such room", body = ErrorResponse),
        (status = 409, description = "not_in_room", body = ErrorResponse),
        (status = 413, description = "payload_too_large", body = ErrorResponse),
        (status = 415, description = "unsupported_media_type: a type the server does not take", body = ErrorResponse),
        (status = 422, description = "unreadable_file (an image that does not decode), invalid_request", body = ErrorResponse),
        (status = 429, description = "quota_exceeded", body = ErrorResponse)))]
pub async fn upload(
    State(state): State<AppState>,
    session: CurrentSession,
    ClientIp(ip): ClientIp,
    Query(query): Query<UploadQuery>,
    request: Request,
) -> Result<(StatusCode, Json<FileView>), HttpError> {
    let room = room_name(&query.room)?;
    if query
        .duration_ms
        .is_some_and(|d| !(0..=86_400_000).contains(&d))
    {
        return Err(HttpError::new(
            ErrorCode::InvalidRequest,
            "duration_ms: 0 to 86400000",
        ));
    }
    let files = &state.chat.files;
    refuse_declared_oversize(request.headers(), state.config.max_file_bytes)?;
    let is_multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let view = if is_multipart {
        let mut form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| HttpError::new(ErrorCode::InvalidRequest, e.body_text()))?;
        let field = loop {
            match form.next_field().await {
                Ok(Some(field)) if field.name() == Some("file") => break field,
                Ok(Some(_)) => continue,
                Ok(None) => {
                    return Err(HttpError::new(
                        ErrorCode::InvalidRequest,
                        "the form has no part named `file`",
                    ))
                }
                Err(e) => return Err(HttpError::new(ErrorCode::InvalidRequest, e.body_text())),
            }
        };
        let name = query
            .name
            .as_deref()
            .or(field.file_name())
            .map_or_else(|| FileName::parse("file"), FileName::parse);
        let upload = Upload {
            room,
            name,
            duration_ms: query.duration_ms,
            body: field,
        };
        files.upload(&session.identity, ip, upload).await?
    } else {
        let upload = Upload {
            room,
            name: FileName::parse(query.name.as_deref().unwrap_or("file")),
            duration_ms: query.duration_ms,
            body: request.into_body().into_data_stream(),
        };
        files.upload(&session.identity, ip, upload).await?
    };
    Ok((StatusCode::CREATED, Json(view)))
}

/// A body that declares itself larger than any file may be (plus room for a multipart form's
/// headers) is refused before a byte of it is read; the limit is enforced while streaming in
/// any case.
fn refuse_declared_oversize(headers: &HeaderMap, max_file_bytes: u64) -> Result<(), HttpError> {
    const FORM_OVERHEAD: u64 = 64 * 1024;
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > max_file_bytes.saturating_add(FORM_OVERHEAD) => Err(HttpError::new(
            ErrorCode::PayloadTooLarge,
            format!("the file is larger than {max_file_bytes} bytes"),
        )),
        _ => Ok(()),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// Save it rather than show it (`1` or `true`).
    #[serde(default, deserialize_with = "flag")]
    #[param(value_type = Option<bool>)]
    download: Option<bool>,
}

#[utoipa::path(get, path = "/api/files/{id}", tag = "files", params(("id" = String, Path), DownloadQuery),
    responses((status = 200, description = "The file, as its detected type when shown inline, else `application/octet-stream`", content_type = "*/*"),
        (status = 206, description = "The range asked for"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "not_found: no such file, or not one the caller may read", body = ErrorResponse),
        (status = 416, description = "The range is outside the file")))]
pub async fn download(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<String>,
    Query(query): Query<DownloadQuery>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let readable = state.chat.files.readable(&session.identity, &id).await?;
    Ok(serve(
        &state,
        readable,
        query.download == Some(true),
        &headers,
    ))
}

#[utoipa::path(get, path = "/api/files/{id}/thumbnail", tag = "files", params(("id" = String, Path)),
    responses((status = 200, description = "A small JPEG or PNG, metadata removed", content_type = "image/*"),
        (status = 404, description = "not_found: no such file or no thumbnail", body = ErrorResponse)))]
pub async fn thumbnail(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let readable = state.chat.files.readable(&session.identity, &id).await?;
    thumbnail_of(&state, readable).await
}

/// A sent file for staff in the admin panel (the admin door checks network and role).
pub async fn for_staff(
    state: &AppState,
    id: &str,
    headers: &HeaderMap,
) -> Result<Response, HttpError> {
    let readable = state.chat.files.for_staff(id).await?;
    Ok(serve(state, readable, false, headers))
}

/// A query flag: `true`, `false`, `1` or `0` (what a link in the web app says).
fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    match String::deserialize(deserializer)?.as_str() {
        "true" | "1" => Ok(Some(true)),
        "false" | "0" => Ok(Some(false)),
        other => Err(serde::de::Error::custom(format!(
            "download: `true`, `false`, `1` or `0`, not {other:?}"
        ))),
    }
}

/// A file's response: headers decided by `serve_file`, the body streamed from the store.
fn serve(state: &AppState, readable: Readable, download: bool, headers: &HeaderMap) -> Response {
    let Readable { row, key } = readable;
    let len = u64::try_from(row.size).unwrap_or(0);
    let presentation = if !download && shown_inline(&row.mime) {
        Presentation::Inline
    } else {
        Presentation::Attachment
    };
    let response_headers =
        serve_file::file_headers(&row.mime, &row.name, presentation, &row.digest);
    if serve_file::not_modified(headers, &row.digest) {
        return (StatusCode::NOT_MODIFIED, response_headers).into_response();
    }
    let wanted = serve_file::wanted(headers, len);
    let range = match &wanted {
        Wanted::Whole => 0..len,
        Wanted::Part(range) => range.clone(),
        Wanted::Unsatisfiable => 0..0,
    };
    let stream = state.chat.files.library().read(&row.id, key, len, range);
    serve_file::respond(
        response_headers,
        len,
        &wanted,
        axum::body::Body::from_stream(stream),
    )
}

async fn thumbnail_of(state: &AppState, readable: Readable) -> Result<Response, HttpError> {
    let Readable { row, key } = readable;
    let Some(mime) = row.thumbnail.as_deref() else {
        return Err(HttpError::new(
            ErrorCode::NotFound,
            "this file has no thumbnail",
        ));
    };
    let bytes = state
        .chat
        .files
        .library()
        .thumbnail(&row.id, &key)
        .await
        .map_err(|e| HttpError::from(crate::core::CoreError::File(e.into())))?;
    let headers = serve_file::file_headers(mime, &row.name, Presentation::Inline, &row.digest);
    let len = bytes.len() as u64;
    Ok(serve_file::respond(
        headers,
        len,
        &Wanted::Whole,
        bytes.into(),
    ))
}

/// Types a browser shows without running anything: images, audio, video, plain text. PDF is
/// a download (its viewer runs script, which the sandbox would block anyway).
fn shown_inline(mime: &str) -> bool {
    mime.starts_with("image/") && mime != "image/svg+xml"
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
        || mime == "text/plain"
}
