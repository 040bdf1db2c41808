//! Private conversations and read markers over REST. Messages in a conversation use the room
//! endpoints with the conversation's `room` name (`/api/rooms/pm:3:7/messages`).

use super::ErrorResponse;
use crate::domain::whole;
use crate::http::Path;
use crate::http::{room_name, user_name, AppState, Body, CurrentSession, HttpError};
use crate::rooms::ConversationView;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    conversations: Vec<ConversationView>,
}

#[utoipa::path(get, path = "/api/conversations", tag = "conversations",
    responses((status = 200, description = "Conversations not closed, most recent first", body = ConversationList),
        (status = 403, description = "registration_required", body = ErrorResponse)))]
pub async fn list(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<ConversationList>, HttpError> {
    let conversations = state.chat.conversations.list(&session.identity).await?;
    Ok(Json(ConversationList { conversations }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    /// The other account's name.
    #[schema(min_length = 1, max_length = 20, pattern = r"^[A-Za-z0-9_-]+$")]
    user: String,
}

#[utoipa::path(post, path = "/api/conversations", tag = "conversations", request_body = OpenBody,
    responses((status = 200, description = "Pending until the peer accepts; open if they accepted before", body = ConversationView),
        (status = 404, description = "not_found: no such user", body = ErrorResponse),
        (status = 422, description = "invalid_payload: not a user name", body = ErrorResponse)))]
pub async fn open(
    State(state): State<AppState>,
    session: CurrentSession,
    Body(body): Body<OpenBody>,
) -> Result<Json<ConversationView>, HttpError> {
    Ok(Json(
        state
            .chat
            .conversations
            .open(&session.identity, &user_name(&body.user)?)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/conversations/{room}/accept", tag = "conversations", params(("room" = String, Path)),
    responses((status = 200, body = ConversationView), (status = 404, description = "no invitation", body = ErrorResponse)))]
pub async fn accept(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(room): Path<String>,
) -> Result<Json<ConversationView>, HttpError> {
    Ok(Json(
        state
            .chat
            .conversations
            .accept(&session.identity, &room_name(&room)?)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/conversations/{room}/decline", tag = "conversations", params(("room" = String, Path)),
    responses((status = 204, description = "Hidden for you; the peer is not told"), (status = 404, description = "no invitation", body = ErrorResponse)))]
pub async fn decline(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(room): Path<String>,
) -> Result<StatusCode, HttpError> {
    state
        .chat
        .conversations
        .decline(&session.identity, &room_name(&room)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/conversations/{room}", tag = "conversations", params(("room" = String, Path)),
    responses((status = 204, description = "Closed for you until a new message arrives"), (status = 404, body = ErrorResponse)))]
pub async fn close(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(room): Path<String>,
) -> Result<StatusCode, HttpError> {
    state
        .chat
        .conversations
        .close(&session.identity, &room_name(&room)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// Everything up to this sequence number has been read.
    #[serde(deserialize_with = "whole::required")]
    seq: i64,
}

#[utoipa::path(post, path = "/api/rooms/{slug}/read", tag = "conversations", params(("slug" = String, Path, description = "a room slug or a conversation/ephemeral room name")), request_body = ReadBody,
    responses((status = 204, description = "Read marker moved (never backwards)"), (status = 404, body = ErrorResponse)))]
pub async fn mark_read(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(room): Path<String>,
    Body(body): Body<ReadBody>,
) -> Result<StatusCode, HttpError> {
    state
        .chat
        .conversations
        .mark_read(&session.identity, &room_name(&room)?, body.seq)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
