//! The AI companion over REST: who it is and where the caller stands with it (the web app
//! shows the bot, the free messages left, and a reply that was streaming before the page
//! opened), and forgetting what it remembers of the caller (the same as sending `/reset` to
//! the bot, without a message in the conversation).

use super::ErrorResponse;
use crate::ai::{Companion, CompanionError, Writing};
use crate::domain::Principal;
use crate::error::ErrorCode;
use crate::http::{AppState, CurrentSession, HttpError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The companion as one account sees it.
#[derive(Serialize, ToSchema)]
pub struct CompanionView {
    /// The bot's account name: open a conversation with it to talk.
    name: String,
    /// Answers every registered account gets without premium.
    free_messages: u32,
    /// How many of them the caller has spent (0 for guests, who cannot talk to it).
    used: u32,
    /// The caller's premium is in force: no limit.
    premium: bool,
    /// The model is failing: replies are the fallback text for now.
    failing: bool,
    /// The reply on its way to the caller, for a page opened mid-reply.
    writing: Option<WritingView>,
}

/// A reply being written (or waiting for the model) for the caller.
#[derive(Serialize, ToSchema)]
pub struct WritingView {
    /// The caller's conversation with the bot.
    room: String,
    /// The id its `ai_delta` pieces carry and, once stored, the reply's `client_msg_id`.
    message_id: String,
    /// The place in the line while waiting (1 is next); `null` once the model writes.
    position: Option<usize>,
    /// What has been streamed so far.
    text: String,
}

impl From<Writing> for WritingView {
    fn from(writing: Writing) -> Self {
        Self {
            room: writing.room,
            message_id: writing.reply_id,
            position: writing.position,
            text: writing.text,
        }
    }
}

fn companion_of(state: &AppState) -> Result<&Companion, HttpError> {
    Ok(state
        .chat
        .companion
        .as_ref()
        .ok_or(CompanionError::Disabled)?)
}

#[utoipa::path(get, path = "/api/companion", tag = "users",
    responses((status = 200, description = "The companion and the caller's standing with it", body = CompanionView),
        (status = 401, description = "unauthenticated", body = ErrorResponse),
        (status = 404, description = "ai_disabled: no AI companion on this server", body = ErrorResponse)))]
pub async fn show(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<CompanionView>, HttpError> {
    let companion = companion_of(&state)?;
    let (used, premium, writing) = match session.identity.principal {
        Principal::User(user) => {
            let premium = state
                .chat
                .premium
                .status(user)
                .await
                .map_err(|err| HttpError::from(CompanionError::from(err)))?;
            (
                companion.used(user).await?,
                premium.active,
                companion.writing(user).map(WritingView::from),
            )
        }
        Principal::Guest(_) => (0, false, None),
    };
    Ok(Json(CompanionView {
        name: state.config.ai_name.clone(),
        free_messages: companion.free_messages(),
        used,
        premium,
        failing: companion.is_failing(),
        writing,
    }))
}

#[utoipa::path(delete, path = "/api/companion/memory", tag = "users",
    responses((status = 204, description = "The companion no longer remembers anything of the caller"),
        (status = 401, description = "unauthenticated", body = ErrorResponse),
        (status = 403, description = "registration_required: guests have no memory", body = ErrorResponse),
        (status = 404, description = "ai_disabled: no AI companion on this server", body = ErrorResponse)))]
pub async fn forget(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<StatusCode, HttpError> {
    let companion = companion_of(&state)?;
    let Principal::User(user) = session.identity.principal else {
        return Err(HttpError::new(
            ErrorCode::RegistrationRequired,
            "guests have no companion memory",
        ));
    };
    companion.forget(user).await?;
    Ok(StatusCode::NO_CONTENT)
}
