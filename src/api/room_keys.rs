//! End-to-end rooms' keys over REST (see `docs/e2ee.md`): a member reads the room keys sealed
//! to it and who holds the current one, and stores keys it sealed for members.

use super::ErrorResponse;
use crate::core::{RoomKeysView, StoredKeys};
use crate::domain::SealedKey;
use crate::http::{user_name, AppState, Body, CurrentSession, HttpError, Path};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

#[utoipa::path(get, path = "/api/rooms/{slug}/e2e", tag = "rooms",
    params(("slug" = String, Path, description = "The room's wire name: a slug, or `pm:<id>:<id>`")),
    responses((status = 200, description = "The current epoch, every room key sealed to the caller (newest first) and the members with their public keys; a member lacking the current key makes the others hear `room_keys`", body = RoomKeysView),
        (status = 403, description = "registration_required", body = ErrorResponse),
        (status = 404, description = "not_found: no such room, or not a member", body = ErrorResponse),
        (status = 422, description = "not_e2e: the room is not end-to-end", body = ErrorResponse)))]
pub async fn show(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
) -> Result<Json<RoomKeysView>, HttpError> {
    Ok(Json(
        state.chat.room_keys.show(&session.identity, &slug).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedFor {
    /// The member it is sealed to.
    #[schema(value_type = String)]
    user: String,
    sealed: SealedKey,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreKeysBody {
    /// The room's current epoch.
    epoch: i64,
    /// 1 to 500 keys, one per member.
    #[schema(min_items = 1, max_items = 500)]
    keys: Vec<SealedFor>,
}

#[utoipa::path(put, path = "/api/rooms/{slug}/e2e/keys", tag = "rooms",
    params(("slug" = String, Path, description = "The room's wire name: a slug, or `pm:<id>:<id>`")),
    request_body = StoreKeysBody,
    responses((status = 200, description = "Stored the keys not already held (the first key of an epoch wins); the members hear `room_keys`", body = StoredKeys),
        (status = 400, description = "invalid_keys: a malformed sealed key, a user who is not a member with keys, the first key of an epoch not sealed to its maker", body = ErrorResponse),
        (status = 403, description = "registration_required", body = ErrorResponse),
        (status = 404, description = "not_found", body = ErrorResponse),
        (status = 409, description = "stale_epoch, epoch_key_exists (read the room's keys again)", body = ErrorResponse),
        (status = 422, description = "not_e2e", body = ErrorResponse)))]
pub async fn store(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(slug): Path<String>,
    Body(body): Body<StoreKeysBody>,
) -> Result<Json<StoredKeys>, HttpError> {
    let keys = body
        .keys
        .into_iter()
        .map(|key| Ok((user_name(&key.user)?, key.sealed)))
        .collect::<Result<Vec<_>, HttpError>>()?;
    Ok(Json(
        state
            .chat
            .room_keys
            .store(&session.identity, &slug, body.epoch, keys)
            .await?,
    ))
}
