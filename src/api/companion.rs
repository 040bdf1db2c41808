//! The AI companion over REST: forgetting what it remembers of the caller (the same as
//! sending `/reset` to the bot, without a message in the conversation).

use super::ErrorResponse;
use crate::ai::CompanionError;
use crate::domain::Principal;
use crate::error::ErrorCode;
use crate::http::{AppState, CurrentSession, HttpError};
use axum::extract::State;
use axum::http::StatusCode;

#[utoipa::path(delete, path = "/api/companion/memory", tag = "users",
    responses((status = 204, description = "The companion no longer remembers anything of the caller"),
        (status = 403, description = "registration_required: guests have no memory", body = ErrorResponse),
        (status = 404, description = "ai_disabled: no AI companion on this server", body = ErrorResponse)))]
pub async fn forget(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<StatusCode, HttpError> {
    let companion = state
        .chat
        .companion
        .as_ref()
        .ok_or(CompanionError::Disabled)?;
    let Principal::User(user) = session.identity.principal else {
        return Err(HttpError::new(
            ErrorCode::RegistrationRequired,
            "guests have no companion memory",
        ));
    };
    companion.forget(user).await?;
    Ok(StatusCode::NO_CONTENT)
}
