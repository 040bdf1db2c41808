//! One stored message over REST: edit, delete, and reactions. The same decisions and live
//! events as the real-time `edit`, `delete`, `react` and `unreact` commands (the chat core's
//! [`LiveChanges`](crate::core::LiveChanges)); posting and history pages are in `rooms.rs`.

use super::ErrorResponse;
use crate::core::{Changed, CoreError, MessageRef, React, Reacted};
use crate::domain::{is_reaction_emoji, Content, Envelope, MessageText};
use crate::http::{room_name, AppState, Body, ClientIp, CurrentSession, HttpError, Path};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    /// The new text: trimmed, non-empty, at most `max_message_chars`.
    #[schema(min_length = 1, pattern = r"\S")]
    text: Option<String>,
    /// An end-to-end room's new envelope, in place of `text` (see `docs/e2ee.md`).
    #[schema(value_type = Option<Envelope>)]
    envelope: Option<serde_json::Value>,
}

fn message(slug: &str, seq: i64) -> Result<MessageRef, HttpError> {
    Ok(MessageRef::parse(room_name(slug)?, seq)?)
}

#[utoipa::path(patch, path = "/api/rooms/{slug}/messages/{seq}", tag = "rooms",
    params(("slug" = String, Path), ("seq" = i64, Path, minimum = 1)), request_body = EditBody,
    responses((status = 200, description = "Edited; everyone in the room gets `message_edited`", body = Changed),
        (status = 400, description = "empty_message, message_too_long, too_many_mentions", body = ErrorResponse),
        (status = 403, description = "forbidden (not your message, or an ephemeral room), edit_window_closed, muted, mention_not_allowed", body = ErrorResponse),
        (status = 404, description = "not_found", body = ErrorResponse),
        (status = 409, description = "not_in_room, stale_epoch, epoch_key_missing", body = ErrorResponse),
        (status = 422, description = "e2e_required, not_e2e, invalid_payload (neither or both of text and envelope, a malformed envelope)", body = ErrorResponse),
        (status = 429, description = "rate_limited, with `retry_after`", body = ErrorResponse)))]
pub async fn edit(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((slug, seq)): Path<(String, i64)>,
    Body(body): Body<EditBody>,
) -> Result<Json<Changed>, HttpError> {
    let message = message(&slug, seq)?;
    let content = match (body.text, body.envelope) {
        (None, Some(envelope)) => Content::Envelope(super::rooms::parse_envelope(envelope)?),
        (Some(text), None) => Content::Text(
            MessageText::parse(&text, state.chat.limits.max_message_chars)
                .map_err(CoreError::from)?,
        ),
        _ => {
            return Err(CoreError::InvalidPayload(
                "text or envelope: exactly one of the two".into(),
            )
            .into())
        }
    };
    Ok(Json(
        state
            .chat
            .changes
            .edit(&session.identity, &message, &content)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/rooms/{slug}/messages/{seq}", tag = "rooms",
    params(("slug" = String, Path), ("seq" = i64, Path, minimum = 1)),
    responses((status = 204, description = "Deleted: its text, files and reactions are gone; everyone in the room gets `message_deleted`"),
        (status = 403, description = "forbidden (another's message and you may not moderate its author here)", body = ErrorResponse),
        (status = 404, description = "not_found", body = ErrorResponse),
        (status = 409, description = "not_in_room", body = ErrorResponse)))]
pub async fn delete(
    State(state): State<AppState>,
    session: CurrentSession,
    ClientIp(ip): ClientIp,
    Path((slug, seq)): Path<(String, i64)>,
) -> Result<StatusCode, HttpError> {
    let message = message(&slug, seq)?;
    state
        .chat
        .changes
        .delete(&session.identity, ip, &message)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn reaction(slug: &str, seq: i64, emoji: String) -> Result<React, HttpError> {
    if !is_reaction_emoji(&emoji) {
        return Err(CoreError::InvalidPayload(
            "emoji: 1 to 8 characters of emoji, no letters, digits or spaces".into(),
        )
        .into());
    }
    Ok(React {
        message: message(slug, seq)?,
        emoji,
    })
}

#[utoipa::path(put, path = "/api/rooms/{slug}/messages/{seq}/reactions/{emoji}", tag = "rooms",
    params(("slug" = String, Path), ("seq" = i64, Path, minimum = 1), ("emoji" = String, Path, description = "The emoji, percent-encoded: 1 to 8 characters, none of them ASCII, white space or a control character", pattern = r"^[^\x00-\x7F\x80-\x9F\s]{1,8}$")),
    responses((status = 200, description = "Given (again: nothing changes); the room gets `reaction`", body = Reacted),
        (status = 403, description = "registration_required, muted", body = ErrorResponse),
        (status = 404, description = "not_found", body = ErrorResponse),
        (status = 409, description = "not_in_room, too_many_reactions", body = ErrorResponse),
        (status = 422, description = "invalid_payload (not an emoji)", body = ErrorResponse),
        (status = 429, description = "rate_limited, with `retry_after`", body = ErrorResponse)))]
pub async fn react(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(path): Path<(String, i64, String)>,
) -> Result<Json<Reacted>, HttpError> {
    toggle(&state, &session, path, true).await
}

#[utoipa::path(delete, path = "/api/rooms/{slug}/messages/{seq}/reactions/{emoji}", tag = "rooms",
    params(("slug" = String, Path), ("seq" = i64, Path, minimum = 1), ("emoji" = String, Path, description = "The emoji, percent-encoded: 1 to 8 characters, none of them ASCII, white space or a control character", pattern = r"^[^\x00-\x7F\x80-\x9F\s]{1,8}$")),
    responses((status = 200, description = "Taken back (or was not there); the room gets `reaction` when it changed", body = Reacted),
        (status = 403, description = "registration_required, muted", body = ErrorResponse),
        (status = 404, description = "not_found", body = ErrorResponse),
        (status = 409, description = "not_in_room", body = ErrorResponse),
        (status = 422, description = "invalid_payload (not an emoji)", body = ErrorResponse),
        (status = 429, description = "rate_limited, with `retry_after`", body = ErrorResponse)))]
pub async fn unreact(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(path): Path<(String, i64, String)>,
) -> Result<Json<Reacted>, HttpError> {
    toggle(&state, &session, path, false).await
}

/// Gives (`on`) or takes back the reaction a path names.
async fn toggle(
    state: &AppState,
    session: &CurrentSession,
    (slug, seq, emoji): (String, i64, String),
    on: bool,
) -> Result<Json<Reacted>, HttpError> {
    let react = reaction(&slug, seq, emoji)?;
    let reacted = state
        .chat
        .changes
        .react(&session.identity, &react, on)
        .await?;
    Ok(Json(reacted))
}
