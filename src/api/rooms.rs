//! Stored rooms over REST: the room list, creation, settings, deletion, history and posting.
//! Every handler goes through the chat core's services, so the checks and live effects are
//! those of the real-time path. Membership is in `membership.rs`.

use super::ErrorResponse;
use crate::core::{CoreError, History, HistoryPage, Posted, SendMessage};
use crate::domain::whole;
use crate::domain::{ClientMsgId, Envelope, FileId};
use crate::http::{room_name, AppState, Body, ClientIp, CurrentSession, HttpError};
use crate::http::{Path, Query};
use crate::rooms::{CreateRoom, OwnRequest, RoomListing, RoomView, SettingsPatch};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct RoomList {
    rooms: Vec<RoomListing>,
    /// The caller's access requests in force, by the address asked for only (the same for a
    /// private room as for an address no room holds); none for an address listed in `rooms`.
    requests: Vec<OwnRequest>,
}

#[utoipa::path(get, path = "/api/rooms", tag = "rooms",
    responses((status = 200, description = "An account's rooms and the public rooms it may join; a guest's, the public rooms that admit guests", body = RoomList)))]
pub async fn list(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<RoomList>, HttpError> {
    let rooms = state.chat.rooms.list(&session.identity).await?;
    let mut requests = state
        .chat
        .membership
        .own_requests(&session.identity)
        .await?;
    requests.retain(|r| rooms.iter().all(|room| room.slug != r.slug));
    Ok(Json(RoomList { rooms, requests }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoomBody {
    /// 2–40 characters of a-z, 0-9 and '-' (read in lower case), not starting or ending with '-'.
    /// A private room's address is this (cut to fit), a '-' and 8 random characters.
    #[schema(
        min_length = 2,
        max_length = 40,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$"
    )]
    slug: String,
    /// The display name (1–60 characters, trimmed); the address when absent.
    #[schema(min_length = 1, max_length = 60, pattern = r"\S")]
    name: Option<String>,
    /// At most 200 characters, trimmed; empty means none.
    #[schema(max_length = 200)]
    topic: Option<String>,
    #[serde(default)]
    private: bool,
    /// End-to-end encrypted (see `docs/e2ee.md`): needs the caller's end-to-end keys, and
    /// cannot change afterwards.
    #[serde(default)]
    e2e: bool,
}

#[utoipa::path(post, path = "/api/rooms", tag = "rooms", request_body = NewRoomBody,
    responses((status = 201, body = RoomView), (status = 400, description = "invalid_room", body = ErrorResponse),
        (status = 409, description = "room_taken; keys_required (an end-to-end room, and the caller has no end-to-end keys)", body = ErrorResponse)))]
pub async fn create(
    State(state): State<AppState>,
    session: CurrentSession,
    Body(body): Body<NewRoomBody>,
) -> Result<(StatusCode, Json<RoomView>), HttpError> {
    let new = CreateRoom {
        slug: body.slug,
        name: body.name,
        topic: body.topic,
        private: body.private,
        e2e: body.e2e,
    };
    let room = state.chat.rooms.create(&session.identity, new).await?;
    Ok((StatusCode::CREATED, Json(room)))
}

