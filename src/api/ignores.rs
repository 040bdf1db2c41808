//! The caller's ignore list over REST. Ignoring is stealthy: the ignored side sees nothing.

use super::ErrorResponse;
use crate::core::CoreError;
use crate::domain::Name;
use crate::http::Path;
use crate::http::{AppState, CurrentSession, HttpError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct IgnoreList {
    /// Case-folded names.
    ignores: Vec<String>,
}

#[utoipa::path(get, path = "/api/ignores", tag = "users",
    responses((status = 200, body = IgnoreList), (status = 403, description = "registration_required", body = ErrorResponse)))]
pub async fn list(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<IgnoreList>, HttpError> {
    let ignores = state.chat.ignores.list(&session.identity).await?;
    Ok(Json(IgnoreList { ignores }))
}

#[utoipa::path(put, path = "/api/ignores/{name}", tag = "users", params(("name" = String, Path)),
    responses((status = 204, description = "Ignored (messages, typing, whispers and conversation invitations from that name are no longer delivered)"),
        (status = 403, description = "forbidden: yourself; registration_required: guests keep no list", body = ErrorResponse),
        (status = 422, description = "invalid_payload", body = ErrorResponse)))]
pub async fn add(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(name): Path<String>,
) -> Result<StatusCode, HttpError> {
    let name = Name::parse(&name).map_err(|e| CoreError::InvalidPayload(format!("user: {e}")))?;
    state
        .chat
        .ignores
        .set(&session.identity, &name, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/ignores/{name}", tag = "users", params(("name" = String, Path)),
    responses((status = 204, description = "No longer ignored"),
        (status = 403, description = "forbidden: yourself; registration_required: guests keep no list", body = ErrorResponse)))]
pub async fn remove(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(name): Path<String>,
) -> Result<StatusCode, HttpError> {
    let name = Name::parse(&name).map_err(|e| CoreError::InvalidPayload(format!("user: {e}")))?;
    state
        .chat
        .ignores
        .set(&session.identity, &name, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
