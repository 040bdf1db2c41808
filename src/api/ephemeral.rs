//! Ephemeral 1-on-1 rooms over REST: a host creates and activates one; whoever holds the code
//! looks it up (no session needed) to pick a display name, then joins over the gateway with
//! `join {room: "e:<CODE>", device}`.

use super::ErrorResponse;
use crate::http::Path;
use crate::http::{AppState, ClientIp, CurrentSession, HttpError};
use crate::rooms::{EphemeralDoor, EphemeralView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(post, path = "/api/ephemeral", tag = "ephemeral",
    responses((status = 201, description = "Created, not yet active", body = EphemeralView),
        (status = 403, description = "registration_required (guests, when the server keeps them out of rooms)", body = ErrorResponse),
        (status = 429, description = "rate_limited: a guest's address has used its registration budget (`retry_after`)", body = ErrorResponse)))]
pub async fn create(
    State(state): State<AppState>,
    session: CurrentSession,
    ClientIp(ip): ClientIp,
) -> Result<(StatusCode, Json<EphemeralView>), HttpError> {
    let view = state
        .chat
        .conversations
        .create_ephemeral(&session.identity, ip)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct HostedList {
    rooms: Vec<EphemeralView>,
}

#[utoipa::path(get, path = "/api/ephemeral", tag = "ephemeral",
    responses((status = 200, description = "The caller's live rooms, newest first", body = HostedList),
        (status = 403, description = "registration_required", body = ErrorResponse)))]
pub async fn hosted(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<HostedList>, HttpError> {
    let rooms = state
        .chat
        .conversations
        .hosted_ephemeral(&session.identity)
        .await?;
    Ok(Json(HostedList { rooms }))
}

#[utoipa::path(post, path = "/api/ephemeral/{code}/activate", tag = "ephemeral", params(("code" = String, Path)),
    responses((status = 200, description = "The timer runs", body = EphemeralView),
        (status = 404, description = "no such room of yours", body = ErrorResponse)))]
pub async fn activate(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(code): Path<String>,
) -> Result<Json<EphemeralView>, HttpError> {
    Ok(Json(
        state
            .chat
            .conversations
            .activate_ephemeral(&session.identity, &code)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/ephemeral/{code}", tag = "ephemeral", params(("code" = String, Path)),
    responses((status = 200, description = "Whether it is open, and names to join under", body = EphemeralDoor),
        (status = 404, description = "no live room with this code", body = ErrorResponse),
        (status = 429, description = "rate_limited: too many wrong codes from this address", body = ErrorResponse)))]
pub async fn door(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
) -> Result<Json<EphemeralDoor>, HttpError> {
    Ok(Json(state.chat.conversations.door(&code, ip).await?))
}