#[utoipa::path(get, path = "/api/rooms/{slug}", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 200, body = RoomView), (status = 404, description = "not_found (also for private rooms you are not in)", body = ErrorResponse)))]
pub async fn show(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<Json<RoomView>, HttpError> {
    Ok(Json(state.chat.rooms.room(&session.identity, &slug).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// The display name (1–60 characters, trimmed).
    #[schema(min_length = 1, max_length = 60, pattern = r"\S")]
    name: Option<String>,
    /// At most 200 characters, trimmed; empty removes the topic.
    #[schema(max_length = 200)]
    topic: Option<String>,
    private: Option<bool>,
    allow_images: Option<bool>,
    allow_videos: Option<bool>,
    allow_audio: Option<bool>,
    allow_files: Option<bool>,
    /// Let the AI companion answer messages that mention it by name here.
    ai_mentions: Option<bool>,
    /// Let guests (no account) join this room, if it is public and the server lets guests
    /// into rooms. Turned off, the guests in the room are taken out (`room_removed`,
    /// `guests_not_allowed`).
    allow_guests: Option<bool>,
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 0, maximum = 86400)]
    slow_mode_secs: Option<i64>,
    /// A number of days, or `null` to keep messages forever.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 36500)]
    retention_days: Option<Option<i64>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Ok(Some(whole::optional(d)?))
}

#[utoipa::path(patch, path = "/api/rooms/{slug}", tag = "rooms", params(("slug" = String, Path)), request_body = SettingsBody,
    responses((status = 200, body = RoomView),
        (status = 400, description = "invalid_room: a setting out of range", body = ErrorResponse),
        (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn update(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
    Body(body): Body<SettingsBody>,
) -> Result<Json<RoomView>, HttpError> {
    let patch = SettingsPatch {
        name: body.name,
        topic: body.topic,
        private: body.private,
        allow_images: body.allow_images,
        allow_videos: body.allow_videos,
        allow_audio: body.allow_audio,
        allow_files: body.allow_files,
        ai_mentions: body.ai_mentions,
        allow_guests: body.allow_guests,
        slow_mode_secs: body.slow_mode_secs,
        retention_days: body.retention_days,
    };
    Ok(Json(
        state
            .chat
            .rooms
            .update(&session.identity, &slug, patch)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/rooms/{slug}", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 204, description = "Deleted with its messages, invites and key"), (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn delete(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<StatusCode, HttpError> {
    state.chat.rooms.delete(&session.identity, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Messages before this sequence number (scrolling back); the latest page when absent.
    before: Option<i64>,
    /// Messages after this sequence number (catching up); with `before`, those between the two.
    after: Option<i64>,
    /// At most this many (fewer when the server's page is smaller).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/rooms/{slug}/messages", tag = "rooms", params(("slug" = String, Path), HistoryQuery),
    responses((status = 200, description = "`{room, messages}`, oldest first"), (status = 404, description = "not_found", body = ErrorResponse)))]
pub async fn history(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<HistoryPage>, HttpError> {
    let query = History {
        room: room_name(&slug)?,
        before: query.before,
        after: query.after,
        limit: query.limit.map(|l| l as usize),
    };
    Ok(Json(
        state.chat.rooms.history(&session.identity, query).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostBody {
    /// Trimmed; it must hold something besides white space, unless the message has
    /// attachments.
    #[schema(min_length = 1, pattern = r"\S")]
    text: Option<String>,
    /// An end-to-end room's message, in place of `text` (see `docs/e2ee.md`).
    #[schema(value_type = Option<Envelope>)]
    envelope: Option<serde_json::Value>,
    /// Ids of the caller's uploads for this room (`POST /api/files`), at most 10.
    #[serde(default)]
    #[schema(value_type = Vec<String>, max_items = 10)]
    attachments: Vec<FileId>,
    /// Idempotency id (1–64 characters): a retry with the same id posts nothing new.
    #[schema(min_length = 1, max_length = 64)]
    client_msg_id: Option<String>,
    /// The sequence number of the message this one answers, in the same room.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "whole::optional")]
    reply_to: Option<i64>,
}

#[utoipa::path(post, path = "/api/rooms/{slug}/messages", tag = "rooms", params(("slug" = String, Path)), request_body = PostBody,
    responses((status = 201, description = "Stored (durably) and delivered", body = Posted),
        (status = 400, description = "empty_message, message_too_long, too_many_mentions", body = ErrorResponse),
        (status = 403, description = "banned, muted, registration_required, mention_not_allowed", body = ErrorResponse),
        (status = 404, description = "not_found (the room, or the message `reply_to` names)", body = ErrorResponse),
        (status = 409, description = "not_in_room, attachment_unavailable, stale_epoch, epoch_key_missing", body = ErrorResponse),
        (status = 422, description = "e2e_required (text to an end-to-end room), not_e2e (an envelope to another room), invalid_payload (a malformed envelope)", body = ErrorResponse),
        (status = 429, description = "rate_limited, with `retry_after`", body = ErrorResponse)))]
pub async fn post(
    State(state): State<AppState>,
    session: CurrentSession,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    Body(body): Body<PostBody>,
) -> Result<(StatusCode, Json<Posted>), HttpError> {
    let room = room_name(&slug)?;
    let client_msg_id = body
        .client_msg_id
        .as_deref()
        .map(ClientMsgId::parse)
        .transpose()
        .map_err(|e| CoreError::InvalidPayload(e.to_string()))?;
    let send = SendMessage::parse(
        room,
        body.text,
        body.envelope.map(parse_envelope).transpose()?,
        client_msg_id,
        body.attachments,
        &state.chat.limits,
    )?
    .replying_to(body.reply_to)?;
    let posted = state.chat.rooms.post(&session.identity, ip, send).await?;
    Ok((StatusCode::CREATED, Json(posted)))
}

#[utoipa::path(delete, path = "/api/rooms/{slug}/messages", tag = "rooms", params(("slug" = String, Path)),
    responses((status = 204, description = "History cleared"), (status = 403, description = "forbidden", body = ErrorResponse)))]
pub async fn clear(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<StatusCode, HttpError> {
    state
        .chat
        .rooms
        .clear_history(&session.identity, &slug)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An envelope from a request body: a malformed one is `invalid_payload`, as on the gateway.
pub(super) fn parse_envelope(raw: serde_json::Value) -> Result<Envelope, HttpError> {
    serde_json::from_value(raw)
        .map_err(|err| CoreError::InvalidPayload(format!("envelope: {err}")).into())
}
